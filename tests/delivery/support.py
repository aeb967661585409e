"""Helpers of the delivery tests: waiting for a message to leave queued/sending, reading
agent 'tom's database directly, and a few people and templates most tests use."""

from __future__ import annotations

import email
import email.message
import email.policy
import sqlite3
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from server.runtime import Runtime
from tests.mcp.tool_checks import text_of
from tools.api import CustomerIO
from tools.delivery.models import Message

PENDING = ("queued", "sending")
EMAIL = {"subject": "Hi {{ customer.first_name }}",
         "body": "<p>Hello {{ customer.first_name }}, "
                 "<a href=\"{{ unsubscribe_url }}\">unsubscribe</a></p>"}
SMS = {"body": "Hi {{ customer.first_name }}"}
PUSH = {"title": "Hi", "body": "Hello {{ customer.first_name }}"}
IN_APP = {"title": "Hi {{ customer.first_name }}", "body": "<p>Your order {{ trigger.order }}</p>",
          "link": "https://shop.test/orders/{{ trigger.order }}"}


async def settled(runtime: Runtime, message_id: str, *, timeout: float = 10) -> Message:
    """The message once it has left queued and sending (and the dispatcher is idle)."""
    return await until(runtime, message_id, lambda m: m.status not in PENDING,
                       timeout=timeout)


async def until(runtime: Runtime, message_id: str, done: Any, *,
                timeout: float = 10) -> Message:
    """The message once `done(message)` is true (a status name: once it has it)."""
    check = done if callable(done) else (lambda m: m.status == done)
    engine = runtime.engine("tom")
    with anyio.fail_after(timeout):
        while True:
            message = await engine.messages_get(message_id)
            if check(message):
                await runtime.dispatcher.drain(5)
                return await engine.messages_get(message_id)
            await anyio.sleep(0.01)


async def seed(cio: CustomerIO) -> None:
    """ada (email and phone), templates of every person-facing channel."""
    await cio.identify("ada", {"email": "ada@example.com", "phone": "+14155550123",
                               "first_name": "Ada"})
    await cio.templates_create("welcome", "email", EMAIL)
    await cio.templates_create("hello-sms", "sms", SMS)
    await cio.templates_create("hello-push", "push", PUSH)
    await cio.templates_create("order-inbox", "in_app", IN_APP)


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the agent's database."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def message_count(path: Path) -> int:
    return query(path, "SELECT count(*) FROM messages")[0][0]


def secret_of(path: Path) -> bytes:
    """The agent's unsubscribe-link secret."""
    return bytes(query(path, "SELECT secret FROM delivery_settings WHERE id = 1")[0][0])


def statuses(message: Message) -> list[tuple[str, str]]:
    """(status, channel) of each transition."""
    return [(t.status, t.channel) for t in message.transitions]


def details(message: Message, status: str) -> list[str | None]:
    """The detail of each transition with `status`."""
    return [t.detail for t in message.transitions if t.status == status]


def parsed(data: bytes | str) -> email.message.EmailMessage:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def header_lines(data: str) -> list[str]:
    """The raw lines of an email's header block (folded lines stay separate)."""
    return data.split("\r\n\r\n", 1)[0].split("\r\n")


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The structured result of a successful tool call."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, text_of(result))
    assert result.structured_content is not None
    return result.structured_content

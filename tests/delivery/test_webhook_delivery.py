"""Webhooks reach a real loopback HTTP server signed (X-CIO-Timestamp, X-CIO-Signature)
with a stable Idempotency-Key; a loopback URL is refused unless private destinations are
allowed."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from server.runtime import Runtime
from tests.channels.http_support import Answer, Seen, Server, http_server
from tests.delivery.support import details, query, seed, settled, statuses, until
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

BODY = '{"user":"{{ customer.id }}","order":"{{ trigger.order }}"}'


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                    hashlib.sha256).hexdigest()


def stored_secret(db: Path) -> str:
    """The signing secret used when none is set: derived from the agent's own secret."""
    [(agent_secret,)] = query(db, "SELECT secret FROM delivery_settings")
    assert query(db, "SELECT * FROM channel_settings") == []  # nothing stored as a setting
    return hmac.new(bytes(agent_secret), b"webhook signing secret", hashlib.sha256).hexdigest()


async def hook(runtime: Runtime, server: Server) -> CustomerIO:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.templates_create("order-hook", "webhook", {
        "url": server.url("/hooks/orders"), "body": BODY,
        "headers": {"X-Shop": "{{ customer.first_name }}"}})
    return cio


async def test_a_webhook_is_signed_with_the_derived_secret(
    private_runtime: Runtime, clock: ManualClock, db: Path,
) -> None:
    async with http_server(lambda seen: Answer(200, b"ok")) as server:
        cio = await hook(private_runtime, server)
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "A-1"})
        message = await settled(private_runtime, out.message_id)
    assert (message.status, message.provider) == ("sent", "webhook")
    [seen] = server.requests
    assert (seen.method, seen.target) == ("POST", "/hooks/orders")
    assert seen.body == b'{"user":"ada","order":"A-1"}'
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-shop"] == "Ada"
    timestamp = seen.headers["x-cio-timestamp"]
    assert timestamp == str(int(clock.now()))
    assert seen.headers["x-cio-signature"] == sign(stored_secret(db), timestamp, seen.body)
    expected_key = hashlib.sha256(b"customerio-mcp webhook\x00"
                                  + out.message_id.encode()).hexdigest()[:32]
    assert seen.headers["idempotency-key"] == expected_key


async def test_a_webhook_is_signed_with_the_secret_set_by_channels_configure(
    private_runtime: Runtime,
) -> None:
    async with http_server(lambda seen: Answer(204)) as server:
        cio = await hook(private_runtime, server)
        configured = await cio.channels_configure("webhook", "webhook",
                                                  {"signing_secret": "s3"})
        [using] = [c for c in configured.channels if c.channel == "webhook"]
        assert (using.source, using.settings) == ("agent", {"signing_secret": "***"})
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "B"})
        message = await settled(private_runtime, out.message_id)
    assert message.status == "sent"
    [seen] = server.requests
    assert seen.headers["x-cio-signature"] == sign("s3", seen.headers["x-cio-timestamp"],
                                                   seen.body)


async def test_the_derived_secret_signs_every_later_webhook(
    private_runtime: Runtime, db: Path,
) -> None:
    async with http_server(lambda seen: Answer(200)) as server:
        cio = await hook(private_runtime, server)
        for order in ("1", "2"):
            out = await cio.send("ada", "webhook", template_id="order-hook",
                                 data={"order": order})
            assert (await settled(private_runtime, out.message_id)).status == "sent"
    secret = stored_secret(db)
    for seen in server.requests:
        assert seen.headers["x-cio-signature"] == sign(secret, seen.headers["x-cio-timestamp"],
                                                       seen.body)
    assert len({s.headers["idempotency-key"] for s in server.requests}) == 2


async def test_a_webhook_answered_503_is_retried_with_the_same_idempotency_key(
    private_runtime: Runtime, clock: ManualClock, db: Path,
) -> None:
    answers = [Answer(503, b"busy"), Answer(200, b"ok")]

    def handler(seen: Seen) -> Answer:
        return answers.pop(0)

    async with http_server(handler) as server:
        cio = await hook(private_runtime, server)
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "C"})
        await until(private_runtime, out.message_id, lambda m: bool(details(m, "retry")))
        [(due,)] = query(db, "SELECT due FROM messages")
        clock.set(due + 1)
        private_runtime.scheduler.kick()
        message = await until(private_runtime, out.message_id, "sent")
    assert message.attempts == 2
    first, second = server.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert second.headers["x-cio-timestamp"] == str(int(due + 1))
    [retry] = details(message, "retry")
    assert retry is not None and "503" in retry


async def test_a_webhook_ignores_the_global_unsubscribe(private_runtime: Runtime) -> None:
    async with http_server(lambda seen: Answer(200)) as server:
        cio = await hook(private_runtime, server)
        await cio.preferences_update("ada", unsubscribed=True)
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "D"})
        assert (await settled(private_runtime, out.message_id)).status == "sent"
    assert len(server.requests) == 1


async def test_a_loopback_webhook_is_refused_when_private_destinations_are_not_allowed(
    runtime: Runtime,
) -> None:
    async with http_server(lambda seen: Answer(200)) as server:
        cio = await hook(runtime, server)
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "E"})
        message = await settled(runtime, out.message_id)
    assert message.status == "failed"
    assert message.reason is not None and "loopback" in message.reason
    assert "private" in message.reason
    assert statuses(message)[-1] == ("failed", "webhook")
    assert server.requests == [] and server.connections == 0


async def test_a_429_with_retry_after_waits_at_least_that_long(
    private_runtime: Runtime, clock: ManualClock, db: Path,
) -> None:
    answer = Answer(429, b"slow down", headers={"retry-after": "120"})
    async with http_server(lambda seen: answer) as server:
        cio = await hook(private_runtime, server)
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "F"})
        message = await until(private_runtime, out.message_id,
                              lambda m: bool(details(m, "retry")))
    [(due,)] = query(db, "SELECT due FROM messages")
    assert due - clock.now() >= 120 and message.status == "queued"
    assert details(message, "retry") == ["HTTP 429: slow down; next attempt in 120 s"]


@pytest.mark.parametrize(("answer", "reason"), [
    (Answer(400, b"bad payload"), "HTTP 400: bad payload"),
    (Answer(302, headers={"location": "https://elsewhere.example/x"}),
     "HTTP 302 redirect to https://elsewhere.example/x (redirects are not followed)"),
])
async def test_a_webhook_refused_for_good_fails_without_retrying(
    private_runtime: Runtime, answer: Answer, reason: str,
) -> None:
    async with http_server(lambda seen: answer) as server:
        cio = await hook(private_runtime, server)
        out = await cio.send("ada", "webhook", template_id="order-hook", data={"order": "G"})
        message = await settled(private_runtime, out.message_id)
    assert (message.status, message.reason, message.attempts) == ("failed", reason, 1)
    assert details(message, "retry") == [] and len(server.requests) == 1

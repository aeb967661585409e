"""Email over SMTP against a real aiosmtpd server on loopback: the bytes that arrived."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
from collections.abc import Mapping
from typing import Any

import anyio
import pytest

from server.channels.base import Outgoing
from server.channels.net_guard import Destinations
from server.channels.smtp import SmtpSender
from server.channels.smtp_pool import SmtpPools
from tests.channels.smtp_support import PASSWORD, USER, smtp_server

pytestmark = pytest.mark.anyio

START = 1_780_000_000.0
CONTENT = {"subject": "Welcome, Ada", "body": "<p>Hello <b>Ada</b></p>",
           "text_body": "Hello Ada", "from": "Team <team@example.com>"}


def email_to(port: int, *, message_id: str = "01HXMSG", attempt: int = 1,
             to: str = "ada@example.com", content: Mapping[str, Any] = CONTENT,
             trusted: bool = True, transactional: bool = False,
             unsubscribe_url: str | None = "https://u.example.com/unsubscribe/tok",
             **settings: Any) -> Outgoing:
    return Outgoing(
        agent_id="tom", message_id=message_id, attempt=attempt, channel="email",
        provider="smtp", settings={"host": "127.0.0.1", "port": port, "security": "none",
                                   **settings},
        content=content, to=to, unsubscribe_url=unsubscribe_url,
        transactional=transactional, sent_at=START, trusted=trusted)


def parsed(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


async def test_an_email_arrives_as_text_and_html_alternatives_with_its_headers() -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server() as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(port))
        await sender.aclose()
    assert outcome.kind == "sent"
    assert outcome.detail == "250 2.0.0 Ok: queued as Q1"
    [received] = server.messages
    assert (received.mail_from, received.rcpt_tos) == ("team@example.com", ["ada@example.com"])
    message = parsed(received.data)
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content().strip() == "Hello Ada"
    assert html.get_content_type() == "text/html"
    assert html.get_content().strip() == "<p>Hello <b>Ada</b></p>"
    assert message["From"] == "Team <team@example.com>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Welcome, Ada"
    assert message["Date"] == "Thu, 28 May 2026 20:26:40 +0000"
    assert message["Message-ID"] == "<01HXMSG@example.com>" == outcome.provider_message_id


async def test_the_message_id_is_the_same_on_a_second_attempt() -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server() as (port, server):
        with anyio.fail_after(5):
            first = await sender.send(email_to(port, attempt=1))
            second = await sender.send(email_to(port, attempt=2))
        await sender.aclose()
    assert first.kind == second.kind == "sent"
    ids = [parsed(m.data)["Message-ID"] for m in server.messages]
    assert ids == ["<01HXMSG@example.com>"] * 2


async def test_marketing_mail_has_one_click_unsubscribe_and_transactional_mail_has_none(
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server() as (port, server):
        with anyio.fail_after(5):
            await sender.send(email_to(port, message_id="m1"))
            await sender.send(email_to(port, message_id="m2", transactional=True))
            await sender.send(email_to(port, message_id="m3", unsubscribe_url=None))
        await sender.aclose()
    marketing, transactional, no_link = (parsed(m.data) for m in server.messages)
    assert marketing["List-Unsubscribe"] == "<https://u.example.com/unsubscribe/tok>"
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for message in (transactional, no_link):
        assert message["List-Unsubscribe"] is None
        assert message["List-Unsubscribe-Post"] is None


async def test_several_messages_reuse_one_connection_and_concurrent_ones_at_most_four(
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server() as (port, server):
        with anyio.fail_after(10):
            for n in range(5):
                assert (await sender.send(email_to(port, message_id=f"s{n}"))).kind == "sent"
            assert server.connections == 1
            outcomes = await asyncio.gather(
                *(sender.send(email_to(port, message_id=f"c{n}")) for n in range(12)))
        await sender.aclose()
    assert [o.kind for o in outcomes] == ["sent"] * 12
    assert len(server.messages) == 17
    assert 1 <= server.connections <= 4
    assert len(server.peers()) == server.connections


async def test_a_refused_recipient_is_permanent_on_5xx_and_transient_on_4xx() -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server() as (port, server):
        server.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user"
        server.rcpt_replies["full@example.com"] = "452 4.2.2 Mailbox full"
        with anyio.fail_after(5):
            gone = await sender.send(email_to(port, to="gone@example.com"))
            full = await sender.send(email_to(port, to="full@example.com"))
            fine = await sender.send(email_to(port))
        await sender.aclose()
    assert (gone.kind, gone.detail) == ("permanent", "RCPT TO refused: 550 5.1.1 No such user")
    assert (full.kind, full.detail) == ("transient", "RCPT TO refused: 452 4.2.2 Mailbox full")
    assert fine.kind == "sent"
    assert len(server.messages) == 1
    assert server.connections == 1  # a refusal is reset (RSET), not a broken connection


async def test_starttls_with_auth_verifies_the_host_name_and_logs_in(
    server_tls: ssl.SSLContext, ca_file: str,
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server(security="starttls", tls=server_tls, auth=True) as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(
                port, host="localhost", security="starttls", ca_file=ca_file,
                username=USER, password=PASSWORD))
        await sender.aclose()
    assert outcome.kind == "sent", outcome.detail
    [received] = server.messages
    assert received.tls and received.login == USER.encode()


async def test_implicit_tls_sends_over_tls_from_the_first_byte(
    server_tls: ssl.SSLContext, ca_file: str,
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server(security="tls", tls=server_tls, auth=True) as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(
                port, host="localhost", security="tls", ca_file=ca_file,
                username=USER, password=PASSWORD))
        await sender.aclose()
    assert outcome.kind == "sent", outcome.detail
    assert server.messages[0].tls


async def test_a_wrong_password_is_permanent_535(
    server_tls: ssl.SSLContext, ca_file: str,
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server(security="tls", tls=server_tls, auth=True) as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(
                port, host="localhost", security="tls", ca_file=ca_file,
                username=USER, password="wrong"))
        await sender.aclose()
    assert outcome.kind == "permanent"
    assert outcome.detail.startswith("AUTH refused: 535")
    assert server.messages == []


async def test_a_connection_authenticated_with_one_password_is_not_lent_to_another(
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server(auth=True) as (port, server):
        with anyio.fail_after(5):
            good = await sender.send(email_to(port, username=USER, password=PASSWORD))
            bad = await sender.send(email_to(port, username=USER, password="guess"))
        await sender.aclose()
    assert (good.kind, bad.kind) == ("sent", "permanent")
    assert len(server.messages) == 1


async def test_a_certificate_for_another_name_fails_verification(
    other_name_tls: ssl.SSLContext, ca_file: str,
) -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    async with smtp_server(security="tls", tls=other_name_tls) as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(
                port, host="localhost", security="tls", ca_file=ca_file))
        await sender.aclose()
    assert outcome.kind == "transient"
    assert "certificate" in outcome.detail.lower()
    assert server.messages == []


async def test_a_closed_port_is_transient() -> None:
    async with smtp_server() as (port, _server):
        pass  # the port is free again
    sender = SmtpSender(Destinations(allow_private=True))
    with anyio.fail_after(5):
        outcome = await sender.send(email_to(port))
    await sender.aclose()
    assert outcome.kind == "transient"
    assert f"127.0.0.1:{port}" in outcome.detail


async def test_idle_connections_are_closed_after_the_idle_time() -> None:
    now = [100.0]
    destinations = Destinations(allow_private=True)
    pools = SmtpPools(destinations, idle_s=60.0, monotonic=lambda: now[0])
    sender = SmtpSender(destinations, pools=pools)
    async with smtp_server() as (port, server):
        with anyio.fail_after(5):
            await sender.send(email_to(port))
            now[0] += 30
            await pools.prune()
            assert pools.idle_count() == 1
            now[0] += 31
            await pools.prune()
            assert pools.idle_count() == 0
            assert server.quits == 1
            await sender.send(email_to(port, message_id="m2"))
        await sender.aclose()
    assert server.connections == 2


async def test_a_header_with_a_line_break_is_refused_before_any_connection() -> None:
    sender = SmtpSender(Destinations(allow_private=True))
    hostile = {**CONTENT, "subject": "Hi\r\nBcc: everyone@example.com"}
    async with smtp_server() as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(port, content=hostile))
        await sender.aclose()
    assert outcome.kind == "permanent"
    assert "linefeed" in outcome.detail or "line" in outcome.detail
    assert server.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_an_agent_configured_private_host_is_refused_without_connecting(
    host: str,
) -> None:
    sender = SmtpSender(Destinations(allow_private=False))
    async with smtp_server() as (port, server):
        with anyio.fail_after(5):
            outcome = await sender.send(email_to(port, host=host, trusted=False))
            operator = await sender.send(email_to(port, host=host, trusted=True))
        await sender.aclose()
    assert outcome.kind == "permanent"
    assert f"refused '{host}'" in outcome.detail and "loopback" in outcome.detail
    assert operator.kind == "sent"
    assert server.connections == 1

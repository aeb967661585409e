"""The fallback walk (a channel that cannot be used is skipped with its reason) and what
real SMTP answers do: 5xx moves to the next channel, 4xx retries later, 250 sends."""

from __future__ import annotations

import socket

import pytest

from server.runtime import Runtime
from tests.channels.smtp_support import smtp_server
from tests.delivery.support import details, parsed, query, seed, settled, statuses, until
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.delivery.retry import MAX_ATTEMPTS
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio

SMS_STEP = {"channel": "sms", "template_id": "hello-sms"}
FROM = "Shop <shop@example.com>"


async def test_a_person_without_email_gets_the_sms_fallback(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("bo", {"phone": "+14155550124", "first_name": "Bo"})
    out = await cio.send("bo", "email", template_id="welcome", fallback=[SMS_STEP])
    assert (out.status, out.channel) == ("queued", "sms")
    message = await settled(runtime, out.message_id)
    assert (message.status, message.channel, message.template_id) == ("captured", "sms",
                                                                      "hello-sms")
    assert statuses(message) == [("queued", "email"), ("skipped", "email"), ("sending", "sms"),
                                 ("captured", "sms")]
    assert details(message, "skipped") == ["the person has no email attribute"]
    assert message.rendered == {"body": "Hi Bo"}
    assert message.fallback == []
    [capture] = message.captures
    assert capture.channel == "sms" and "To=%2B14155550124" in capture.text


async def test_a_disabled_channel_is_skipped_and_without_fallback_undeliverable(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    configured = await cio.channels_configure("email", "disabled")
    using = {c.channel: (c.provider, c.source) for c in configured.channels}
    assert "email" not in using and using["sms"] == ("capture", "default")
    off = "the email channel is turned off (channels_configure)"
    alone = await cio.send("ada", "email", template_id="welcome")
    assert (alone.status, alone.reason) == ("undeliverable", off)
    moved = await cio.send("ada", "email", template_id="welcome", fallback=[SMS_STEP])
    message = await settled(runtime, moved.message_id)
    assert (message.status, message.channel) == ("captured", "sms")
    assert details(message, "skipped") == [off]


async def test_when_no_fallback_is_left_the_message_is_undeliverable_with_the_last_reason(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("cy", {"first_name": "Cy"})
    out = await cio.send("cy", "email", template_id="welcome", fallback=[
        SMS_STEP, {"channel": "push", "template_id": "hello-push"}])
    assert (out.status, out.channel) == ("undeliverable", "push")
    message = await cio.messages_get(out.message_id)
    assert statuses(message) == [("queued", "email"), ("skipped", "email"), ("skipped", "sms"),
                                 ("skipped", "push"), ("undeliverable", "push")]
    reasons = details(message, "skipped")
    assert reasons[:2] == ["the person has no email attribute",
                           "the person has no phone attribute"]
    assert reasons[2] is not None and "no push device" in reasons[2]
    assert message.reason == reasons[2]


async def test_an_email_address_that_cannot_be_delivered_to_is_skipped_with_why(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    # identify's plausibility check lets it in; the delivery check does not
    await cio.identify("ada", {"email": "ada@example..com"})
    out = await cio.send("ada", "email", template_id="welcome", fallback=[SMS_STEP])
    message = await settled(runtime, out.message_id)
    assert (message.status, message.channel) == ("captured", "sms")
    [why] = details(message, "skipped")
    assert why is not None and "'ada@example..com'" in why and "empty label" in why


async def test_an_invalid_phone_number_is_skipped_with_why(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("ada", {"phone": "12"})
    out = await cio.send("ada", "sms", template_id="hello-sms")
    assert out.status == "undeliverable"
    assert out.reason is not None and out.reason.startswith("phone '12'")


async def test_push_without_devices_is_skipped_and_with_one_is_captured(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    out = await cio.send("ada", "push", template_id="hello-push", fallback=[SMS_STEP])
    message = await settled(runtime, out.message_id)
    assert (message.status, message.channel) == ("captured", "sms")
    [why] = details(message, "skipped")
    assert why is not None and "no push device" in why
    await cio.add_device("ada", "fcm-token-1", "android")
    out = await cio.send("ada", "push", template_id="hello-push")
    message = await settled(runtime, out.message_id)
    assert (message.status, message.channel) == ("captured", "push")
    assert '"token":"fcm-token-1"' in message.captures[0].text
    assert "Hello Ada" in message.captures[0].text


async def smtp_engine(runtime: Runtime, port: int) -> CustomerIO:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.channels_configure("email", "smtp", {"host": "127.0.0.1", "port": port,
                                                   "security": "none", "from": FROM})
    return cio


async def test_an_email_reaches_a_real_smtp_server_with_its_message_id(
    private_runtime: Runtime,
) -> None:
    async with smtp_server() as (port, recorder):
        cio = await smtp_engine(private_runtime, port)
        out = await cio.send("ada", "email", template_id="welcome")
        message = await settled(private_runtime, out.message_id)
    assert (message.status, message.provider) == ("sent", "smtp")
    assert message.provider_message_id == f"<{out.message_id}@example.com>"
    assert details(message, "sent") == ["250 2.0.0 Ok: queued as Q1"]
    assert message.captures == []
    [received] = recorder.messages
    assert (received.mail_from, received.rcpt_tos) == ("shop@example.com",
                                                       ["ada@example.com"])
    mail = parsed(received.data)
    assert mail["Message-ID"] == f"<{out.message_id}@example.com>"
    assert mail["Subject"] == "Hi Ada" and mail["From"] == FROM
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_a_permanent_smtp_refusal_moves_to_the_sms_fallback(
    private_runtime: Runtime,
) -> None:
    async with smtp_server() as (port, recorder):
        recorder.rcpt_replies["ada@example.com"] = "550 5.1.1 mailbox unavailable"
        cio = await smtp_engine(private_runtime, port)
        out = await cio.send("ada", "email", template_id="welcome", fallback=[SMS_STEP])
        message = await settled(private_runtime, out.message_id)
    assert (message.status, message.channel) == ("captured", "sms")
    assert statuses(message) == [("queued", "email"), ("sending", "email"),
                                 ("skipped", "email"), ("sending", "sms"), ("captured", "sms")]
    assert details(message, "skipped") == ["RCPT TO refused: 550 5.1.1 mailbox unavailable"]
    assert recorder.messages == []


async def test_a_permanent_smtp_refusal_without_fallback_fails(
    private_runtime: Runtime,
) -> None:
    async with smtp_server() as (port, recorder):
        recorder.rcpt_replies["ada@example.com"] = "550 5.1.1 mailbox unavailable"
        cio = await smtp_engine(private_runtime, port)
        out = await cio.send("ada", "email", template_id="welcome")
        message = await settled(private_runtime, out.message_id)
    assert message.status == "failed"
    assert message.reason == "RCPT TO refused: 550 5.1.1 mailbox unavailable"


async def retried(runtime: Runtime, message_id: str, retries: int) -> float:
    """Wait for the `retries`-th retry; returns the message's next due time."""
    message = await until(runtime, message_id, lambda m: m.status == "queued" and len(
        details(m, "retry")) == retries)
    assert message.attempts == retries
    return float(query(runtime.data_dir / "tom.sqlite3",
                       "SELECT due FROM messages WHERE message_id = ?", message_id)[0][0])


async def test_a_transient_smtp_refusal_is_retried_later_and_then_sent(
    private_runtime: Runtime, clock: ManualClock,
) -> None:
    async with smtp_server() as (port, recorder):
        recorder.rcpt_replies["ada@example.com"] = "451 4.7.1 try again later"
        cio = await smtp_engine(private_runtime, port)
        out = await cio.send("ada", "email", template_id="welcome")
        due = await retried(private_runtime, out.message_id, 1)
        assert clock.now() < due <= clock.now() + 30
        message = await cio.messages_get(out.message_id)
        [retry] = details(message, "retry")
        assert retry is not None and retry.startswith("RCPT TO refused: 451 4.7.1 try again "
                                                      "later; next attempt in ")
        # not before it is due
        await private_runtime.engine("tom").run_due()
        await private_runtime.dispatcher.drain(5)
        assert (await cio.messages_get(out.message_id)).status == "queued"
        del recorder.rcpt_replies["ada@example.com"]
        clock.set(due + 1)
        private_runtime.scheduler.kick()
        message = await settled(private_runtime, out.message_id)
    assert (message.status, message.attempts) == ("sent", 2)
    assert statuses(message) == [("queued", "email"), ("sending", "email"), ("retry", "email"),
                                 ("sending", "email"), ("sent", "email")]
    [received] = recorder.messages
    assert parsed(received.data)["Message-ID"] == f"<{out.message_id}@example.com>"


async def test_transient_refusals_give_up_after_the_last_attempt_and_fall_back(
    private_runtime: Runtime, clock: ManualClock,
) -> None:
    async with smtp_server() as (port, recorder):
        recorder.rcpt_replies["ada@example.com"] = "421 4.3.2 busy"
        cio = await smtp_engine(private_runtime, port)
        out = await cio.send("ada", "email", template_id="welcome", fallback=[SMS_STEP])
        for retries in range(1, MAX_ATTEMPTS):
            due = await retried(private_runtime, out.message_id, retries)
            clock.set(due + 1)
            private_runtime.scheduler.kick()
        message = await until(private_runtime, out.message_id, "captured")
    assert message.channel == "sms"
    [why] = details(message, "skipped")
    assert why == f"RCPT TO refused: 421 4.3.2 busy (gave up after {MAX_ATTEMPTS} attempts)"
    assert len(details(message, "retry")) == MAX_ATTEMPTS - 1


async def test_the_retry_due_time_is_what_agent_status_shows(
    private_runtime: Runtime,
) -> None:
    async with smtp_server() as (port, recorder):
        recorder.rcpt_replies["ada@example.com"] = "451 4.7.1 try again later"
        cio = await smtp_engine(private_runtime, port)
        out = await cio.send("ada", "email", template_id="welcome")
        due = await retried(private_runtime, out.message_id, 1)
        status = await cio.agent_status()
    assert {w.area: w.next_due for w in status.scheduled}["delivery"] == iso(due)



async def test_an_smtp_server_that_is_down_is_retried_later(
    private_runtime: Runtime, clock: ManualClock,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cio = await smtp_engine(private_runtime, port)
    out = await cio.send("ada", "email", template_id="welcome")
    due = await retried(private_runtime, out.message_id, 1)
    assert due > clock.now()
    [retry] = details(await cio.messages_get(out.message_id), "retry")
    assert retry is not None and f"127.0.0.1:{port}" in retry

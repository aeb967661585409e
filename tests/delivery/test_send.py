"""send with nothing configured: the capture provider keeps the exact bytes; idempotency,
render failures, scheduled sends, merges and deletions, agent_status."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import OperatorConfig
from server.runtime import Runtime
from tests.delivery.support import (
    details,
    header_lines,
    message_count,
    parsed,
    query,
    secret_of,
    seed,
    settled,
    statuses,
)
from tools.core.clock import ManualClock
from tools.core.delivery.tokens import read_unsubscribe_token
from tools.core.errors import NotFound
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio

LONG_PUBLIC_URL = "https://unsubscribe-links.a-rather-long-domain-name.example.com/customerio"


async def test_a_marketing_email_is_captured_with_subject_alternatives_and_one_click_headers(
    tmp_path: Path, clock: ManualClock, db: Path,
) -> None:
    async with Runtime(tmp_path, clock=clock, public_url=LONG_PUBLIC_URL) as runtime:
        cio = runtime.engine("tom")
        await seed(cio)
        queued = await cio.send("ada", "email", template_id="welcome")
        assert (queued.status, queued.channel, queued.repeat) == ("queued", "email", False)
        message = await settled(runtime, queued.message_id)
    assert message.status == "captured" and message.provider == "capture"
    assert statuses(message) == [("queued", "email"), ("sending", "email"),
                                 ("captured", "email")]
    [capture] = message.captures
    assert capture.channel == "email" and capture.size == len(capture.text.encode())
    mail = parsed(capture.text)
    assert mail["Subject"] == "Hi Ada" and mail["To"] == "ada@example.com"
    assert mail["Message-ID"] == f"<{message.message_id}@capture.invalid>"
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    # List-Unsubscribe: one plain <url> line however long, never RFC 2047 encoded
    lines = header_lines(capture.text)
    [unsub] = [line for line in lines if line.startswith("List-Unsubscribe: ")]
    following = lines[lines.index(unsub) + 1]
    assert not following.startswith((" ", "\t")), "List-Unsubscribe was folded"
    assert "=?" not in unsub and len(unsub) > 78
    url = unsub.removeprefix("List-Unsubscribe: ")
    assert url.startswith(f"<{LONG_PUBLIC_URL}/unsubscribe/") and url.endswith(">")
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    # the {{ unsubscribe_url }} of the body is the same link, its token names the message
    html = mail.get_body(("html",))
    assert html is not None and f'href="{url[1:-1]}"' in html.get_content()
    assert message.rendered is not None and url[1:-1] in str(message.rendered["body"])
    token = read_unsubscribe_token(secret_of(db), url[1:-1].rsplit("/", 1)[1])
    assert (token.agent_id, token.message_id, token.topic) == ("tom", message.message_id, None)


async def test_a_transactional_email_has_no_unsubscribe_headers_or_link(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    queued = await cio.send("ada", "email", template_id="welcome", transactional=True)
    message = await settled(runtime, queued.message_id)
    assert message.status == "captured" and message.transactional is True
    text = message.captures[0].text
    assert "List-Unsubscribe" not in text
    assert message.rendered is not None and 'href=""' in str(message.rendered["body"])


async def test_inline_content_and_trigger_data_render_into_the_capture(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    queued = await cio.send("ada", "sms", content={"body": "Order {{ trigger.order }} shipped, "
                                                           "{{ customer.first_name }}"},
                            data={"order": "A-17"})
    message = await settled(runtime, queued.message_id)
    assert message.status == "captured" and message.template_id is None
    assert message.rendered == {"body": "Order A-17 shipped, Ada"}
    text = message.captures[0].text
    assert text.startswith("POST ") and "To=%2B14155550123" in text
    assert "Order+A-17+shipped%2C+Ada" in text


async def test_an_idempotency_key_sends_once_and_repeats_return_the_first_message(
    runtime: Runtime, db: Path,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    first = await cio.send("ada", "email", template_id="welcome", idempotency_key="order-1")
    again = await cio.send("ada", "email", template_id="welcome", idempotency_key="order-1")
    assert (again.message_id, again.repeat, first.repeat) == (first.message_id, True, False)
    assert message_count(db) == 1
    message = await settled(runtime, first.message_id)
    assert message.idempotency_key == "order-1" and len(message.captures) == 1
    later = await cio.send("ada", "email", template_id="welcome", idempotency_key="order-1")
    assert (later.message_id, later.status, later.repeat) == (first.message_id, "captured",
                                                               True)
    assert message_count(db) == 1


async def test_a_render_error_fails_the_message_and_nothing_is_captured(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("ada", {"n": 4})
    await cio.templates_create("broken", "email", {
        "subject": "Hi", "body": "<p>{{ customer.n | divided_by: 0 }}</p>"})
    queued = await cio.send("ada", "email", template_id="broken")
    message = await settled(runtime, queued.message_id)
    assert message.status == "failed"
    assert message.reason is not None and message.reason.startswith("render failed")
    assert "divided_by" in message.reason
    assert message.captures == []
    assert statuses(message)[-1] == ("failed", "email")


async def test_a_template_deleted_before_sending_fails_the_message(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    queued = await cio.send("ada", "email", template_id="welcome",
                            send_at=clock.now() + 600)
    await cio.templates_delete("welcome")
    clock.advance(601)
    runtime.scheduler.kick()
    message = await settled(runtime, queued.message_id)
    assert message.status == "failed" and message.captures == []
    assert message.reason is not None and "deleted" in message.reason


async def test_a_send_at_in_the_future_waits_queued_until_the_clock_reaches_it(
    runtime: Runtime, clock: ManualClock, db: Path,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    at = clock.now() + 3600
    queued = await cio.send("ada", "email", template_id="welcome", send_at=iso(at))
    assert queued.status == "queued"
    await runtime.engine("tom").run_due()
    await runtime.dispatcher.drain(5)
    waiting = await cio.messages_get(queued.message_id)
    assert waiting.status == "queued" and waiting.send_at == iso(at)
    assert details(waiting, "queued") == ["scheduled"]
    assert query(db, "SELECT due FROM messages") == [(at,)]
    clock.advance(3601)
    runtime.scheduler.kick()
    message = await settled(runtime, queued.message_id)
    assert message.status == "captured" and len(message.captures) == 1


async def test_a_send_at_in_the_past_goes_now(runtime: Runtime, clock: ManualClock) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    queued = await cio.send("ada", "sms", template_id="hello-sms", send_at=clock.now() - 86400)
    message = await settled(runtime, queued.message_id)
    assert message.status == "captured"


async def test_merging_people_moves_the_secondarys_messages_to_the_primary(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("ada-2", {"email": "ada2@example.com", "first_name": "Ada"})
    queued = await cio.send("ada-2", "email", template_id="welcome")
    await settled(runtime, queued.message_id)
    await cio.merge_people("ada", "ada-2")
    page = await cio.messages_list(user_id="ada")
    assert [m.message_id for m in page.messages] == [queued.message_id]
    assert (await cio.messages_get(queued.message_id)).user_id == "ada"


async def test_deleting_a_person_deletes_their_messages(runtime: Runtime, db: Path) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    queued = await cio.send("ada", "email", template_id="welcome")
    await settled(runtime, queued.message_id)
    await cio.delete_person("ada")
    with pytest.raises(NotFound):
        await cio.messages_get(queued.message_id)
    assert message_count(db) == 0
    assert query(db, "SELECT count(*) FROM message_transitions") == [(0,)]
    assert query(db, "SELECT count(*) FROM message_captures") == [(0,)]
    assert (await cio.messages_list()).messages == []


async def test_agent_status_counts_messages_and_shows_when_delivery_is_next_due(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    now = await cio.send("ada", "sms", template_id="hello-sms")
    await settled(runtime, now.message_id)
    at = clock.now() + 7200
    await cio.send("ada", "email", template_id="welcome", send_at=at)
    status = await cio.agent_status()
    assert status.messages == 2
    delivery = {w.area: w.next_due for w in status.scheduled}["delivery"]
    assert delivery == iso(at) and status.next_due == iso(at)



async def test_a_line_break_in_an_attribute_never_becomes_an_email_header(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("ada", {"first_name": "Ada\r\nBcc: evil@example.com"})
    out = await cio.send("ada", "email", template_id="welcome")
    message = await settled(runtime, out.message_id)
    for capture in message.captures:
        assert not any(line.lower().startswith("bcc:") for line in header_lines(capture.text))
        assert parsed(capture.text)["Bcc"] is None
    assert message.status in ("captured", "failed")


async def test_the_template_from_and_reply_to_win_over_the_providers_from(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.templates_create("signed", "email", {
        "subject": "S", "body": "<p>B</p>", "from": "Shop <hello@shop.example>",
        "reply_to": "help@shop.example"})
    out = await cio.send("ada", "email", template_id="signed")
    mail = parsed((await settled(runtime, out.message_id)).captures[0].text)
    assert (mail["From"], mail["Reply-To"]) == ("Shop <hello@shop.example>",
                                                "help@shop.example")
    assert mail["Message-ID"] == f"<{out.message_id}@shop.example>"


async def test_unsubscribe_links_point_at_the_operators_public_url(
    tmp_path: Path, clock: ManualClock,
) -> None:
    config = OperatorConfig(public_url="https://cio.example.com")
    async with Runtime(tmp_path, clock=clock, config=config) as runtime:
        cio = runtime.engine("tom")
        await seed(cio)
        out = await cio.send("ada", "email", template_id="welcome")
        message = await settled(runtime, out.message_id)
    assert "List-Unsubscribe: <https://cio.example.com/unsubscribe/" in message.captures[0].text

"""In-app messages land in the person's inbox, rendered; they are listed newest first,
a page at a time, and marked read."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import seed, settled, statuses
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import EngineError, NotFound
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio


async def delivered(runtime: Runtime, cio: CustomerIO, order: str, user: str = "ada") -> str:
    out = await cio.send(user, "in_app", template_id="order-inbox", data={"order": order})
    message = await settled(runtime, out.message_id)
    assert message.status == "delivered", message.reason
    return out.message_id


async def test_an_in_app_message_is_delivered_to_the_inbox_rendered(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    message_id = await delivered(runtime, cio, "A-1")
    message = await cio.messages_get(message_id)
    assert (message.provider, message.captures) == ("inbox", [])
    assert statuses(message) == [("queued", "in_app"), ("sending", "in_app"),
                                 ("delivered", "in_app")]
    inbox = await cio.inbox_list("ada")
    [item] = inbox.messages
    assert (item.message_id, item.title, item.body, item.link, item.read_at) == (
        message_id, "Hi Ada", "<p>Your order A-1</p>", "https://shop.test/orders/A-1", None)
    assert inbox.next_cursor is None and inbox.user_id == "ada"


async def test_the_inbox_html_body_escapes_attribute_values(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await delivered(runtime, cio, "<script>x</script>")
    [item] = (await cio.inbox_list("ada")).messages
    assert item.body == "<p>Your order &lt;script&gt;x&lt;/script&gt;</p>"


async def test_marking_read_marks_only_this_persons_in_app_messages(
    runtime: Runtime, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("bo", {"first_name": "Bo"})
    first = await delivered(runtime, cio, "A-1")
    second = await delivered(runtime, cio, "A-2")
    theirs = await delivered(runtime, cio, "B-1", user="bo")
    email = await cio.send("ada", "email", template_id="welcome")
    await settled(runtime, email.message_id)
    marked = await cio.inbox_mark_read("ada", [first, "msg_nope", theirs, email.message_id])
    assert (marked.marked, marked.not_found) == (1, ["msg_nope", theirs, email.message_id])
    again = await cio.inbox_mark_read("ada", [first])
    assert (again.marked, again.not_found) == (0, [])
    unread = await cio.inbox_list("ada", unread_only=True)
    assert [m.message_id for m in unread.messages] == [second]
    every = await cio.inbox_list("ada")
    assert [m.message_id for m in every.messages] == [second, first]
    assert every.messages[1].read_at == iso(clock.now())
    assert (await cio.messages_get(first)).read_at is not None
    assert [m.message_id for m in (await cio.inbox_list("bo", unread_only=True)).messages] == [
        theirs]


async def test_the_inbox_pages_newest_first(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    ids = [await delivered(runtime, cio, f"A-{n}") for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await cio.inbox_list("ada", limit=2, cursor=cursor)
        assert len(page.messages) <= 2
        seen += [m.message_id for m in page.messages]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids[::-1] and pages == 3


async def test_a_disabled_in_app_channel_makes_the_message_undeliverable(
    runtime: Runtime,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.channels_configure("in_app", "disabled")
    out = await cio.send("ada", "in_app", template_id="order-inbox", data={"order": "X"})
    assert out.status == "undeliverable"
    assert (await cio.inbox_list("ada")).messages == []


@pytest.mark.parametrize(("call", "expected"), [
    (("inbox_list", "nobody"), NotFound),
    (("inbox_mark_read", "nobody", ["msg_1"]), NotFound),
    (("inbox_mark_read", "ada", []), EngineError),
    (("inbox_mark_read", "ada", "msg_1"), EngineError),
    (("inbox_mark_read", "ada", ["m"] * 501), EngineError),
    (("inbox_mark_read", "ada", [7]), EngineError),
])
async def test_bad_inbox_calls_are_errors_that_store_nothing(
    runtime: Runtime, db: Path, call: tuple[object, ...], expected: type[Exception],
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    name, *args = call
    with unchanged(db), pytest.raises(expected):
        await getattr(cio, str(name))(*args)


async def test_bad_inbox_paging_arguments_are_errors(runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    for kwargs in ({"limit": 0}, {"limit": 10_000}, {"cursor": "not-a-cursor"},
                   {"unread_only": "yes"}):
        with pytest.raises(EngineError):
            await cio.inbox_list("ada", **kwargs)  # type: ignore[arg-type]

"""workflows_trigger starts a run (one journey per recipient: listed people, a segment's
members; unknown people skipped and listed; `data` is trigger.* in messages);
workflows_get_status follows it and workflows_cancel stops it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import settled
from tests.journeys.support import API, DAY, SMS, later, people, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.anyio

STEPS = [{"id": "hello", "type": "send", "channel": "sms", "template_id": "hi"},
         {"id": "wait", "type": "delay", "duration": "1d"},
         {"id": "again", "type": "send", "channel": "sms", "template_id": "hi"},
         {"id": "rest", "type": "delay", "duration": "1d"}]


@pytest.fixture
async def shop(cio: CustomerIO) -> CustomerIO:
    await people(cio, "ada", "bob", "cy", phone="+14155550123")
    await cio.templates_create("hi", "sms", SMS)
    await workflow(cio, "w", API, STEPS)
    return cio


async def test_a_run_starts_one_journey_per_known_recipient_and_lists_the_unknown(
        shop: CustomerIO) -> None:
    run = await shop.workflows_trigger("w", ["ada", "zed", "bob", "ada"])
    assert run.run_id.startswith("run_") and run.recipients == 2
    assert run.skipped == [{"user_id": "zed", "reason": "no such person"}]
    assert sorted(m.user_id for m in (await shop.messages_list()).messages) == ["ada", "bob"]


async def test_a_run_of_a_segment_reaches_its_members(shop: CustomerIO) -> None:
    await shop.segments_create("Picked", manual=True)
    await shop.segments_update("picked", add_user_ids=["bob", "cy"])
    run = await shop.workflows_trigger("w", ["ada", "bob"], segment="picked")
    assert (run.recipients, run.skipped) == (3, [])
    status = await shop.workflows_get_status(run.run_id)
    assert sorted(r.user_id for r in status.recipients) == ["ada", "bob", "cy"]


async def test_the_trigger_data_is_read_as_trigger_in_the_sent_message(
        runtime: Runtime) -> None:
    cio = runtime.engine("tom")
    await people(cio, "ada", phone="+14155550123")
    await cio.templates_create("hi", "sms", SMS)
    await workflow(cio, "w", API, STEPS[:1])
    await cio.workflows_trigger("w", ["ada"], data={"x": "order #42"})
    [summary] = (await cio.messages_list(user_id="ada")).messages
    message = await settled(runtime, summary.message_id)
    assert message.status == "captured"
    request = message.captures[0].text  # the provider request, form encoded
    assert parse_qs(request.split("\r\n\r\n", 1)[1])["Body"] == ["Hi Ada order #42"]


@pytest.mark.parametrize("status", ["draft", "paused"])
async def test_triggering_a_workflow_that_is_not_active_is_a_conflict_and_sends_nothing(
        shop: CustomerIO, db: Path, status: str) -> None:
    await shop.workflows_create("off", "Off", API, STEPS)
    if status == "paused":
        await shop.workflows_activate("off")
        await shop.workflows_pause("off")
    with unchanged(db), pytest.raises(Conflict) as caught:
        await shop.workflows_trigger("off", ["ada"])
    assert status in caught.value.message and "workflows_activate" in caught.value.message


@pytest.mark.parametrize(("arguments", "error", "field"), [
    ({"workflow_id": "nope", "recipients": ["ada"]}, NotFound, "workflow_id"),
    ({"workflow_id": "w"}, InvalidInput, "recipients"),
    ({"workflow_id": "w", "segment": "nope"}, NotFound, "segment"),
    ({"workflow_id": "w", "recipients": "ada"}, InvalidInput, "recipients"),
    ({"workflow_id": "w", "recipients": ["ada"], "data": ["x"]}, InvalidInput, "data"),
])
async def test_a_bad_trigger_call_is_refused_and_starts_nothing(
        shop: CustomerIO, db: Path, arguments: dict[str, object], error: type[Exception],
        field: str) -> None:
    with unchanged(db), pytest.raises(error) as caught:
        await shop.workflows_trigger(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field  # type: ignore[attr-defined]


async def test_the_run_status_shows_progress_counts_and_each_recipient(
        shop: CustomerIO, clock: ManualClock) -> None:
    run = await shop.workflows_trigger("w", ["ada", "bob"])
    status = await shop.workflows_get_status(run.run_id)
    assert (status.workflow_id, status.status, status.progress) == ("w", "running", "0/2")
    assert status.counts == {"waiting": 2} and status.at_step == {"wait": 2}
    ada = status.recipients[0]
    assert (ada.user_id, ada.status, ada.current_step, ada.progress) == (
        "ada", "waiting", "wait", "1/4")
    await later(shop, clock, DAY)
    ada = (await shop.workflows_get_status(run.run_id)).recipients[0]
    assert (ada.current_step, ada.progress) == ("rest", "3/4")
    await later(shop, clock, DAY)
    done = await shop.workflows_get_status(run.run_id)
    assert (done.status, done.progress, done.counts) == ("completed", "2/2", {"completed": 2})
    assert done.at_step == {} and done.recipients[0].progress == "4/4"


async def test_the_recipients_of_a_run_come_in_pages(shop: CustomerIO) -> None:
    run = await shop.workflows_trigger("w", ["ada", "bob", "cy"])
    first = await shop.workflows_get_status(run.run_id, limit=2)
    assert [r.user_id for r in first.recipients] == ["ada", "bob"] and first.next_cursor
    rest = await shop.workflows_get_status(run.run_id, limit=2, cursor=first.next_cursor)
    assert [r.user_id for r in rest.recipients] == ["cy"] and rest.next_cursor is None


async def test_cancelling_a_run_stops_every_journey_and_nothing_more_is_sent(
        shop: CustomerIO, clock: ManualClock) -> None:
    run = await shop.workflows_trigger("w", ["ada", "bob"])
    other = await shop.workflows_trigger("w", ["cy"])
    cancelled = await shop.workflows_cancel(run.run_id)
    assert cancelled.cancelled == 2
    status = await shop.workflows_get_status(run.run_id)
    assert (status.status, status.counts, status.at_step) == ("cancelled", {"cancelled": 2}, {})
    for _ in range(2):
        await later(shop, clock, DAY)
    assert (await shop.workflows_get_status(other.run_id)).status == "completed"
    users = [m.user_id for m in (await shop.messages_list()).messages]
    assert sorted(users) == ["ada", "bob", "cy", "cy"]  # the first sends, and cy's second


async def test_an_unknown_run_id_is_not_found(shop: CustomerIO) -> None:
    with pytest.raises(NotFound, match="run_nope"):
        await shop.workflows_get_status("run_nope")
    with pytest.raises(NotFound, match="workflows_trigger"):
        await shop.workflows_cancel("run_nope")

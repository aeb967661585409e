"""journeys_list shows where one person is in every workflow; get_person mentions the open
ones; deleting a person removes their journeys, merging moves them to the primary."""

from __future__ import annotations

import pytest

from tests.journeys.support import API, DAY, journeys, later, people, started, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import NotFound

pytestmark = pytest.mark.anyio

WAIT = [{"id": "wait", "type": "delay", "duration": "2d"}]


@pytest.fixture
async def busy(cio: CustomerIO) -> CustomerIO:
    """ada on two workflows (one waiting, one finished), bob on one."""
    await people(cio, "ada", "bob")
    await workflow(cio, "long", API, WAIT)
    await workflow(cio, "short", API, [{"id": "mark", "type": "update_attributes",
                                        "set": {"marked": True}}])
    await cio.workflows_trigger("long", ["ada", "bob"])
    await cio.workflows_trigger("short", ["ada"])
    return cio


async def test_journeys_list_shows_each_workflow_status_step_and_recent_log(
        busy: CustomerIO) -> None:
    page = await busy.journeys_list("ada")
    assert page.user_id == "ada" and page.next_cursor is None
    short, long = page.journeys  # newest first
    assert (short.workflow_id, short.status, short.current_step) == ("short", "completed", None)
    assert (long.workflow_id, long.status, long.current_step) == ("long", "waiting", "wait")
    assert long.waiting_until == "2026-05-30T20:26:40Z" and long.run_id.startswith("run_")
    assert long.recent == [f"2026-05-28T20:26:40Z - entered: run {long.run_id}",
                           "2026-05-28T20:26:40Z wait waiting: 2d, until 2026-05-30T20:26:40Z"]
    assert short.recent[-1].endswith("completed: 1 steps done")


async def test_journeys_list_pages_newest_first(busy: CustomerIO) -> None:
    first = await busy.journeys_list("ada", limit=1)
    assert [j.workflow_id for j in first.journeys] == ["short"] and first.next_cursor
    rest = await busy.journeys_list("ada", limit=1, cursor=first.next_cursor)
    assert [j.workflow_id for j in rest.journeys] == ["long"] and rest.next_cursor is None


async def test_journeys_list_of_an_unknown_person_is_not_found(busy: CustomerIO) -> None:
    with pytest.raises(NotFound, match="identify"):
        await busy.journeys_list("nobody")


async def test_get_person_mentions_the_open_journeys(busy: CustomerIO) -> None:
    person = await busy.get_person("ada")
    assert [(j.workflow_id, j.status, j.current_step) for j in person.journeys] == [
        ("long", "waiting", "wait")]


async def test_deleting_a_person_removes_their_journeys(
        busy: CustomerIO, clock: ManualClock) -> None:
    await busy.delete_person("ada")
    assert (await busy.workflows_get("long")).journeys == {"waiting": 1, "converted": 0}
    assert (await busy.workflows_get("short")).journeys == {"converted": 0}
    await busy.identify("ada", {"email": "ada@example.com"})  # fresh: no history
    assert await journeys(busy, "ada") == []
    await busy.workflows_trigger("short", ["ada"])  # re-entry 'once' counts the new person
    assert await started(busy, "short") == 1
    assert (await later(busy, clock, 2 * DAY)).ran == 1  # only bob's wait was left


async def test_merging_moves_the_secondarys_journeys_to_the_primary(
        busy: CustomerIO, clock: ManualClock) -> None:
    await busy.identify("cy", {"email": "cy@example.com"})
    await busy.workflows_trigger("long", ["cy"])
    await busy.merge_people("cy", "bob")
    assert [j.workflow_id for j in await journeys(busy, "cy")] == ["long", "long"]
    assert (await busy.workflows_get("long")).journeys == {"waiting": 3, "converted": 0}
    await later(busy, clock, 2 * DAY)
    assert [j.status for j in await journeys(busy, "cy")] == ["completed", "completed"]


async def test_the_journey_log_is_in_the_order_things_happened(
        cio: CustomerIO, clock: ManualClock) -> None:
    await people(cio, "ada", phone="+14155550123")
    await cio.templates_create("hi", "sms", {"body": "Hi"})
    await workflow(cio, "w", API, [*WAIT, {"id": "hello", "type": "send", "channel": "sms",
                                           "template_id": "hi"}])
    await cio.workflows_trigger("w", ["ada"])
    await later(cio, clock, 2 * DAY)
    recent = (await journeys(cio, "ada"))[0].recent
    resumed = next(i for i, line in enumerate(recent) if " wait resumed" in line)
    effect = next(i for i, line in enumerate(recent) if " hello effect" in line)
    assert resumed < effect, recent

"""wait_until: the awaited event resumes the journey inside the write that stored it; a
condition wait resumes when a write makes it true; at max_wait the timeout continues, exits
or runs its own steps."""

from __future__ import annotations

from typing import Any

import pytest

from tests.journeys.support import API, DAY, HOUR, journey, later, people, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

AFTER = {"id": "after", "type": "update_attributes", "set": {"after": True}}
NUDGE = {"id": "nudge", "type": "update_attributes", "set": {"nudged": True}}


def waiting_for(on_timeout: Any = "continue", **awaited: Any) -> list[dict[str, Any]]:
    awaited = awaited or {"event": "purchase"}
    return [{"id": "wait", "type": "wait_until", **awaited, "max_wait": "2d",
             "on_timeout": on_timeout}, AFTER]


async def attributes(cio: CustomerIO, user_id: str = "ada") -> dict[str, Any]:
    return dict((await cio.get_person(user_id)).attributes)


@pytest.fixture
async def ada(cio: CustomerIO) -> CustomerIO:
    await people(cio, "ada", plan="free")
    return cio


async def test_the_awaited_event_resumes_the_journey_inside_the_track_call(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, waiting_for())
    await ada.workflows_trigger("w", ["ada"])
    assert (await journey(ada, "ada", "w")).current_step == "wait"
    clock.advance(HOUR)
    await ada.track("browse", user_id="ada")  # another event: still waiting
    assert (await journey(ada, "ada", "w")).status == "waiting"
    await ada.track("purchase", user_id="ada")
    found = await journey(ada, "ada", "w")
    assert found.status == "completed"
    assert any("wait resumed: 'purchase' happened" in line for line in found.recent)
    assert (await attributes(ada))["after"] is True


async def test_an_event_with_the_wrong_properties_does_not_end_the_wait(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, waiting_for(event="purchase", properties=[
        {"property": "total", "operator": "gte", "value": 100}]))
    await ada.workflows_trigger("w", ["ada"])
    clock.advance(HOUR)
    await ada.track("purchase", user_id="ada", properties={"total": 20})
    assert (await journey(ada, "ada", "w")).status == "waiting"
    await ada.track("purchase", user_id="ada", properties={"total": 120})
    assert (await journey(ada, "ada", "w")).status == "completed"


async def test_an_event_after_the_deadline_is_too_late_and_the_timeout_continues(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, waiting_for("continue"))
    await ada.workflows_trigger("w", ["ada"])
    assert (await later(ada, clock, 2 * DAY - 1)).ran == 0
    assert (await journey(ada, "ada", "w")).status == "waiting"
    await later(ada, clock, 1)
    found = await journey(ada, "ada", "w")
    assert found.status == "completed"
    assert any("wait timeout: no 'purchase' within 2d; continue" in line
               for line in found.recent), found.recent
    assert (await attributes(ada))["after"] is True
    await ada.track("purchase", user_id="ada")  # nothing left to resume
    assert (await journey(ada, "ada", "w")).status == "completed"


async def test_a_timeout_that_exits_ends_the_journey_without_the_next_step(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, waiting_for("exit"))
    await ada.workflows_trigger("w", ["ada"])
    await later(ada, clock, 2 * DAY)
    found = await journey(ada, "ada", "w")
    assert (found.status, found.current_step) == ("exited", None)
    assert "timed out" in found.recent[-1]
    assert "after" not in await attributes(ada)


async def test_a_timeout_with_steps_runs_them_then_the_next_step(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, waiting_for([NUDGE]))
    await workflow(ada, "met", API, waiting_for([NUDGE]))
    await ada.workflows_trigger("w", ["ada"])
    await later(ada, clock, 2 * DAY)
    found = await ada.get_person("ada")
    assert (found.attributes["nudged"], found.attributes["after"]) == (True, True)
    await ada.identify("ada", {"nudged": False, "after": False})
    await ada.workflows_trigger("met", ["ada"])
    clock.advance(HOUR)
    await ada.track("purchase", user_id="ada")  # met: the timeout steps are skipped
    assert (await attributes(ada))["nudged"] is False
    assert (await attributes(ada))["after"] is True


async def test_a_condition_wait_resumes_when_identify_makes_it_true(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, waiting_for(
        condition={"attribute": "plan", "operator": "eq", "value": "pro"}))
    await ada.workflows_trigger("w", ["ada"])
    clock.advance(HOUR)
    await ada.identify("ada", {"plan": "team"})
    assert (await journey(ada, "ada", "w")).status == "waiting"
    await ada.identify("ada", {"plan": "pro"})
    found = await journey(ada, "ada", "w")
    assert found.status == "completed"
    assert any("condition met" in line for line in found.recent)


async def test_a_condition_already_true_does_not_wait(ada: CustomerIO) -> None:
    await workflow(ada, "w", API, waiting_for(
        condition={"attribute": "plan", "operator": "eq", "value": "free"}))
    await ada.workflows_trigger("w", ["ada"])
    assert (await journey(ada, "ada", "w")).status == "completed"

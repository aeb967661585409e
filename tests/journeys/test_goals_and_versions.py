"""Goals convert journeys (counted in workflows_get); editing a workflow people are on makes a
new version: those on their way finish on the old one, new journeys start on the new one."""

from __future__ import annotations

import pytest

from tests.journeys.support import API, DAY, HOUR, journey, later, people, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

LONG = [{"id": "wait", "type": "delay", "duration": "3d"},
        {"id": "remind", "type": "update_attributes", "set": {"reminded": True}}]


@pytest.fixture
async def ada(cio: CustomerIO) -> CustomerIO:
    await people(cio, "ada", plan="free")
    await people(cio, "bob", plan="free")
    return cio


async def test_the_goal_event_converts_the_journey_and_ends_it(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, LONG, {"goal": {"event": "purchase"}})
    await ada.workflows_trigger("w", ["ada", "bob"])
    clock.advance(HOUR)
    await ada.track("purchase", user_id="ada")
    converted = await journey(ada, "ada", "w")
    assert (converted.status, converted.current_step) == ("exited", None)
    assert "converted: goal event 'purchase' happened" in converted.recent[-1]
    got = await ada.workflows_get("w")
    assert got.journeys == {"exited": 1, "waiting": 1, "converted": 1}
    assert got.at_step == {"wait": 1}
    await later(ada, clock, 3 * DAY)
    assert "reminded" not in (await ada.get_person("ada")).attributes
    assert (await ada.get_person("bob")).attributes["reminded"] is True


async def test_a_goal_condition_converts_when_a_write_makes_it_true(ada: CustomerIO) -> None:
    await workflow(ada, "w", API, LONG, {"goal": {"condition": {
        "attribute": "plan", "operator": "eq", "value": "pro"}}})
    await ada.workflows_trigger("w", ["ada"])
    await ada.identify("ada", {"plan": "pro"})
    assert (await journey(ada, "ada", "w")).status == "exited"
    assert (await ada.workflows_get("w")).journeys["converted"] == 1


async def test_a_goal_without_exit_counts_the_conversion_and_goes_on(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, LONG, {"goal": {"event": "purchase", "exit": False}})
    await ada.workflows_trigger("w", ["ada"])
    await ada.track("purchase", user_id="ada")
    await ada.track("purchase", user_id="ada")  # converts once
    assert (await ada.workflows_get("w")).journeys == {"waiting": 1, "converted": 1}
    await later(ada, clock, 3 * DAY)
    assert (await journey(ada, "ada", "w")).status == "completed"
    assert (await ada.workflows_get("w")).journeys == {"completed": 1, "converted": 1}


async def test_an_active_workflow_with_journeys_gets_a_new_version_and_each_finishes_on_its_own(
        ada: CustomerIO, clock: ManualClock) -> None:
    await workflow(ada, "w", API, LONG)
    await ada.workflows_trigger("w", ["ada"])
    saved = await ada.workflows_update("w", steps=[
        {"id": "wait", "type": "delay", "duration": "3d"},
        {"id": "thank", "type": "update_attributes", "set": {"thanked": True}}])
    assert (saved.version, saved.status) == (2, "active")
    assert "version 1" in saved.note
    await ada.workflows_trigger("w", ["bob"])
    assert ((await journey(ada, "ada", "w")).version,
            (await journey(ada, "bob", "w")).version) == (1, 2)
    await later(ada, clock, 3 * DAY)
    first, second = (await ada.get_person("ada")).attributes, \
        (await ada.get_person("bob")).attributes
    assert first.get("reminded") is True and "thanked" not in first
    assert second.get("thanked") is True and "reminded" not in second
    got = await ada.workflows_get("w")
    assert got.version == 2 and got.definition["steps"][1]["id"] == "thank"


async def test_editing_a_workflow_nobody_has_started_keeps_version_1(ada: CustomerIO) -> None:
    await workflow(ada, "w", API, LONG, activate=False)
    saved = await ada.workflows_update("w", name="Renamed", steps=LONG[:1])
    assert (saved.version, saved.status, saved.steps) == (1, "draft", 1)
    await ada.workflows_activate("w")
    again = await ada.workflows_update("w", steps=LONG)  # active, still nobody on it
    assert again.version == 1
    got = await ada.workflows_get("w")
    assert (got.name, len(got.definition["steps"])) == ("Renamed", 2)


async def test_a_new_trigger_on_an_active_workflow_listens_from_the_next_write(
        ada: CustomerIO) -> None:
    await workflow(ada, "w", {"type": "event", "event": "signup"}, LONG)
    await ada.track("signup", user_id="ada")
    saved = await ada.workflows_update("w", trigger={"type": "event", "event": "joined"})
    assert saved.version == 2
    await ada.track("signup", user_id="bob")
    assert (await ada.workflows_get("w")).journeys == {"waiting": 1, "converted": 0}
    await ada.track("joined", user_id="bob")
    assert (await journey(ada, "bob", "w")).version == 2
    [listed] = (await ada.workflows_list()).workflows
    assert (listed.trigger, listed.version) == ("event joined", 2)

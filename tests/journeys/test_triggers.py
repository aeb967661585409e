"""Triggers start journeys by themselves, inside the write that fired them: a tracked event
(with property filters, de-duplicated by event_id, re-entry settings), entering or leaving a
segment, an attribute changing."""

from __future__ import annotations

import pytest

from tests.journeys.support import DAY, journey, journeys, people, started, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

WAIT = [{"id": "wait", "type": "delay", "duration": "2d"}]
DONE = [{"id": "mark", "type": "update_attributes", "set": {"welcomed": True}}]
SIGNUP = {"type": "event", "event": "signup"}
PRO = {"attribute": "plan", "operator": "eq", "value": "pro"}


async def test_a_tracked_event_starts_one_journey_of_the_active_workflow_inside_the_track_call(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, WAIT)
    await cio.track("signup", user_id="ada")
    found = await journey(cio, "ada", "welcome")
    assert (found.status, found.current_step, found.version) == ("waiting", "wait", 1)
    assert found.waiting_until == "2026-05-30T20:26:40Z"
    assert await started(cio, "welcome") == 1


async def test_a_draft_or_other_events_start_nothing(cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, WAIT, activate=False)
    await cio.track("signup", user_id="ada")
    await workflow(cio, "other", {"type": "event", "event": "login"}, WAIT)
    await cio.track("signup", user_id="ada")
    assert await journeys(cio, "ada") == []


async def test_the_same_event_id_tracked_twice_starts_one_journey(cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, DONE, {"reentry": "always"})
    for _ in range(2):
        await cio.track("signup", user_id="ada", event_id="01HZX3V7Q6K9R2M4N8P0T5W1YA")
    assert await started(cio, "welcome") == 1
    await cio.track("signup", user_id="ada", event_id="01HZX3V7Q6K9R2M4N8P0T5W1YB")
    assert await started(cio, "welcome") == 2


async def test_an_event_whose_properties_do_not_match_the_filter_starts_nothing(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "upgrade", {"type": "event", "event": "checkout", "properties": [
        {"property": "plan", "operator": "eq", "value": "pro"}]}, WAIT)
    await cio.track("checkout", user_id="ada", properties={"plan": "free"})
    await cio.track("checkout", user_id="ada")
    assert await started(cio, "upgrade") == 0
    await cio.track("checkout", user_id="ada", properties={"plan": "pro"})
    assert await started(cio, "upgrade") == 1


@pytest.mark.parametrize(("reentry", "expected"), [("once", 1), ("always", 2)])
async def test_a_batch_of_two_events_starts_journeys_as_re_entry_allows(
        cio: CustomerIO, reentry: str, expected: int) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, DONE, {"reentry": reentry})
    result = await cio.batch([{"action": "track", "user_id": "ada", "name": "signup"}] * 2)
    assert result.failed == 0
    assert await started(cio, "welcome") == expected


async def test_re_entry_always_starts_a_journey_each_time_even_while_one_is_on_its_way(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, WAIT, {"reentry": "always"})
    await cio.batch([{"action": "track", "user_id": "ada", "name": "signup"}] * 2)
    assert await started(cio, "welcome") == 2


async def test_re_entry_once_per_interval(cio: CustomerIO, clock: ManualClock) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, DONE, {"reentry": "7d"})
    await cio.track("signup", user_id="ada")
    clock.advance(6 * DAY)
    await cio.track("signup", user_id="ada")
    assert await started(cio, "welcome") == 1
    clock.advance(DAY)
    await cio.track("signup", user_id="ada")
    assert await started(cio, "welcome") == 2


async def test_a_backfilled_event_older_than_72_hours_starts_nothing(
        cio: CustomerIO, clock: ManualClock) -> None:
    await people(cio, "ada")
    await workflow(cio, "welcome", SIGNUP, WAIT)
    await cio.track("signup", user_id="ada", timestamp=clock.now() - 4 * DAY)
    assert (await cio.get_person("ada")).event_counts == {"signup": 1}
    assert await started(cio, "welcome") == 0


# --- segments and attributes ---------------------------------------------------------------

@pytest.fixture
async def pro(cio: CustomerIO) -> CustomerIO:
    """ada on the free plan and a dynamic segment 'pro' of people on the pro plan."""
    await people(cio, "ada", plan="free")
    await cio.segments_create("Pro", rules=PRO)
    return cio


async def test_entering_a_dynamic_segment_starts_its_segment_entered_workflow(
        pro: CustomerIO) -> None:
    await workflow(pro, "onboard", {"type": "segment_entered", "segment_id": "pro"}, WAIT)
    await workflow(pro, "winback", {"type": "segment_exited", "segment_id": "pro"}, WAIT)
    await pro.identify("ada", {"first_name": "Ada"})  # no change of membership
    assert await journeys(pro, "ada") == []
    await pro.identify("ada", {"plan": "pro"})
    assert (await journey(pro, "ada", "onboard")).status == "waiting"
    assert await journeys(pro, "ada", "winback") == []


async def test_leaving_a_segment_starts_its_segment_exited_workflow(pro: CustomerIO) -> None:
    await pro.identify("ada", {"plan": "pro"})
    await workflow(pro, "winback", {"type": "segment_exited", "segment_id": "pro"}, WAIT)
    await pro.identify("ada", {"plan": "free"})
    assert (await journey(pro, "ada", "winback")).current_step == "wait"


async def test_leaving_the_trigger_segment_ends_the_journey_when_the_workflow_says_so(
        pro: CustomerIO) -> None:
    trigger = {"type": "segment_entered", "segment_id": "pro"}
    await workflow(pro, "leaves", trigger, WAIT, {"exit_on_trigger_exit": True})
    await workflow(pro, "stays", trigger, WAIT)
    await pro.identify("ada", {"plan": "pro"})
    await pro.identify("ada", {"plan": "free"})
    left = await journey(pro, "ada", "leaves")
    assert (left.status, left.current_step) == ("exited", None)
    assert "left the trigger segment 'pro'" in left.recent[-1]
    assert (await pro.workflows_get("leaves")).journeys == {"exited": 1, "converted": 0}
    assert (await journey(pro, "ada", "stays")).status == "waiting"


async def test_an_attribute_change_starts_workflows_whose_from_and_to_match(
        cio: CustomerIO) -> None:
    await people(cio, "ada", plan="free")
    await people(cio, "bob")
    await workflow(cio, "upgraded", {"type": "attribute_changed", "attribute": "plan",
                                     "from": "free", "to": "pro"}, WAIT)
    await workflow(cio, "any-change", {"type": "attribute_changed", "attribute": "plan"}, WAIT)
    await workflow(cio, "first-plan", {"type": "attribute_changed", "attribute": "plan",
                                       "from": None}, WAIT)
    await cio.identify("ada", {"plan": "trial"})
    await cio.identify("bob", {"plan": "pro"})  # from unset, not from free
    assert {j.workflow_id for j in await journeys(cio, "ada")} == {"any-change"}
    assert {j.workflow_id for j in await journeys(cio, "bob")} == {"any-change", "first-plan"}
    await cio.identify("ada", {"plan": "free"})
    await cio.identify("ada", {"plan": "pro"})
    assert (await journey(cio, "ada", "upgraded")).status == "waiting"
    await cio.identify("ada", {"plan": "pro"})  # unchanged: nothing new
    assert await started(cio, "upgraded") == 1

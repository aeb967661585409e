"""What steps do to stored data: a branch follows the person's attributes, a split records a
stable cohort, update_attributes writes the profile (Liquid rendered; segments see it),
emit_event stores an event that may start other journeys, up to a bounded depth."""

from __future__ import annotations

import pytest

from tests.journeys.support import API, HOUR, journey, journeys, later, lines, people, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

PRO = {"attribute": "plan", "operator": "eq", "value": "pro"}


def mark(name: str, value: object = True) -> dict[str, object]:
    return {"type": "update_attributes", "set": {name: value}}


AB = {"id": "ab", "type": "split", "cohorts": [
    {"name": f"C{i}", "steps": [mark("cohort", f"C{i}")]} for i in range(4)]}


async def test_a_branch_follows_then_or_else_by_the_persons_attribute(cio: CustomerIO) -> None:
    await people(cio, "ada", plan="pro")
    await people(cio, "bob", plan="free")
    await workflow(cio, "w", API, [{"id": "tier", "type": "branch", "condition": PRO,
                                    "then": [mark("path", "then")],
                                    "else": [mark("path", "else")]}])
    await cio.workflows_trigger("w", ["ada", "bob"])
    assert (await cio.get_person("ada")).attributes["path"] == "then"
    assert (await cio.get_person("bob")).attributes["path"] == "else"
    [why] = lines(await journey(cio, "bob", "w"), "branch")
    assert 'tier branch: else: plan = "pro" ✗ (saw "free")' in why


async def test_a_split_records_one_cohort_that_the_journey_keeps(
        cio: CustomerIO, clock: ManualClock) -> None:
    await people(cio, "ada")
    await workflow(cio, "w", API, [
        {"id": "pause", "type": "delay", "duration": "1h"},
        {"id": "ab", "type": "split", "cohorts": [
            {"name": "A", "weight": 1, "steps": [
                {"id": "a-wait", "type": "delay", "duration": "1h"}, mark("cohort", "A")]},
            {"name": "B", "weight": 1, "steps": [
                {"id": "b-wait", "type": "delay", "duration": "1h"}, mark("cohort", "B")]}]}])
    await cio.workflows_trigger("w", ["ada"])
    await later(cio, clock, HOUR)
    waiting = await journey(cio, "ada", "w")
    [split] = lines(waiting, "split")
    chosen = split.split("cohort ")[1].strip("'")
    assert waiting.current_step == f"{chosen.lower()}-wait"
    await later(cio, clock, HOUR)
    assert (await cio.get_person("ada")).attributes["cohort"] == chosen


async def test_split_cohorts_spread_people_over_the_weights(cio: CustomerIO) -> None:
    users = [f"u{i}" for i in range(40)]
    await people(cio, *users)
    await workflow(cio, "w", API, [AB])
    await cio.workflows_trigger("w", users)
    cohorts = [(await cio.get_person(u)).attributes["cohort"] for u in users]
    assert set(cohorts) == {"C0", "C1", "C2", "C3"}


async def test_a_person_re_entering_a_workflow_lands_in_the_same_cohort(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "w", API, [AB], {"reentry": "always"})
    seen = set()
    for _ in range(8):
        await cio.workflows_trigger("w", ["ada"])
        seen.add((await cio.get_person("ada")).attributes["cohort"])
    assert len(seen) == 1, seen


async def test_update_attributes_renders_liquid_and_segments_see_the_new_value(
        cio: CustomerIO) -> None:
    await people(cio, "ada", plan="free")
    await cio.segments_create("Greeted", rules={"attribute": "greeting", "operator":
                                                "starts_with", "value": "Hello"})
    await workflow(cio, "w", API, [{"type": "update_attributes",
                                    "set": {"greeting": "Hello {{ customer.first_name }}",
                                            "level": 2, "tier": "{{ trigger.tier }}"},
                                    "unset": ["plan"]}])
    await cio.workflows_trigger("w", ["ada"], data={"tier": "gold"})
    person = await cio.get_person("ada")
    assert person.attributes["greeting"] == "Hello Ada"
    assert (person.attributes["level"], person.attributes["tier"]) == (2, "gold")
    assert "plan" not in person.attributes
    assert [s.segment_id for s in person.segments] == ["greeted"]
    assert (await cio.segments_check("greeted", "ada")).member is True


async def test_an_emitted_event_is_stored_on_the_person_and_starts_another_workflow(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "first", API, [{"type": "emit_event", "name": "qualified",
                                        "properties": {"score": 9}}])
    await workflow(cio, "second", {"type": "event", "event": "qualified", "properties": [
        {"property": "score", "operator": "gt", "value": 5}]}, [mark("qualified")])
    await cio.workflows_trigger("first", ["ada"])
    [event] = (await cio.list_events(user_id="ada", name="qualified")).events
    assert event.properties == {"score": 9} and event.event_id
    assert (await journey(cio, "ada", "second")).status == "completed"
    assert (await cio.get_person("ada")).attributes["qualified"] is True


async def test_a_chain_of_journeys_started_by_emitted_events_is_cut_off_at_depth_5(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    for i in range(1, 9):
        await workflow(cio, f"c{i}", {"type": "event", "event": f"e{i}"},
                       [{"type": "emit_event", "name": f"e{i + 1}"}])
    result = await cio.track("e1", user_id="ada")  # the write that started it all stands
    assert result.status == "stored"
    counts = (await cio.get_person("ada")).event_counts
    assert counts == {f"e{i}": 1 for i in range(1, 7)}
    assert {j.workflow_id for j in await journeys(cio, "ada")} == {f"c{i}" for i in range(1, 7)}
    [cut] = lines(await journey(cio, "ada", "c6"), "not emitted")
    assert "'e7' not emitted" in cut and "depth 5" in cut


async def test_a_loop_of_two_workflows_triggering_each_other_is_cut_off_with_a_reason(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "ping", {"type": "event", "event": "ping"},
                   [{"type": "emit_event", "name": "pong"}], {"reentry": "always"})
    await workflow(cio, "pong", {"type": "event", "event": "pong"},
                   [{"type": "emit_event", "name": "ping"}], {"reentry": "always"})
    assert (await cio.track("ping", user_id="ada")).status == "stored"
    found = await journeys(cio, "ada")
    assert len(found) == 6
    assert any("depth 5" in line for j in found for line in j.recent)


async def test_an_event_cut_off_at_the_depth_limit_is_not_logged_as_emitted(
        cio: CustomerIO) -> None:
    await people(cio, "ada")
    for i in range(1, 8):
        await workflow(cio, f"c{i}", {"type": "event", "event": f"e{i}"},
                       [{"type": "emit_event", "name": f"e{i + 1}"}])
    await cio.track("e1", user_id="ada")
    last = await journey(cio, "ada", "c6")
    assert not any("s0 emitted: event 'e7'" in line for line in last.recent), last.recent

"""A journey's own effects are writes like any other: the change events they publish reach the
journeys subscriber while the journey is being advanced. Its goal, its trigger segment and
its waits must see the journey where it now is, not where it was before the step."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.delivery.support import query
from tests.journeys.support import API, journey, journeys, people, workflow
from tools.api import CustomerIO

pytestmark = pytest.mark.anyio

SAVE_FIRST = ("tools/journeys/runner.py _run applies the effects (identify / track inside the "
              "same transaction) before _save stores the journey's new position, so the nested "
              "change events act on the stale stored row")


async def test_a_condition_wait_followed_by_an_update_runs_the_update_once(
        cio: CustomerIO) -> None:
    await people(cio, "ada", visits=0)
    await workflow(cio, "w", API, [
        {"id": "wait", "type": "wait_until", "max_wait": "2d",
         "condition": {"attribute": "vip", "operator": "eq", "value": True}},
        {"id": "count", "type": "update_attributes",
         "set": {"visits": "{{ customer.visits | plus: 1 }}"}},
        {"id": "rest", "type": "delay", "duration": "1d"}])
    await cio.workflows_trigger("w", ["ada"])
    await cio.identify("ada", {"vip": True})
    assert (await cio.get_person("ada")).attributes["visits"] == "1"
    assert (await journey(cio, "ada", "w")).current_step == "rest"


async def test_a_resumed_condition_wait_runs_its_transition_once(cio: CustomerIO,
                                                                 db: Path) -> None:
    await people(cio, "ada", phone="+14155550123")
    await cio.templates_create("hi", "sms", {"body": "Hi"})
    await workflow(cio, "w", API, [
        {"id": "wait", "type": "wait_until", "max_wait": "2d",
         "condition": {"attribute": "vip", "operator": "eq", "value": True}},
        {"id": "stamp", "type": "update_attributes", "set": {"stamped": True}},
        {"id": "hello", "type": "send", "channel": "sms", "template_id": "hi"},
        {"id": "rest", "type": "delay", "duration": "1d"}])
    await cio.workflows_trigger("w", ["ada"])
    await cio.identify("ada", {"vip": True})
    assert len((await cio.messages_list(user_id="ada")).messages) == 1
    log = query(db, "SELECT step_id, what FROM journey_log ORDER BY seq")
    assert log.count(("wait", "resumed")) == 1 and log.count(("hello", "sent")) == 1, log


async def test_a_goal_reached_by_the_journeys_own_update_converts_it(cio: CustomerIO) -> None:
    await people(cio, "ada")
    await workflow(cio, "w", API, [
        {"id": "upgrade", "type": "update_attributes", "set": {"upgraded": True}},
        {"id": "rest", "type": "delay", "duration": "1d"}],
        {"goal": {"condition": {"attribute": "upgraded", "operator": "eq", "value": True}}})
    await cio.workflows_trigger("w", ["ada"])
    assert (await cio.workflows_get("w")).journeys == {"exited": 1, "converted": 1}
    assert (await journey(cio, "ada", "w")).status == "exited"


async def test_leaving_the_trigger_segment_through_the_journeys_own_update_ends_it(
        cio: CustomerIO) -> None:
    await people(cio, "ada", plan="free")
    await cio.segments_create("Pro", rules={"attribute": "plan", "operator": "eq",
                                            "value": "pro"})
    await workflow(cio, "w", {"type": "segment_entered", "segment_id": "pro"}, [
        {"id": "downgrade", "type": "update_attributes", "set": {"plan": "free"}},
        {"id": "rest", "type": "delay", "duration": "1d"}], {"exit_on_trigger_exit": True})
    await cio.identify("ada", {"plan": "pro"})
    found = await journey(cio, "ada", "w")
    assert (found.status, found.current_step) == ("exited", None)


async def test_a_workflow_retriggering_itself_through_an_attribute_is_cut_off(
        cio: CustomerIO) -> None:
    await people(cio, "ada", n=0)
    await workflow(cio, "w", {"type": "attribute_changed", "attribute": "n"}, [
        {"id": "bump", "type": "update_attributes", "set": {"n": "{{ customer.n | plus: 1 }}"}}],
        {"reentry": "always"})
    await cio.identify("ada", {"n": 1})
    found = await journeys(cio, "ada")
    assert len(found) <= 6
    assert any("depth" in line for j in found for line in j.recent)

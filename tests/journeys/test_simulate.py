"""workflows_simulate runs a saved or unsaved workflow for a stored or hypothetical person on a
virtual clock, with injected events: the path with times and reasons, the messages rendered,
where it waits at the horizon. The agent's database stays exactly as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tests.journeys.support import API, people, workflow
from tools.api import CustomerIO
from tools.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.anyio

STEPS: list[dict[str, Any]] = [
    {"id": "hello", "type": "send", "channel": "sms", "template_id": "hi"},
    {"id": "wait", "type": "wait_until", "event": "purchase", "max_wait": "3d",
     "on_timeout": "exit"},
    {"id": "tier", "type": "branch", "condition": {"attribute": "plan", "operator": "eq",
                                                   "value": "pro"},
     "then": [{"id": "thanks", "type": "send", "channel": "sms", "template_id": "hi"}],
     "else": [{"id": "later", "type": "delay", "duration": "1d"},
              {"id": "upsell", "type": "send", "channel": "sms", "template_id": "hi"}]}]
PURCHASE = [{"name": "purchase", "at": "+2d"}]


@contextmanager
def untouched(db: Path) -> Iterator[None]:
    """The database's rows and its main file's bytes are the same after the block."""
    before = db.read_bytes()
    with unchanged(db):
        yield
    assert db.read_bytes() == before


@pytest.fixture
async def shop(cio: CustomerIO) -> CustomerIO:
    await people(cio, "ada", plan="free", phone="+14155550123")
    await cio.templates_create("hi", "sms", {"body": "Hi {{ customer.first_name }}"})
    await workflow(cio, "w", {"type": "event", "event": "signup"}, STEPS, activate=False)
    return cio


def steps_of(simulation: Any) -> list[tuple[str, str, str]]:
    return [(step.at, step.step_id, step.what) for step in simulation.path]


async def test_a_saved_workflow_for_a_stored_person_with_an_injected_event(
        shop: CustomerIO, db: Path) -> None:
    with untouched(db):
        simulation = await shop.workflows_simulate("w", user_id="ada", events=PURCHASE)
    assert simulation.status == "completed" and simulation.waiting is None
    assert steps_of(simulation) == [
        ("2026-05-28T20:26:40Z", "hello", "sent"),
        ("2026-05-28T20:26:40Z", "wait", "waiting"),
        ("2026-05-30T20:26:40Z", "", "event"),
        ("2026-05-30T20:26:40Z", "wait", "resumed"),
        ("2026-05-30T20:26:40Z", "tier", "branch"),
        ("2026-05-30T20:26:40Z", "later", "waiting"),
        ("2026-05-31T20:26:40Z", "later", "resumed"),
        ("2026-05-31T20:26:40Z", "upsell", "sent"),
        ("2026-05-31T20:26:40Z", "", "completed")]
    [branch] = [s for s in simulation.path if s.what == "branch"]
    assert branch.detail == 'else: plan = "pro" ✗ (saw "free")'
    assert [(m.at, m.step_id, m.rendered) for m in simulation.messages] == [
        ("2026-05-28T20:26:40Z", "hello", {"body": "Hi Ada"}),
        ("2026-05-31T20:26:40Z", "upsell", {"body": "Hi Ada"})]
    assert (await shop.messages_list()).messages == []  # nothing queued


async def test_an_unsaved_definition_for_a_hypothetical_profile(
        shop: CustomerIO, db: Path) -> None:
    definition = {"trigger": API, "steps": STEPS}
    with untouched(db):
        simulation = await shop.workflows_simulate(
            definition=definition, profile={"first_name": "Zoe", "plan": "pro"},
            events=PURCHASE)
    assert [s.step_id for s in simulation.path if s.what == "sent"] == ["hello", "thanks"]
    assert [m.rendered for m in simulation.messages] == [{"body": "Hi Zoe"}] * 2
    assert simulation.attributes == {"first_name": "Zoe", "plan": "pro"}
    assert [w.workflow_id for w in (await shop.workflows_list()).workflows] == ["w"]


async def test_a_profile_overrides_the_stored_persons_attributes(shop: CustomerIO) -> None:
    simulation = await shop.workflows_simulate("w", user_id="ada", profile={"plan": "pro"},
                                               events=PURCHASE)
    assert [m.step_id for m in simulation.messages] == ["hello", "thanks"]
    assert simulation.messages[0].rendered == {"body": "Hi Ada"}


async def test_without_the_event_the_wait_times_out_and_the_horizon_shows_where_it_waits(
        shop: CustomerIO, db: Path) -> None:
    with untouched(db):
        timed_out = await shop.workflows_simulate("w", user_id="ada")
        cut = await shop.workflows_simulate("w", user_id="ada", horizon="1d")
    assert timed_out.status == "exited"
    assert [s.what for s in timed_out.path] == ["sent", "waiting", "timeout", "exited"]
    assert cut.status == "waiting"
    assert cut.waiting == "wait_until at wait until 2026-05-31T20:26:40Z"


async def test_simulating_updates_and_events_changes_only_the_simulated_profile(
        shop: CustomerIO, db: Path) -> None:
    await workflow(shop, "u", API, [
        {"type": "update_attributes", "set": {"greeting": "Hello {{ customer.first_name }}"}},
        {"type": "emit_event", "name": "greeted"}], activate=False)
    with untouched(db):
        simulation = await shop.workflows_simulate("u", user_id="ada")
    assert simulation.status == "completed"
    assert (await shop.get_person("ada")).event_counts == {}
    assert "greeting" not in (await shop.get_person("ada")).attributes


@pytest.mark.parametrize(("arguments", "error", "field"), [
    ({}, InvalidInput, "workflow_id"),
    ({"workflow_id": "w", "definition": {"trigger": API, "steps": STEPS}}, InvalidInput,
     "workflow_id"),
    ({"workflow_id": "nope"}, NotFound, "workflow_id"),
    ({"workflow_id": "w", "user_id": "nobody"}, NotFound, "user_id"),
    ({"workflow_id": "w", "events": [{"name": "purchase", "at": "2d"}]}, InvalidInput,
     "events[0].at"),
    ({"workflow_id": "w", "events": [{"name": "purchase", "when": "+2d"}]}, InvalidInput,
     "events[0]"),
    ({"workflow_id": "w", "horizon": "forever"}, InvalidInput, "horizon"),
    ({"definition": {"trigger": API, "steps": [{"type": "delay", "duration": "x"}]}},
     InvalidInput, "steps[0].duration"),
])
async def test_bad_simulation_input_is_refused_and_stores_nothing(
        shop: CustomerIO, db: Path, arguments: dict[str, Any], error: type[Exception],
        field: str) -> None:
    with unchanged(db), pytest.raises(error) as caught:
        await shop.workflows_simulate(**arguments)
    assert caught.value.field == field  # type: ignore[attr-defined]


async def test_a_simulated_split_picks_the_cohort_the_real_journey_picks(
        cio: CustomerIO) -> None:
    users = [f"u{i}" for i in range(6)]
    await people(cio, *users)
    cohorts = [{"name": f"C{i}", "steps": [{"type": "update_attributes",
                                            "set": {"cohort": f"C{i}"}}]} for i in range(10)]
    await workflow(cio, "ab", API, [{"id": "ab", "type": "split", "cohorts": cohorts}])
    simulated = [(await cio.workflows_simulate("ab", user_id=u)).attributes["cohort"]
                 for u in users]
    await cio.workflows_trigger("ab", users)
    real = [(await cio.get_person(u)).attributes["cohort"] for u in users]
    assert simulated == real

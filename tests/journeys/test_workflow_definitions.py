"""workflows_create: a valid definition is saved as a draft; a bad one is refused with the path
of the fault and nothing is stored; a taken id is a conflict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tests.journeys.support import SMS
from tools.api import CustomerIO
from tools.core.errors import Conflict, EngineError, InvalidInput

pytestmark = pytest.mark.anyio

SIGNUP = {"type": "event", "event": "signup"}
HAS_PLAN = {"attribute": "plan", "operator": "exists"}


def nested(step: dict[str, Any]) -> list[dict[str, Any]]:
    """`step` as the first step of the `then` branch of the second step."""
    return [{"type": "delay", "duration": "1d"},
            {"type": "branch", "condition": HAS_PLAN, "then": [step]}]


@pytest.fixture
async def stocked(cio: CustomerIO) -> CustomerIO:
    """A person, an email and an sms template, a topic and a segment to refer to."""
    await cio.identify("ada", {"email": "ada@example.com", "plan": "pro"})
    await cio.templates_create("welcome", "email", {"subject": "Hi", "body": "<p>Hello</p>"})
    await cio.templates_create("hello-sms", "sms", SMS)
    await cio.topics_create("news", "News")
    await cio.segments_create("Pro", rules={"attribute": "plan", "operator": "eq",
                                            "value": "pro"})
    return cio


async def test_a_new_workflow_is_a_draft_whose_stored_definition_has_every_step_id(
        stocked: CustomerIO) -> None:
    saved = await stocked.workflows_create("welcome", "Welcome", SIGNUP, [
        {"type": "send", "channel": "email", "template_id": "welcome", "topic": "news"},
        {"id": "wait", "type": "delay", "duration": "72h"},
        {"type": "branch", "condition": {"segment": "pro"},
         "then": [{"type": "send", "channel": "sms", "template_id": "hello-sms"}],
         "else": [{"type": "exit"}]}])
    assert (saved.status, saved.version, saved.steps) == ("draft", 1, 5)
    assert "workflows_activate" in saved.note
    got = await stocked.workflows_get("welcome")
    assert got.status == "draft" and got.journeys == {"converted": 0}
    steps = got.definition["steps"]
    assert [s["id"] for s in steps] == ["s0", "wait", "s2"]
    assert steps[1]["duration"] == "3d"  # normalised
    assert steps[2]["then"][0]["id"] == "s2-then-0" and steps[2]["else"][0]["id"] == "s2-else-0"
    [listed] = (await stocked.workflows_list()).workflows
    assert (listed.workflow_id, listed.status, listed.trigger) == ("welcome", "draft",
                                                                   "event signup")


@pytest.mark.parametrize(("trigger", "steps", "field", "words"), [
    pytest.param(SIGNUP, nested({"type": "delay", "duration": "3 days"}),
                 "steps[1].then[0].duration", "not a duration", id="malformed duration"),
    pytest.param(SIGNUP, [{"type": "teleport"}], "steps[0].type", "not a step type",
                 id="unknown step type"),
    pytest.param(SIGNUP, nested({"type": "branch", "condition": {
        "attribute": "plan", "operator": "equals", "value": "pro"}, "then": [{"type": "exit"}]}),
        "steps[1].then[0].condition.operator", "unknown operator", id="condition does not parse"),
    pytest.param(SIGNUP, [{"type": "branch", "condition": HAS_PLAN}], "steps[0].then",
                 "both empty", id="empty branch"),
    pytest.param(SIGNUP, [{"id": "a", "type": "exit"}, {"id": "a", "type": "exit"}],
                 "steps[1].id", "unique", id="duplicate step id"),
    pytest.param({"type": "moon"}, [{"type": "exit"}], "trigger.type", "not a trigger type",
                 id="unknown trigger"),
    pytest.param(SIGNUP, nested({"type": "wait_until", "event": "buy", "max_wait": "2d",
                                 "on_timeout": "retry"}),
                 "steps[1].then[0].on_timeout", "on_timeout", id="unknown on_timeout"),
])
async def test_a_malformed_definition_is_refused_with_the_path_of_the_fault(
        stocked: CustomerIO, db: Path, trigger: dict[str, Any], steps: list[Any], field: str,
        words: str) -> None:
    with unchanged(db), pytest.raises(InvalidInput) as caught:
        await stocked.workflows_create("w", "W", trigger, steps)
    assert caught.value.field == field
    assert words in caught.value.message and field in caught.value.message
    assert (await stocked.workflows_list()).workflows == []


@pytest.mark.parametrize(("trigger", "steps", "field", "words"), [
    pytest.param(SIGNUP, nested({"type": "send", "channel": "email", "template_id": "nope"}),
                 "steps[1].then[0].template_id", "'nope' not found", id="missing template"),
    pytest.param(SIGNUP, [{"type": "send", "channel": "sms", "template_id": "welcome"}],
                 "steps[0].template_id", "is a email template", id="template of another channel"),
    pytest.param(SIGNUP, nested({"type": "branch", "condition": {"segment": "nope"},
                                 "then": [{"type": "exit"}]}),
                 "steps[1].then[0].condition.segment", "segment 'nope' not found",
                 id="unknown segment in a condition"),
    pytest.param(SIGNUP, [{"type": "send", "channel": "email", "template_id": "welcome",
                           "topic": "nope"}], "steps[0].topic", "topic 'nope' not found",
                 id="unknown topic"),
    pytest.param({"type": "segment_entered", "segment_id": "nope"}, [{"type": "exit"}],
                 "trigger.segment_id", "segment 'nope' not found", id="unknown trigger segment"),
])
async def test_a_reference_to_something_missing_or_unsuitable_is_refused_with_the_step_path(
        stocked: CustomerIO, db: Path, trigger: dict[str, Any], steps: list[Any], field: str,
        words: str) -> None:
    with unchanged(db), pytest.raises(EngineError) as caught:
        await stocked.workflows_create("w", "W", trigger, steps)
    assert words in caught.value.message and caught.value.field == field
    assert caught.value.kind in ("invalid_input", "not_found")
    assert (await stocked.workflows_list()).workflows == []


async def test_a_second_workflow_with_a_taken_id_is_a_conflict_and_changes_nothing(
        stocked: CustomerIO, db: Path) -> None:
    await stocked.workflows_create("w", "First", SIGNUP, [{"type": "exit"}])
    with unchanged(db), pytest.raises(Conflict) as caught:
        await stocked.workflows_create("w", "Second", {"type": "api"},
                                       [{"type": "delay", "duration": "1d"}])
    assert caught.value.field == "workflow_id" and "workflows_update" in caught.value.message
    assert (await stocked.workflows_get("w")).name == "First"


async def test_an_update_with_a_bad_step_keeps_the_stored_definition(
        stocked: CustomerIO, db: Path) -> None:
    await stocked.workflows_create("w", "W", SIGNUP, [{"type": "delay", "duration": "1d"}])
    with unchanged(db), pytest.raises(InvalidInput) as caught:
        await stocked.workflows_update("w", steps=[{"type": "delay", "duration": "forever"}])
    assert caught.value.field == "steps[0].duration"
    assert (await stocked.workflows_get("w")).definition["steps"][0]["duration"] == "1d"

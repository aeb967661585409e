"""The journey tools and resources through the in-memory MCP client: the workflow resource is
workflows_get's JSON, the diagram a Mermaid flowchart with live counts, the format resource
the definition docs; annotations as declared; bad input is a clear tool error, never a crash,
and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import call, settled
from tests.mcp.tool_checks import tool_error_message
from tools.core.journeys import definition

pytestmark = pytest.mark.anyio

STEPS = [{"id": "hello", "type": "send", "channel": "sms", "template_id": "hi"},
         {"id": "wait", "type": "delay", "duration": "2d"},
         {"id": "tier", "type": "branch", "condition": {"attribute": "plan", "operator": "eq",
                                                        "value": "pro"},
          "then": [{"id": "bye", "type": "exit"}]}]
# tool -> (read_only, destructive, idempotent)
HINTS = {
    "workflows_create": (False, False, False), "workflows_update": (False, False, False),
    "workflows_get": (True, False, True), "workflows_list": (True, False, True),
    "workflows_activate": (False, False, True), "workflows_pause": (False, False, True),
    "workflows_delete": (False, True, True), "workflows_trigger": (False, False, False),
    "workflows_get_status": (True, False, True), "workflows_cancel": (False, True, True),
    "workflows_simulate": (True, False, True), "journeys_list": (True, False, True),
}


@pytest.fixture
async def shop(client: Client, runtime: Runtime) -> Client:
    """ada, an sms template and an active api workflow 'w' ada is on (waiting at 'wait'),
    its first message delivered (captured)."""
    await call(client, "identify", {"user_id": "ada", "attributes": {
        "first_name": "Ada", "phone": "+14155550123", "plan": "free"}})
    await call(client, "templates_create", {"template_id": "hi", "channel": "sms",
                                            "body": "Hi {{ customer.first_name }}"})
    await call(client, "workflows_create", {"workflow_id": "w", "name": "Welcome",
                                            "trigger": {"type": "api"}, "steps": STEPS})
    await call(client, "workflows_activate", {"workflow_id": "w"})
    await call(client, "workflows_trigger", {"workflow_id": "w", "recipients": ["ada"]})
    [message] = (await call(client, "messages_list", {}))["messages"]
    assert (await settled(runtime, message["message_id"])).status == "captured"
    return client


async def test_the_workflow_resource_is_the_same_json_as_workflows_get(shop: Client) -> None:
    templates = {t.uri_template for t in (await shop.list_resource_templates()).resource_templates}
    assert {"customerio://workflows/{workflow_id}",
            "customerio://workflows/{workflow_id}/diagram"} <= templates
    got = await call(shop, "workflows_get", {"workflow_id": "w"})
    assert got["journeys"] == {"waiting": 1, "converted": 0} and got["at_step"] == {"wait": 1}
    [content] = (await shop.read_resource("customerio://workflows/w")).contents
    assert content.mime_type == "application/json"
    assert json.loads(content.text) == got  # type: ignore[union-attr]


async def test_the_diagram_is_a_mermaid_flowchart_with_live_counts(shop: Client) -> None:
    [content] = (await shop.read_resource("customerio://workflows/w/diagram")).contents
    text = content.text  # type: ignore[union-attr]
    assert text.startswith("flowchart TD\n")
    for step_id in ("hello", "wait", "tier", "bye"):
        assert f"{step_id}: " in text
    assert '["wait: delay 2d (1 here)"]' in text
    assert "hello: send sms: hi\"]" in text  # nobody there: no count
    assert "-->|yes|" in text and "trigger: api" in text


async def test_the_format_resource_is_the_definition_text(client: Client) -> None:
    resources = {str(r.uri) for r in (await client.list_resources()).resources}
    assert "customerio://docs/workflows" in resources
    [content] = (await client.read_resource("customerio://docs/workflows")).contents
    assert content.text == definition.__doc__  # type: ignore[union-attr]
    assert "wait_until" in content.text and "reentry" in content.text  # type: ignore[union-attr]


async def test_reading_the_resource_of_an_unknown_workflow_is_an_error(client: Client) -> None:
    for uri in ("customerio://workflows/nope", "customerio://workflows/nope/diagram"):
        with pytest.raises(Exception, match="not found"):
            await client.read_resource(uri)


async def test_every_journey_tool_has_its_declared_annotations(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, (read_only, destructive, idempotent) in HINTS.items():
        hints = tools[name].annotations
        assert hints is not None and hints.title, name
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint,
                hints.open_world_hint) == (read_only, destructive, idempotent, False), name
        assert tools[name].output_schema, name


async def test_the_tools_work_end_to_end(shop: Client) -> None:
    listed = await call(shop, "workflows_list", {})
    assert [w["workflow_id"] for w in listed["workflows"]] == ["w"]
    mine = await call(shop, "journeys_list", {"user_id": "ada"})
    [journey] = mine["journeys"]
    status = await call(shop, "workflows_get_status", {"run_id": journey["run_id"]})
    assert status["progress"] == "0/1" and status["recipients"][0]["current_step"] == "wait"
    simulated = await call(shop, "workflows_simulate", {
        "workflow_id": "w", "profile": {"plan": "pro"}, "events": [{"name": "x", "at": "+1d"}]})
    assert simulated["status"] == "exited" and simulated["messages"][0]["rendered"] == {
        "body": "Hi "}
    assert (await call(shop, "workflows_cancel", {"run_id": journey["run_id"]}))["cancelled"] == 1
    assert (await call(shop, "workflows_delete", {"workflow_id": "w"}))["status"] == "archived"


def deep(levels: int) -> list[dict[str, Any]]:
    """Steps nested `levels` deep through branches."""
    steps: list[dict[str, Any]] = [{"type": "exit"}]
    for _ in range(levels - 1):
        steps = [{"type": "branch", "condition": {"attribute": "a", "operator": "exists"},
                  "then": steps}]
    return steps


DEEP = deep(11)
BAD: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("unknown workflow read", "workflows_get", {"workflow_id": "nope"},
     ["nope", "workflows_list"]),
    ("unknown workflow activated", "workflows_activate", {"workflow_id": "nope"}, ["not found"]),
    ("unknown workflow paused", "workflows_pause", {"workflow_id": "nope"}, ["not found"]),
    ("unknown workflow archived", "workflows_delete", {"workflow_id": "nope"}, ["not found"]),
    ("unknown workflow updated", "workflows_update", {"workflow_id": "nope", "name": "x"},
     ["not found"]),
    ("unknown workflow triggered", "workflows_trigger",
     {"workflow_id": "nope", "recipients": ["ada"]}, ["not found"]),
    ("unknown workflow simulated", "workflows_simulate", {"workflow_id": "nope"},
     ["not found"]),
    ("unknown run", "workflows_get_status", {"run_id": "run_nope"}, ["run_nope", "not found"]),
    ("unknown run cancelled", "workflows_cancel", {"run_id": "run_nope"}, ["not found"]),
    ("unknown person's journeys", "journeys_list", {"user_id": "nobody"}, ["nobody"]),
    ("steps not a list", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"}, "steps": 42}, ["steps"]),
    ("trigger not an object", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": "event", "steps": [{"type": "exit"}]},
     ["trigger"]),
    ("a step not an object", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"}, "steps": ["exit"]},
     ["steps"]),
    ("empty steps", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"}, "steps": []},
     ["steps", "empty"]),
    ("bad workflow id", "workflows_create",
     {"workflow_id": "no spaces!", "name": "X", "trigger": {"type": "api"},
      "steps": [{"type": "exit"}]}, ["workflow_id"]),
    ("name too long", "workflows_create",
     {"workflow_id": "x", "name": "n" * 201, "trigger": {"type": "api"},
      "steps": [{"type": "exit"}]}, ["name", "200"]),
    ("settings unknown key", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"},
      "steps": [{"type": "exit"}], "settings": {"retry": True}}, ["settings.retry"]),
    ("exit_on_trigger_exit without a segment trigger", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"},
      "steps": [{"type": "exit"}], "settings": {"exit_on_trigger_exit": True}},
     ["segment_entered"]),
    ("update with nothing", "workflows_update", {"workflow_id": "w"}, ["nothing to update"]),
    ("recipients not strings", "workflows_trigger",
     {"workflow_id": "w", "recipients": [1, 2]}, ["recipients"]),
    ("trigger with no one", "workflows_trigger", {"workflow_id": "w"}, ["recipients"]),
    ("trigger data too big", "workflows_trigger",
     {"workflow_id": "w", "recipients": ["ada"], "data": {"x": "y" * 100_001}}, ["data"]),
    ("limit not a number", "journeys_list", {"user_id": "ada", "limit": "many"}, ["limit"]),
    ("limit too big", "workflows_list", {"limit": 100_000}, ["limit"]),
    ("bad cursor", "workflows_get_status", {"run_id": "r", "cursor": "garbage"}, ["cursor"]),
    ("simulate both", "workflows_simulate",
     {"workflow_id": "w", "definition": {"trigger": {"type": "api"}, "steps": STEPS}},
     ["workflow_id", "definition"]),
    ("simulate events not a list", "workflows_simulate",
     {"workflow_id": "w", "events": {"name": "x"}}, ["events"]),
    ("simulate horizon too long", "workflows_simulate",
     {"workflow_id": "w", "horizon": "400d"}, ["horizon"]),
    ("too many steps", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"},
      "steps": [{"type": "delay", "duration": "1d"}] * 201}, ["at most 200 steps"]),
    ("nested too deep", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "api"}, "steps": DEEP},
     ["nests steps 11 deep"]),
    ("event name too long", "workflows_create",
     {"workflow_id": "x", "name": "X", "trigger": {"type": "event", "event": "e" * 101},
      "steps": [{"type": "exit"}]}, ["trigger.event"]),
    ("negative limit", "journeys_list", {"user_id": "ada", "limit": -1}, ["limit"]),
    ("simulate unsaved definition with an unknown key", "workflows_simulate",
     {"definition": {"trigger": {"type": "api"}, "steps": STEPS, "extra": 1}}, ["extra"]),
]


BAD_CRASHING: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("simulate unsaved definition without steps", "workflows_simulate",
     {"definition": {"trigger": {"type": "api"}}}, ["steps"]),
    ("simulate unsaved definition without trigger", "workflows_simulate",
     {"definition": {"steps": STEPS}}, ["trigger"]),
]


@pytest.mark.parametrize(("tool", "arguments", "words"), [
    *[pytest.param(t, a, w, id=i) for i, t, a, w in BAD],
    *[pytest.param(t, a, w, id=i) for i, t, a, w in BAD_CRASHING]])
async def test_bad_input_is_a_clear_tool_error_and_changes_nothing(
        shop: Client, db: Path, tool: str, arguments: dict[str, Any], words: list[str]) -> None:
    with unchanged(db):
        result = await shop.call_tool(tool, arguments)
    message = tool_error_message(result, tool).lower()
    for word in words:
        assert word.lower() in message, message

"""What the server advertises: the Track tools, their schemas and hints, the person resource."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from mcp import Client, MCPError
from mcp.types import Tool

from tests.mcp.tool_checks import TRACK_TOOLS, text_of

pytestmark = pytest.mark.anyio

# tool: (read_only, destructive, idempotent); every tool but send is closed-world (local database).
HINTS = {
    "identify": (False, False, True),
    "track": (False, False, False),
    "batch": (False, True, False),
    "get_person": (True, False, True),
    "list_people": (True, False, True),
    "list_events": (True, False, True),
    "delete_person": (False, True, False),
    "suppress_person": (False, True, True),
    "unsuppress_person": (False, False, True),
    "merge_people": (False, True, False),
    "add_device": (False, False, True),
    "remove_device": (False, True, True),
}

# One good call of every tool, run in this order on the seeded agent.
GOOD_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("identify", {"user_id": "linus", "attributes": {"plan": "trial"}}),
    ("track", {"name": "signup", "user_id": "linus"}),
    ("batch", {"operations": [{"action": "track", "user_id": "linus", "name": "login"}]}),
    ("get_person", {"user_id": "linus"}),
    ("list_people", {"limit": 2}),
    ("list_events", {"user_id": "ada"}),
    ("add_device", {"user_id": "linus", "device_id": "fcm-9", "platform": "android"}),
    ("remove_device", {"user_id": "linus", "device_id": "fcm-9"}),
    ("merge_people", {"primary": "ada", "secondary": "grace"}),
    ("suppress_person", {"user_id": "spammer"}),
    ("unsuppress_person", {"user_id": "spammer"}),
    ("delete_person", {"user_id": "linus"}),
]


async def _tools(client: Client) -> dict[str, Tool]:
    return {tool.name: tool for tool in (await client.list_tools()).tools}


async def test_every_track_tool_of_issue_2_is_listed(client: Client) -> None:
    assert set(TRACK_TOOLS) <= set(await _tools(client))
    assert sorted(tool for tool, _ in GOOD_CALLS) == sorted(TRACK_TOOLS)
    assert sorted(HINTS) == sorted(TRACK_TOOLS)


async def test_every_parameter_of_every_tool_has_a_description(client: Client) -> None:
    tools = await _tools(client)
    for name in TRACK_TOOLS:
        schema = tools[name].input_schema
        assert schema["type"] == "object"
        assert schema["properties"], name
        for parameter, spec in schema["properties"].items():
            assert len(spec.get("description", "")) >= 8, f"{name}.{parameter}"
        assert "ctx" not in schema["properties"], name
        assert tools[name].description, name


async def test_every_tool_has_an_object_output_schema(client: Client) -> None:
    tools = await _tools(client)
    for name in TRACK_TOOLS:
        output = tools[name].output_schema
        assert output is not None, name
        assert output["type"] == "object" and output["properties"], name


async def test_every_tool_sets_each_annotation_hint_deliberately(client: Client) -> None:
    tools = await _tools(client)
    for name, (read_only, destructive, idempotent) in HINTS.items():
        hints = tools[name].annotations
        assert hints is not None, name
        assert hints.title, name
        got = (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint)
        assert got == (read_only, destructive, idempotent), name


async def test_only_send_reaches_the_outside_world(client: Client) -> None:
    tools = await _tools(client)
    for name, tool in tools.items():
        assert tool.annotations is not None, name
        assert tool.annotations.open_world_hint is (name == "send"), name


async def test_the_batch_schema_describes_each_action(client: Client) -> None:
    schema = (await _tools(client))["batch"].input_schema["properties"]["operations"]
    actions = {branch["properties"]["action"]["const"] for branch in schema["items"]["anyOf"]}
    assert actions == {"identify", "track", "page", "screen", "delete", "suppress",
                       "unsuppress", "merge", "add_device", "remove_device"}


async def test_structured_results_validate_against_the_listed_output_schemas(
    seeded: Client,
) -> None:
    tools = await _tools(seeded)
    for name, arguments in GOOD_CALLS:
        result = await seeded.call_tool(name, arguments)
        assert not result.is_error, (name, text_of(result))
        jsonschema.validate(result.structured_content, tools[name].output_schema)
        assert json.loads(text_of(result)) == result.structured_content, name


async def test_the_person_resource_template_is_listed(client: Client) -> None:
    templates = (await client.list_resource_templates()).resource_templates
    person = next(t for t in templates if t.uri_template == "customerio://people/{user_id}")
    assert person.mime_type == "application/json"
    assert person.description


async def test_reading_the_person_resource_returns_the_person_as_json(seeded: Client) -> None:
    contents = (await seeded.read_resource("customerio://people/ada")).contents
    assert len(contents) == 1 and contents[0].mime_type == "application/json"
    person = json.loads(contents[0].text)  # type: ignore[union-attr]
    assert person["user_id"] == "ada"
    assert person["attributes"]["plan"] == "pro"
    assert person["event_counts"] == {"https://shop.test/pricing": 1, "purchase": 1}
    tool_view = (await seeded.call_tool("get_person", {"user_id": "ada"})).structured_content
    assert person == tool_view


async def test_reading_an_unknown_person_is_an_invalid_params_error(client: Client) -> None:
    with pytest.raises(MCPError) as caught:
        await client.read_resource("customerio://people/nobody")
    assert caught.value.error.code == -32602
    assert "nobody" in caught.value.error.message
    assert "identify" in caught.value.error.message

"""The segment tools and resource through the in-memory MCP client."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.segments.cases import attr, event
from tests.segments.support import tool_error

pytestmark = pytest.mark.anyio
SEED = {"and": [attr("plan", "eq", "pro"), event("login", operator="did", timeframe="7d")]}
TOOLS = {
    # name: (read_only, destructive, idempotent)
    "segments_create": (False, False, False),
    "segments_update": (False, False, False),
    "segments_delete": (False, True, False),
    "segments_list": (True, False, True),
    "segments_members": (True, False, True),
    "segments_check": (True, False, True),
    "segments_preview": (True, False, True),
}


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


@pytest.fixture
async def shop(client: Client) -> Client:
    for uid, plan in (("ada", "pro"), ("bob", "pro"), ("cy", "free")):
        await call(client, "identify", {"user_id": uid, "attributes": {"plan": plan}})
    await call(client, "track", {"name": "login", "user_id": "ada"})
    return client


async def test_every_segment_tool_is_listed_with_schemas_and_hints(client: Client) -> None:
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name, (read_only, destructive, idempotent) in TOOLS.items():
        tool = listed[name]
        assert tool.description and tool.output_schema
        for parameter, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), (name, parameter)
        hints = tool.annotations
        assert hints is not None and hints.open_world_hint is False
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (
            read_only, destructive, idempotent), name


async def test_an_agent_previews_creates_checks_and_lists_an_audience(shop: Client) -> None:
    preview = await call(shop, "segments_preview", {"rules": SEED})
    assert (preview["count"], preview["sample"]) == (1, ["ada"])
    created = await call(shop, "segments_create", {"name": "Active Pro Users", "rules": SEED})
    assert created == {"segment_id": "active-pro-users", "name": "Active Pro Users",
                       "kind": "dynamic", "member_count": 1, "computing": False,
                       "sentence": 'plan = "pro" and did "login" in the last 7 days'}
    check = await call(shop, "segments_check", {"segment_id": "active-pro-users",
                                                "user_id": "bob"})
    assert check["member"] is False
    assert check["explanation"] == ('plan = "pro" ✓ (saw "pro"); '
                                    'did "login" in the last 7 days ✗ (0 times)')
    await call(shop, "track", {"name": "login", "user_id": "bob"})
    members = await call(shop, "segments_members", {"segment_id": "active-pro-users"})
    assert members["count"] == 2
    assert {m["user_id"] for m in members["members"]} == {"ada", "bob"}
    listed = await call(shop, "segments_list", {})
    assert [(s["segment_id"], s["member_count"]) for s in listed["segments"]] == [
        ("active-pro-users", 2)]
    person = await call(shop, "get_person", {"user_id": "bob"})
    assert [s["segment_id"] for s in person["segments"]] == ["active-pro-users"]
    assert person["segment_history"][0]["cause"] == "track"


async def test_manual_segments_are_managed_by_id(shop: Client) -> None:
    await call(shop, "segments_create", {"name": "VIP", "manual": True})
    updated = await call(shop, "segments_update", {"segment_id": "vip",
                                                   "add_user_ids": ["ada", "cy"]})
    assert (updated["member_count"], updated["entered"]) == (2, 2)
    deleted = await call(shop, "segments_delete", {"segment_id": "vip"})
    assert deleted == {"segment_id": "vip", "deleted": True, "members_removed": 2}


async def test_the_segment_resource_returns_the_segment(shop: Client) -> None:
    await call(shop, "segments_create", {"name": "Pro", "rules": attr("plan", "eq", "pro")})
    templates = (await shop.list_resource_templates()).resource_templates
    assert "customerio://segments/{segment_id}" in {t.uri_template for t in templates}
    read = await shop.read_resource("customerio://segments/pro")
    text = read.contents[0].text  # type: ignore[union-attr]
    assert '"member_count":2' in text and '"segment_id":"pro"' in text


async def test_reading_an_unknown_segment_resource_is_an_error(shop: Client) -> None:
    with pytest.raises(Exception, match="not found"):
        await shop.read_resource("customerio://segments/nope")


async def test_a_bad_rule_is_a_tool_error_that_says_what_to_fix(shop: Client) -> None:
    result = await shop.call_tool("segments_create", {
        "name": "Bad", "rules": {"and": [attr("plan", "equals", "pro")]}})
    message = tool_error(result, "segments_create")
    assert "rules.and[0].operator: unknown operator 'equals'" in message
    assert "'eq'" in message

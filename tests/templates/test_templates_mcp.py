"""The template tools and resource through the in-memory MCP client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client, MCPError

pytestmark = pytest.mark.anyio

# tool: (read_only, destructive, idempotent)
HINTS = {
    "templates_create": (False, False, False),
    "templates_update": (False, False, True),
    "templates_get": (True, False, True),
    "templates_list": (True, False, True),
    "templates_delete": (False, True, False),
    "templates_preview": (True, False, True),
    "templates_snippet_put": (False, False, True),
    "templates_snippet_get": (True, False, True),
    "templates_snippet_list": (True, False, True),
    "templates_snippet_delete": (False, True, False),
    "templates_layout_put": (False, False, True),
    "templates_layout_get": (True, False, True),
    "templates_layout_list": (True, False, True),
    "templates_layout_delete": (False, True, False),
}


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content or {}


async def error_of(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error
    return result.content[0].text  # type: ignore[union-attr]


async def test_every_template_tool_is_listed_with_schemas_descriptions_and_hints(
        client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {name for name in tools if name.startswith("templates_")} == set(HINTS)
    for name, (read_only, destructive, idempotent) in HINTS.items():
        tool = tools[name]
        assert tool.description and tool.output_schema is not None, name
        hints = tool.annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint,
                hints.open_world_hint) == (read_only, destructive, idempotent, False), name
        for parameter, spec in tool.input_schema["properties"].items():
            assert len(spec.get("description", "")) >= 8, f"{name}.{parameter}"
    create = tools["templates_create"]
    assert "from" in create.input_schema["properties"]
    for words in ("currency", "pluralize", "timezone", "format_number", "url_encode", "json",
                  "default", "date", "auto-escape"):
        assert words in (create.description or ""), words


async def test_create_preview_update_and_delete_through_the_tools(client: Client) -> None:
    await call(client, "identify", user_id="ada",
               attributes={"first_name": "Ada", "email": "ada@x.io"})
    saved = await call(client, "templates_create", template_id="welcome", channel="email",
                       subject="Hi {{ customer.first_name }}",
                       body="<p>{{ customer.first_name | upcase }}</p>",
                       **{"from": "Team <t@x.io>"})
    assert saved["created"] and saved["variables"] == ["customer.first_name"]
    preview = await call(client, "templates_preview", template_id="welcome", user_id="ada")
    assert preview["fields"] == {"subject": "Hi Ada", "body": "<p>ADA</p>",
                                 "from": "Team <t@x.io>", "text_body": "ADA"}
    updated = await call(client, "templates_update", template_id="welcome", **{"from": ""},
                         subject="Hello {{ customer.email }}")
    assert updated["version"] == 2
    got = await call(client, "templates_get", template_id="welcome")
    assert got["fields"] == {"subject": "Hello {{ customer.email }}",
                             "body": "<p>{{ customer.first_name | upcase }}</p>"}
    listed = await call(client, "templates_list", channel="email")
    assert [t["template_id"] for t in listed["templates"]] == ["welcome"]
    assert (await call(client, "templates_delete", template_id="welcome"))["deleted"]
    assert (await call(client, "templates_list"))["total"] == 0


async def test_a_syntax_error_comes_back_as_a_tool_error_with_line_and_column(
        client: Client) -> None:
    text = await error_of(client, "templates_create", template_id="t", channel="sms",
                          body="Hello\n{{ customer.first_name | nope }}")
    assert "invalid_input: body: line 2, column 26: unknown filter 'nope'" in text
    assert "2 | {{ customer.first_name | nope }}" in text
    assert (await call(client, "templates_list"))["total"] == 0


async def test_snippet_and_layout_tools_build_a_message(client: Client) -> None:
    await call(client, "templates_snippet_put", snippet_id="footer",
               body="<small>{{ customer.email }}</small>")
    await call(client, "templates_layout_put", layout_id="base",
               body="<html><body>{{ content }}{% render 'footer' %}</body></html>")
    await call(client, "templates_create", template_id="t", channel="email", subject="s",
               body="<p>b</p>", layout_id="base")
    preview = await call(client, "templates_preview", template_id="t",
                         context={"customer": {"email": "<a@x.io>"}})
    assert preview["fields"]["body"] == \
        "<html><body><p>b</p><small>&lt;a@x.io&gt;</small></body></html>"
    snippet = await call(client, "templates_snippet_get", snippet_id="footer")
    assert snippet["used_by"] == ["layout:base"]
    layouts = await call(client, "templates_layout_list")
    assert [item["id"] for item in layouts["items"]] == ["base"]
    text = await error_of(client, "templates_snippet_delete", snippet_id="footer")
    assert "conflict: snippet 'footer' is used by layout:base" in text
    cleared = await call(client, "templates_update", template_id="t", layout_id="")
    assert cleared["layout_id"] is None
    assert (await call(client, "templates_layout_delete", layout_id="base"))["deleted"]
    assert (await call(client, "templates_snippet_delete", snippet_id="footer"))["deleted"]


async def test_the_template_resource_reads_a_template(client: Client) -> None:
    await call(client, "templates_create", template_id="t", channel="sms",
               body="Hi {{ customer.first_name }}")
    result = await client.read_resource("customerio://templates/t")
    template = json.loads(result.contents[0].text)  # type: ignore[union-attr]
    assert template["fields"] == {"body": "Hi {{ customer.first_name }}"}
    assert template["variables"] == ["customer.first_name"]
    with pytest.raises(MCPError, match="no template 'ghost'"):
        await client.read_resource("customerio://templates/ghost")


async def test_a_hostile_preview_is_a_tool_error_and_the_server_keeps_answering(
        client: Client) -> None:
    await call(client, "templates_create", template_id="bomb", channel="sms",
               body="{% for a in (1..1000) %}{% for b in (1..1000) %}x{% endfor %}{% endfor %}")
    text = await error_of(client, "templates_preview", template_id="bomb")
    assert text.startswith("Error executing tool templates_preview: limit_exceeded: body: "
                           "line 1, column 4: render limit: loop iteration limit")
    text = await error_of(client, "templates_preview", template_id="bomb",
                          context={"now": 1})
    assert "may not set 'now'" in text
    await call(client, "templates_create", template_id="ok", channel="sms", body="fine")
    assert (await call(client, "templates_preview", template_id="ok"))["fields"] == \
        {"body": "fine"}


@pytest.mark.parametrize(("tool", "arguments", "words"), [
    ("templates_create", {"template_id": "t", "channel": "fax", "body": "x"}, "channel"),
    ("templates_create", {"template_id": "t", "channel": "sms"}, "sms templates need a body"),
    ("templates_create", {"template_id": "t", "channel": "sms", "body": "x",
                          "subject": "no"}, "sms templates have no field 'subject'"),
    ("templates_create", {"template_id": "t" * 100, "channel": "sms", "body": "x"},
     "template_id must be 1-64"),
    ("templates_update", {"template_id": "ghost", "body": "x"}, "no template 'ghost'"),
    ("templates_preview", {"template_id": "ghost"}, "no template 'ghost'"),
    ("templates_list", {"limit": 10_000}, "limit must be an integer from 1 to 500"),
    ("templates_snippet_put", {"snippet_id": "s", "body": "{% if %}"}, "body: line 1"),
    ("templates_layout_get", {"layout_id": "ghost"}, "no layout 'ghost'"),
])
async def test_bad_arguments_are_tool_errors_saying_what_to_fix(
        client: Client, tool: str, arguments: dict[str, Any], words: str) -> None:
    assert words in await error_of(client, tool, **arguments)

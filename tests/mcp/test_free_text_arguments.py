"""Every free-text argument arrives as the string the client sent, even when it looks like
JSON. The MCP SDK json-decodes a string argument whose annotation is not exactly `str`, which
refused `templates_create(channel="webhook", body='{"user": "{{ customer.id }}"}')` with
"Input should be a valid string". Each free-text argument of every tool is sent '{"a": 1}'
and '[1, 2]' over the in-memory client: the value is stored or echoed back exactly, or the
error is about its content. Arguments that are objects or lists still accept JSON text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client

from server.app import build_server
from server.runtime import Runtime
from tests.mcp.tool_checks import text_of

pytestmark = pytest.mark.anyio
VALUES = ('{"a": 1}', "[1, 2]")
Args = Callable[[str], dict[str, Any]]
Calls = Callable[[str], list[tuple[str, dict[str, Any]]]]


def _none(value: str) -> list[tuple[str, dict[str, Any]]]:
    return []


@dataclass(frozen=True)
class Case:
    """Call `tool` with `args(V)` after `setup(V)`; then either `read(V)` (or the call's own
    result) holds V exactly, or, with `refused`, the call fails with those words."""

    tool: str
    param: str
    args: Args
    setup: Calls = _none
    read: Calls = _none
    refused: str = ""


def person(v: str) -> list[tuple[str, dict[str, Any]]]:
    return [("identify", {"user_id": v})]


def events_of(v: str) -> list[tuple[str, dict[str, Any]]]:
    return [("list_events", {"user_id": "ada"})]


EMAIL_FIELDS = ("subject", "text_body", "from", "reply_to", "preheader")
SMS_TEMPLATE = [("templates_create", {"template_id": "t", "channel": "sms", "body": "hi"})]
API_TRIGGER = {"type": "api"}
EXIT_STEPS = [{"type": "exit"}]
WORKFLOW = [("workflows_create", {"workflow_id": "w", "name": "W", "trigger": API_TRIGGER,
                                  "steps": EXIT_STEPS})]
CASES: list[Case] = [
    # people
    Case("identify", "user_id", lambda v: {"user_id": v}, read=lambda v: [("get_person",
                                                                             {"user_id": v})]),
    Case("identify", "anonymous_id", lambda v: {"user_id": "ada", "anonymous_id": v},
         read=lambda v: [("get_person", {"user_id": "ada"})]),
    Case("track", "name", lambda v: {"name": v, "user_id": "ada"}, read=events_of),
    Case("track", "user_id", lambda v: {"name": "login", "user_id": v}),
    Case("track", "anonymous_id", lambda v: {"name": "login", "anonymous_id": v}),
    Case("track", "event_id", lambda v: {"name": "login", "user_id": "ada", "event_id": v}),
    Case("get_person", "user_id", lambda v: {"user_id": v}, setup=person),
    Case("list_people", "email", lambda v: {"email": v}, refused=" is not an email address"),
    Case("list_people", "cursor", lambda v: {"cursor": v}, refused="cursor"),
    Case("list_events", "user_id", lambda v: {"user_id": v},
         setup=lambda v: [("track", {"name": "login", "user_id": v})]),
    Case("list_events", "anonymous_id", lambda v: {"anonymous_id": v},
         setup=lambda v: [("track", {"name": "login", "anonymous_id": v})]),
    Case("list_events", "name", lambda v: {"name": v},
         setup=lambda v: [("track", {"name": v, "user_id": "ada"})]),
    Case("list_events", "cursor", lambda v: {"cursor": v}, refused="cursor"),
    Case("delete_person", "user_id", lambda v: {"user_id": v}, setup=person),
    Case("suppress_person", "user_id", lambda v: {"user_id": v}),
    Case("unsuppress_person", "user_id", lambda v: {"user_id": v},
         setup=lambda v: [("suppress_person", {"user_id": v})]),
    Case("merge_people", "primary", lambda v: {"primary": v, "secondary": "ada"},
         setup=lambda v: person(v) + person("ada")),
    Case("merge_people", "secondary", lambda v: {"primary": "ada", "secondary": v},
         setup=lambda v: person(v) + person("ada")),
    Case("add_device", "user_id", lambda v: {"user_id": v, "device_id": "d", "platform": "ios"},
         setup=person),
    Case("add_device", "device_id", lambda v: {"user_id": "ada", "device_id": v,
                                               "platform": "ios"},
         setup=lambda v: person("ada"), read=lambda v: [("get_person", {"user_id": "ada"})]),
    Case("remove_device", "user_id", lambda v: {"user_id": v, "device_id": "d"},
         setup=lambda v: person(v) + [("add_device", {"user_id": v, "device_id": "d",
                                                      "platform": "ios"})]),
    Case("remove_device", "device_id", lambda v: {"user_id": "ada", "device_id": v},
         setup=lambda v: person("ada") + [("add_device", {"user_id": "ada", "device_id": v,
                                                          "platform": "ios"})]),
    # segments
    Case("segments_create", "name", lambda v: {"name": v, "manual": True}),
    Case("segments_create", "description", lambda v: {"name": "S", "manual": True,
                                                      "description": v},
         read=lambda v: [("segments_list", {})]),
    Case("segments_update", "segment_id", lambda v: {"segment_id": v, "name": "x"},
         refused="segment"),
    Case("segments_update", "name", lambda v: {"segment_id": "s", "name": v},
         setup=lambda v: [("segments_create", {"name": "S", "manual": True})]),
    Case("segments_update", "description", lambda v: {"segment_id": "s", "description": v},
         setup=lambda v: [("segments_create", {"name": "S", "manual": True})],
         read=lambda v: [("segments_list", {})]),
    Case("segments_delete", "segment_id", lambda v: {"segment_id": v}, refused="segment"),
    Case("segments_list", "cursor", lambda v: {"cursor": v}, refused="cursor"),
    Case("segments_members", "segment_id", lambda v: {"segment_id": v}, refused="segment"),
    Case("segments_members", "cursor", lambda v: {"segment_id": "s", "cursor": v},
         setup=lambda v: [("segments_create", {"name": "S", "manual": True})],
         refused="cursor"),
    Case("segments_check", "segment_id", lambda v: {"segment_id": v, "user_id": "ada"},
         refused="segment"),
    Case("segments_check", "user_id", lambda v: {"segment_id": "s", "user_id": v},
         setup=lambda v: person(v) + [("segments_create", {"name": "S", "manual": True})]),
    # templates: every field is Liquid text, stored as sent
    *[Case("templates_create", name, lambda v, name=name: {  # type: ignore[misc]
        "template_id": "t", "channel": "email", "subject": "s", "body": "b", name: v},
        read=lambda v: [("templates_get", {"template_id": "t"})]) for name in EMAIL_FIELDS],
    Case("templates_create", "body", lambda v: {"template_id": "t", "channel": "webhook",
                                                "url": "https://x.test", "body": v},
         read=lambda v: [("templates_get", {"template_id": "t"})]),
    Case("templates_create", "url", lambda v: {"template_id": "t", "channel": "webhook",
                                               "url": v},
         read=lambda v: [("templates_get", {"template_id": "t"})]),
    *[Case("templates_create", name, lambda v, name=name: {  # type: ignore[misc]
        "template_id": "t", "channel": "push", "body": "b", name: v},
        read=lambda v: [("templates_get", {"template_id": "t"})])
      for name in ("title", "link", "image_url")],
    Case("templates_create", "template_id", lambda v: {"template_id": v, "channel": "sms",
                                                       "body": "b"}, refused="template_id"),
    Case("templates_create", "method", lambda v: {"template_id": "t", "channel": "webhook",
                                                  "url": "https://x.test", "method": v},
         refused="method must be one of"),
    Case("templates_create", "layout_id", lambda v: {"template_id": "t", "channel": "email",
                                                     "subject": "s", "body": "b",
                                                     "layout_id": v}, refused="layout_id"),
    *[Case("templates_update", name, lambda v, name=name: {  # type: ignore[misc]
        "template_id": "t", name: v},
        setup=lambda v: [("templates_create", {"template_id": "t", "channel": "email",
                                               "subject": "s", "body": "b"})],
        read=lambda v: [("templates_get", {"template_id": "t"})])
      for name in (*EMAIL_FIELDS, "body")],
    *[Case("templates_update", name, lambda v, name=name: {  # type: ignore[misc]
        "template_id": "t", name: v},
        setup=lambda v: [("templates_create", {"template_id": "t", "channel": "push",
                                               "body": "b"})],
        read=lambda v: [("templates_get", {"template_id": "t"})])
      for name in ("title", "link", "image_url")],
    Case("templates_update", "url", lambda v: {"template_id": "t", "url": v},
         setup=lambda v: [("templates_create", {"template_id": "t", "channel": "webhook",
                                                "url": "https://x.test"})],
         read=lambda v: [("templates_get", {"template_id": "t"})]),
    Case("templates_update", "method", lambda v: {"template_id": "t", "method": v},
         setup=lambda v: [("templates_create", {"template_id": "t", "channel": "webhook",
                                                "url": "https://x.test"})],
         refused="method must be one of"),
    Case("templates_update", "template_id", lambda v: {"template_id": v, "subject": "s"},
         refused="template_id"),
    Case("templates_update", "layout_id", lambda v: {"template_id": "t", "layout_id": v},
         setup=lambda v: [("templates_create", {"template_id": "t", "channel": "email",
                                                "subject": "s", "body": "b"})],
         refused="layout_id"),
    *[Case(tool, "template_id", lambda v: {"template_id": v}, refused="template_id")
      for tool in ("templates_get", "templates_delete", "templates_preview")],
    Case("templates_preview", "user_id", lambda v: {"template_id": "t", "user_id": v},
         setup=lambda v: person(v) + [("templates_create", {
             "template_id": "t", "channel": "sms", "body": "{{ customer.id }}"})]),
    *[Case(tool, "cursor", lambda v: {"cursor": v}, refused="cursor")
      for tool in ("templates_list", "templates_snippet_list", "templates_layout_list")],
    Case("templates_snippet_put", "body", lambda v: {"snippet_id": "s", "body": v},
         read=lambda v: [("templates_snippet_get", {"snippet_id": "s"})]),
    Case("templates_layout_put", "body", lambda v: {"layout_id": "l",
                                                    "body": v + "{{ content }}"},
         read=lambda v: [("templates_layout_get", {"layout_id": "l"})]),
    *[Case(tool, f"{kind}_id", lambda v, kind=kind, tool=tool: {  # type: ignore[misc]
        f"{kind}_id": v, **({"body": "{{ content }}"} if tool.endswith("put") else {})},
        refused=f"{kind}_id")
      for kind in ("snippet", "layout")
      for tool in (f"templates_{kind}_put", f"templates_{kind}_get",
                   f"templates_{kind}_delete")],
    # delivery
    Case("send", "user_id", lambda v: {"user_id": v, "channel": "sms", "template_id": "t"},
         setup=lambda v: person(v) + SMS_TEMPLATE,
         read=lambda v: [("messages_list", {"user_id": v})]),
    Case("send", "template_id", lambda v: {"user_id": "ada", "channel": "sms",
                                           "template_id": v},
         setup=lambda v: person("ada"), refused="template_id"),
    Case("send", "topic", lambda v: {"user_id": "ada", "channel": "sms", "template_id": "t",
                                     "topic": v},
         setup=lambda v: person("ada") + SMS_TEMPLATE, refused="topic"),
    Case("send", "idempotency_key", lambda v: {"user_id": "ada", "channel": "sms",
                                               "template_id": "t", "idempotency_key": v},
         setup=lambda v: person("ada") + SMS_TEMPLATE,
         read=lambda v: [("messages_list", {})]),
    Case("messages_get", "message_id", lambda v: {"message_id": v}, refused="message"),
    Case("messages_list", "user_id", lambda v: {"user_id": v},
         setup=lambda v: person(v) + SMS_TEMPLATE + [
             ("send", {"user_id": v, "channel": "sms", "template_id": "t"})]),
    Case("messages_list", "status", lambda v: {"status": v}, refused="status must be one of"),
    Case("messages_list", "cursor", lambda v: {"cursor": v}, refused="cursor"),
    Case("inbox_list", "user_id", lambda v: {"user_id": v}, setup=person),
    Case("inbox_list", "cursor", lambda v: {"user_id": "ada", "cursor": v},
         setup=lambda v: person("ada"), refused="cursor"),
    Case("inbox_mark_read", "user_id", lambda v: {"user_id": v, "message_ids": ["m"]},
         setup=person),
    Case("preferences_get", "user_id", lambda v: {"user_id": v}, setup=person),
    Case("preferences_update", "user_id", lambda v: {"user_id": v, "channels": {"sms": False}},
         setup=person),
    Case("topics_create", "topic_id", lambda v: {"topic_id": v, "name": "News"},
         refused="topic_id"),
    Case("topics_create", "name", lambda v: {"topic_id": "news", "name": v}),
    Case("channels_configure", "provider", lambda v: {"channel": "sms", "provider": v},
         refused="provider"),
    Case("delivery_frequency_cap", "period", lambda v: {"cap": 3, "period": v},
         refused="not a duration"),
    # journeys
    Case("workflows_create", "workflow_id", lambda v: {
        "workflow_id": v, "name": "W", "trigger": API_TRIGGER, "steps": EXIT_STEPS},
        refused="workflow_id"),
    Case("workflows_create", "name", lambda v: {
        "workflow_id": "w", "name": v, "trigger": API_TRIGGER, "steps": EXIT_STEPS},
        read=lambda v: [("workflows_get", {"workflow_id": "w"})]),
    Case("workflows_update", "workflow_id", lambda v: {"workflow_id": v, "name": "W"},
         refused="workflow_id"),
    Case("workflows_update", "name", lambda v: {"workflow_id": "w", "name": v},
         setup=lambda v: WORKFLOW, read=lambda v: [("workflows_get", {"workflow_id": "w"})]),
    *[Case(tool, "workflow_id", lambda v: {"workflow_id": v}, refused="workflow_id")
      for tool in ("workflows_get", "workflows_activate", "workflows_pause",
                   "workflows_delete", "workflows_trigger")],
    Case("workflows_list", "cursor", lambda v: {"cursor": v}, refused="cursor"),
    Case("workflows_trigger", "segment", lambda v: {"workflow_id": "w", "segment": v},
         setup=lambda v: WORKFLOW + [("workflows_activate", {"workflow_id": "w"})],
         refused="segment"),
    Case("workflows_get_status", "run_id", lambda v: {"run_id": v}, refused="not found"),
    Case("workflows_get_status", "cursor", lambda v: {"run_id": "r", "cursor": v},
         refused="cursor"),
    Case("workflows_cancel", "run_id", lambda v: {"run_id": v}, refused="not found"),
    Case("workflows_simulate", "workflow_id", lambda v: {"workflow_id": v},
         refused="workflow_id"),
    Case("workflows_simulate", "user_id", lambda v: {"workflow_id": "w", "user_id": v},
         setup=lambda v: person(v) + [
             ("templates_create", {"template_id": "t", "channel": "sms",
                                   "body": "{{ customer.id }}"}),
             ("workflows_create", {"workflow_id": "w", "name": "W", "trigger": API_TRIGGER,
                                   "steps": [{"type": "send", "channel": "sms",
                                              "template_id": "t"}]})]),
    Case("workflows_simulate", "horizon", lambda v: {"workflow_id": "w", "horizon": v},
         setup=lambda v: WORKFLOW, refused="horizon"),
    Case("journeys_list", "user_id", lambda v: {"user_id": v}, setup=person),
    Case("journeys_list", "cursor", lambda v: {"user_id": "ada", "cursor": v},
         setup=lambda v: person("ada"), refused="cursor"),
]


def _holds(value: Any, wanted: str) -> bool:
    """Whether `wanted` is one of the strings in `value` (or begins one: a layout body)."""
    if isinstance(value, str):
        return value == wanted or value.startswith(wanted + "{{")
    if isinstance(value, dict):
        return any(_holds(item, wanted) for item in (*value.keys(), *value.values()))
    if isinstance(value, list):
        return any(_holds(item, wanted) for item in value)
    return False


async def _call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, args)
    text = text_of(result)
    assert "valid string" not in text and "validation error" not in text, (tool, args, text)
    return result


async def _check(client: Client, case: Case, value: str) -> None:
    for tool, args in case.setup(value):
        assert not (await _call(client, tool, args)).is_error, (tool, args)
    result = await _call(client, case.tool, case.args(value))
    if case.refused:
        assert result.is_error and case.refused in text_of(result), text_of(result)
        return
    assert not result.is_error, text_of(result)
    if case.tool == "segments_create" and case.param == "name":
        assert result.structured_content["name"] == value
        return
    seen = [result.structured_content] + [(await _call(client, t, a)).structured_content
                                          for t, a in case.read(value)]
    assert any(_holds(content, value) for content in seen), seen


@pytest.mark.parametrize("value", VALUES)
async def test_every_free_text_argument_arrives_as_the_string_sent(
        runtime: Runtime, value: str) -> None:
    agent = {"id": ""}  # each case runs on a fresh agent of the same server
    async with Client(build_server(lambda ctx: runtime.engine(agent["id"]))) as client:
        failures = []
        for index, case in enumerate(CASES):
            agent["id"] = f"case{index}"
            try:
                await _check(client, case, value)
            except AssertionError as exc:
                failures.append(f"{case.tool}.{case.param}: {exc}")
    assert not failures, "\n".join(failures)


async def test_a_webhook_template_with_a_json_body_is_saved_and_rendered(client: Client) -> None:
    body = '{"user": "{{ customer.id }}", "tags": [1, 2]}'
    saved = await client.call_tool("templates_create", {
        "template_id": "hook", "channel": "webhook", "url": "https://x.test/{{ customer.id }}",
        "body": body, "headers": '{"X-Id": "{{ customer.id }}"}'})  # an object sent as text
    assert not saved.is_error, text_of(saved)
    await client.call_tool("identify", {"user_id": "ada"})
    preview = await client.call_tool("templates_preview", {"template_id": "hook",
                                                           "user_id": "ada"})
    fields = preview.structured_content["fields"]
    assert fields["body"] == '{"user": "ada", "tags": [1, 2]}'
    assert fields["headers"] == {"X-Id": "ada"}


async def test_object_and_list_arguments_still_accept_json_text(client: Client) -> None:
    identified = await client.call_tool("identify", {"user_id": "ada",
                                                     "attributes": '{"plan": "pro"}'})
    assert not identified.is_error, text_of(identified)
    tracked = await client.call_tool("batch", {
        "operations": '[{"action": "track", "user_id": "ada", "name": "login"}]'})
    assert not tracked.is_error, text_of(tracked)
    preview = await client.call_tool("segments_preview", {
        "rules": '{"attribute": "plan", "operator": "eq", "value": "pro"}'})
    assert not preview.is_error and preview.structured_content["count"] == 1


async def test_a_wrong_type_for_free_text_is_refused_as_before(client: Client) -> None:
    result = await client.call_tool("track", {"name": "login", "user_id": 42})
    assert result.is_error
    assert "user_id\n  Input should be a valid string [type=string_type, input_value=42" \
        in text_of(result)
    assert "none" not in text_of(result)  # one error, not one per union member


async def test_every_free_text_argument_of_every_tool_is_covered(client: Client) -> None:
    covered = {(c.tool, c.param) for c in CASES}
    for tool in (await client.list_tools()).tools:
        for name, schema in tool.input_schema["properties"].items():
            kinds = [s.get("type") for s in schema.get("anyOf", [schema])]
            if "string" in kinds and set(kinds) <= {"string", "null"} and "enum" not in schema \
                    and not any("enum" in s or "const" in s for s in schema.get("anyOf", [])):
                assert (tool.name, name) in covered, f"{tool.name}.{name} is not tested"

"""The delivery tools through the in-memory MCP client: hints, listing and filtering
messages, the message resource, and errors as tool errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import call, seed, settled
from tests.mcp.tool_checks import tool_error_message
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

# tool -> (read_only, idempotent, open_world)
TOOLS: dict[str, tuple[bool, bool, bool]] = {
    "send": (False, False, True),
    "messages_get": (True, True, False),
    "messages_list": (True, True, False),
    "inbox_list": (True, True, False),
    "inbox_mark_read": (False, True, False),
    "preferences_get": (True, True, False),
    "preferences_update": (False, True, False),
    "topics_create": (False, True, False),
    "topics_list": (True, True, False),
    "channels_configure": (False, True, False),
    "channels_list": (True, True, False),
    "delivery_frequency_cap": (False, True, False),
}


async def test_every_delivery_tool_is_listed_with_schemas_and_hints(client: Client) -> None:
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name, (read_only, idempotent, open_world) in TOOLS.items():
        tool = listed[name]
        assert tool.description and tool.output_schema, name
        hints = tool.annotations
        assert hints is not None, name
        assert (hints.read_only_hint, hints.idempotent_hint, hints.open_world_hint) == (
            read_only, idempotent, open_world), name
        assert hints.destructive_hint is False, name


async def test_send_over_mcp_queues_and_messages_get_shows_the_capture(
    runtime: Runtime, client: Client,
) -> None:
    await seed(runtime.engine("tom"))
    out = await call(client, "send", {"user_id": "ada", "channel": "email",
                                      "template_id": "welcome"})
    assert out == {"message_id": out["message_id"], "status": "queued", "channel": "email",
                   "reason": None, "repeat": False}
    await settled(runtime, out["message_id"])
    got = await call(client, "messages_get", {"message_id": out["message_id"]})
    assert got["status"] == "captured" and "Subject: Hi Ada" in got["captures"][0]["text"]


async def test_the_message_resource_is_the_same_json_as_messages_get(
    runtime: Runtime, client: Client,
) -> None:
    await seed(runtime.engine("tom"))
    out = await call(client, "send", {"user_id": "ada", "channel": "sms",
                                      "template_id": "hello-sms"})
    await settled(runtime, out["message_id"])
    got = await call(client, "messages_get", {"message_id": out["message_id"]})
    templates = (await client.list_resource_templates()).resource_templates
    assert "customerio://messages/{message_id}" in {t.uri_template for t in templates}
    read = await client.read_resource(f"customerio://messages/{out['message_id']}")
    [content] = read.contents
    assert content.mime_type == "application/json"
    assert json.loads(content.text) == got  # type: ignore[union-attr]


async def test_reading_an_unknown_message_resource_is_an_error(client: Client) -> None:
    with pytest.raises(Exception, match="not found"):
        await client.read_resource("customerio://messages/msg_nope")


async def test_messages_list_filters_by_person_status_and_channel_and_pages(
    runtime: Runtime, client: Client, clock: ManualClock,
) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("bo", {"email": "bo@example.com", "first_name": "Bo"})
    await cio.preferences_update("bo", channels={"email": False})
    sent = []
    for user, channel, template in (("ada", "email", "welcome"), ("ada", "sms", "hello-sms"),
                                    ("bo", "email", "welcome"), ("ada", "email", "welcome")):
        out = await cio.send(user, channel, template_id=template)
        sent.append((await settled(runtime, out.message_id)).message_id)
    later = await cio.send("ada", "sms", template_id="hello-sms", send_at=clock.now() + 60)
    sent.append(later.message_id)

    async def ids(**arguments: Any) -> list[str]:
        page = await call(client, "messages_list", arguments)
        return [m["message_id"] for m in page["messages"]]

    newest_first = sent[::-1]
    assert await ids() == newest_first
    assert await ids(user_id="bo") == [sent[2]]
    assert await ids(status="dropped") == [sent[2]]
    assert await ids(status="queued") == [sent[4]]
    assert await ids(channel="sms") == [sent[4], sent[1]]
    assert await ids(user_id="ada", status="captured", channel="email") == [sent[3], sent[0]]
    [summary] = (await call(client, "messages_list", {"user_id": "bo"}))["messages"]
    assert (summary["status"], summary["reason"], summary["user_id"]) == (
        "dropped", "opted out of email", "bo")
    seen, cursor = [], None
    while True:
        page = await call(client, "messages_list", {"limit": 2, **(
            {"cursor": cursor} if cursor else {})})
        seen += [m["message_id"] for m in page["messages"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("messages_get", {"message_id": "msg_nope"}, "message 'msg_nope' not found"),
    ("messages_list", {"status": "lost"}, "status must be one of"),
    ("messages_list", {"user_id": "nobody"}, "no person with user_id 'nobody'"),
    ("messages_list", {"cursor": "garbage"}, "cursor"),
    ("inbox_list", {"user_id": "nobody"}, "no person with user_id 'nobody'"),
    ("inbox_mark_read", {"user_id": "ada", "message_ids": []}, "message_ids must be a list"),
    ("preferences_get", {"user_id": "nobody"}, "no person with user_id 'nobody'"),
    ("preferences_update", {"user_id": "ada", "topics": {"nope": True}},
     "topic 'nope' not found"),
    ("preferences_update", {"user_id": "ada"}, "nothing to update"),
    ("topics_create", {"topic_id": "bad id!", "name": "x"}, "topic_id"),
    ("channels_configure", {"channel": "email", "provider": "smtp",
                            "settings": {"host": "127.0.0.1", "from": "a@example.com"}},
     "settings.host: refused"),
    ("channels_configure", {"channel": "sms", "provider": "carrier-pigeon"},
     "does not serve sms"),
    ("delivery_frequency_cap", {"cap": 1}, "cap needs a period"),
])
async def test_bad_delivery_tool_calls_are_tool_errors_that_store_nothing(
    runtime: Runtime, client: Client, db: Path, tool: str, arguments: dict[str, Any],
    expected: str,
) -> None:
    await seed(runtime.engine("tom"))
    with unchanged(db):
        result = await client.call_tool(tool, arguments)
    assert expected in tool_error_message(result, tool)


async def test_an_agent_sets_up_topics_and_preferences_through_mcp(
    runtime: Runtime, client: Client,
) -> None:
    await seed(runtime.engine("tom"))
    created = await call(client, "topics_create", {"topic_id": "news", "name": "Newsletter"})
    assert created == {"topic_id": "news", "name": "Newsletter", "default": "opt_in",
                       "created": True}
    again = await call(client, "topics_create", {"topic_id": "news", "name": "News",
                                                 "default": "opt_out"})
    assert (again["created"], again["default"]) == (False, "opt_out")
    assert (await call(client, "topics_list", {}))["topics"] == [
        {"topic_id": "news", "name": "News", "default": "opt_out", "created": False}]
    prefs = await call(client, "preferences_update", {"user_id": "ada",
                                                      "topics": {"news": False},
                                                      "channels": {"sms": False}})
    assert prefs["topics"] == [{"topic_id": "news", "name": "News", "default": "opt_out",
                                "choice": False, "subscribed": False}]
    assert prefs["channels"]["sms"] is False and prefs["unsubscribed"] is False
    out = await call(client, "send", {"user_id": "ada", "channel": "email",
                                      "template_id": "welcome", "topic": "news"})
    assert (out["status"], out["reason"]) == ("dropped", "opted out of topic 'news'")
    cap = await call(client, "delivery_frequency_cap", {"cap": 3, "period": "7d"})
    assert cap == {"cap": 3, "period_seconds": 604800.0}

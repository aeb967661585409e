"""Bad input through the MCP client: a tool error that says what is wrong and how to fix it,
never a crash, and the agent's SQLite file exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mcp import Client

from tests.conftest import START
from tests.mcp.tool_checks import tool_error_message
from tools.core.cursor import encode_cursor

pytestmark = pytest.mark.anyio

Dump = Callable[[], dict[str, list[tuple[Any, ...]]]]
DAY = 86_400
TOO_MANY = {f"a{i}": i for i in range(301)}

# (case id, tool, arguments, words the message must contain, case-insensitive)
CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    # unknown people and devices
    ("unknown person read", "get_person", {"user_id": "nobody"}, ["nobody", "list_people"]),
    ("unknown person deleted", "delete_person", {"user_id": "nobody"}, ["no person", "nobody"]),
    ("unknown person's events", "list_events", {"user_id": "nobody"}, ["no person", "nobody"]),
    ("device for unknown person", "add_device",
     {"user_id": "nobody", "device_id": "t", "platform": "ios"}, ["no person", "identify"]),
    ("unknown device removed", "remove_device", {"user_id": "ada", "device_id": "gone"},
     ["no device", "get_person"]),
    ("merge of unknown secondary", "merge_people", {"primary": "ada", "secondary": "nobody"},
     ["no person", "nobody"]),
    ("merge with itself", "merge_people", {"primary": "ada", "secondary": "ada"},
     ["same person", "two different"]),
    # oversized ids, names, values and payloads
    ("user_id over 150 bytes", "identify", {"user_id": "u" * 151},
     ["user_id", "151 bytes", "limit is 150"]),
    ("multi-byte user_id over 150 bytes", "get_person", {"user_id": "é" * 76},
     ["user_id", "152 bytes"]),
    ("event name over 100 bytes", "track", {"name": "e" * 101, "user_id": "ada"},
     ["name", "limit is 100"]),
    ("page URL over 2048 bytes", "track",
     {"name": "https://x.test/" + "p" * 2040, "type": "page", "user_id": "ada"},
     ["name", "limit is 2048"]),
    ("attribute value over 1000 bytes", "identify",
     {"user_id": "ada", "attributes": {"bio": "b" * 1001}}, ["attributes.bio", "limit is 1000"]),
    ("attribute name over 150 bytes", "identify",
     {"user_id": "ada", "attributes": {"k" * 151: 1}}, ["attributes key", "limit is 150"]),
    ("event data over 100,000 bytes", "track",
     {"name": "upload", "user_id": "ada", "properties": {"blob": "x" * 100_000}},
     ["properties", "limit is 100000"]),
    ("device attributes over 1000 bytes", "add_device",
     {"user_id": "ada", "device_id": "t2", "platform": "web", "attributes": {"x": "y" * 1000}},
     ["attributes", "limit is 1000"]),
    ("event_id over 150 bytes", "track", {"name": "n", "user_id": "ada", "event_id": "e" * 151},
     ["event_id", "limit is 150"]),
    ("device_id over 1000 bytes", "add_device",
     {"user_id": "ada", "device_id": "d" * 1001, "platform": "ios"}, ["device_id", "1000"]),
    ("batch over 10,000 operations", "batch",
     {"operations": [{"action": "delete", "user_id": "ada"}] * 10_001},
     ["at most 10000", "split"]),
    # too many attributes
    ("301 attributes on a new person", "identify", {"user_id": "new", "attributes": TOO_MANY},
     ["at most 300", "null"]),
    ("attributes accumulating past 300", "identify",
     {"user_id": "ada", "attributes": {f"b{i}": i for i in range(297)}}, ["at most 300", "301"]),
    # wrong types
    ("user_id a number", "identify", {"user_id": 42}, ["user_id", "valid string"]),
    ("attributes a list", "identify", {"user_id": "ada", "attributes": ["plan"]},
     ["attributes", "valid dictionary"]),
    ("properties a string", "track", {"name": "n", "user_id": "ada", "properties": "cheap"},
     ["properties", "valid dictionary"]),
    ("unknown event type", "track", {"name": "n", "user_id": "ada", "type": "click"},
     ["type", "'event', 'page' or 'screen'"]),
    ("unknown platform", "add_device", {"user_id": "ada", "device_id": "t", "platform": "palm"},
     ["platform", "'ios', 'android' or 'web'"]),
    ("timestamp an object", "identify", {"user_id": "ada", "timestamp": {"at": 1}},
     ["timestamp"]),
    ("timestamp a boolean", "track", {"name": "n", "user_id": "ada", "timestamp": True},
     ["timestamp", "valid integer", "valid number", "valid string"]),
    ("until a boolean", "list_events", {"until": False}, ["until", "valid integer"]),
    ("limit a word", "list_people", {"limit": "ten"}, ["limit", "valid integer"]),
    ("operations not a list", "batch", {"operations": "all"}, ["operations", "valid list"]),
    ("operation not an object", "batch", {"operations": [7]},
     ["operations.0", "valid dictionary"]),
    ("merge ids numbers", "merge_people", {"primary": 1, "secondary": 2},
     ["primary", "valid string"]),
    ("missing required argument", "get_person", {}, ["user_id", "field required"]),
    ("_update not a boolean", "identify", {"user_id": "ada", "attributes": {"_update": "maybe"}},
     ["_update", "true or false"]),
    ("unsubscribed not a boolean", "identify",
     {"user_id": "ada", "attributes": {"unsubscribed": "maybe"}}, ["unsubscribed", "true or false"]),
    ("email not an address", "identify", {"user_id": "ada", "attributes": {"email": "ada-at-x"}},
     ["attributes.email", "not an email address"]),
    ("email filter not an address", "list_people", {"email": "nope"}, ["not an email address"]),
    ("timezone not IANA", "identify",
     {"user_id": "ada", "attributes": {"timezone": "Mars/Olympus"}}, ["timezone", "IANA"]),
    ("created_at removed", "identify", {"user_id": "ada", "attributes": {"created_at": None}},
     ["created_at", "cannot be removed"]),
    # exactly one of user_id / anonymous_id
    ("track with neither id", "track", {"name": "login"},
     ["exactly one of user_id", "anonymous_id"]),
    ("track with both ids", "track", {"name": "login", "user_id": "ada", "anonymous_id": "anon-1"},
     ["exactly one of user_id", "anonymous_id"]),
    # timestamps
    ("identify a day in the future", "identify", {"user_id": "ada", "timestamp": START + DAY},
     ["timestamp", "in the future", "omit it"]),
    ("track in the year 2100", "track",
     {"name": "n", "user_id": "ada", "timestamp": "2100-01-01T00:00:00Z"}, ["in the future"]),
    ("created_at in the future", "identify",
     {"user_id": "ada", "attributes": {"created_at": START + 30 * DAY}},
     ["attributes.created_at", "in the future"]),
    ("device last_used in the future", "add_device",
     {"user_id": "ada", "device_id": "t", "platform": "ios",
      "attributes": {"last_used": START + DAY}}, ["last_used", "in the future"]),
    ("since in the future", "list_events", {"since": START + DAY}, ["since", "in the future"]),
    ("timestamp in milliseconds", "track",
     {"name": "n", "user_id": "ada", "timestamp": int(START * 1000)},
     ["milliseconds", "divide by 1000"]),
    ("timestamp before 1970", "track", {"name": "n", "user_id": "ada", "timestamp": -5},
     ["before 1970"]),
    ("timestamp not a time", "track", {"name": "n", "user_id": "ada", "timestamp": "yesterday"},
     ["ISO-8601", "unix seconds"]),
    ("timestamp an enormous integer", "identify", {"user_id": "ada", "timestamp": 10**400},
     ["timestamp", "unix seconds"]),
    ("created_at an enormous integer", "identify",
     {"user_id": "ada", "attributes": {"created_at": -(10**400)}}, ["created_at"]),
    # control characters and blank ids
    ("user_id with a newline", "identify", {"user_id": "ada\n"}, ["user_id", "control character"]),
    ("user_id with NUL", "get_person", {"user_id": "a\x00da"}, ["control character", "remove it"]),
    ("anonymous_id with a tab", "track", {"name": "n", "anonymous_id": "anon\t1"},
     ["anonymous_id", "control character"]),
    ("event_id with a carriage return", "track", {"name": "n", "user_id": "ada", "event_id": "e\r1"},
     ["event_id", "control character"]),
    ("event name with NUL", "track", {"name": "log\x00in", "user_id": "ada"},
     ["name", "control character"]),
    ("device_id with a line separator", "add_device",
     {"user_id": "ada", "device_id": "tok\u2028en", "platform": "ios"},
     ["device_id", "control character"]),
    ("attribute name with a newline", "identify", {"user_id": "ada", "attributes": {"pl\nan": 1}},
     ["control character"]),
    ("merge id with an escape", "merge_people", {"primary": "ada", "secondary": "gr\x1bace"},
     ["secondary", "control character"]),
    ("empty user_id", "identify", {"user_id": ""}, ["user_id", "must not be empty"]),
    ("user_id with surrounding spaces", "delete_person", {"user_id": " ada "},
     ["user_id", "whitespace", "strip"]),
    # cursors
    ("cursor of garbage", "list_people", {"cursor": "not a cursor!"},
     ["cursor is not valid", "next_cursor"]),
    ("people cursor used for events", "list_events", {"cursor": encode_cursor([1])},
     ["cursor is not valid"]),
    ("cursor of the wrong item type", "list_people", {"cursor": encode_cursor(["ada"])},
     ["cursor is not valid"]),
    ("cursor with an enormous integer", "list_people", {"cursor": encode_cursor([10**30])},
     ["cursor is not valid"]),
    ("events cursor with an enormous integer", "list_events",
     {"cursor": encode_cursor([START, 2**70])}, ["cursor is not valid"]),
    # limits out of range
    ("limit zero", "list_people", {"limit": 0}, ["limit", "from 1 to 500"]),
    ("limit over 500", "list_events", {"limit": 501}, ["limit", "from 1 to 500"]),
    ("limit negative", "list_events", {"limit": -1}, ["limit", "from 1 to 500"]),
    ("limit enormous", "list_people", {"limit": 10**30}, ["limit", "from 1 to 500"]),
]


@pytest.mark.parametrize(("tool", "arguments", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_bad_input_is_a_clear_tool_error_and_changes_nothing(
    seeded: Client, dump: Dump, tool: str, arguments: dict[str, Any], words: list[str],
) -> None:
    before = dump()
    message = tool_error_message(await seeded.call_tool(tool, arguments), tool)
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    assert dump() == before


async def test_a_batch_of_only_bad_operations_lists_each_failure_and_stores_nothing(
    seeded: Client, dump: Dump,
) -> None:
    operations: list[dict[str, Any]] = [
        {"action": "track", "name": "login"},
        {"action": "identify", "user_id": "u" * 151},
        {"action": "fly", "user_id": "ada"},
        {"action": ["identify"], "user_id": "ada"},
        {"action": "identify", "user_id": "ada", "colour": "red"},
        {"action": "merge", "primary": "ada"},
        {"action": "track", "user_id": "ada", "name": "n", "timestamp": 10**400},
        {"action": "track", "user_id": "ada", "name": "n", "properties": {"x": "y" * 33_000}},
        {"action": "remove_device", "user_id": "ada", "device_id": "gone"},
        {"action": "delete", "user_id": "nobody"},
        {"action": "identify", "user_id": "ada", "attributes": {"email": "nope"}},
    ]
    before = dump()
    result = await seeded.call_tool("batch", {"operations": operations})
    assert not result.is_error
    out = result.structured_content
    assert out is not None
    assert (out["total"], out["succeeded"], out["failed"]) == (11, 0, 11)
    failures = {f["index"]: f for f in out["failures"]}
    assert sorted(failures) == list(range(11))
    expected = {0: "exactly one of user_id", 1: "limit is 150", 2: "action must be one of",
                3: "action must be one of", 4: "does not take colour", 5: "merge needs secondary",
                6: "unix seconds", 7: "at most 32000 bytes", 8: "no device",
                9: "no person", 10: "not an email address"}
    for index, words in expected.items():
        assert words in failures[index]["message"], failures[index]
    assert failures[7]["reason"] == "limit_exceeded"
    assert failures[9]["reason"] == "not_found"
    assert dump() == before

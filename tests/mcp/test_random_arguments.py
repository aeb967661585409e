"""Random argument shapes thrown at every Track tool: each call either succeeds or is a tool
error with a specific message; nothing crashes and the server keeps answering.

Each argument is usually good, sometimes hostile (oversized, control characters, far future,
enormous numbers, forged cursors), sometimes any JSON value at all, sometimes missing; unknown
keys are added now and then. Examples are derandomized, so CI runs the same calls every time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from tests.conftest import START
from tests.mcp.tool_checks import TRACK_TOOLS, text_of, tool_error_message
from tools.core.cursor import encode_cursor
from tools.people.batch import FIELDS

pytestmark = pytest.mark.anyio
Dump = Callable[[], dict[str, list[tuple[Any, ...]]]]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
HUGE_TEXT = st.builds(lambda unit, count: unit * count,
                      st.sampled_from(["a", "é", "\x00", "😀", " "]), st.integers(0, 120_000))
HUGE_INT = st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1])
ANYTHING = JSON | HUGE_TEXT | HUGE_INT


def _pick(*values: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


BAD_ID = _pick("", " ada", "a\nb", "a\x00", "x" * 151, "é" * 76) | st.text(max_size=12)
# 10**400 is listed twice for weight: it once crashed the server (float overflow).
BAD_TIME = _pick(10**400, -(10**400), 10**400, True, START + 86_400, START * 1000, -1,
                 "2100-01-01", "soon", "") | st.floats()
GOOD_ATTRIBUTES = st.dictionaries(
    _pick("plan", "email", "timezone", "unsubscribed", "created_at", "age"),
    _pick("pro", "ada@example.com", "Europe/Paris", True, START - 86_400, 36, None), max_size=4)
BAD_ATTRIBUTES = st.dictionaries(
    _pick("email", "created_at", "timezone", "unsubscribed", "_update", "anonymous_id", "",
          "k" * 151, "a\tb") | st.text(max_size=10),
    ANYTHING | BAD_TIME, max_size=5)
ID_FIELDS = ("user_id", "anonymous_id", "event_id", "primary", "secondary", "device_id")
TIME_FIELDS = ("timestamp", "since", "until")

# parameter (or batch field) name: (good values, hostile values)
VALUES: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    **dict.fromkeys(ID_FIELDS, (_pick("ada", "grace", "anon-1", "nobody", "apns-1"), BAD_ID)),
    **dict.fromkeys(TIME_FIELDS, (_pick(START, START - 600.5, "2026-05-28T19:00:00Z"), BAD_TIME)),
    "name": (_pick("login", "purchase", "https://shop.test/"), _pick("e" * 101, "") | BAD_ID),
    "attributes": (GOOD_ATTRIBUTES, BAD_ATTRIBUTES),
    "properties": (GOOD_ATTRIBUTES, BAD_ATTRIBUTES),
    "type": (_pick("event", "page", "screen"), _pick("click", "")),
    "platform": (_pick("ios", "android", "web"), _pick("palm", "IOS")),
    "limit": (st.integers(1, 500), st.integers(-5, 0) | st.integers(501, 600) | HUGE_INT
              | _pick(True, 2.5, "ten")),
    "cursor": (st.nothing(), _pick(encode_cursor([2**63]), encode_cursor([START, -(2**63) - 1]),
                                   encode_cursor(["ada"]), "W10", "bnVsbA", "!")
               | st.lists(HUGE_INT | JSON, max_size=3).map(encode_cursor) | st.text(max_size=30)),
    "email": (_pick("ada@example.com", "ADA@EXAMPLE.COM"), _pick("nope", "@", "a@b")),
}

# Every tool's parameters, required ones first (a test checks them against the listed schemas).
PARAMETERS: dict[str, tuple[list[str], list[str]]] = {
    "identify": (["user_id"], ["anonymous_id", "attributes", "timestamp"]),
    "track": (["name"], ["anonymous_id", "event_id", "properties", "timestamp", "type",
                         "user_id"]),
    "batch": (["operations"], []),
    "get_person": (["user_id"], []),
    "list_people": ([], ["cursor", "email", "limit"]),
    "list_events": ([], ["anonymous_id", "cursor", "limit", "name", "since", "until",
                         "user_id"]),
    "delete_person": (["user_id"], []),
    "suppress_person": (["user_id"], []),
    "unsuppress_person": (["user_id"], []),
    "merge_people": (["primary", "secondary"], []),
    "add_device": (["device_id", "platform", "user_id"], ["attributes"]),
    "remove_device": (["device_id", "user_id"], []),
}


@st.composite
def _bad(draw: st.DrawFn, name: str) -> Any:
    """A hostile value for `name`, or now and then any value at all."""
    hostile = VALUES.get(name, (ANYTHING, ANYTHING))[1]
    return draw(hostile if draw(st.integers(0, 4)) else ANYTHING)


@st.composite
def _fields(draw: st.DrawFn, required: list[str], optional: list[str]) -> dict[str, Any]:
    """Either every field good, hostile, anything or missing at random; or all good but one
    (so the call reaches deep validation); sometimes unknown keys too."""
    out: dict[str, Any] = {}
    names = required + optional
    if not draw(st.integers(0, 3)):
        for name in names:
            good, hostile = VALUES.get(name, (ANYTHING, ANYTHING))
            pick = draw(st.integers(0, 9))
            if pick >= 5 and not good.is_empty:
                out[name] = draw(good)
            elif pick >= 2:
                out[name] = draw(hostile)
            elif pick == 1:
                out[name] = draw(ANYTHING)
    else:
        present = required + [n for n in optional if draw(st.booleans())]
        if {"user_id", "anonymous_id"} <= set(present) and "name" in required:
            present.remove(draw(st.sampled_from(["user_id", "anonymous_id"])))
        for name in present:
            good = VALUES.get(name, (ANYTHING, ANYTHING))[0]
            if not good.is_empty:
                out[name] = draw(good)
        if names and draw(st.integers(0, 5)):
            target = draw(st.sampled_from(names))
            out[target] = draw(_bad(target))
    if not draw(st.integers(0, 5)):
        out.update(draw(st.dictionaries(st.text(max_size=8), ANYTHING, min_size=1, max_size=2)))
    return out


@st.composite
def _operation(draw: st.DrawFn) -> Any:
    """A batch operation: usually a known action with its fields, sometimes anything."""
    action = draw(st.sampled_from(sorted(FIELDS)) | ANYTHING)
    required, optional = FIELDS.get(action, (set(), set())) if isinstance(action, str) else (
        set(), set())
    op = draw(_fields(sorted(required), sorted(optional)))
    if draw(st.integers(0, 9)):
        op["action"] = action
    return op if draw(st.integers(0, 9)) else draw(ANYTHING)


@st.composite
def _call(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A tool name and arguments for it (drawn before the async test body runs)."""
    tool = draw(st.sampled_from(TRACK_TOOLS))
    arguments = draw(_fields(*PARAMETERS[tool]))
    if tool == "batch" and draw(st.integers(0, 3)):
        arguments["operations"] = draw(st.lists(_operation(), max_size=6))
    return tool, arguments


async def test_the_random_calls_cover_every_parameter_of_every_tool(client: Client) -> None:
    tools = (await client.list_tools()).tools
    listed = {
        t.name: (sorted(t.input_schema.get("required", [])),
                 sorted(set(t.input_schema["properties"]) - set(t.input_schema.get("required", []))))
        for t in tools if t.name in TRACK_TOOLS
    }
    assert listed == PARAMETERS


@settings(max_examples=1500, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(call=_call())
async def test_random_arguments_give_a_result_or_a_specific_tool_error(
    seeded: Client, dump: Dump, call: tuple[str, dict[str, Any]],
) -> None:
    tool, arguments = call
    before = dump()
    result = await seeded.call_tool(tool, arguments)
    if result.is_error:
        tool_error_message(result, tool)
        assert dump() == before, "a failed call changed stored data"
    else:
        assert result.structured_content is not None, text_of(result)
    alive = await seeded.call_tool("list_people", {"limit": 1})
    assert not alive.is_error, text_of(alive)

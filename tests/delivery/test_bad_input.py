"""Bad sends: each a clear error (a tool error over MCP) that stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.runtime import Runtime
from tests.db_dump import unchanged
from tests.delivery.support import seed
from tests.mcp.tool_checks import tool_error_message
from tools.core.clock import ManualClock
from tools.core.errors import EngineError

pytestmark = pytest.mark.anyio

YEAR = 366 * 86_400
SMS_STEP = {"channel": "sms", "template_id": "hello-sms"}

# (arguments of send besides user_id "ada" / channel "email" unless given, what the error says)
BAD_SENDS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown person", {"user_id": "nobody", "template_id": "welcome"},
     "no person with user_id 'nobody'"),
    ("suppressed person", {"user_id": "eve", "template_id": "welcome"}, "is suppressed"),
    ("unknown template", {"template_id": "nope"}, "template 'nope' not found"),
    ("template of another channel", {"template_id": "hello-sms"},
     "'hello-sms' is a sms template, not email"),
    ("template_id and content", {"template_id": "welcome",
                                 "content": {"subject": "s", "body": "b"}},
     "not both and not neither"),
    ("neither template_id nor content", {}, "not both and not neither"),
    ("invalid channel", {"channel": "fax", "template_id": "welcome"},
     "channel is 'fax'; write one of email, sms, push, in_app, webhook"),
    ("content field of no channel", {"content": {"subject": "s", "body": "b", "color": "red"}},
     "no field 'color'"),
    ("content missing a required field", {"content": {"subject": "s"}}, "need a body"),
    ("content that does not parse", {"content": {"subject": "{{ ", "body": "b"}}, "subject"),
    ("fallback repeating a channel", {"template_id": "welcome",
                                      "fallback": [SMS_STEP, SMS_STEP]},
     "fallback[1].channel repeats 'sms'"),
    ("fallback on the primary channel", {"template_id": "welcome", "fallback": [
        {"channel": "email", "template_id": "welcome"}]}, "the primary channel"),
    ("fallback without template_id", {"template_id": "welcome",
                                      "fallback": [{"channel": "sms"}]},
     "fallback[0] needs a template_id"),
    ("fallback template of another channel", {"template_id": "welcome", "fallback": [
        {"channel": "sms", "template_id": "welcome"}]}, "'welcome' is a email template, not sms"),
    ("fallback template unknown", {"template_id": "welcome", "fallback": [
        {"channel": "sms", "template_id": "nope"}]}, "template 'nope' not found"),
    ("fallback with an unknown key", {"template_id": "welcome", "fallback": [
        {**SMS_STEP, "delay": "1h"}]}, "unknown key 'delay'"),
    ("fallback invalid channel", {"template_id": "welcome", "fallback": [
        {"channel": "pager", "template_id": "hello-sms"}]}, "fallback[0].channel is 'pager'"),
    ("fallback too long", {"template_id": "welcome", "fallback": [SMS_STEP] * 5},
     "at most 4"),
    ("unknown topic", {"template_id": "welcome", "topic": "nope"}, "topic 'nope' not found"),
    ("oversized data", {"template_id": "welcome", "data": {"blob": "x" * 100_001}},
     "data is"),
    ("send_at more than a year ahead", {"template_id": "welcome", "send_at": "YEAR+"},
     "more than a year ahead"),
    ("send_at not a time", {"template_id": "welcome", "send_at": "next tuesday"},
     "not an ISO-8601 time"),
    ("empty idempotency_key", {"template_id": "welcome", "idempotency_key": ""},
     "idempotency_key must not be empty"),
    ("oversized idempotency_key", {"template_id": "welcome", "idempotency_key": "k" * 201},
     "idempotency_key is 201 bytes"),
]

# Only the Python API can pass these types (the MCP input schema refuses them first).
BAD_TYPES: list[tuple[str, dict[str, Any], str]] = [
    ("idempotency_key not a string", {"template_id": "welcome", "idempotency_key": 123},
     "idempotency_key must be a string"),
    ("transactional not a boolean", {"template_id": "welcome", "transactional": "yes"},
     "transactional must be true or false"),
    ("data not an object", {"template_id": "welcome", "data": [1, 2]},
     "data must be an object"),
    ("fallback not a list", {"template_id": "welcome", "fallback": "sms"},
     "fallback must be a list"),
    ("send_at a boolean", {"template_id": "welcome", "send_at": True},
     "send_at must be unix seconds or an ISO-8601 time"),
    ("send_at infinite", {"template_id": "welcome", "send_at": float("inf")},
     "send_at must be unix seconds"),
]


def arguments(case: dict[str, Any], now: float) -> dict[str, Any]:
    args = {"user_id": "ada", "channel": "email", **case}
    if args.get("send_at") == "YEAR+":
        args["send_at"] = now + YEAR + 60
    return args


@pytest.fixture
async def seeded(runtime: Runtime) -> Runtime:
    cio = runtime.engine("tom")
    await seed(cio)
    await cio.identify("eve", {"email": "eve@example.com"})
    await cio.suppress_person("eve")
    await cio.topics_create("news", "News")
    return runtime


async def test_every_bad_send_is_an_error_that_says_what_is_wrong_and_stores_nothing(
    seeded: Runtime, db: Path, clock: ManualClock,
) -> None:
    cio = seeded.engine("tom")
    for name, case, expected in BAD_SENDS + BAD_TYPES:
        with unchanged(db), pytest.raises(EngineError) as raised:
            await cio.send(**arguments(case, clock.now()))
        assert expected in raised.value.message, (name, raised.value.message)


async def test_every_bad_send_over_mcp_is_a_tool_error_and_stores_nothing(
    seeded: Runtime, client: Client, db: Path, clock: ManualClock,
) -> None:
    for name, case, expected in BAD_SENDS:
        with unchanged(db):
            result = await client.call_tool("send", arguments(case, clock.now()))
        assert result.is_error, name
        if case.get("channel") == "fax":  # refused by the input schema, before the tool
            continue
        assert expected in tool_error_message(result, "send"), name


async def test_a_number_as_idempotency_key_over_mcp_is_a_tool_error(
    seeded: Runtime, client: Client, db: Path,
) -> None:
    with unchanged(db):
        result = await client.call_tool("send", {"user_id": "ada", "channel": "email",
                                                 "template_id": "welcome",
                                                 "idempotency_key": 123})
    assert result.is_error

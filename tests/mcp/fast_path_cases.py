"""tools/call cases, good and bad, that the fast path and the SDK's path must answer
byte for byte alike (in process, over HTTP and over stdio). Run in order on an empty agent.
"""

from __future__ import annotations

from typing import Any

# (tool, arguments; None sends a tools/call without "arguments")
CASES: list[tuple[str, dict[str, Any] | None]] = [
    # good calls
    ("identify", {"user_id": "ada", "attributes": {"email": "ada@example.com", "plan": "pro"}}),
    ("identify", {"user_id": "ada", "attributes": {"plan": None, "age": 36}}),
    ("track", {"name": "https://shop.test/", "type": "page", "anonymous_id": "anon-1",
               "timestamp": "2026-05-28T19:00:00Z"}),
    ("identify", {"user_id": "grace", "anonymous_id": "anon-1", "timestamp": 1_779_990_000}),
    ("track", {"name": "purchase", "user_id": "ada", "event_id": "evt-1",
               "properties": {"sku": "BOOK-42", "price": 29.5, "tags": ["a", None]}}),
    ("track", {"name": "purchase", "user_id": "ada", "event_id": "evt-1"}),  # a duplicate
    ("track", {"name": "signup", "user_id": "new-person"}),
    ("batch", {"operations": [
        {"action": "identify", "user_id": "lin", "attributes": {"plan": "team"}},
        {"action": "track", "user_id": "lin", "name": "login"},
        {"action": "track", "name": "no-person"},
        {"action": "frobnicate"}]}),
    # strings the SDK parses as JSON before validating (the field is not annotated str)
    ("identify", {"user_id": "ada", "attributes": '{"plan": "enterprise"}'}),
    ("track", {"name": "view", "user_id": "ada", "properties": ' {"page": 2}'}),
    ("track", {"name": "view", "user_id": "ada", "anonymous_id": "null"}),
    ("batch", {"operations": '[{"action": "track", "user_id": "ada", "name": "json-text"}]'}),
    ("identify", {"user_id": "ada", "anonymous_id": '{"not": "an id"}'}),
    ("identify", {"user_id": "ada", "attributes": "[1, 2]"}),
    ("identify", {"user_id": "ada", "attributes": "not json"}),
    ("track", {"name": "view", "user_id": "ada", "timestamp": "true"}),
    ("track", {"name": "view", "user_id": "ada", "event_id": "42"}),
    ("batch", {"operations": "[[" * 300}),
    # arguments the argument model refuses
    ("identify", {}),
    ("track", None),
    ("track", {"name": 5, "user_id": ["ada"]}),
    ("track", {"name": "view", "user_id": "ada", "type": "bogus", "timestamp": True}),
    ("batch", {"operations": "nope"}),
    ("batch", {"operations": [1, "two"]}),
    # arguments the engine refuses
    ("track", {"name": "view", "user_id": "ada", "anonymous_id": "anon-2"}),
    ("track", {"name": "view"}),
    ("track", {"name": " padded ", "user_id": "ada"}),
    ("identify", {"user_id": "u" * 151}),
    ("identify", {"user_id": "ada", "attributes": {"email": "not-an-email"}}),
    ("identify", {"user_id": "ada", "attributes": {f"a{i}": i for i in range(301)}}),
    ("batch", {"operations": []}),
    # refused before the fast path (unknown argument), and a tool it does not serve
    ("track", {"name": "view", "user_id": "ada", "nmae": "typo"}),
    ("segments_list", {}),
]

HOT_CALLS = sum(1 for tool, arguments in CASES
                if tool in ("track", "identify", "batch")
                and not (arguments and "nmae" in arguments))


def call_params(tool: str, arguments: dict[str, Any] | None) -> dict[str, Any]:
    """The params of a tools/call for a case."""
    return {"name": tool} if arguments is None else {"name": tool, "arguments": arguments}

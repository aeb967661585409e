"""Bad input to every segment tool: a clear tool error, and the agent's data unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.db_dump import dump
from tests.segments.cases import attr, event, nested
from tests.segments.support import tool_error

pytestmark = pytest.mark.anyio
GOOD = attr("plan", "eq", "pro")

BAD: list[tuple[str, str, dict[str, Any], str]] = [
    # (label, tool, arguments, words the message must contain)
    ("unknown operator", "segments_create",
     {"name": "X", "rules": attr("plan", "like", "pro")}, "unknown operator 'like'"),
    ("wrong value type", "segments_create",
     {"name": "X", "rules": attr("age", "gt", [1])}, "compares numbers with numbers"),
    ("unknown segment in a rule", "segments_create",
     {"name": "X", "rules": {"segment": "ghosts"}}, "segment 'ghosts', which does not exist"),
    ("a segment reading itself", "segments_update",
     {"segment_id": "pro", "rules": {"segment": "pro"}}, "cycle of segments"),
    ("a cycle through another segment", "segments_update",
     {"segment_id": "pro", "rules": {"segment": "reads-pro"}}, "pro -> reads-pro -> pro"),
    ("too deep", "segments_create", {"name": "X", "rules": nested(9, GOOD)}, "8 deep"),
    ("too many conditions", "segments_create",
     {"name": "X", "rules": {"or": [GOOD] * 101}}, "at most 100 conditions"),
    ("malformed timeframe", "segments_create",
     {"name": "X", "rules": event("login", timeframe="1 week")}, "timeframe like '30m'"),
    ("timeframe too long", "segments_create",
     {"name": "X", "rules": event("login", timeframe="9999w")}, "ten years"),
    ("rules and manual", "segments_create",
     {"name": "X", "rules": GOOD, "manual": True}, "not both"),
    ("no rules", "segments_create", {"name": "X"}, "rules are required"),
    ("a taken slug", "segments_create", {"name": "PRO", "rules": GOOD}, "is taken"),
    ("empty name", "segments_create", {"name": "  ", "rules": GOOD}, "must not be empty"),
    ("a name with no latin letters", "segments_create", {"name": "ВИП", "rules": GOOD},
     "no latin letters or digits"),
    ("oversized name", "segments_create", {"name": "n" * 300, "rules": GOOD}, "bytes"),
    ("oversized description", "segments_create",
     {"name": "X", "rules": GOOD, "description": "d" * 2000}, "bytes"),
    ("an oversized value", "segments_create",
     {"name": "X", "rules": attr("bio", "eq", "x" * 5000)}, "1000 bytes"),
    ("unknown segment", "segments_update", {"segment_id": "nope", "name": "Y"}, "not found"),
    ("a segment id that is not a slug", "segments_update",
     {"segment_id": "Pro Users", "name": "Y"}, "not a segment id"),
    ("rules on a manual segment", "segments_update",
     {"segment_id": "vip", "rules": GOOD}, "manual and has no rules"),
    ("ids on a dynamic segment", "segments_update",
     {"segment_id": "pro", "add_user_ids": ["ada"]}, "is dynamic"),
    ("unknown people", "segments_update",
     {"segment_id": "vip", "add_user_ids": ["ada", "ghost"]}, "no person with user_id 'ghost'"),
    ("the same id added and removed", "segments_update",
     {"segment_id": "vip", "add_user_ids": ["ada"], "remove_user_ids": ["ada"]}, "give it once"),
    ("too many ids", "segments_update",
     {"segment_id": "vip", "add_user_ids": [f"u{i}" for i in range(10_001)]}, "at most 10000"),
    ("an id with a control character", "segments_update",
     {"segment_id": "vip", "add_user_ids": ["a\x00b"]}, "control character"),
    ("nothing to update", "segments_update", {"segment_id": "pro"}, "nothing to update"),
    ("deleting a segment another reads", "segments_delete", {"segment_id": "pro"},
     "read by the rules of segment(s) 'reads-pro'"),
    ("deleting an unknown segment", "segments_delete", {"segment_id": "nope"}, "not found"),
    ("limit too large", "segments_members", {"segment_id": "pro", "limit": 501}, "1 to 500"),
    ("limit zero", "segments_list", {"limit": 0}, "1 to 500"),
    ("a forged cursor", "segments_members", {"segment_id": "pro", "cursor": "abc"},
     "cursor is not valid"),
    ("checking an unknown person", "segments_check",
     {"segment_id": "pro", "user_id": "ghost"}, "no person with user_id"),
    ("checking an unknown segment", "segments_check",
     {"segment_id": "nope", "user_id": "ada"}, "not found"),
    ("previewing a bad rule", "segments_preview",
     {"rules": {"and": [GOOD, {"not": [GOOD]}]}}, "rules.and[1].not must be one condition"),
    ("previewing rules of the wrong type", "segments_preview", {"rules": ["plan"]},
     "valid dictionary"),
]


@pytest.fixture
async def seeded(client: Client, tmp_path: Path) -> Path:
    """Two people, a dynamic segment 'pro', one reading it and a manual 'vip'."""
    for uid in ("ada", "bob"):
        await client.call_tool("identify", {"user_id": uid, "attributes": {"plan": "pro"}})
    for arguments in ({"name": "Pro", "rules": GOOD},
                      {"name": "Reads pro", "rules": {"segment": "pro"}},
                      {"name": "VIP", "manual": True}):
        assert not (await client.call_tool("segments_create", arguments)).is_error
    await client.call_tool("segments_update", {"segment_id": "vip", "add_user_ids": ["bob"]})
    return tmp_path / "tom.sqlite3"


@pytest.mark.parametrize(("label", "tool", "arguments", "words"), BAD,
                         ids=[case[0] for case in BAD])
async def test_bad_input_is_a_clear_tool_error_and_changes_nothing(
    client: Client, seeded: Path, label: str, tool: str, arguments: dict[str, Any], words: str,
) -> None:
    before = dump(seeded)
    result = await client.call_tool(tool, arguments)
    assert words in tool_error(result, tool)
    assert dump(seeded) == before, "a refused call changed stored data"

"""Each Track tool called once with good arguments through the in-memory MCP client."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.mcp.tool_checks import text_of

pytestmark = pytest.mark.anyio


async def _ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, text_of(result))
    assert result.structured_content is not None
    return result.structured_content


async def test_identify_creates_a_person_and_merges_their_anonymous_events(client: Client) -> None:
    await _ok(client, "track", {"name": "https://shop.test/", "type": "page",
                                "anonymous_id": "anon-9"})
    out = await _ok(client, "identify", {"user_id": "ada", "anonymous_id": "anon-9",
                                         "attributes": {"plan": "pro"}})
    assert out == {"user_id": "ada", "status": "created", "created": True,
                   "merged_anonymous_events": 1, "note": None}


async def test_track_stores_an_event_and_reports_a_repeated_event_id_as_duplicate(
    client: Client,
) -> None:
    first = await _ok(client, "track", {"name": "purchase", "user_id": "ada",
                                        "event_id": "evt-7", "properties": {"total": 12.5}})
    again = await _ok(client, "track", {"name": "purchase", "user_id": "ada",
                                        "event_id": "evt-7"})
    assert (first["status"], first["person_created"]) == ("stored", True)
    assert (again["status"], again["person_created"]) == ("duplicate", False)


async def test_batch_stores_the_good_operations_and_lists_the_bad_one(client: Client) -> None:
    out = await _ok(client, "batch", {"operations": [
        {"action": "identify", "user_id": "grace", "attributes": {"plan": "free"}},
        {"action": "track", "name": "login"},
        {"action": "page", "user_id": "grace", "name": "https://shop.test/cart"},
    ]})
    assert (out["total"], out["succeeded"], out["failed"]) == (3, 2, 1)
    failure = out["failures"][0]
    assert (failure["index"], failure["action"], failure["reason"]) == (1, "track",
                                                                         "invalid_input")
    assert "user_id" in failure["message"]


async def test_get_person_shows_attributes_devices_and_event_counts(seeded: Client) -> None:
    out = await _ok(seeded, "get_person", {"user_id": "ada"})
    assert out["attributes"]["email"] == "Ada@Example.com"
    assert [d["device_id"] for d in out["devices"]] == ["apns-1"]
    assert out["anonymous_ids"] == ["anon-1"]
    assert out["total_events"] == 2
    assert out["recent_events"][0]["name"] == "purchase"


async def test_list_people_pages_with_next_cursor(seeded: Client) -> None:
    first = await _ok(seeded, "list_people", {"limit": 1})
    second = await _ok(seeded, "list_people", {"limit": 1, "cursor": first["next_cursor"]})
    assert [p["user_id"] for p in first["people"] + second["people"]] == ["ada", "grace"]
    assert first["total"] == 2 and second["next_cursor"] is None


async def test_list_people_finds_a_person_by_email_ignoring_case(seeded: Client) -> None:
    out = await _ok(seeded, "list_people", {"email": "ada@example.COM"})
    assert [p["user_id"] for p in out["people"]] == ["ada"]


async def test_list_events_filters_by_person_and_name(seeded: Client) -> None:
    out = await _ok(seeded, "list_events", {"user_id": "ada", "name": "purchase"})
    assert [(e["name"], e["event_id"]) for e in out["events"]] == [("purchase", "evt-1")]
    assert out["next_cursor"] is None


async def test_delete_person_removes_the_person_and_their_events(seeded: Client) -> None:
    out = await _ok(seeded, "delete_person", {"user_id": "ada"})
    assert out == {"user_id": "ada", "deleted": True, "events_deleted": 2}
    assert (await seeded.call_tool("get_person", {"user_id": "ada"})).is_error


async def test_suppress_person_deletes_and_then_drops_later_calls(seeded: Client) -> None:
    out = await _ok(seeded, "suppress_person", {"user_id": "grace"})
    assert (out["suppressed"], out["profile_deleted"], out["events_deleted"]) == (True, True, 1)
    later = await _ok(seeded, "identify", {"user_id": "grace"})
    assert later["status"] == "ignored_suppressed"


async def test_unsuppress_person_frees_the_id(seeded: Client) -> None:
    await _ok(seeded, "suppress_person", {"user_id": "grace"})
    out = await _ok(seeded, "unsuppress_person", {"user_id": "grace"})
    assert out == {"user_id": "grace", "was_suppressed": True}
    assert (await _ok(seeded, "identify", {"user_id": "grace"}))["status"] == "created"


async def test_merge_people_moves_events_and_devices_to_the_primary(seeded: Client) -> None:
    out = await _ok(seeded, "merge_people", {"primary": "grace", "secondary": "ada"})
    assert (out["events_moved"], out["devices_moved"]) == (2, 1)
    assert "email" in out["attributes_copied"]
    grace = await _ok(seeded, "get_person", {"user_id": "grace"})
    assert grace["total_events"] == 3 and grace["attributes"]["plan"] == "free"


async def test_add_device_adds_then_updates_a_device(seeded: Client) -> None:
    added = await _ok(seeded, "add_device", {"user_id": "grace", "device_id": "fcm-1",
                                             "platform": "android",
                                             "attributes": {"app_version": "2.1"}})
    updated = await _ok(seeded, "add_device", {"user_id": "grace", "device_id": "fcm-1",
                                               "platform": "android"})
    assert (added["status"], updated["status"]) == ("added", "updated")


async def test_remove_device_removes_the_device(seeded: Client) -> None:
    out = await _ok(seeded, "remove_device", {"user_id": "ada", "device_id": "apns-1"})
    assert out == {"user_id": "ada", "device_id": "apns-1", "removed": True}
    assert (await _ok(seeded, "get_person", {"user_id": "ada"}))["devices"] == []

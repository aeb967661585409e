"""`customerio-mcp serve` as a subprocess over stdio, driven by the real MCP client."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.e2e.support import serve_params, structured

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_identify_track_and_get_person_over_stdio(tmp_path: Path) -> None:
    params = serve_params("serve", "--agent", "A", "--data-dir", str(tmp_path))
    with anyio.fail_after(30):
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert {"identify", "track", "get_person", "batch"} <= names
            created = structured(await client.call_tool(
                "identify", {"user_id": "ada", "attributes": {"plan": "pro"}}))
            tracked = structured(await client.call_tool(
                "track", {"name": "purchase", "user_id": "ada", "properties": {"total": 9}}))
            person = structured(await client.call_tool("get_person", {"user_id": "ada"}))
    assert created["status"] == "created" and tracked["status"] == "stored"
    assert person["attributes"]["plan"] == "pro"
    assert person["event_counts"] == {"purchase": 1}
    assert person["recent_events"][0]["properties"] == {"total": 9}
    assert (tmp_path / "A.sqlite3").is_file()


async def test_two_agents_served_by_two_processes_on_one_data_directory_see_only_their_own(
    tmp_path: Path,
) -> None:
    data = str(tmp_path)
    with anyio.fail_after(30):
        async with (Client(serve_params("serve", "--agent", "alice", "--data-dir", data)) as a,
                    Client(serve_params("serve", "--agent", "bob", "--data-dir", data)) as b):
            created: dict[str, str] = {}

            async def identify(client: Client, user_id: str) -> None:
                result = await client.call_tool("identify", {"user_id": user_id})
                created[user_id] = structured(result)["status"]

            async with anyio.create_task_group() as group:  # both write at the same time
                group.start_soon(identify, a, "alice-customer")
                group.start_soon(identify, b, "bob-customer")
            seen_by_a = structured(await a.call_tool("list_people", {}))["people"]
            seen_by_b = structured(await b.call_tool("list_people", {}))["people"]
            cross = await a.call_tool("get_person", {"user_id": "bob-customer"})
    assert created == {"alice-customer": "created", "bob-customer": "created"}
    assert [p["user_id"] for p in seen_by_a] == ["alice-customer"]
    assert [p["user_id"] for p in seen_by_b] == ["bob-customer"]
    assert cross.is_error
    assert (tmp_path / "alice.sqlite3").is_file() and (tmp_path / "bob.sqlite3").is_file()

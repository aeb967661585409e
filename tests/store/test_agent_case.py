"""Agent ids that differ only in case would share one file on case-insensitive file systems
(macOS, Windows): a new agent whose file name equals an existing one's but for case is
refused (conflict, naming the existing agent), on every platform, and so is registering it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.agents import AgentRegistry
from store.manager import StoreManager
from tests.mcp.tool_checks import tool_error_message
from tests.store.fault_support import tool_client
from tools.api import CustomerIO
from tools.core.errors import Conflict

pytestmark = pytest.mark.anyio


async def test_a_new_agent_differing_only_in_case_from_an_existing_one_is_refused(
    tmp_path: Path,
) -> None:
    async with CustomerIO.for_agent("alice", data_dir=tmp_path) as cio:
        await cio.identify("ada")
    async with CustomerIO.for_agent("Alice", data_dir=tmp_path) as other:
        with pytest.raises(Conflict) as info:
            await other.identify("bob")
    message = info.value.message
    assert "'Alice' differs only in case from the existing 'alice'" in message
    assert "macOS and Windows" in message
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite3") == [
        "alice.sqlite3"]
    async with CustomerIO.for_agent("alice", data_dir=tmp_path) as cio:
        assert [p.user_id for p in (await cio.list_people()).people] == ["ada"]


async def test_the_refusal_is_a_conflict_tool_error(tmp_path: Path) -> None:
    async with CustomerIO.for_agent("alice", data_dir=tmp_path) as cio:
        await cio.identify("ada")
    async with tool_client(tmp_path, agent="ALICE") as client:
        text = tool_error_message(await client.call_tool("identify", {"user_id": "x"}),
                                  "identify")
    assert text.startswith("conflict: 'ALICE' differs only in case from the existing 'alice'")


async def test_agents_whose_files_both_exist_already_keep_working(tmp_path: Path) -> None:
    for agent in ("bob", "Bob"):  # made on a case-sensitive file system by an older version
        (tmp_path / f"{agent}.sqlite3").touch()  # an empty file is an empty database
    manager = StoreManager(tmp_path)
    for agent in ("bob", "Bob"):
        async with manager.lease(agent) as db:
            assert db.path.name == f"{agent}.sqlite3"
    await manager.close()


async def test_registering_an_id_that_differs_only_in_case_is_refused(tmp_path: Path) -> None:
    registry = AgentRegistry(tmp_path)
    await registry.create("alice")
    with pytest.raises(Conflict, match="'Alice' differs only in case from the registered "
                       "agent 'alice'"):
        await registry.create("Alice")
    with pytest.raises(Conflict, match="exists; `agents rotate alice`"):
        await registry.create("alice")
    assert [info.agent_id for info in await registry.list()] == ["alice"]
    await registry.close()

"""Agent ids become file names: invalid ones are refused before any file exists, and
each agent's data lives in its own file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from store.agent_ids import InvalidAgentId, check_agent_id
from store.manager import StoreManager
from tools.api import CustomerIO

pytestmark = pytest.mark.anyio

INVALID = ["", "-tom", "_tom", "t" * 65, "../tom", "a/b", "a\\b", "tom.db", "..", "to m",
           "tom\n", "tøm", "tom\x00", None, 42, ["tom"]]


@pytest.mark.parametrize("agent_id", ["t", "Tom", "7", "tom_1-x", "a" * 64, "A-B_c"])
def test_valid_agent_ids_are_accepted(agent_id: str) -> None:
    assert check_agent_id(agent_id) == agent_id


@pytest.mark.parametrize("agent_id", INVALID)
def test_invalid_agent_ids_are_refused_saying_what_is_allowed(agent_id: Any) -> None:
    with pytest.raises(InvalidAgentId) as info:
        check_agent_id(agent_id)
    assert "1-64 characters of letters, digits" in str(info.value)


@pytest.mark.parametrize("agent_id", [a for a in INVALID if not isinstance(a, list)])
async def test_a_lease_of_an_invalid_agent_touches_no_file(tmp_path: Path, agent_id: Any) -> None:
    data = tmp_path / "data"
    manager = StoreManager(data)
    with pytest.raises(InvalidAgentId):
        async with manager.lease(agent_id):
            pass
    assert not data.exists()
    assert list(tmp_path.iterdir()) == []
    assert manager.open_count == 0


@pytest.mark.parametrize("agent_id", ["../escape", "", "a/b"])
def test_the_python_api_refuses_an_invalid_agent_before_any_file_exists(
    tmp_path: Path, agent_id: str
) -> None:
    with pytest.raises(InvalidAgentId):
        CustomerIO.for_agent(agent_id, data_dir=tmp_path / "data")
    assert list(tmp_path.iterdir()) == []


async def test_two_agents_have_separate_files_and_see_only_their_own_data(
    tmp_path: Path,
) -> None:
    manager = StoreManager(tmp_path)
    async with manager.lease("tom") as tom:
        await tom.write(lambda conn: conn.execute("INSERT INTO suppressions VALUES ('x', 0)"))
    async with manager.lease("ann") as ann:
        rows = await ann.read(lambda conn: conn.execute("SELECT * FROM suppressions").fetchall())
    assert rows == []
    assert manager.path_for("tom") != manager.path_for("ann")
    files = {p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite3"}
    assert files == {"tom.sqlite3", "ann.sqlite3"}
    await manager.close()


async def test_two_python_api_engines_on_one_directory_are_isolated(tmp_path: Path) -> None:
    async with CustomerIO.for_agent("tom", data_dir=tmp_path) as tom, \
            CustomerIO.for_agent("ann", data_dir=tmp_path) as ann:
        await tom.identify("ada", {"plan": "pro"})
        await ann.identify("bob")
        assert [p.user_id for p in (await tom.list_people()).people] == ["ada"]
        assert [p.user_id for p in (await ann.list_people()).people] == ["bob"]

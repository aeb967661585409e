"""The Python API object: CustomerIO.for_agent, its data directory and its lifetime."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.api import CustomerIO, default_data_dir
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio


async def test_for_agent_as_async_with_stores_in_one_file_and_closes_it(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with CustomerIO.for_agent("tom", data_dir=tmp_path, clock=clock) as cio:
        await cio.identify("ada")
        assert cio.manager.open_count == 1
    assert cio.manager.open_count == 0
    assert (tmp_path / "tom.sqlite3").is_file()


async def test_a_new_engine_on_the_same_directory_sees_earlier_data(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with CustomerIO.for_agent("tom", data_dir=str(tmp_path), clock=clock) as cio:
        await cio.identify("ada", {"plan": "pro"})
    async with CustomerIO.for_agent("tom", data_dir=tmp_path, clock=clock) as cio:
        assert (await cio.get_person("ada")).attributes["plan"] == "pro"


async def test_nothing_is_created_until_the_first_operation(tmp_path: Path) -> None:
    async with CustomerIO.for_agent("tom", data_dir=tmp_path / "data"):
        pass
    assert not (tmp_path / "data").exists()


def test_the_data_directory_comes_from_the_environment_then_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMERIO_MCP_DATA_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "explicit"
    monkeypatch.delenv("CUSTOMERIO_MCP_DATA_DIR")
    assert default_data_dir() == tmp_path / "xdg" / "customerio-mcp"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home" / ".local" / "share" / "customerio-mcp"


async def test_for_agent_without_a_directory_uses_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    monkeypatch.setenv("CUSTOMERIO_MCP_DATA_DIR", str(tmp_path / "env-dir"))
    async with CustomerIO.for_agent("tom", clock=clock) as cio:
        await cio.identify("ada")
    assert (tmp_path / "env-dir" / "tom.sqlite3").is_file()

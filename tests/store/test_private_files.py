"""An agent's files are its own: the data directory is created 0700 and every database file
(agent databases, the control database, their -wal and -shm) 0600, whatever the umask; an
existing directory that other users may enter gets one warning naming the chmod to run."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.agents import AgentRegistry
from store.control import ControlDB
from store.files import prepare_data_dir
from tools.api import CustomerIO

pytestmark = [pytest.mark.anyio,
              pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask-000", "umask-022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A permissive umask: the modes must not depend on it."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


async def test_a_new_data_directory_is_0700_and_agent_files_with_wal_and_shm_are_0600(
    tmp_path: Path, umask: int,
) -> None:
    data = tmp_path / "deep" / "data"
    async with CustomerIO.for_agent("tom", data_dir=data) as cio:
        await cio.identify("ada", {"plan": "pro"})
        files = {p.name: mode(p) for p in data.iterdir()}  # while open: -wal and -shm exist
    assert mode(data) == 0o700
    assert files == {"tom.sqlite3": 0o600, "tom.sqlite3-wal": 0o600, "tom.sqlite3-shm": 0o600}


async def test_the_control_database_is_0600_whether_the_registry_or_wakeups_create_it(
    tmp_path: Path, umask: int,
) -> None:
    registry = AgentRegistry(tmp_path / "a")
    await registry.create("tom")
    created_by_registry = {p.name: mode(p) for p in (tmp_path / "a").iterdir()}
    await registry.close()
    wakeups = ControlDB(tmp_path / "b" / "_control.sqlite3")
    wakeups.lower("tom", 1.0)
    created_by_wakeups = {p.name: mode(p) for p in (tmp_path / "b").iterdir()}
    wakeups.close()
    for files in (created_by_registry, created_by_wakeups):
        assert files["_control.sqlite3"] == 0o600
        assert set(files.values()) == {0o600}, files
    assert mode(tmp_path / "a") == mode(tmp_path / "b") == 0o700


async def test_an_existing_open_data_directory_gets_one_warning_with_the_chmod_to_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "shared"
    data.mkdir()
    data.chmod(0o755)
    caplog.set_level(logging.WARNING, logger="store.files")
    prepare_data_dir(data)
    for agent in ("tom", "ann"):
        async with CustomerIO.for_agent(agent, data_dir=data) as cio:
            await cio.identify("ada")
    warnings = [r.getMessage() for r in caplog.records if r.name == "store.files"]
    assert len(warnings) == 1
    assert str(data) in warnings[0] and f"chmod 700 {data}" in warnings[0]
    assert mode(data) == 0o755, "the operator's directory is not changed behind their back"


async def test_a_private_existing_data_directory_gets_no_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "private"
    data.mkdir(mode=0o700)
    caplog.set_level(logging.WARNING, logger="store.files")
    prepare_data_dir(data)
    async with CustomerIO.for_agent("tom", data_dir=data) as cio:
        await cio.identify("ada")
    assert [r for r in caplog.records if r.name == "store.files"] == []

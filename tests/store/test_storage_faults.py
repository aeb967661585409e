"""Storage faults become tool errors of their own kind (storage_busy, storage_full,
storage_unwritable, storage_corrupt) naming the file and what to do, through the Python API
and as MCP tool errors; each is logged once, and the data stays as it was."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

import store.database
from server.agents import AgentRegistry
from store.control import ControlDB
from store.faults import LOG_EVERY_S, storage_fault
from tests.mcp.tool_checks import tool_error_message
from tests.store.fault_support import (
    GARBAGE,
    START,
    corrupt_pages,
    fill_up,
    is_root,
    limit_to_current_size,
    locked,
    read_only_view,
    serving_tools,
    tiny_tmpfs,
    tool_client,
)
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import (
    NotFound,
    StorageBusy,
    StorageCorrupt,
    StorageError,
    StorageFull,
    StorageUnwritable,
)

pytestmark = pytest.mark.anyio
BIG = {"blob": "x" * 30_000}  # an event that needs new pages


def engine(data_dir: Path) -> CustomerIO:
    return CustomerIO.for_agent("tom", data_dir=data_dir, clock=ManualClock(START))


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(store.database, "BUSY_TIMEOUT_S", 0.05)
    return 0.05


# --- a file that is not a database ------------------------------------------------------

async def test_a_file_that_is_not_a_database_is_storage_corrupt_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    (tmp_path / "tom.sqlite3").write_bytes(GARBAGE)
    async with engine(tmp_path) as cio:
        with pytest.raises(StorageCorrupt) as info:
            await cio.identify("ada", {"plan": "pro"})
    message = info.value.message
    assert str(tmp_path / "tom.sqlite3") in message and "file is not a database" in message
    assert "move it aside" in message and "backup" in message
    assert (tmp_path / "tom.sqlite3").read_bytes() == GARBAGE


async def test_a_database_with_damaged_pages_is_storage_corrupt(tmp_path: Path) -> None:
    async with engine(tmp_path) as cio:
        await cio.identify("ada", {"plan": "pro"})
    corrupt_pages(tmp_path / "tom.sqlite3")
    async with engine(tmp_path) as cio:
        with pytest.raises(StorageCorrupt, match="malformed"):
            await cio.get_person("ada")


async def test_a_file_that_is_not_a_database_is_a_storage_corrupt_tool_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "tom.sqlite3").write_bytes(GARBAGE)
    async with tool_client(tmp_path) as client:
        text = tool_error_message(await client.call_tool("identify", {"user_id": "ada"}),
                                  "identify")
    assert text.startswith("storage_corrupt: ") and str(tmp_path / "tom.sqlite3") in text


async def test_a_corrupt_control_database_is_storage_corrupt_for_registry_and_wakeups(
    tmp_path: Path,
) -> None:
    control = tmp_path / "_control.sqlite3"
    control.write_bytes(GARBAGE)
    registry = AgentRegistry(tmp_path)
    with pytest.raises(StorageCorrupt, match="_control.sqlite3"):
        await registry.create("tom")
    with pytest.raises(StorageCorrupt, match="_control.sqlite3"):
        await registry.verify("cio_0123456789ab_secret")
    await registry.close()
    wakeups = ControlDB(control)
    with pytest.raises(StorageCorrupt, match="_control.sqlite3"):
        wakeups.earliest()
    with pytest.raises(StorageCorrupt):
        wakeups.lower("tom", START)
    wakeups.close()
    assert control.read_bytes() == GARBAGE


# --- a data directory that cannot be written ---------------------------------------------

async def test_a_data_directory_that_is_a_file_is_storage_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    async with engine(blocker) as cio:
        with pytest.raises(StorageUnwritable) as info:
            await cio.identify("ada")
    assert info.value.message.startswith(f"{blocker} is not a directory")
    assert "--data-dir" in info.value.message
    async with tool_client(blocker) as client:
        text = tool_error_message(
            await client.call_tool("track", {"name": "x", "user_id": "ada"}), "track")
    assert text.startswith(f"storage_unwritable: {blocker} is not a directory")


async def test_a_data_directory_below_a_file_is_storage_unwritable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    async with engine(tmp_path / "file" / "data") as cio:
        with pytest.raises(StorageUnwritable, match="is not a directory"):
            await cio.identify("ada")


async def test_a_database_path_that_is_a_directory_is_storage_unwritable(tmp_path: Path) -> None:
    (tmp_path / "tom.sqlite3").mkdir()
    async with engine(tmp_path) as cio:
        with pytest.raises(StorageUnwritable, match="cannot create or write"):
            await cio.identify("ada")


@pytest.mark.skipif(is_root(), reason="root writes through directory modes; the read-only "
                    "mount test covers this kind as root")
async def test_a_directory_without_write_permission_is_storage_unwritable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o500)
    try:
        async with engine(data) as cio:
            with pytest.raises(StorageUnwritable, match="give this user write access"):
                await cio.identify("ada")
    finally:
        data.chmod(0o700)


async def test_a_read_only_file_system_is_storage_unwritable_for_new_and_existing_agents(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    async with CustomerIO.for_agent("tom", data_dir=source) as cio:
        await cio.identify("ada")
    with read_only_view(source, tmp_path / "ro") as view:
        for agent in ("tom", "ann"):
            async with CustomerIO.for_agent(agent, data_dir=view) as cio:
                with pytest.raises(StorageUnwritable, match="cannot create or write"):
                    await cio.identify("bob")
        async with tool_client(view) as client:
            text = tool_error_message(
                await client.call_tool("identify", {"user_id": "bob"}), "identify")
        assert text.startswith("storage_unwritable: ")


# --- disk full ---------------------------------------------------------------------------

async def test_a_database_at_its_size_limit_is_storage_full_and_stores_nothing(
    tmp_path: Path,
) -> None:
    async with engine(tmp_path) as cio:
        await cio.identify("ada", {"plan": "pro"})
        async with cio.manager.lease("tom") as db:
            await limit_to_current_size(db)
        with pytest.raises(StorageFull) as info:
            await cio.track("upload", user_id="bob", properties=BIG)
        assert str(tmp_path / "tom.sqlite3") in info.value.message
        assert "free disk space" in info.value.message
        with pytest.raises(NotFound):
            await cio.get_person("bob")
        assert (await cio.get_person("ada")).attributes["plan"] == "pro"


async def test_a_full_database_is_a_storage_full_tool_error(tmp_path: Path) -> None:
    async with serving_tools(tmp_path) as (client, runtime):
        assert not (await client.call_tool("identify", {"user_id": "ada"})).is_error
        async with runtime.store.lease("tom") as db:
            await limit_to_current_size(db)
        text = tool_error_message(await client.call_tool(
            "track", {"name": "upload", "user_id": "bob", "properties": BIG}), "track")
    assert text.startswith(f"storage_full: no space left for {tmp_path / 'tom.sqlite3'}")


async def test_a_full_disk_is_storage_full_and_writes_resume_once_space_is_freed(
    tmp_path: Path,
) -> None:
    with tiny_tmpfs(tmp_path / "disk") as disk:
        async with CustomerIO.for_agent("tom", data_dir=disk / "data") as cio:
            await cio.identify("ada")
            filler = fill_up(disk)
            with pytest.raises(StorageFull, match="free disk space"):
                for n in range(50):  # the WAL may still hold a few free pages
                    await cio.track("upload", user_id="ada", properties=BIG, event_id=f"e{n}")
            filler.unlink()
            await cio.track("upload", user_id="ada", properties=BIG, event_id="after")
        async with tool_client(disk / "data") as client:
            filler = fill_up(disk)
            text = ""
            for n in range(50):
                result = await client.call_tool("track", {"name": "upload", "user_id": "ada",
                                                          "properties": BIG, "event_id": f"t{n}"})
                if result.is_error:
                    text = tool_error_message(result, "track")
                    break
            filler.unlink()
        assert text.startswith("storage_full: no space left for ")


# --- a database locked by another process ------------------------------------------------

async def test_a_database_locked_past_the_busy_timeout_is_storage_busy_then_works(
    tmp_path: Path, short_busy_timeout: float,
) -> None:
    async with engine(tmp_path) as cio:
        await cio.identify("ada")
        with locked(tmp_path / "tom.sqlite3"):
            with pytest.raises(StorageBusy) as info:
                await cio.identify("bob")
            assert "another process holds the database" in info.value.message
            assert "retry in a moment" in info.value.message
            assert str(tmp_path / "tom.sqlite3") in info.value.message
        with pytest.raises(NotFound):
            await cio.get_person("bob")
        await cio.identify("bob")  # the lock is gone: the retry works


async def test_a_locked_database_is_a_storage_busy_tool_error(
    tmp_path: Path, short_busy_timeout: float,
) -> None:
    async with tool_client(tmp_path) as client:
        assert not (await client.call_tool("identify", {"user_id": "ada"})).is_error
        with locked(tmp_path / "tom.sqlite3"):
            result = await client.call_tool("batch", {"operations": [
                {"action": "identify", "user_id": "bob"}]})
            text = tool_error_message(result, "batch")
    assert text.startswith("storage_busy: another process holds the database")


async def test_a_registry_locked_past_the_busy_timeout_is_storage_busy(
    tmp_path: Path, short_busy_timeout: float,
) -> None:
    registry = AgentRegistry(tmp_path)
    await registry.create("tom")
    with locked(tmp_path / "_control.sqlite3"):
        with pytest.raises(StorageBusy, match="_control.sqlite3"):
            await registry.create("ann")
    await registry.close()


# --- logging -----------------------------------------------------------------------------

async def test_a_fault_is_logged_once_with_its_file_not_once_per_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "tom.sqlite3").write_bytes(GARBAGE)
    caplog.set_level(logging.WARNING, logger="store.faults")
    async with engine(tmp_path) as cio:
        for _ in range(3):
            with pytest.raises(StorageCorrupt):
                await cio.identify("ada")
    records = [r for r in caplog.records if r.name == "store.faults"]
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    assert str(tmp_path / "tom.sqlite3") in records[0].getMessage()
    assert "Traceback" not in caplog.text
    assert LOG_EVERY_S >= 60


@pytest.mark.parametrize(("code", "kind"), [
    (errno.ENOSPC, StorageFull), (errno.EACCES, StorageUnwritable),
    (errno.EROFS, StorageUnwritable), (errno.ENOTDIR, StorageUnwritable),
    (errno.EEXIST, StorageUnwritable), (errno.EIO, StorageUnwritable),
])
def test_os_errors_of_storage_map_to_their_kind(code: int, kind: type[StorageError]) -> None:
    fault = storage_fault(OSError(code, "x", "/data/tom.sqlite3"), "/elsewhere", quiet=True)
    assert type(fault) is kind and fault.path == "/data/tom.sqlite3"


@pytest.mark.parametrize("exc", [OSError(errno.EMFILE, "too many open files"), ValueError("x"),
                                 KeyError("x")])
def test_errors_that_are_not_storage_faults_are_left_alone(exc: Exception) -> None:
    assert storage_fault(exc, "/data/tom.sqlite3", quiet=True) is None

"""Real storage faults for tests: a tiny tmpfs that fills up, a read-only view of a
directory, a database locked by another connection, files that are not databases.

Mounting needs root with CAP_SYS_ADMIN; where that is missing the test using it is
skipped (and a fault that bites without privileges covers the same kind).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_server
from server.runtime import Runtime
from store.database import AgentDatabase
from tools.core.clock import ManualClock

START = 1_780_000_000.0
GARBAGE = b"this is not an SQLite database\n" * 200


def _mount(*args: str) -> None:
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (needs root with CAP_SYS_ADMIN): {done.stderr.strip()}")


def _unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@contextmanager
def tiny_tmpfs(target: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `target` (a real disk that fills up)."""
    target.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target))
    try:
        yield target
    finally:
        _unmount(target)


@contextmanager
def read_only_view(source: Path, target: Path) -> Iterator[Path]:
    """`source` seen read-only at `target` (a read-only bind mount: root cannot write it)."""
    target.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(source), str(target))
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(target)],
                                 capture_output=True, text=True, check=False)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        yield target
    finally:
        _unmount(target)


def fill_up(directory: Path) -> Path:
    """Write a file in `directory` until the disk is full; returns it (delete it to free)."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    return filler


@contextmanager
def locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding `path` with BEGIN EXCLUSIVE (a writer elsewhere)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


def corrupt_pages(path: Path) -> None:
    """Overwrite everything after the 100-byte header of a real database with junk."""
    data = bytearray(path.read_bytes())
    data[100:] = b"\xab" * (len(data) - 100)
    path.write_bytes(bytes(data))


@asynccontextmanager
async def tool_client(data_dir: Path, agent: str = "tom") -> AsyncIterator[Client]:
    """The in-memory MCP client of `agent` served from `data_dir`."""
    async with serving_tools(data_dir, agent) as (client, _):
        yield client


@asynccontextmanager
async def serving_tools(data_dir: Path,
                        agent: str = "tom") -> AsyncIterator[tuple[Client, Runtime]]:
    """The in-memory MCP client of `agent` and the runtime serving it from `data_dir`."""
    async with Runtime(data_dir, clock=ManualClock(START), run_scheduler=False) as runtime:
        engine = runtime.engine(agent)
        async with Client(build_server(lambda ctx: engine)) as client:
            yield client, runtime


async def limit_to_current_size(db: AgentDatabase) -> None:
    """Make SQLite answer SQLITE_FULL once the database needs one page more than now."""
    await db.read_statement(lambda conn: conn.execute(
        f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}"
    ).fetchone())


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0

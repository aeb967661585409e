"""Shared fixtures: real SQLite files in tmp_path, a manual clock, the in-memory MCP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_server
from server.runtime import Runtime
from tools.api import CustomerIO
from tools.core.clock import ManualClock

START = 1_780_000_000.0  # 2026-05-28T20:26:40Z


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def cio(tmp_path: Path, clock: ManualClock) -> AsyncIterator[CustomerIO]:
    """The Python API of agent 'tom' on a real SQLite file, with a manual clock."""
    async with CustomerIO.for_agent("tom", data_dir=tmp_path, clock=clock) as engine:
        yield engine


@pytest.fixture
async def runtime(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    async with Runtime(tmp_path, clock=clock) as rt:
        yield rt


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[Client]:
    """The in-memory MCP client, talking to the server for agent 'tom'."""
    engine = runtime.engine("tom")
    async with Client(build_server(lambda ctx: engine)) as mcp_client:
        yield mcp_client

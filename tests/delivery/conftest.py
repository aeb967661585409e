"""Fixtures of the delivery tests: a runtime whose senders may reach loopback servers, its
MCP client, and agent 'tom's database file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from server.app import build_server
from server.runtime import Runtime
from tools.core.clock import ManualClock


@pytest.fixture
async def private_runtime(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    """A runtime whose senders may reach loopback servers (allow_private=True)."""
    async with Runtime(tmp_path, clock=clock, allow_private=True) as rt:
        yield rt


@pytest.fixture
async def private_client(private_runtime: Runtime) -> AsyncIterator[Client]:
    """The in-memory MCP client of agent 'tom' on the private runtime."""
    engine = private_runtime.engine("tom")
    async with Client(build_server(lambda ctx: engine)) as mcp_client:
        yield mcp_client


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Agent 'tom's database file (store/manager.py path_for)."""
    return tmp_path / "tom.sqlite3"

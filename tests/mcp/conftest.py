"""Fixtures for the MCP tool tests: a seeded agent 'tom' and a dump of its SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.db_dump import dump as dump_database

SEED_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("track", {"name": "https://shop.test/pricing", "type": "page", "anonymous_id": "anon-1",
               "timestamp": "2026-05-28T19:00:00Z"}),
    ("identify", {"user_id": "ada", "anonymous_id": "anon-1",
                  "attributes": {"email": "Ada@Example.com", "plan": "pro", "age": 36}}),
    ("track", {"name": "purchase", "user_id": "ada", "event_id": "evt-1",
               "properties": {"sku": "BOOK-42", "price": 29.5}}),
    ("add_device", {"user_id": "ada", "device_id": "apns-1", "platform": "ios"}),
    ("identify", {"user_id": "grace", "attributes": {"plan": "free"}}),
    ("track", {"name": "login", "user_id": "grace"}),
]


@pytest.fixture
async def seeded(client: Client) -> Client:
    """The client of agent 'tom' after a few people, events and a device were stored."""
    for tool, arguments in SEED_CALLS:
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, (tool, result.content)
    return client


@pytest.fixture
def dump(tmp_path: Path) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """A function returning every row of agent 'tom's database."""
    return lambda: dump_database(tmp_path / "tom.sqlite3")

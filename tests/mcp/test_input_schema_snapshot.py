"""The input schema of every tool, as the server lists it, is pinned byte for byte: argument
annotations (e.g. tools.mcp_support.OptionalText) must not change what clients see.
After a deliberate change, regenerate the snapshot:

    .venv/bin/python tests/mcp/test_input_schema_snapshot.py > tests/mcp/input_schemas.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import anyio
import pytest
from mcp import Client

SNAPSHOT = Path(__file__).with_name("input_schemas.json")


async def input_schemas(client: Client) -> str:
    """Every tool's inputSchema, in the server's key order, one JSON document."""
    tools = (await client.list_tools()).tools
    return json.dumps({tool.name: tool.input_schema for tool in tools}, indent=1,
                      ensure_ascii=False) + "\n"


@pytest.mark.anyio
async def test_every_tool_input_schema_matches_the_snapshot(client: Client) -> None:
    assert await input_schemas(client) == SNAPSHOT.read_text(encoding="utf-8"), (
        "a tool's input schema changed; if that is intended, regenerate the snapshot: "
        "`.venv/bin/python tests/mcp/test_input_schema_snapshot.py > tests/mcp/input_schemas.json`")


async def _print_snapshot() -> None:
    from server.app import build_server
    from server.runtime import Runtime

    with tempfile.TemporaryDirectory() as folder:
        async with Runtime(Path(folder), run_scheduler=False) as runtime:
            engine = runtime.engine("tom")
            async with Client(build_server(lambda ctx: engine)) as client:
                sys.stdout.write(await input_schemas(client))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    anyio.run(_print_snapshot)

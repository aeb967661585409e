"""The MCP Inspector CLI (the debugging tool the README points to) against the stdio server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import COMMAND, NPX, clean_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NPX is None, reason="npx (Node.js) is not on PATH"),
]
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"


def _inspect(data_dir: Path, *method: str) -> dict[str, Any]:
    """Run the Inspector CLI against `customerio-mcp serve` and parse its JSON output."""
    assert NPX is not None
    done = subprocess.run(
        [NPX, "-y", INSPECTOR, "--cli", *COMMAND, "serve", "--agent", "inspected",
         "--data-dir", str(data_dir), *method],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=clean_env(),
    )
    assert done.returncode == 0, done.stderr
    output: dict[str, Any] = json.loads(done.stdout)
    return output


def test_the_inspector_lists_the_tools_and_calls_identify(tmp_path: Path) -> None:
    listed = _inspect(tmp_path, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert {"identify", "track", "batch", "get_person", "list_people"} <= set(tools)
    assert tools["identify"]["annotations"]["idempotentHint"] is True
    assert "outputSchema" in tools["identify"]

    called = _inspect(tmp_path, "--method", "tools/call", "--tool-name", "identify",
                      "--tool-arg", "user_id=ada", "--tool-arg", 'attributes={"plan": "pro"}')
    assert called["isError"] is False
    assert called["structuredContent"]["status"] == "created"
    with closing(sqlite3.connect(tmp_path / "inspected.sqlite3")) as conn:
        stored = conn.execute("SELECT attributes FROM people WHERE user_id = 'ada'").fetchone()
    assert json.loads(stored[0])["plan"] == "pro"

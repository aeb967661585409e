"""Starting the real `customerio-mcp` command for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import StdioServerParameters
from mcp.types import CallToolResult

_SCRIPT = Path(sys.executable).with_name("customerio-mcp")
# The installed console script (what a user runs); `python -m server.cli` if it is missing.
COMMAND: list[str] = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server.cli"]
NPX = shutil.which("npx")
_OURS = ("CUSTOMERIO_MCP_AGENT", "CUSTOMERIO_MCP_DATA_DIR", "CUSTOMERIO_MCP_LOG_LEVEL",
         "XDG_DATA_HOME")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without our settings, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key not in _OURS}
    return env | extra


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `customerio-mcp ARGS...` to completion with stdin closed."""
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=env or clean_env())


def serve_params(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    """Parameters for the MCP client to start `customerio-mcp [ARGS...]` over stdio."""
    return StdioServerParameters(command=COMMAND[0], args=[*COMMAND[1:], *args], env=env)


def structured(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful tool result."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content

"""Starting the real `customerio-mcp` command for end-to-end tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
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


# The server with every tool on the SDK's own path (build_server(fast_path=False)), for
# comparisons; argv: agent id, data directory.
SDK_PATH_COMMAND: list[str] = [sys.executable, "-c", (
    "import sys, anyio, pathlib; from server.stdio import serve_stdio; "
    "anyio.run(lambda: serve_stdio(sys.argv[1], pathlib.Path(sys.argv[2]), fast_path=False))")]
HANDSHAKE = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "raw-client", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
MODERN_META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
               "io.modelcontextprotocol/clientInfo": {"name": "raw-client", "version": "1"},
               "io.modelcontextprotocol/clientCapabilities": {}}


class RawStdio:
    """A server process spoken to line by line over its stdin and stdout."""

    def __init__(self, process: Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.stdin = process.stdin
        self.lines = BufferedByteReceiveStream(process.stdout)

    @classmethod
    @asynccontextmanager
    async def start(cls, command: list[str], stderr: Path) -> AsyncIterator[RawStdio]:
        """Start `command` (its stderr into the file `stderr`); killed if still running."""
        with stderr.open("wb") as log:
            async with await anyio.open_process(command, stderr=log, env=clean_env()) as process:
                try:
                    yield cls(process)
                finally:
                    if process.returncode is None:
                        process.kill()

    async def send(self, message: dict[str, Any] | bytes) -> None:
        """Write one line: a message (as JSON) or raw bytes."""
        line = message if isinstance(message, bytes) else json.dumps(message).encode()
        await self.stdin.send(line + b"\n")

    async def reply(self) -> bytes:
        """The next line on stdout, as sent."""
        return await self.lines.receive_until(b"\n", 10_000_000)

    async def request(self, message: dict[str, Any] | bytes) -> bytes:
        await self.send(message)
        return await self.reply()

    async def handshake(self) -> None:
        """The 2025-11-25 initialize exchange."""
        hello = json.loads(await self.request(HANDSHAKE))
        assert hello["result"]["protocolVersion"] == "2025-11-25", hello
        await self.send(INITIALIZED)


def std_fds(pid: int) -> tuple[str, str, str]:
    """What a process's fd 0, 1 and 2 point at (Linux)."""
    return tuple(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in range(3))  # type: ignore[return-value]


def peak_rss_kb(pid: int) -> int:
    """A process's peak resident memory (VmHWM, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise KeyError("VmHWM")


def descendants(pid: int) -> set[int]:
    """The processes under `pid` now (Linux /proc), e.g. its render processes."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def still_running(pids: set[int]) -> set[int]:
    """Those of `pids` alive (not exited, not a zombie)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read another process's database (read-only, a snapshot)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@contextmanager
def worker_process(args: list[str], env: dict[str, str],
                   log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`customerio-mcp worker ARGS` in the background, its output appended to `log`;
    stopped with SIGTERM at the end if still running (killed after 10 s)."""
    with log.open("ab") as out:
        process = subprocess.Popen([*COMMAND, "worker", *args], env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

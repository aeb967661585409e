"""`customerio-mcp serve --transport http` as a real process: CLI tokens, Inspector, SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.remote.support import closed_by_server, http_client

pytestmark = pytest.mark.anyio
CLI = [sys.executable, "-m", "server.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args, "--data-dir", str(data_dir)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture
def server_process(tmp_path: Path, request: pytest.FixtureRequest
                   ) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """The server as a process; `indirect` parametrization passes extra serve flags."""
    port = _free_port()
    process = subprocess.Popen(
        [*CLI, "--log-level", "WARNING", "serve", "--transport", "http", "--port", str(port),
         "--data-dir", str(tmp_path), *getattr(request, "param", [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            pass
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        anyio.run(anyio.sleep, 0.05)
    yield process, url, tmp_path
    if process.poll() is None:
        process.kill()
    process.wait(10)


async def test_agents_cli_tokens_work_and_are_stored_only_as_hashes(server_process) -> None:
    _, url, data_dir = server_process
    created = _cli("agents", "create", "alice", data_dir=data_dir)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("cio_") and "shown only once" in created.stderr
    async with http_client(url, token) as client:
        result = await client.call_tool("identify", {"user_id": "ada"})
        assert not result.is_error
    again = _cli("agents", "create", "alice", data_dir=data_dir)
    assert again.returncode == 1 and "rotate" in again.stderr
    listing = _cli("agents", "list", data_dir=data_dir)
    assert "alice" in listing.stdout and token not in listing.stdout
    stored = sqlite3.connect(data_dir / "_control.sqlite3").execute(
        "SELECT * FROM agents").fetchall()
    assert token not in json.dumps(stored) and token.split("_", 2)[2] not in json.dumps(stored)
    revoked = _cli("agents", "revoke", "alice", data_dir=data_dir)
    assert revoked.returncode == 0
    response = httpx2.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert _cli("agents", "rotate", "nobody", data_dir=data_dir).returncode == 1


@pytest.mark.skipif(shutil.which("npx") is None, reason="npx (Node.js) is not installed")
async def test_mcp_inspector_cli_calls_identify_over_http_with_a_bearer_header(
    server_process,
) -> None:
    _, url, data_dir = server_process
    token = _cli("agents", "create", "inspector", data_dir=data_dir).stdout.strip()
    inspector = ["npx", "-y", "@modelcontextprotocol/inspector@2.12.0", "--cli", f"{url}/mcp",
                 "--transport", "http", "--header", f"Authorization: Bearer {token}"]
    listed = subprocess.run([*inspector, "--method", "tools/list"], capture_output=True,
                            text=True, timeout=180, check=False)
    assert listed.returncode == 0, listed.stderr
    assert {"identify", "track", "batch"} <= {t["name"] for t in json.loads(listed.stdout)["tools"]}
    called = subprocess.run([*inspector, "--method", "tools/call", "--tool-name", "identify",
                             "--tool-arg", "user_id=grace"], capture_output=True, text=True,
                            timeout=180, check=False)
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["structuredContent"]["status"] == "created"


async def test_sigterm_stops_cleanly_without_losing_an_acknowledged_write(
    server_process,
) -> None:
    process, url, data_dir = server_process
    token = _cli("agents", "create", "alice", data_dir=data_dir).stdout.strip()
    acknowledged = 0

    async def drive() -> None:
        nonlocal acknowledged
        async with http_client(url, token) as client:
            for n in range(400):
                if n == 50:
                    os.kill(process.pid, signal.SIGTERM)
                result = await client.call_tool("track", {"name": "tick", "user_id": "u"})
                if result.is_error:
                    return
                acknowledged += 1

    with anyio.fail_after(30):
        try:
            await drive()
        except Exception:  # noqa: BLE001 - calls fail once the server has gone away
            pass
    assert process.wait(15) == 0
    db = sqlite3.connect(data_dir / "alice.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = db.execute("SELECT count(*) FROM events").fetchone()[0]
    assert acknowledged >= 50 and stored >= acknowledged


@pytest.mark.parametrize("server_process", [["--max-connections", "3", "--header-timeout", "0.5"]],
                         indirect=True)
async def test_the_served_process_closes_excess_and_unfinished_connections(
    server_process,
) -> None:
    _, url, _ = server_process
    port = int(url.rsplit(":", 1)[1])
    sockets = [await anyio.connect_tcp("127.0.0.1", port) for _ in range(6)]
    try:
        with anyio.fail_after(10):  # 3 closed at once, 3 after the header timeout
            for stream in sockets:
                await closed_by_server(stream)
    finally:
        for stream in sockets:
            await stream.aclose()
    with anyio.fail_after(10):
        while True:  # the server may not have seen every close yet
            try:
                response = await anyio.to_thread.run_sync(httpx2.get, f"{url}/healthz")
                break
            except httpx2.TransportError:
                await anyio.sleep(0.05)
    assert response.status_code == 200

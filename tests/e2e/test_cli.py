"""The customerio-mcp command line: version, help, agent and data-directory settings, demo,
and a clean protocol stream on stdout."""

from __future__ import annotations

import argparse
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client
from mcp.types import LATEST_PROTOCOL_VERSION

from server import cli
from server.demo import STEPS
from tests.e2e.support import COMMAND, clean_env, run, serve_params, structured
from tools.engine import default_data_dir

pytestmark = pytest.mark.slow


def test_version_prints_the_installed_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"customerio-mcp {version('customerio-mcp')}"


def _command_paths(parser: argparse.ArgumentParser, path: list[str]) -> list[list[str]]:
    """Every command path of `parser` (the top level, each subcommand, and theirs)."""
    paths = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _command_paths(sub, [*path, name])
    return paths


COMMAND_PATHS = _command_paths(cli._parser(), [])


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=[" ".join(p) or "top" for p in COMMAND_PATHS])
def test_help_works_on_every_subcommand(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*path, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert f"usage: customerio-mcp {' '.join(path)}".strip() in text
    assert "--log-level" in text


def test_help_names_the_commands_and_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    assert {("serve",), ("demo",)} <= {tuple(p) for p in COMMAND_PATHS}
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    serve_help = " ".join(capsys.readouterr().out.split())
    for words in ("--agent", "--data-dir", "CUSTOMERIO_MCP_AGENT", "CUSTOMERIO_MCP_DATA_DIR",
                  "$XDG_DATA_HOME/customerio-mcp", "~/.local/share/customerio-mcp"):
        assert words in serve_help


@pytest.mark.parametrize(("agent", "words"), [
    ("../escape", ["invalid agent id '../escape'", "letters, digits"]),
    (None, ["needs --agent"]),
])
def test_serve_refuses_a_bad_or_missing_agent_id_before_touching_any_file(
    tmp_path: Path, agent: str | None, words: list[str],
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    args = ["serve", "--data-dir", str(data)] + (["--agent", agent] if agent else [])
    done = run(*args)
    assert done.returncode == 2
    for word in words:
        assert word in done.stderr
    assert done.stdout == ""
    assert list(data.iterdir()) == []
    assert list(tmp_path.iterdir()) == [data]


@pytest.mark.anyio
async def test_the_agent_and_data_directory_can_come_from_the_environment(tmp_path: Path) -> None:
    env = {"CUSTOMERIO_MCP_AGENT": "from-env", "CUSTOMERIO_MCP_DATA_DIR": str(tmp_path / "d"),
           "XDG_DATA_HOME": str(tmp_path / "xdg")}
    with anyio.fail_after(30):
        async with Client(serve_params("serve", env=env)) as client:
            structured(await client.call_tool("identify", {"user_id": "ada"}))
    assert (tmp_path / "d" / "from-env.sqlite3").is_file()
    assert not (tmp_path / "xdg").exists()


def test_the_default_data_directory_follows_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUSTOMERIO_MCP_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_data_dir() == tmp_path / ".local" / "share" / "customerio-mcp"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "customerio-mcp"
    monkeypatch.setenv("CUSTOMERIO_MCP_DATA_DIR", str(tmp_path / "explicit"))
    assert default_data_dir() == tmp_path / "explicit"


async def _exchange(process: anyio.abc.Process, lines: BufferedByteReceiveStream,
                    message: dict[str, Any]) -> dict[str, Any] | None:
    """Send one JSON-RPC message; for a request, read stdout up to its reply."""
    assert process.stdin is not None
    await process.stdin.send(json.dumps(message).encode() + b"\n")
    while "id" in message:  # every line on stdout must be a JSON-RPC message
        reply: dict[str, Any] = json.loads(await lines.receive_until(b"\n", 1_000_000))
        assert reply["jsonrpc"] == "2.0"
        if reply.get("id") == message["id"]:
            return reply
    return None


@pytest.mark.anyio
async def test_serve_uses_the_xdg_data_directory_and_writes_only_protocol_to_stdout(
    tmp_path: Path,
) -> None:
    env = clean_env(XDG_DATA_HOME=str(tmp_path / "xdg"))
    command = [*COMMAND, "--log-level", "DEBUG", "serve", "--agent", "raw"]
    with anyio.fail_after(30):
        async with await anyio.open_process(command, env=env) as process:
            assert process.stdout is not None and process.stderr is not None
            lines = BufferedByteReceiveStream(process.stdout)
            hello = await _exchange(process, lines, {
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": LATEST_PROTOCOL_VERSION, "capabilities": {},
                           "clientInfo": {"name": "raw-test", "version": "0"}}})
            await _exchange(process, lines, {"jsonrpc": "2.0",
                                             "method": "notifications/initialized"})
            called = await _exchange(process, lines, {
                "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "identify", "arguments": {"user_id": "ada"}}})
            await process.stdin.aclose()  # type: ignore[union-attr]
            rest = b"".join([chunk async for chunk in lines])
            errors = b"".join([chunk async for chunk in process.stderr]).decode()
            assert await process.wait() == 0
    assert hello is not None and hello["result"]["serverInfo"]["name"] == "customerio-mcp"
    assert called is not None and called["result"]["structuredContent"]["status"] == "created"
    assert rest == b""  # nothing but the two replies
    assert "serving agent raw" in errors and "DEBUG" in errors
    assert (tmp_path / "xdg" / "customerio-mcp" / "raw.sqlite3").is_file()


def test_demo_runs_and_prints_each_step() -> None:
    done = run("demo", timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for number, (title, tool, _) in enumerate(STEPS, 1):
        assert f"{number}. {title}\n   -> {tool}(" in out
    assert out.count("   <- ") == len(STEPS)
    assert "<- tool error:" in out and "exactly one of user_id" in out
    assert '"status": "created"' in out

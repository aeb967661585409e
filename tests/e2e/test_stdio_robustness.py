"""`customerio-mcp serve` over real stdio pipes: every malformed line answered, a huge line
refused without the memory it would take, the fast path's replies byte for byte the SDK
path's, and SIGTERM / SIGINT stopping the server at once with its databases closed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from server.stdio_framing import NOT_A_MESSAGE_TEXT, PARSE_ERROR_TEXT, TOO_LARGE_TEXT
from tests.e2e.support import (
    COMMAND,
    HANDSHAKE,
    INITIALIZED,
    MODERN_META,
    SDK_PATH_COMMAND,
    RawStdio,
    peak_rss_kb,
    std_fds,
)
from tests.mcp.fast_path_cases import CASES, call_params

pytestmark = [pytest.mark.anyio, pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]
PARSE, INVALID = -32700, -32600
DEEP = b"[" * 300 + b"]" * 300

# (line, error code, id the reply must carry)
MALFORMED: list[tuple[bytes, int, int | str | None]] = [
    (b"{not json", PARSE, None),
    (b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"track",'
     b'"arguments":{"name":"\\ud800","user_id":"ada"}}}', PARSE, 7),  # a lone surrogate
    (b'{"jsonrpc":"2.0","id":8,"method":"ping","params":{"n":' + b"9" * 4400 + b"}}",
     PARSE, 8),
    (b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"deep":' + DEEP + b"}}", PARSE, 9),
    (b'{"method":"tools/call","params":{"name":"track","arguments":{"name":"\\udfff"}},'
     b'"jsonrpc":"2.0","id":"ts-10"}', PARSE, "ts-10"),  # the TypeScript SDK's key order
    (b'{"hello": "world"}', INVALID, None),
    (b"[1, 2]", INVALID, None),
    (b'"a string"', INVALID, None),
    (b'{"jsonrpc": "2.0", "id": true, "method": "ping"}', INVALID, None),
    (b'{"jsonrpc": "2.0", "id": 11, "method": "ping", "params": 5}', INVALID, 11),
]
TEXTS = {PARSE: PARSE_ERROR_TEXT, INVALID: NOT_A_MESSAGE_TEXT}


def serve(agent: str, data: Path) -> list[str]:
    return [*COMMAND, "serve", "--agent", agent, "--data-dir", str(data)]


async def test_malformed_lines_are_answered_and_a_huge_line_is_refused_in_flat_memory(
    tmp_path: Path,
) -> None:
    stderr = tmp_path / "stderr.log"
    with anyio.fail_after(60):
        async with RawStdio.start(serve("ada", tmp_path / "data"), stderr) as server:
            await server.handshake()
            pid = server.process.pid
            # while serving, fd 0 reads /dev/null and fd 1 writes to stderr, off the wire
            assert std_fds(pid) == ("/dev/null", str(stderr), str(stderr))
            for line, code, request_id in MALFORMED:
                reply = json.loads(await server.request(line))
                assert reply == {"jsonrpc": "2.0", "id": request_id,
                                 "error": {"code": code, "message": TEXTS[code]}}, line[:80]
            undecodable = b'{"jsonrpc":"2.0","id":12,"method":"ping","params":{"x":"\xff"}}'
            assert json.loads(await server.request(undecodable))["result"] == {}

            before = peak_rss_kb(pid)
            await server.stdin.send(b'{"jsonrpc":"2.0","id":13,"method":"tools/call","params":'
                                    b'{"name":"identify","arguments":{"user_id":"big",'
                                    b'"attributes":{"x":"')
            for _ in range(64):  # 64 MB of one line
                await server.stdin.send(b"y" * 1_000_000)
            reply = json.loads(await server.request(b'"}}}}'))
            grown = peak_rss_kb(pid) - before
            assert reply == {"jsonrpc": "2.0", "id": 13,
                             "error": {"code": INVALID, "message": TOO_LARGE_TEXT}}
            assert grown < 16_000, f"peak memory grew by {grown} kB"

            after = json.loads(await server.request(call_request(14, "get_person",
                                                                 {"user_id": "big"})))
            assert after["result"]["isError"] is True  # still serving; nothing was stored
    assert "stdio: refused a line: Request too large" in stderr.read_text()


async def test_a_regular_file_as_stdin_and_stdout_gets_the_same_answers(tmp_path: Path) -> None:
    """A file is no pipe the loop can poll: copying threads stand in, and every line is
    answered as over pipes (the MCP SDK's own transport left malformed lines unanswered)."""
    requests = tmp_path / "stdin.jsonl"
    lines = [json.dumps(HANDSHAKE).encode(), json.dumps(INITIALIZED).encode(), *(line for line, _, _ in MALFORMED),
             b'{"jsonrpc":"2.0","id":99,"method":"ping"}']
    requests.write_bytes(b"".join(line + b"\n" for line in lines))
    replies = tmp_path / "stdout.jsonl"
    with requests.open("rb") as stdin, replies.open("wb") as stdout:
        done = await anyio.run_process(serve("ada", tmp_path / "data"), stdin=stdin,
                                       stdout=stdout, stderr=subprocess.PIPE, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    answered = [json.loads(line) for line in replies.read_text().splitlines()]
    assert answered[0]["result"]["protocolVersion"] == "2025-11-25"
    assert [(reply["error"]["code"], reply["id"]) for reply in answered[1:-1]] == \
        [(code, request_id) for _, code, request_id in MALFORMED]
    assert answered[-1] == {"jsonrpc": "2.0", "id": 99, "result": {}}


def call_request(request_id: int, tool: str, arguments: dict[str, Any] | None,
                 meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params = call_params(tool, arguments) | ({"_meta": meta} if meta else {})
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


async def test_replies_are_the_sdk_paths_and_sigterm_or_sigint_stop_the_server_at_once(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(60):
        async with (RawStdio.start(serve("fast", tmp_path / "fast"), tmp_path / "f.log") as fast,
                    RawStdio.start([*SDK_PATH_COMMAND, "sdk", str(tmp_path / "sdk")],
                                   tmp_path / "s.log") as sdk):
            await fast.handshake()
            await sdk.handshake()
            for number, (tool, arguments) in enumerate(CASES, 1):
                request = call_request(number, tool, arguments)
                assert await fast.request(request) == await sdk.request(request), request
            # stdin stays open: the signal alone has to stop each server
            fast.process.send_signal(signal.SIGTERM)
            sdk.process.send_signal(signal.SIGINT)
            with anyio.fail_after(10):
                codes = (await fast.process.wait(), await sdk.process.wait())
    assert codes == (0, 0)
    # every database was closed: SQLite removes the WAL and shared-memory files then
    assert [p.name for p in (tmp_path / "fast").iterdir()] == ["fast.sqlite3"]
    assert [p.name for p in (tmp_path / "sdk").iterdir()] == ["sdk.sqlite3"]


async def test_replies_are_the_sdk_paths_in_the_2026_protocol_era_with_otel_too(
    tmp_path: Path,
) -> None:
    traced = [*serve("fast", tmp_path / "fast"), "--otel"]  # spans change no reply
    with anyio.fail_after(60):
        async with (RawStdio.start(traced, tmp_path / "f.log") as fast,
                    RawStdio.start([*SDK_PATH_COMMAND, "sdk", str(tmp_path / "sdk")],
                                   tmp_path / "s.log") as sdk):
            for number, (tool, arguments) in enumerate(CASES, 1):
                request = call_request(number, tool, arguments, MODERN_META)
                assert await fast.request(request) == await sdk.request(request), request
            await fast.stdin.aclose()
            await sdk.stdin.aclose()
            assert (await fast.process.wait(), await sdk.process.wait()) == (0, 0)

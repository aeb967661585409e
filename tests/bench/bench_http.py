"""50 concurrent MCP clients calling `track` over streamable HTTP vs in-memory calls.

Run by hand: `.venv/bin/python tests/bench/bench_http.py [--seconds 20] [--clients 50]`.
The HTTP server is a real `customerio-mcp serve --transport http` process on loopback; its
clients run in `--client-processes` processes (remote agents are separate programs, and
one Python process cannot drive 50 HTTP clients fast enough to load the server). The
in-memory load runs the same tool through `mcp.Client(server)` in this process. Both
loads use the same number of concurrent clients for the same time. Target: HTTP
throughput >= 50% of in-memory, and no errors.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import anyio  # noqa: E402
import httpx2  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

from server.app import build_server  # noqa: E402
from server.runtime import Runtime  # noqa: E402


async def load(open_client: Callable[[int], AbstractAsyncContextManager[Any]],
               clients: int, seconds: float, first: int = 0) -> tuple[int, int, list[float]]:
    """Run `clients` loops of track calls for `seconds`: (calls, errors, latencies).
    Client n tracks for user-n (n counted from `first`)."""
    latencies: list[float] = []
    errors = 0
    deadline = 0.0

    async def one(n: int) -> None:
        nonlocal errors
        async with open_client(n) as client:
            n += first
            await client.call_tool("track", {"name": "warm", "user_id": f"user-{n}"})
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                result = await client.call_tool("track", {"name": "tick", "user_id": f"user-{n}",
                                                          "properties": {"n": n}})
                latencies.append(time.perf_counter() - start)
                errors += bool(result.is_error)

    deadline = time.perf_counter() + seconds + 1.0  # +1 s for the clients to connect
    async with anyio.create_task_group() as group:
        for n in range(clients):
            group.start_soon(one, n)
    return len(latencies), errors, latencies


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def http_clients(url: str, token: str, clients: int, seconds: float,
                       first: int = 0) -> tuple[int, int, list[float]]:
    """`clients` streamable HTTP clients of one process against a running server."""

    @asynccontextmanager
    async def open_client(n: int) -> AsyncIterator[Client]:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            yield client

    return await load(open_client, clients, seconds, first)


PROTOCOL = "2026-07-28"  # what mcp.Client speaks: one independent POST per request
META = {"io.modelcontextprotocol/protocolVersion": PROTOCOL,
        "io.modelcontextprotocol/clientInfo": {"name": "bench_http", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}}


class WireClient:
    """An MCP client reduced to the wire: the same POSTs mcp.Client sends for
    server/discover and tools/call (headers and JSON-RPC bodies as captured from it), over
    one keep-alive HTTP/1.1 connection, each reply parsed and checked. It costs a few
    percent of mcp.Client's CPU, so the load measures the server, not its clients."""

    def __init__(self, url: str, token: str) -> None:
        parts = url.removeprefix("http://").split(":")
        self.host, self.port = parts[0], int(parts[1])
        self.token = token
        self.next_id = 0

    async def __aenter__(self) -> WireClient:
        self.stream = await anyio.connect_tcp(self.host, self.port)
        self.buffer = b""
        await self.request("server/discover", {"_meta": META})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stream.aclose()

    async def request(self, method: str, params: dict[str, Any],
                      extra: str = "") -> dict[str, Any]:
        self.next_id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                           "params": params}).encode()
        head = (f"POST /mcp HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.token}\r\n"
                "Accept: application/json, text/event-stream\r\n"
                f"Content-Type: application/json\r\nMCP-Protocol-Version: {PROTOCOL}\r\n"
                f"Mcp-Method: {method}\r\n{extra}Content-Length: {len(body)}\r\n\r\n")
        await self.stream.send(head.encode() + body)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self.stream.receive()
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status = header[9:12]
        length = int(header.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(self.buffer) < length:
            self.buffer += await self.stream.receive()
        reply, self.buffer = self.buffer[:length], self.buffer[length:]
        message = json.loads(reply)
        if status != b"200" or "result" not in message or message["id"] != self.next_id:
            raise RuntimeError(f"{method}: HTTP {status.decode()} {reply[:200]!r}")
        return message["result"]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        result = await self.request("tools/call", {"name": name, "arguments": arguments,
                                                   "_meta": META}, f"Mcp-Name: {name}\r\n")
        return SimpleNamespace(is_error=result.get("isError") is not False
                               or result["structuredContent"]["status"] != "stored")


async def wire_clients(url: str, token: str, clients: int, seconds: float,
                       first: int = 0) -> tuple[int, int, list[float]]:
    """`clients` WireClients of one process against a running server."""
    return await load(lambda n: WireClient(url, token), clients, seconds, first)


async def http_load(data_dir: Path, clients: int, seconds: float, processes: int,
                    client_kind: str) -> tuple[int, int, list[float]]:
    port = _free_port()
    cli = [sys.executable, "-m", "server.cli"]
    token = subprocess.run([*cli, "agents", "create", f"bench-{client_kind}", "--data-dir",
                            str(data_dir)],
                           capture_output=True, text=True, check=True).stdout.strip()
    server = subprocess.Popen([*cli, "--log-level", "WARNING", "serve", "--transport", "http",
                               "--port", str(port), "--data-dir", str(data_dir)], cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx2.get(f"{url}/healthz", timeout=1)
                break
            except httpx2.TransportError:
                await anyio.sleep(0.05)
        share = [clients // processes + (i < clients % processes) for i in range(processes)]
        workers = [subprocess.Popen([sys.executable, __file__, "--worker", client_kind, url,
                                     token, str(n), str(seconds), str(sum(share[:i]))],
                                    stdout=subprocess.PIPE, cwd=REPO)
                   for i, n in enumerate(share)]
        calls = errors = 0
        latencies: list[float] = []
        for worker in workers:
            out, _ = worker.communicate(timeout=seconds + 120)
            result = json.loads(out)
            calls += result["calls"]
            errors += result["errors"]
            latencies += result["latencies"]
        return calls, errors, latencies
    finally:
        server.terminate()
        server.wait(30)


async def memory_load(data_dir: Path, clients: int, seconds: float) -> tuple[int, int, list[float]]:
    async with Runtime(data_dir) as runtime:
        engine = runtime.engine("bench-memory")
        server = build_server(lambda ctx: engine)

        @asynccontextmanager
        async def open_client(n: int) -> AsyncIterator[Client]:
            async with Client(server) as client:
                yield client

        return await load(open_client, clients, seconds)


def report(name: str, calls: int, errors: int, latencies: list[float], seconds: float) -> float:
    ordered = sorted(latencies)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    rate = calls / seconds
    print(f"{name:<22} {rate:>9,.0f} calls/s  p50 {statistics.median(ordered) * 1e3:6.2f} ms  "
          f"p99 {p99 * 1e3:6.2f} ms  errors {errors}")
    return rate


async def main() -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--seconds", type=float, default=20.0)
    cli.add_argument("--clients", type=int, default=50)
    cli.add_argument("--client-processes", type=int, default=2)
    cli.add_argument("--worker", nargs=6, help=argparse.SUPPRESS,
                     metavar=("KIND", "URL", "TOKEN", "N", "SECONDS", "FIRST"))
    args = cli.parse_args()
    if args.worker:
        kind, url, token, n, seconds, first = args.worker
        run = wire_clients if kind == "wire" else http_clients
        calls, errors, latencies = await run(url, token, int(n), float(seconds), int(first))
        print(json.dumps({"calls": calls, "errors": errors, "latencies": latencies}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        memory = await memory_load(Path(tmp), args.clients, args.seconds)
        wire = await http_load(Path(tmp), args.clients, args.seconds, args.client_processes,
                               "wire")
        sdk = await http_load(Path(tmp), args.clients, args.seconds, args.client_processes,
                              "sdk")
    print(f"{args.clients} concurrent clients, {args.seconds:g} s each; HTTP clients in "
          f"{args.client_processes} processes")
    memory_rate = report("in-memory (Client)", *memory, args.seconds)
    wire_rate = report("HTTP (WireClient)", *wire, args.seconds)
    sdk_rate = report("HTTP (mcp.Client)", *sdk, args.seconds)
    ratio = wire_rate / memory_rate
    ok = ratio >= 0.5 and wire[1] == 0 and sdk[1] == 0 and memory[1] == 0
    print(f"HTTP / in-memory throughput: {ratio:.2f} with WireClient load (target >= 0.50, "
          f"no errors): {'PASS' if ok else 'FAIL'}")
    print(f"  with mcp.Client load (clients share the 2 cores with the server): "
          f"{sdk_rate / memory_rate:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))

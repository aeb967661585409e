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

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import anyio  # noqa: E402
import httpx2  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

from server.app import build_server  # noqa: E402
from server.runtime import Runtime  # noqa: E402


async def load(open_client: Callable[[int], AbstractAsyncContextManager[Client]],
               clients: int, seconds: float) -> tuple[int, int, list[float]]:
    """Run `clients` loops of track calls for `seconds`: (calls, errors, latencies)."""
    latencies: list[float] = []
    errors = 0
    deadline = 0.0

    async def one(n: int) -> None:
        nonlocal errors
        async with open_client(n) as client:
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

    return await load(lambda n: open_client(first + n), clients, seconds)


async def http_load(data_dir: Path, clients: int, seconds: float,
                    processes: int) -> tuple[int, int, list[float]]:
    port = _free_port()
    cli = [sys.executable, "-m", "server.cli"]
    token = subprocess.run([*cli, "agents", "create", "bench", "--data-dir", str(data_dir)],
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
        workers = [subprocess.Popen([sys.executable, __file__, "--worker", url, token, str(n),
                                     str(seconds), str(sum(share[:i]))],
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
    cli.add_argument("--worker", nargs=5, metavar=("URL", "TOKEN", "N", "SECONDS", "FIRST"),
                     help=argparse.SUPPRESS)
    args = cli.parse_args()
    if args.worker:
        url, token, n, seconds, first = args.worker
        calls, errors, latencies = await http_clients(url, token, int(n), float(seconds),
                                                      int(first))
        print(json.dumps({"calls": calls, "errors": errors, "latencies": latencies}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        memory = await memory_load(Path(tmp), args.clients, args.seconds)
        http = await http_load(Path(tmp), args.clients, args.seconds, args.client_processes)
    print(f"{args.clients} concurrent clients, {args.seconds:g} s each; HTTP clients in "
          f"{args.client_processes} processes")
    memory_rate = report("in-memory (Client)", *memory, args.seconds)
    http_rate = report("streamable HTTP", *http, args.seconds)
    ratio = http_rate / memory_rate
    ok = ratio >= 0.5 and http[1] == 0 and memory[1] == 0
    print(f"HTTP / in-memory throughput: {ratio:.2f} (target >= 0.50, no errors): "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))

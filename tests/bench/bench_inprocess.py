"""`track` through the in-process MCP client vs an `echo` tool on a bare Python SDK server.

The in-process twin of bench_stdio.py: no transport, only what the MCP layer costs. Builds
our server (`server.app.build_server`, one agent on a fresh data directory) and a bare
Python `MCPServer` with one `echo` tool, connects an in-memory `mcp.Client(server)` to
each (`--mode auto|legacy`), warms them up, then alternates calls one by one. For context
(no target) it also times our server built the way it was before the fast path (every tool
through the SDK's path, OpenTelemetry middleware kept). Target: the median latency of our
`track` (a real write to SQLite) <= 1.6x the median of the bare server's `echo`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from common import Report, median, now_ns, parser, percentile
from mcp import Client
from mcp.server.mcpserver import MCPServer

from server.app import build_server
from server.runtime import Runtime

TARGET = 1.6
PEOPLE = 1_000


def floor_server() -> MCPServer[Any]:
    """A bare Python SDK server with one echo tool."""
    server: MCPServer[Any] = MCPServer(name="floor")

    @server.tool()
    async def echo(message: str) -> str:
        return f"Echo: {message}"

    return server


async def timed_call(client: Client, tool: str, arguments: dict[str, Any]) -> float:
    """Microseconds of one tools/call, checked to have succeeded."""
    start = now_ns()
    result = await client.call_tool(tool, arguments)
    elapsed = (now_ns() - start) / 1e3
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {result.content}")
    return elapsed


def track_args(i: int) -> dict[str, Any]:
    return {"name": "viewed_product", "user_id": f"user-{i % PEOPLE}",
            "properties": {"plan": "pro", "amount": i % 97}}


async def measure(calls: int, warmup: int, mode: str) -> tuple[list[float], ...]:
    """Latencies (µs): our track, the SDK-path build's track, the floor's echo."""
    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as tmp:
        async with Runtime(Path(tmp)) as runtime:
            fast_engine, sdk_engine = runtime.engine("bench"), runtime.engine("bench-sdk")
            ours = build_server(lambda ctx: fast_engine)
            before = build_server(lambda ctx: sdk_engine, otel=True, fast_path=False)
            async with Client(ours, mode=mode) as our_client, \
                    Client(before, mode=mode) as before_client, \
                    Client(floor_server(), mode=mode) as floor:
                latencies: tuple[list[float], ...] = ([], [], [])
                for i in range(warmup + calls):
                    samples = (await timed_call(our_client, "track", track_args(i)),
                               await timed_call(before_client, "track", track_args(i)),
                               await timed_call(floor, "echo", {"message": f"hello {i}"}))
                    if i >= warmup:
                        for values, sample in zip(latencies, samples, strict=True):
                            values.append(sample)
            stored = await fast_engine.get_person("user-0")
            assert stored.total_events == len(range(0, warmup + calls, PEOPLE))
    return latencies


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=3)
    cli.add_argument("--calls", type=int, default=2_000, help="measured calls per server")
    cli.add_argument("--warmup", type=int, default=200, help="warm-up calls per server")
    cli.add_argument("--mode", default="auto", choices=["auto", "legacy"],
                     help="client protocol mode (default auto, the client's)")
    args = cli.parse_args()
    report = Report("bench_inprocess")
    report.line(f"in-process MCP: {args.calls:,} calls each after {args.warmup} warm-up, "
                f"client mode {args.mode}, {args.rounds} round(s)")
    ratios = []
    for index in range(args.rounds):
        ours, before, floor = anyio.run(measure, args.calls, args.warmup, args.mode)
        ratios.append(median(ours) / median(floor))
        report.line(f"  round {index + 1}:")
        for label, values in (("ours track", ours),
                              ("ours track, SDK path + OpenTelemetry", before),
                              ("floor echo (bare Python MCPServer)", floor)):
            report.line(f"    {label:<38} median {median(values):6,.0f} µs, "
                        f"p90 {percentile(values, 0.9):6,.0f} µs, "
                        f"p99 {percentile(values, 0.99):6,.0f} µs")
        report.line(f"    ratio ours/floor {ratios[-1]:.2f}x, SDK path/floor "
                    f"{median(before) / median(floor):.2f}x")
    ratio = median(ratios)
    report.target("in-process track latency", ratio <= TARGET,
                  f"ours/floor median = {ratio:.2f}x (target <= {TARGET}x; rounds "
                  f"{', '.join(f'{r:.2f}x' for r in ratios)})")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

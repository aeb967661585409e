"""`track` over real stdio MCP vs an `echo` tool on a bare Python SDK server (the floor).

Starts `customerio-mcp serve --agent bench --data-dir <tmp>`, a bare Python `MCPServer`
with one `echo` tool (the same interpreter, the SDK's own stdio transport: the floor any
Python SDK server stands on before its tool does anything) and the reference TypeScript
server `npx -y @modelcontextprotocol/server-everything stdio`; connects one Python
`mcp.Client` to each (same client code, same event loop), warms them up, then alternates
calls one by one — a `track` on ours, an `echo` on each of theirs — so all see the same
machine load. Target: the median latency of our `track` (a real write to SQLite) <= 0.9x
the median of the bare Python server's `echo`. The ratio to the TypeScript server's
`echo` is reported too (no target).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from common import Report, median, now_ns, parser, percentile
from mcp import Client, StdioServerParameters

TARGET = 0.9  # ours / the bare Python SDK server's echo
PEOPLE = 1_000
REFERENCE = "@modelcontextprotocol/server-everything"


def our_server(data_dir: Path) -> StdioServerParameters:
    command = Path(sys.executable).parent / "customerio-mcp"
    return StdioServerParameters(
        command=str(command), args=["serve", "--agent", "bench", "--data-dir", str(data_dir)],
        env={"CUSTOMERIO_MCP_LOG_LEVEL": "WARNING"})


# A bare Python SDK server with one echo tool, run with the same interpreter.
FLOOR_SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer(name="floor")

@server.tool()
async def echo(message: str) -> str:
    return f"Echo: {message}"

server.run()
"""


def floor_server() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-c", FLOOR_SERVER])


def reference_server() -> StdioServerParameters:
    # server-everything picks its transport from its first argument (default stdio).
    return StdioServerParameters(command="npx", args=["-y", REFERENCE, "stdio"],
                                 env={"npm_config_loglevel": "error"})


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


Latencies = tuple[list[float], list[float], list[float]]


async def measure(calls: int, warmup: int, mode: str) -> tuple[Latencies, str]:
    """Latencies (µs) of our track, their echo and the Python floor's echo; protocols."""
    with tempfile.TemporaryDirectory(prefix="bench-stdio-") as tmp:
        async with Client(our_server(Path(tmp)), mode=mode) as ours, \
                Client(reference_server(), mode=mode) as theirs, \
                Client(floor_server(), mode=mode) as floor:
            versions = (f"ours {ours.session.protocol_version}, "
                        f"theirs {theirs.session.protocol_version}, "
                        f"floor {floor.session.protocol_version}")
            for i in range(warmup):
                await timed_call(ours, "track", track_args(i))
                await timed_call(theirs, "echo", {"message": f"hello {i}"})
                await timed_call(floor, "echo", {"message": f"hello {i}"})
            our_us: list[float] = []
            their_us: list[float] = []
            floor_us: list[float] = []
            for i in range(calls):
                our_us.append(await timed_call(ours, "track", track_args(warmup + i)))
                their_us.append(await timed_call(theirs, "echo", {"message": f"hello {i}"}))
                floor_us.append(await timed_call(floor, "echo", {"message": f"hello {i}"}))
            stored = await ours.call_tool("get_person", {"user_id": "user-0"})
            assert stored.structured_content is not None
            total = stored.structured_content["total_events"]
            expected = len(range(0, warmup + calls, PEOPLE))
            assert total == expected, (total, expected)
    return (our_us, their_us, floor_us), versions


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=1)
    cli.add_argument("--calls", type=int, default=2_000, help="measured calls per server")
    cli.add_argument("--warmup", type=int, default=200, help="warm-up calls per server")
    cli.add_argument("--mode", default="auto", choices=["auto", "legacy"],
                     help="client protocol mode for both servers (default auto, the client's)")
    args = cli.parse_args()
    os.environ.setdefault("npm_config_update_notifier", "false")
    report = Report("bench_stdio")
    report.line(f"stdio MCP: {args.calls:,} calls each after {args.warmup} warm-up, "
                f"client mode {args.mode}, {args.rounds} round(s)")
    ratios = []
    for index in range(args.rounds):
        (our_us, their_us, floor_us), versions = anyio.run(
            measure, args.calls, args.warmup, args.mode)
        ratios.append(median(our_us) / median(floor_us))
        report.line(f"  round {index + 1} (protocol {versions}):")
        for label, values in (("ours track (customerio-mcp)", our_us),
                              ("theirs echo (server-everything)", their_us),
                              ("floor echo (bare Python MCPServer)", floor_us)):
            report.line(f"    {label:<35} median {median(values):6,.0f} µs, "
                        f"p90 {percentile(values, 0.9):6,.0f} µs, "
                        f"p99 {percentile(values, 0.99):6,.0f} µs")
        report.line(f"    ratio ours/floor {ratios[-1]:.2f}x, ours/theirs "
                    f"{median(our_us) / median(their_us):.2f}x, floor/theirs "
                    f"{median(floor_us) / median(their_us):.2f}x")
    ratio = median(ratios)
    report.target("stdio track latency", ratio <= TARGET,
                  f"ours/floor median = {ratio:.2f}x (target <= {TARGET}x; rounds "
                  f"{', '.join(f'{r:.2f}x' for r in ratios)})")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

"""Many agents: 10,000 agents touched (one identify each) through one Runtime.

One process, one server/runtime.Runtime (its StoreManager keeps at most `max_open`
databases open, least recently used closed). Along the way it samples the open file
descriptors (/proc/self/fd), threads and resident memory (/proc/self/status). Targets:
the descriptors stay bounded (no growth with the number of agents once `max_open`
databases are open) and resident memory stays under 200 MB (peak, VmHWM).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
from common import Report, fd_count, now_ns, parser, status_kb

from server.runtime import Runtime
from store.manager import DEFAULT_MAX_OPEN

RSS_LIMIT_MB = 200
FD_SLACK = 8  # descriptors the process may open besides the databases (logs, pipes, ...)


def agent(i: int) -> str:
    return f"agent-{i:05d}"


class Samples:
    """fd / thread / RSS samples taken every `every` agents."""

    def __init__(self, report: Report, every: int) -> None:
        self.report, self.every = report, every
        self.rows: list[tuple[int, int, int, int, int]] = []

    def take(self, touched: int, open_dbs: int) -> None:
        row = (touched, open_dbs, fd_count(), status_kb("Threads"), status_kb("VmRSS"))
        self.rows.append(row)
        if touched % self.every == 0 or touched <= 1:
            self.report.line(f"  {touched:>6,} agents: {open_dbs:>3} open dbs, {row[2]:>4} fds, "
                             f"{row[3]:>3} threads, RSS {row[4] / 1024:6.1f} MB")


async def touch_agents(directory: Path, count: int, max_open: int, samples: Samples) -> float:
    """Identify one person in each of `count` agents; returns agents per second."""
    async with Runtime(directory, max_open=max_open) as runtime:
        samples.take(0, runtime.store.open_count)
        start = now_ns()
        for i in range(count):
            result = await runtime.engine(agent(i)).identify(
                "user-1", {"email": f"user-1@agent{i}.example", "plan": "pro"})
            assert result.created, result
            if (i + 1) % 50 == 0 or i == 0:
                samples.take(i + 1, runtime.store.open_count)
        elapsed = (now_ns() - start) / 1e9
        if count % 50:
            samples.take(count, runtime.store.open_count)
        for i in (0, count // 2, count - 1):  # evicted databases were closed intact
            person = await runtime.engine(agent(i)).get_person("user-1")
            assert person.attributes["email"] == f"user-1@agent{i}.example", person
    return count / elapsed


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=1)
    cli.add_argument("--agents", type=int, default=10_000, help="agents to touch")
    cli.add_argument("--max-open", type=int, default=DEFAULT_MAX_OPEN,
                     help=f"databases the store manager keeps open (default {DEFAULT_MAX_OPEN})")
    args = cli.parse_args()
    report = Report("bench_agents")
    report.line(f"many agents: {args.agents:,} agents, one identify each, max_open "
                f"{args.max_open}")
    samples = Samples(report, every=1_000)
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as tmp:
        rate = anyio.run(touch_agents, Path(tmp), args.agents, args.max_open, samples)
        files = len(list(Path(tmp).glob("*.sqlite3")))
    report.line(f"{rate:,.0f} agents/s ({1e3 / rate:.2f} ms per new agent: create, migrate, "
                f"identify, later close); {files:,} database files")
    rows = samples.rows
    full = [r for r in rows if r[1] >= min(args.max_open, args.agents)]  # all dbs open
    plateau = full[0][2] if full else rows[-1][2]
    highest_fd = max(r[2] for r in rows)
    grew = max(r[2] for r in full) - plateau if full else 0
    report.target("open databases bounded", max(r[1] for r in rows) <= args.max_open,
                  f"at most {max(r[1] for r in rows)} open (max_open {args.max_open})")
    report.target("file descriptors bounded", grew <= FD_SLACK,
                  f"{rows[0][2]} at start, {plateau} once {args.max_open} dbs were open, "
                  f"peak {highest_fd}, last {rows[-1][2]}; growth after the plateau {grew} "
                  f"(allowed {FD_SLACK})")
    peak_mb = status_kb("VmHWM") / 1024
    report.line(f"threads: peak {max(r[3] for r in rows)}, last {rows[-1][3]}")
    report.target("resident memory", peak_mb < RSS_LIMIT_MB,
                  f"peak RSS (VmHWM) {peak_mb:.1f} MB, last sample "
                  f"{rows[-1][4] / 1024:.1f} MB (limit {RSS_LIMIT_MB} MB)")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

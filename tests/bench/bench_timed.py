"""Timed work: how late an idle server runs a wake-up, and how fast a backlog drains.

1. Idle lateness: one process (a Runtime with its scheduler running on the wall clock),
   one agent; 200 times, a person is identified with a `trial_end` 50 ms ahead, so a
   segment entry falls due then; the lateness of each run is what the scheduler records
   (`agent_status().last_run.lateness_seconds`: when the run started minus the due time).
   Target: p99 lateness < 50 ms.
2. Backlog: 1,000 agents (`--agents`) with 100 wake-ups each (`--per-agent`), all due at
   the same moment (a ManualClock moved past it), drained by one `scheduler.run_due()`
   through a Runtime that keeps at most 64 databases open. Target: all run in < 10 s.
   Raw comparison for scale: the same number of one-row UPDATE transactions in one
   sqlite3 file.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import anyio
from common import Report, median, parser, percentile

from server.runtime import Runtime
from tools.core.clock import ManualClock

TRIAL = {"attribute": "trial_end", "operator": "within", "value": "1d"}
LATENESS_TARGET_S = 0.050
BACKLOG_TARGET_S = 10.0


async def idle_lateness(directory: Path, count: int) -> list[float]:
    """Seconds late of `count` wake-ups, each due 50 ms after it is scheduled."""
    lateness = []
    async with Runtime(directory) as runtime:
        tom = runtime.engine("tom")
        await tom.segments_create("Trial", TRIAL)
        for i in range(count):
            await tom.identify(f"p{i}", {"trial_end": time.time() + 0.05})
            with anyio.fail_after(5):
                while True:
                    finished = runtime.scheduler.round_finished()
                    await finished.wait()
                    status = await tom.agent_status()
                    if status.last_run is not None and status.last_run.ran == 1 and \
                            len((await tom.segments_members("trial", limit=500)).members) == i + 1:
                        lateness.append(status.last_run.lateness_seconds)
                        break
    return lateness


async def backlog(directory: Path, agents: int, per_agent: int) -> tuple[float, int]:
    """(seconds, pieces) to run every agent's due wake-ups in one scheduler round."""
    clock = ManualClock()
    due = clock.now() + 3600
    async with Runtime(directory, clock=clock, run_scheduler=False) as runtime:
        for a in range(agents):
            engine = runtime.engine(f"agent-{a}")
            await engine.segments_create("Trial", TRIAL)
            result = await engine.batch([{"action": "identify", "user_id": f"p{i}",
                                          "attributes": {"trial_end": due}}
                                         for i in range(per_agent)])
            assert result.failed == 0
        clock.set(due)
        start = time.perf_counter()
        ran = await runtime.scheduler.run_due()
        elapsed = time.perf_counter() - start
    return elapsed, ran


def raw_backlog(directory: Path, pieces: int) -> float:
    """Seconds for `pieces` one-row UPDATE transactions (WAL, NORMAL) in one file."""
    conn = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (pk INTEGER PRIMARY KEY, due REAL)")
    conn.executemany("INSERT INTO t VALUES (?, 1)", [(i,) for i in range(pieces)])
    start = time.perf_counter()
    for i in range(pieces):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE t SET due = NULL WHERE pk = ?", (i,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=1)
    cli.add_argument("--wakeups", type=int, default=200, help="idle wake-ups to time")
    cli.add_argument("--agents", type=int, default=1_000, help="agents in the backlog")
    cli.add_argument("--per-agent", type=int, default=100, help="due wake-ups per agent")
    args = cli.parse_args()
    report = Report("bench_timed")
    with tempfile.TemporaryDirectory(prefix="bench-timed-") as tmp:
        late = anyio.run(idle_lateness, Path(tmp) / "idle", args.wakeups)
    report.line(f"idle: {len(late)} wake-ups, lateness p50 {median(late) * 1e3:.1f} ms, "
                f"p99 {percentile(late, 0.99) * 1e3:.1f} ms, max {max(late) * 1e3:.1f} ms")
    report.target("idle wake-up lateness", percentile(late, 0.99) < LATENESS_TARGET_S,
                  f"p99 {percentile(late, 0.99) * 1e3:.1f} ms (target < "
                  f"{LATENESS_TARGET_S * 1e3:.0f} ms)")
    for index in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="bench-timed-") as tmp:
            elapsed, ran = anyio.run(backlog, Path(tmp), args.agents, args.per_agent)
            raw = raw_backlog(Path(tmp), ran)
        report.line(f"backlog round {index + 1}: {ran:,} wake-ups of {args.agents:,} agents in "
                    f"{elapsed:.2f} s ({ran / elapsed:,.0f}/s); raw one-row transactions: "
                    f"{raw:.2f} s ({ran / raw:,.0f}/s)")
        report.target("backlog drained", ran == args.agents * args.per_agent and
                      elapsed < BACKLOG_TARGET_S,
                      f"{ran:,} in {elapsed:.2f} s (target all in < {BACKLOG_TARGET_S:.0f} s)")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

"""The cost of noticing a deleted or replaced database file: one os.stat per lease.

Every StoreManager.lease compares the (device, inode) recorded when the database was opened
with os.stat of its path. Measured in the same run: N leases with the check (ours) and with
the check switched off (the lease as it was before), alternating, and one inline
`cio.track` per call for scale. Target: the check adds < 5% to a track call.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
from common import Report, median, now_ns, parser

from store.database import AgentDatabase
from tools.api import CustomerIO

TARGET = 0.05


async def leases_ns(cio: CustomerIO, calls: int) -> float:
    """Nanoseconds per lease (enter + exit, nothing inside)."""
    lease = cio.manager.lease
    start = now_ns()
    for _ in range(calls):
        async with lease("bench"):
            pass
    return (now_ns() - start) / calls


async def tracks_ns(cio: CustomerIO, calls: int) -> float:
    start = now_ns()
    for i in range(calls):
        await cio.track("tick", user_id=f"u{i % 100}")
    return (now_ns() - start) / calls


async def measure(rounds: int, calls: int, report: Report) -> None:
    checked = AgentDatabase.file_replaced
    with_check: list[float] = []
    without: list[float] = []
    track: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with CustomerIO.for_agent("bench", data_dir=Path(tmp)) as cio:
            await cio.identify("u0")
            for index in range(rounds):
                with_check.append(await leases_ns(cio, calls))
                AgentDatabase.file_replaced = lambda self: False  # type: ignore[method-assign]
                try:
                    without.append(await leases_ns(cio, calls))
                finally:
                    AgentDatabase.file_replaced = checked  # type: ignore[method-assign]
                track.append(await tracks_ns(cio, calls // 10))
                report.line(f"  round {index + 1}: lease {with_check[-1]:,.0f} ns with the check,"
                            f" {without[-1]:,.0f} ns without; track {track[-1]:,.0f} ns")
    added = median(with_check) - median(without)
    report.line(f"lease median: {median(with_check):,.0f} ns with the check, "
                f"{median(without):,.0f} ns without (+{added:,.0f} ns, "
                f"x{median(with_check) / median(without):.2f})")
    report.line(f"track median (inline, includes one lease): {median(track):,.0f} ns")
    share = added / median(track)
    report.target("the check's cost per call", share < TARGET,
                  f"+{added:,.0f} ns = {share:.1%} of a track call (target < {TARGET:.0%})")


def main() -> int:
    cli = parser(__doc__ or "", rounds=5)
    cli.add_argument("--calls", type=int, default=20_000, help="leases per round")
    args = cli.parse_args()
    report = Report("bench_lease")
    anyio.run(measure, args.rounds, args.calls, report)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

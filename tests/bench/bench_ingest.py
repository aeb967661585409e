"""Batch ingest: 100,000 track operations through CustomerIO.batch vs raw executemany.

Raw: a plain sqlite3 connection on the same tables and indexes (as migrated: 0001 today),
the same PRAGMAs (WAL, synchronous=NORMAL, foreign keys on), inserting the equivalent
event rows (JSON pre-serialized, person pk known) with executemany, one transaction per
batch of the same size. Ours: the same events as batch operations naming the person by
user_id. Both start from a fresh file holding the same 1,000 people. Target: ours >= 40%.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from common import (
    Report,
    alternate,
    now_ns,
    parser,
    raw_connection,
    raw_schema_summary,
    summarize_rates,
)

from tools.api import CustomerIO

TARGET = 0.40
PEOPLE = 1_000
NAMES = ("viewed_product", "added_to_cart", "checkout", "searched")
PLANS = ("free", "pro", "team")


def properties(i: int) -> dict[str, Any]:
    return {"plan": PLANS[i % 3], "amount": i % 97, "sku": f"sku-{i % 500}"}


def operations(total: int) -> list[dict[str, Any]]:
    return [{"action": "track", "name": NAMES[i % 4], "user_id": f"user-{i % PEOPLE}",
             "properties": properties(i)} for i in range(total)]


def raw_round(directory: Path, total: int, size: int) -> float:
    """Rows per second of raw executemany, one transaction per `size` rows."""
    conn = raw_connection(directory / "raw.sqlite3")
    now = time.time()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO people (user_id, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)",
        [(f"user-{p}", json.dumps({"created_at": int(now)}), now, now) for p in range(PEOPLE)])
    conn.execute("COMMIT")
    pks = dict(conn.execute("SELECT user_id, pk FROM people"))
    rows = [(None, pks[op["user_id"]], None, "event", op["name"],
             json.dumps(op["properties"], separators=(",", ":")), now, now)
            for op in operations(total)]
    sql = ("INSERT INTO events (event_id, person_pk, anonymous_id, type, name, data, "
           "timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    start = now_ns()
    for first in range(0, total, size):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[first:first + size])
        conn.execute("COMMIT")
    elapsed = (now_ns() - start) / 1e9
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == total
    conn.close()
    return total / elapsed


async def our_round(directory: Path, total: int, size: int) -> float:
    """Operations per second through CustomerIO.batch, `size` operations per call."""
    async with CustomerIO.for_agent("bench", data_dir=directory) as cio:
        people = [{"action": "identify", "user_id": f"user-{p}"} for p in range(PEOPLE)]
        setup = await cio.batch(people)
        assert setup.failed == 0 and setup.people_created == PEOPLE, setup
        ops = operations(total)
        batches = [ops[first:first + size] for first in range(0, total, size)]
        start = now_ns()
        results = [await cio.batch(chunk) for chunk in batches]
        elapsed = (now_ns() - start) / 1e9
        failed = sum(r.failed for r in results)
        assert failed == 0, [r.failures[:3] for r in results if r.failed][:1]
        assert sum(r.succeeded for r in results) == total
        person = await cio.get_person("user-0")
        last = (total - 1) // PEOPLE * PEOPLE  # the newest operation naming user-0
        assert person.total_events == last // PEOPLE + 1
        assert person.recent_events[0].properties == properties(last)
    return total / elapsed


def main() -> int:
    cli = parser(__doc__.splitlines()[0])
    cli.add_argument("--ops", type=int, default=100_000, help="track operations per round")
    cli.add_argument("--batch", type=int, default=4_000,
                     help="operations per batch call (5,000 of these ops would pass the 500 kB batch limit)")
    args = cli.parse_args()
    report = Report("bench_ingest")
    report.line(f"batch ingest: {args.ops:,} track ops, batches of {args.batch:,}, "
                f"{PEOPLE:,} people, {args.rounds} rounds (WAL, synchronous=NORMAL)")
    report.line(f"raw side: {raw_schema_summary()}")

    def raw(index: int) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-raw-") as tmp:
            return raw_round(Path(tmp), args.ops, args.batch)

    def ours(index: int) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-ours-") as tmp:
            return anyio.run(our_round, Path(tmp), args.ops, args.batch)

    raw_rates, our_rates = alternate(args.rounds, raw, ours, report, "rows/s")
    summarize_rates(report, raw_rates, our_rates, "rows/s", TARGET,
                    "batch ingest throughput")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

"""Single tracks: 5,000 sequential `await cio.track(...)` vs raw one-row transactions.

Raw: a plain sqlite3 connection on the same tables and indexes (as migrated), the same
journal and synchronous settings, BEGIN / INSERT one event row / COMMIT per event (JSON
pre-serialized, person pk known). Ours: the Python API, one call per event naming the
person by user_id. Both start from a fresh file holding the same 1,000 people.
Target: ours >= 30% of raw throughput.
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
    durability,
    now_ns,
    parser,
    raw_connection,
    raw_schema_summary,
    summarize_rates,
)

from store.database import Synchronous
from store.manager import StoreManager
from tools.api import CustomerIO

TARGET = 0.30
PEOPLE = 1_000
NAMES = ("viewed_product", "added_to_cart", "checkout", "searched")
PLANS = ("free", "pro", "team")


def properties(i: int) -> dict[str, Any]:
    return {"plan": PLANS[i % 3], "amount": i % 97, "sku": f"sku-{i % 500}"}


def raw_round(directory: Path, total: int, synchronous: str, settings: list[str]) -> float:
    """Rows per second, one BEGIN / INSERT / COMMIT per row."""
    conn = raw_connection(directory / "raw.sqlite3", synchronous)
    settings.append(durability(conn))
    now = time.time()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO people (user_id, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)",
        [(f"user-{p}", json.dumps({"created_at": int(now)}), now, now) for p in range(PEOPLE)])
    conn.execute("COMMIT")
    pks = dict(conn.execute("SELECT user_id, pk FROM people"))
    rows = [(None, pks[f"user-{i % PEOPLE}"], None, "event", NAMES[i % 4],
             json.dumps(properties(i), separators=(",", ":")), now, now) for i in range(total)]
    sql = ("INSERT INTO events (event_id, person_pk, anonymous_id, type, name, data, "
           "timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    execute = conn.execute
    start = now_ns()
    for row in rows:
        execute("BEGIN")
        execute(sql, row)
        execute("COMMIT")
    elapsed = (now_ns() - start) / 1e9
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == total
    conn.close()
    return total / elapsed


async def our_round(directory: Path, total: int, synchronous: Synchronous,
                    settings: list[str]) -> float:
    """Tracks per second through sequential `await cio.track(...)`."""
    manager = StoreManager(directory, max_open=1, synchronous=synchronous)
    async with CustomerIO(manager, "bench", owns_manager=True) as cio:
        people = [{"action": "identify", "user_id": f"user-{p}"} for p in range(PEOPLE)]
        setup = await cio.batch(people)
        assert setup.failed == 0 and setup.people_created == PEOPLE, setup
        calls = [(NAMES[i % 4], f"user-{i % PEOPLE}", properties(i)) for i in range(total)]
        track = cio.track
        start = now_ns()
        for name, user_id, props in calls:
            result = await track(name, user_id=user_id, properties=props)
        elapsed = (now_ns() - start) / 1e9
        assert result.status == "stored" and not result.person_created, result
        person = await cio.get_person("user-0")
        assert person.total_events == (total - 1) // PEOPLE + 1
        async with cio.manager.lease(cio.agent_id) as db:
            settings.append(await db.read(durability))
    return total / elapsed


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=5)
    cli.add_argument("--calls", type=int, default=5_000, help="track calls per round")
    cli.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"],
                     type=str.upper, help="SQLite synchronous level for both (default NORMAL, "
                     "the server's default)")
    args = cli.parse_args()
    report = Report("bench_track")
    report.line(f"single tracks: {args.calls:,} sequential calls, {PEOPLE:,} people, "
                f"{args.rounds} rounds, synchronous={args.synchronous}")
    report.line(f"raw side: {raw_schema_summary()}")
    raw_settings: list[str] = []
    our_settings: list[str] = []

    def raw(index: int) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-track-raw-") as tmp:
            return raw_round(Path(tmp), args.calls, args.synchronous, raw_settings)

    def ours(index: int) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-track-ours-") as tmp:
            return anyio.run(our_round, Path(tmp), args.calls, args.synchronous, our_settings)

    raw_rates, our_rates = alternate(args.rounds, raw, ours, report, "tracks/s")
    report.line(f"durability: ours {our_settings[0]}, raw {raw_settings[0]}. The server's "
                "default is WAL + NORMAL: a committed track survives a crash of the process; "
                "a power loss may undo the last commits (NORMAL does not fsync each commit in "
                "WAL mode). `serve --synchronous FULL` fsyncs every commit (--synchronous FULL "
                "here measures it)")
    summarize_rates(report, raw_rates, our_rates, "tracks/s", TARGET,
                    "single track throughput")
    report.line(f"per call: raw {1e6 / max(raw_rates):.0f}-{1e6 / min(raw_rates):.0f} µs, "
                f"ours {1e6 / max(our_rates):.0f}-{1e6 / min(our_rates):.0f} µs")
    same = set(our_settings) == set(raw_settings)
    report.target("same durability settings", same, f"ours {set(our_settings)}, raw "
                  f"{set(raw_settings)}")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

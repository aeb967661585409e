"""Shared helpers for the benchmarks: timing, medians, process samples, the verdict.

Each benchmark measures our code and the raw library in the same run, on the same
machine, and prints the ratio; it exits 1 when a target is missed. Run them by hand:
`.venv/bin/python tests/bench/<name>.py` (pytest does not collect tests/bench).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script, sys.path[0] is tests/bench
    sys.path.insert(0, str(REPO))

now_ns = time.perf_counter_ns


def parser(description: str, rounds: int = 3) -> argparse.ArgumentParser:
    """An argument parser with the common --rounds option."""
    cli = argparse.ArgumentParser(description=description)
    cli.add_argument("--rounds", type=int, default=rounds,
                     help=f"alternating rounds of raw and ours (default {rounds}); "
                     "medians are reported")
    return cli


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def spread(values: Sequence[float]) -> str:
    """'min..max' of `values` for the report."""
    return f"{min(values):,.0f}..{max(values):,.0f}"


RAW_TABLES = ("people", "events")
_schema: list[tuple[str, str, str]] = []  # (type, name, sql)


def raw_schema() -> list[tuple[str, str, str]]:
    """Tables, indexes and triggers of people and events in a freshly migrated database.

    Taken from our real migrations (0001 today), so later indexes are followed too.
    """
    if not _schema:
        from store.database import connect_sync

        with tempfile.TemporaryDirectory(prefix="bench-schema-") as tmp:
            conn = connect_sync(Path(tmp) / "schema.sqlite3")
            _schema.extend(conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN (?, ?) "
                "AND sql IS NOT NULL ORDER BY type = 'table' DESC, rowid", RAW_TABLES))
            conn.close()
    return _schema


def raw_connection(path: Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A plain sqlite3 connection with our PRAGMAs and our exact people/events tables."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    for kind, _, sql in raw_schema():
        if kind in ("table", "index"):
            conn.execute(sql)
    return conn


def raw_schema_summary() -> str:
    """What the raw tables carry, for the report (triggers are ours only, if any)."""
    indexes = [name for kind, name, _ in raw_schema() if kind == "index"]
    triggers = [name for kind, name, _ in raw_schema() if kind == "trigger"]
    text = f"tables {', '.join(RAW_TABLES)} with indexes {', '.join(indexes)}"
    return text + (f"; our triggers, not in raw: {', '.join(triggers)}" if triggers else "")


def durability(conn: sqlite3.Connection) -> str:
    """The journal mode and synchronous level a connection really uses."""
    journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
        conn.execute("PRAGMA synchronous").fetchone()[0]]
    return f"journal_mode={journal.upper()} synchronous={level}"


def fd_count() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def status_kb(key: str) -> int:
    """A kB figure from /proc/self/status (VmRSS, VmHWM, ...)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


@dataclass
class Report:
    """Figures and target checks of one benchmark; `finish` prints and gives the exit code."""

    title: str
    lines: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def line(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)

    def target(self, label: str, ok: bool, detail: str) -> None:
        verdict = "PASS" if ok else "MISS"
        self.line(f"[{verdict}] {label}: {detail}")
        if not ok:
            self.missed.append(label)

    def finish(self) -> int:
        if self.missed:
            print(f"{self.title}: target missed: {', '.join(self.missed)}", flush=True)
            return 1
        print(f"{self.title}: all targets met", flush=True)
        return 0


def alternate(rounds: int, raw: Callable[[int], float], ours: Callable[[int], float],
              report: Report, unit: str) -> tuple[list[float], list[float]]:
    """Run raw and ours alternately `rounds` times; each returns a rate in `unit`."""
    raw_rates: list[float] = []
    our_rates: list[float] = []
    for index in range(rounds):
        raw_rates.append(raw(index))
        our_rates.append(ours(index))
        report.line(f"  round {index + 1}: raw {raw_rates[-1]:,.0f} {unit}, "
                    f"ours {our_rates[-1]:,.0f} {unit}, "
                    f"ratio {our_rates[-1] / raw_rates[-1]:.1%}")
    return raw_rates, our_rates


def summarize_rates(report: Report, raw_rates: list[float], our_rates: list[float],
                    unit: str, minimum: float, label: str) -> None:
    """Print medians and spreads and check ours >= `minimum` x raw (ratio of medians)."""
    ratios = [o / r for o, r in zip(our_rates, raw_rates, strict=True)]
    raw_med, our_med = median(raw_rates), median(our_rates)
    report.line(f"raw   median {raw_med:,.0f} {unit} (spread {spread(raw_rates)})")
    report.line(f"ours  median {our_med:,.0f} {unit} (spread {spread(our_rates)})")
    report.line(f"per-round ratios {', '.join(f'{r:.1%}' for r in ratios)}")
    report.target(label, our_med / raw_med >= minimum,
                  f"ours/raw = {our_med / raw_med:.1%} (target >= {minimum:.0%})")

"""Whole-segment membership: computed over everyone after a segment is created, its rules
change or a segment it reads changes, in bounded transactions.

Each step evaluates the rule in SQL for people in pk order for at most STEP_SECONDS, stores
the entries, exits and wake-ups of that range and commits, so other writers (this agent's
calls, other processes) get the lock in between. The segment is "computing" until the last
step (a row in segment_computations); meanwhile real-time changes keep every person it
has passed exact, and the rest are reached in turn. Unfinished computations are timed
work, so a computation whose caller went away (or whose process died) is finished by the
scheduler. When a segment's membership changed, the segments reading it are computed next.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from store import segments_repo as repo
from tools.changes import SegmentEntered, SegmentExited
from tools.core.errors import LimitExceeded
from tools.core.segments.compile import Compiler
from tools.core.segments.nodes import Rule
from tools.segments.index import SegmentIndex, index_for
from tools.segments.subscriber import collector, publish_own
from tools.timed import Ran
from tools.writes import current

STEP_SECONDS = 0.1  # about the longest one transaction spends computing membership:
SCAN_SHARE = 0.5  # half of it evaluating the rule, the rest storing what changed
STEP_PEOPLE = 2_000  # and at most this many people per transaction
PREVIEW_SECONDS = 10.0
SAMPLE_SIZE = 10
_LAST_PK = 2**63 - 1


@dataclass(frozen=True)
class Step:
    """One step of a computation; when `finished`, entered / exited are its totals."""

    segment_pk: int
    finished: bool
    entered: int
    exited: int


def start(conn: sqlite3.Connection, segment_pk: int, now: float, cause: str) -> None:
    """Compute the segment's membership over everyone (again). The caller steps it; what
    is left unfinished by the end of the unit is scheduled as timed work."""
    repo.start_computation(conn, segment_pk, now, cause)


def step(conn: sqlite3.Connection, now: float, seconds: float = STEP_SECONDS) -> Step | None:
    """Advance the first unfinished computation (in evaluation order) by up to `seconds`
    of work; None when nothing is being computed."""
    pending = repo.computations(conn)
    if not pending:
        return None
    index = index_for(conn)
    job = min(pending, key=lambda c: index.position.get(c.segment_pk, len(index.position)))
    rule = index.by_pk[job.segment_pk].rule
    if rule is None:  # a manual segment has nothing to compute
        repo.finish_computation(conn, job.segment_pk)
        return Step(job.segment_pk, True, job.entered, job.exited)
    last, members, wakeups, finished = _scan(conn, rule, index, now, job.after_pk, seconds)
    high = _LAST_PK if finished else last
    old = repo.member_pks_between(conn, job.segment_pk, job.after_pk, high)
    entered, exited = sorted(members - old), sorted(old - members)
    repo.enter(conn, job.segment_pk, entered, now, job.cause)
    repo.leave(conn, job.segment_pk, exited, now, job.cause)
    repo.replace_wakeups_between(conn, job.segment_pk, job.after_pk, high, wakeups)
    current().schedule(min((due for _, due in wakeups), default=None))
    _publish(conn, index, job.segment_pk, entered, exited, now, job.cause)
    total_in, total_out = job.entered + len(entered), job.exited + len(exited)
    if not finished:
        repo.advance_computation(conn, job.segment_pk, last, len(entered), len(exited))
        current().schedule(job.started_at)
        return Step(job.segment_pk, False, total_in, total_out)
    repo.finish_computation(conn, job.segment_pk)
    readers = readers_of(index, job.segment_pk) if total_in or total_out else set()
    for reader in readers:
        start(conn, reader, now, job.cause)
    if readers:
        current().schedule(now)  # timed work: finished even if nobody waits for them
    return Step(job.segment_pk, True, total_in, total_out)


def _scan(conn: sqlite3.Connection, rule: Rule, index: SegmentIndex, now: float,
          after_pk: int, seconds: float) -> tuple[int, set[int], list[tuple[int, float]], bool]:
    """(last pk reached, members, [(pk, next change)], whether everyone after `after_pk`
    was reached) for people in pk order, for at most `seconds`."""
    compiler = Compiler(now, index.segment_pks)
    value = compiler.value(rule.root)
    change = compiler.next_change(rule.root) if rule.time_relative else None
    after = compiler.param(after_pk)
    rows = conn.execute(f"SELECT p.pk, {value}, {change or 'NULL'} FROM people p "
                        f"WHERE p.pk > {after} ORDER BY p.pk", compiler.params)
    deadline = time.monotonic() + seconds * SCAN_SHARE
    last, members, wakeups = after_pk, set(), []
    for count, (pk, member, due) in enumerate(rows, 1):
        last = pk
        if member:
            members.add(pk)
        if due is not None:
            wakeups.append((pk, float(due)))
        if count >= STEP_PEOPLE or time.monotonic() > deadline:
            return last, members, wakeups, False
    return last, members, wakeups, True


def _publish(conn: sqlite3.Connection, index: SegmentIndex, segment_pk: int,
             entered: list[int], exited: list[int], now: float, cause: str) -> None:
    out = collector()
    if out is not None:
        segment_id = index.by_pk[segment_pk].row.segment_id
        out += [SegmentEntered(pk, segment_pk, segment_id, now, cause) for pk in entered]
        out += [SegmentExited(pk, segment_pk, segment_id, now, cause) for pk in exited]
        publish_own(conn, out)


def readers_of(index: SegmentIndex, segment_pk: int) -> set[int]:
    """Every segment whose rules read `segment_pk`, directly or through others."""
    readers: set[int] = set()
    frontier = [segment_pk]
    while frontier:
        for reader in index.dependents.get(frontier.pop(), ()):
            if reader not in readers:
                readers.add(reader)
                frontier.append(reader)
    return readers


class SegmentComputations:
    """Unfinished computations as timed work (due since they started)."""

    area = "segment_computations"
    needs_dispatch = False

    def earliest(self, conn: sqlite3.Connection) -> float | None:
        return repo.earliest_computation(conn)

    def run_due(self, conn: sqlite3.Connection, until: float, budget: int) -> Ran:
        started = repo.earliest_computation(conn)
        done = step(conn, current().now)
        return Ran(0, None) if done is None else Ran(1, started)


def preview(conn: sqlite3.Connection, rule: Rule, index: SegmentIndex,
            now: float) -> tuple[int, list[str]]:
    """How many people match `rule` now, and the user_ids of the first few (within
    PREVIEW_SECONDS: a preview holds this agent's connection while it runs)."""
    compiler = Compiler(now, index.segment_pks)
    value = compiler.value(rule.root)
    deadline = time.monotonic() + PREVIEW_SECONDS
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        count = conn.execute(f"SELECT count(*) FROM people p WHERE {value}",
                             compiler.params).fetchone()[0]
        compiler.params["sample_size"] = SAMPLE_SIZE
        sample = conn.execute(
            f"SELECT p.user_id FROM people p WHERE {value} ORDER BY p.pk LIMIT :sample_size",
            compiler.params,
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if time.monotonic() <= deadline:
            raise
        raise LimitExceeded(
            f"previewing this rule took longer than {PREVIEW_SECONDS:.0f} s; narrow it (fewer "
            "event conditions or property filters), or create the segment, which is computed "
            "in the background", field="rules") from exc
    finally:
        conn.set_progress_handler(None, 0)
    return count, [row[0] for row in sample]

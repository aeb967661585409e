"""Full membership of a segment in one SQL pass (segments_create / segments_update /
segments_preview), with every member's next time-driven change."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from store import segments_repo as repo
from tools.changes import SegmentEntered, SegmentExited
from tools.core.segments.compile import Compiler
from tools.core.segments.nodes import Rule
from tools.segments.index import SegmentIndex
from tools.segments.subscriber import collector, publish_own
from tools.writes import current

SAMPLE_SIZE = 10


@dataclass
class Recomputed:
    members: int
    entered: int
    exited: int


def matches(conn: sqlite3.Connection, rule: Rule, index: SegmentIndex,
            now: float) -> tuple[set[int], list[tuple[int, float]]]:
    """(pks of people matching at `now`, [(pk, next change)] of those whose answer will
    change with time)."""
    compiler = Compiler(now, index.segment_pks)
    value = compiler.value(rule.root)
    change = compiler.next_change(rule.root) if rule.time_relative else None
    rows = conn.execute(f"SELECT p.pk, {value}, {change or 'NULL'} FROM people p",
                        compiler.params)
    members: set[int] = set()
    wakeups: list[tuple[int, float]] = []
    for pk, member, due in rows:
        if member:
            members.add(pk)
        if due is not None:
            wakeups.append((pk, due))
    return members, wakeups


def recompute(conn: sqlite3.Connection, index: SegmentIndex, segment_pk: int, now: float,
              cause: str) -> Recomputed:
    """Bring a dynamic segment's stored membership and wake-ups in line with its rule, then
    recompute, in order, the segments that read it (directly or not)."""
    result = _sync(conn, index, segment_pk, now, cause)
    if result.entered or result.exited:
        for reader in sorted(readers_of(index, segment_pk), key=index.position.__getitem__):
            _sync(conn, index, reader, now, cause)
    return result


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


def _sync(conn: sqlite3.Connection, index: SegmentIndex, segment_pk: int, now: float,
          cause: str) -> Recomputed:
    rule = index.by_pk[segment_pk].rule
    assert rule is not None
    new, wakeups = matches(conn, rule, index, now)
    old = repo.member_pks(conn, segment_pk)
    entered, exited = sorted(new - old), sorted(old - new)
    repo.enter(conn, segment_pk, entered, now, cause)
    repo.leave(conn, segment_pk, exited, now, cause)
    repo.replace_wakeups(conn, segment_pk, wakeups)
    current().schedule(min((due for _, due in wakeups), default=None))
    out = collector()
    if out is not None:
        segment_id = index.by_pk[segment_pk].row.segment_id
        out += [SegmentEntered(pk, segment_pk, segment_id, now, cause) for pk in entered]
        out += [SegmentExited(pk, segment_pk, segment_id, now, cause) for pk in exited]
        publish_own(conn, out)
    return Recomputed(len(new), len(entered), len(exited))


def preview(conn: sqlite3.Connection, rule: Rule, index: SegmentIndex,
            now: float) -> tuple[int, list[str]]:
    """How many people match `rule` now, and the user_ids of the first few."""
    compiler = Compiler(now, index.segment_pks)
    value = compiler.value(rule.root)
    count = conn.execute(f"SELECT count(*) FROM people p WHERE {value}",
                         compiler.params).fetchone()[0]
    compiler.params["sample_size"] = SAMPLE_SIZE
    sample = conn.execute(
        f"SELECT p.user_id FROM people p WHERE {value} ORDER BY p.pk LIMIT :sample_size",
        compiler.params,
    ).fetchall()
    return count, [row[0] for row in sample]

"""Real-time membership: re-evaluate one person's segments inside the transaction that
changed them.

Only the segments whose rules read what changed are re-evaluated, for that one person, in
dependency order (a segment after the segments it reads; a change cascades to readers).
Every entry and exit is recorded in segment_history (and published as a change event to
the subscribers after segments); a time-relative rule schedules the person's next change
as a wake-up (segment_people.due), the segments' timed work.

A wake-up is never later than the change it stands for, but it is not moved later either:
when new activity pushes a change back (another login renews a "did login in the last 7
days"), the old wake-up stays, fires early, finds no change and reschedules itself for the
exact moment. That saves a write on almost every track of an active person.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Collection, Mapping
from typing import Any

from store import segments_repo as repo
from tools.changes import Change, SegmentEntered, SegmentExited
from tools.core.segments.deps import FALLING, RISING
from tools.core.segments.evaluate import evaluate, judge
from tools.core.segments.nodes import Rule
from tools.segments.facts import PersonFacts
from tools.segments.index import SegmentIndex
from tools.writes import current

# Where refresh appends the entries and exits it makes (None: nobody listens after us).
Out = list[Change] | None


def refresh(conn: sqlite3.Connection, index: SegmentIndex, pk: int, seeds: Collection[int],
            at: float, cause: str, attributes: Mapping[str, Any] | None = None,
            event: tuple[str, str] | None = None,
            person: tuple[dict[int, float], dict[int, float]] | None = None,
            out: Out = None) -> list[int]:
    """Re-evaluate segments `seeds` (and readers of any that change) for person `pk` at
    time `at`; returns the segments whose membership changed (and appends the entries and
    exits to `out`). With `event` (type, name), the event just stored, seeds it cannot
    change are skipped (see event_polarity). `person` is repo.person_state(conn, pk) when
    the caller has already read it."""
    memberships, wakeups = person if person is not None else repo.person_state(conn, pk)
    facts = PersonFacts(conn, pk, index, memberships, attributes)  # loads what is read
    queue = sorted((index.position[s], s) for s in seeds)  # a sorted list is a heap
    queued = set(seeds)
    changed = []
    while queue:
        _, segment_pk = heapq.heappop(queue)
        rule = index.by_pk[segment_pk].rule
        if rule is None:
            continue
        if event is not None and segment_pk in seeds and _cannot_change(
                index.polarity(segment_pk, *event), segment_pk in memberships):
            continue
        if _reevaluate(conn, pk, segment_pk, rule, facts, at, cause, memberships, wakeups):
            changed.append(segment_pk)
            if out is not None:
                kind = SegmentEntered if segment_pk in memberships else SegmentExited
                out.append(kind(pk, segment_pk, index.by_pk[segment_pk].row.segment_id, at,
                                cause))
            for reader in index.dependents.get(segment_pk, ()):
                if reader not in queued:
                    queued.add(reader)
                    heapq.heappush(queue, (index.position[reader], reader))
    return changed


def _cannot_change(polarity: int | None, member: bool) -> bool:
    """One more event cannot change the answer: a member of a rule it can only make true,
    or a non-member of one it can only make false. Any wake-up stays early enough: the
    change it stands for can only move later."""
    return (polarity == RISING and member) or (polarity == FALLING and not member)


def _reevaluate(conn: sqlite3.Connection, pk: int, segment_pk: int, rule: Rule,
                facts: PersonFacts, at: float, cause: str, memberships: dict[int, float],
                wakeups: dict[int, float]) -> bool:
    """Evaluate one segment for the person, store any entry or exit and an earlier
    wake-up; True when membership changed."""
    if rule.time_relative:
        member, due = judge(rule.root, facts, at)
    else:
        member, due = evaluate(rule.root, facts, at), None
    scheduled = wakeups.get(segment_pk)
    wake = due is not None and (scheduled is None or due < scheduled)
    if wake:
        assert due is not None
        current().schedule(due)
        wakeups[segment_pk] = due
    was_member = segment_pk in memberships
    if member and not was_member:
        repo.enter_one(conn, segment_pk, pk, at, cause, due if wake else None)
        memberships[segment_pk] = at
        return True
    if wake:
        assert due is not None
        repo.set_wakeup(conn, segment_pk, pk, due)
    if was_member and not member:
        repo.leave_one(conn, segment_pk, pk, at, cause, segment_pk in wakeups)
        del memberships[segment_pk]
        return True
    return False

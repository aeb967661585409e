"""Real-time membership: the hooks the people units call, inside their own transaction,
whenever a person's attributes, events, devices or existence change.

Only the segments whose rules read what changed are re-evaluated, for that one person, in
dependency order (a segment after the segments it reads; a change cascades to readers).
Every entry and exit is recorded in segment_history; a time-relative rule schedules the
person's next change as a wake-up (segment_people.due) that the scheduler runs then.

A wake-up is never later than the change it stands for, but it is not moved later either:
when new activity pushes a change back (another login renews a "did login in the last 7
days"), the old wake-up stays, fires early, finds no change and reschedules itself for the
exact moment. That saves a write on almost every track of an active person.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from store import segments_repo as repo
from tools.core.segments.deps import FALLING, RISING
from tools.core.segments.evaluate import evaluate, judge
from tools.core.segments.nodes import Rule
from tools.segments.facts import PersonFacts
from tools.segments.index import SegmentIndex, index_for


@dataclass
class WriteContext:
    """Set around every write unit of an engine: the time of the call, and the earliest
    wake-up the unit scheduled (the engine then tells the control database)."""

    now: float
    earliest: float | None = None

    def note(self, due: float) -> None:
        if self.earliest is None or due < self.earliest:
            self.earliest = due


CONTEXT: ContextVar[WriteContext | None] = ContextVar("segments_write", default=None)


def note_wakeup(due: float | None) -> None:
    """Tell the current write unit a wake-up was scheduled at `due`."""
    context = CONTEXT.get()
    if context is not None and due is not None:
        context.note(due)


def _differs(a: Any, b: Any) -> bool:
    return type(a) is not type(b) or a != b


def on_identify(conn: sqlite3.Connection, pk: int, before: Mapping[str, Any] | None,
                after: Mapping[str, Any], now: float, claimed_events: bool) -> None:
    """After identify: re-evaluate segments reading a changed attribute (all of them for a
    new person; also those reading events when anonymous events were claimed)."""
    index = index_for(conn)
    if not index.dynamic:
        return
    if before is None:
        seeds = set(index.dynamic)
    else:
        missing = object()
        changed = [name for name in before.keys() | after.keys()
                   if _differs(before.get(name, missing), after.get(name, missing))]
        seeds = index.reading_attributes(changed)
        if claimed_events:
            seeds.update(index.with_events)
    refresh(conn, index, pk, seeds, now, "identify", attributes=after)


def on_events(conn: sqlite3.Connection, stored: Iterable[tuple[int, str, str]], now: float,
              cause: str = "track", created: Collection[int] = ()) -> None:
    """After events were stored: (person pk, type, name) of each; `created` people are new."""
    index = index_for(conn)
    if not index.dynamic:
        return
    for pk in created:
        refresh(conn, index, pk, index.dynamic, now, cause)
    events_of: dict[int, set[tuple[str, str]]] = {}
    for pk, kind, name in stored:
        if pk not in created:
            events_of.setdefault(pk, set()).add((kind, name))
    for pk, events in events_of.items():
        seeds = set().union(*(index.reading_event(kind, name) for kind, name in events))
        if seeds:
            only = next(iter(events)) if len(events) == 1 else None
            refresh(conn, index, pk, seeds, now, cause, event=only)


def on_event(conn: sqlite3.Connection, pk: int, kind: str, name: str, now: float,
             created: bool) -> None:
    """After track stored one event for a person (created by it when `created`)."""
    state, memberships, wakeups = repo.state_and_person(conn, pk)
    index = index_for(conn, state)
    if not index.dynamic:
        return
    person = (memberships, wakeups)
    if created:
        refresh(conn, index, pk, index.dynamic, now, "track", person=person)
        return
    seeds = index.event_seeds(kind, name)
    if seeds:
        refresh(conn, index, pk, seeds, now, "track", event=(kind, name), person=person)


def device_owner(conn: sqlite3.Connection, device_id: str) -> int | None:
    """Before a device is added: who holds it now (it may move), if any segment cares."""
    if not index_for(conn).with_devices:
        return None
    row = conn.execute("SELECT person_pk FROM devices WHERE device_id = ?",
                       (device_id,)).fetchone()
    return row[0] if row else None


def on_devices(conn: sqlite3.Connection, pks: Iterable[int | None]) -> None:
    """After a device was added, moved or removed: re-evaluate device segments. Runs at the
    time of the engine call (device units are not given one)."""
    context = CONTEXT.get()
    index = index_for(conn)
    if context is None or not index.with_devices:
        return
    for pk in {pk for pk in pks if pk is not None}:
        refresh(conn, index, pk, set(index.with_devices), context.now, "device")


def on_merge(conn: sqlite3.Connection, keep: int, gone: int, attributes: Mapping[str, Any],
             now: float) -> None:
    """Before the secondary is deleted: its manual memberships move to the primary, whose
    dynamic segments are then all re-evaluated (with the merged `attributes`)."""
    index = index_for(conn)
    kept = repo.memberships_of(conn, keep)
    moved = [pk for pk in repo.memberships_of(conn, gone)
             if pk not in kept and index.by_pk[pk].rule is None]
    for segment_pk in moved:
        repo.enter(conn, segment_pk, [keep], now, "merge")
    seeds = set(index.dynamic)
    for segment_pk in moved:
        seeds.update(index.dependents.get(segment_pk, ()))
    refresh(conn, index, keep, seeds, now, "merge", attributes=attributes)


def refresh(conn: sqlite3.Connection, index: SegmentIndex, pk: int, seeds: Collection[int],
            at: float, cause: str, attributes: Mapping[str, Any] | None = None,
            event: tuple[str, str] | None = None,
            person: tuple[dict[int, float], dict[int, float]] | None = None) -> list[int]:
    """Re-evaluate segments `seeds` (and readers of any that change) for person `pk` at
    time `at`; returns the segments whose membership changed. With `event` (type, name),
    the event just stored, seeds it cannot change are skipped (see event_polarity).
    `person` is repo.person_state(conn, pk) when the caller has already read it."""
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
        note_wakeup(due)
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

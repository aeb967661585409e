"""Segments as a subscriber of change events: what each change means for membership.

The composition root (tools/api.py) subscribes `on_changes`. It re-evaluates, per person,
only the segments that read what changed (all of them for a new person), and returns the
entries and exits it made, which reach the subscribers after segments.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from store import segments_repo as repo
from tools.changes import (
    AnonymousEventsClaimed,
    AttributesChanged,
    Change,
    DeviceAdded,
    DeviceRemoved,
    EventStored,
    PeopleMerged,
    PersonCreated,
    PersonDeleted,
    SegmentEntered,
    SegmentExited,
)
from tools.core.attributes import changed_attributes
from tools.segments.index import SegmentIndex, index_for
from tools.segments.realtime import Out, refresh
from tools.writes import WriteContext, current


@dataclass
class _Plan:
    """What changed for one person in one publish."""

    cause: str
    everything: bool = False  # a new (or merged) person: every dynamic segment
    attributes: Mapping[str, Any] | None = None  # the new attributes, when known
    changed: set[str] = field(default_factory=set)
    events: set[tuple[str, str]] = field(default_factory=set)
    claimed: bool = False
    devices: bool = False
    extra: set[int] = field(default_factory=set)  # readers of manual segments it entered

    def seeds(self, index: SegmentIndex) -> set[int]:
        if self.everything:
            return set(index.dynamic) | self.extra
        seeds = index.reading_attributes(self.changed) | self.extra
        for kind, name in self.events:
            seeds |= index.event_seeds(kind, name)
        if self.claimed:
            seeds.update(index.with_events)
        if self.devices:
            seeds.update(index.with_devices)
        return seeds


def on_changes(conn: sqlite3.Connection, changes: Sequence[Change],
               context: WriteContext) -> list[Change] | None:
    """Bring the memberships of everyone `changes` touched up to date."""
    out: Out = [] if context.listens_after(on_changes) else None
    if len(changes) == 1 and type(changes[0]) is EventStored:
        _on_event(conn, changes[0], context.now, out)  # track's hot path
        return out
    plans: dict[int, _Plan] = {}
    index = index_for(conn)
    for change in changes:
        _note(conn, index, change, plans, context.now, out)
    if index.dynamic:
        for pk, plan in plans.items():
            seeds = plan.seeds(index)
            if seeds:
                event = next(iter(plan.events)) if len(plan.events) == 1 and not (
                    plan.everything or plan.changed or plan.devices or plan.claimed) else None
                refresh(conn, index, pk, seeds, context.now, plan.cause,
                        attributes=plan.attributes, event=event, out=out)
    return out


def _on_event(conn: sqlite3.Connection, change: EventStored, now: float, out: Out) -> None:
    """One event of a known person: the state and the person's rows in one statement."""
    pk = change.person_pk
    if pk is None:
        return
    state, memberships, wakeups = repo.state_and_person(conn, pk)
    index = index_for(conn, state)
    seeds = index.event_seeds(change.type, change.name) if index.dynamic else ()
    if seeds:
        refresh(conn, index, pk, seeds, now, change.cause, event=(change.type, change.name),
                person=(memberships, wakeups), out=out)


def _plan(plans: dict[int, _Plan], pk: int, cause: str) -> _Plan:
    plan = plans.get(pk)
    if plan is None:
        plan = plans[pk] = _Plan(cause)
    return plan


def _note(conn: sqlite3.Connection, index: SegmentIndex, change: Change,
          plans: dict[int, _Plan], now: float, out: Out) -> None:
    """Add what one change means to the plans (deletions and merges act at once: the
    rows they need are about to go)."""
    if isinstance(change, EventStored):
        if change.person_pk is not None:
            _plan(plans, change.person_pk, change.cause).events.add((change.type, change.name))
    elif isinstance(change, PersonCreated):
        _plan(plans, change.person_pk, change.cause).everything = True
    elif isinstance(change, AttributesChanged):
        plan = _plan(plans, change.person_pk, change.cause)
        plan.attributes = change.after
        if change.before is None:
            plan.everything = True
        else:
            plan.changed.update(changed_attributes(change.before, change.after))
    elif isinstance(change, AnonymousEventsClaimed):
        _plan(plans, change.person_pk, "identify").claimed = True
    elif isinstance(change, DeviceAdded | DeviceRemoved):
        _plan(plans, change.person_pk, "device").devices = True
        if isinstance(change, DeviceAdded) and change.previous_owner is not None:
            _plan(plans, change.previous_owner, "device").devices = True
    elif isinstance(change, PeopleMerged):
        _merge(conn, index, change, _plan(plans, change.primary_pk, "merge"), now, out)
    elif isinstance(change, PersonDeleted):
        plans.pop(change.person_pk, None)
        if out is not None:
            out += _exits(conn, index, change, now)


def _merge(conn: sqlite3.Connection, index: SegmentIndex, change: PeopleMerged, plan: _Plan,
           now: float, out: Out) -> None:
    """The secondary's manual memberships move to the primary, whose dynamic segments
    (and the readers of what it entered) are all re-evaluated."""
    keep, gone = change.primary_pk, change.secondary_pk
    kept = repo.memberships_of(conn, keep)
    moved = [pk for pk in repo.memberships_of(conn, gone)
             if pk not in kept and index.by_pk[pk].rule is None]
    for segment_pk in moved:
        repo.enter(conn, segment_pk, [keep], now, "merge")
        plan.extra.update(index.dependents.get(segment_pk, ()))
    if out is not None:
        out += [SegmentEntered(keep, pk, index.by_pk[pk].row.segment_id, now, "merge")
                for pk in moved]
    plan.everything = True


def _exits(conn: sqlite3.Connection, index: SegmentIndex, change: PersonDeleted,
           now: float) -> list[Change]:
    """The segments a person about to be deleted leaves (their rows go with them)."""
    return [SegmentExited(change.person_pk, pk, index.by_pk[pk].row.segment_id, now,
                          change.cause)
            for pk in sorted(repo.memberships_of(conn, change.person_pk))]


def collector() -> Out:
    """A list for the entries and exits segments make on their own (segment writes, time),
    or None when no subscriber comes after segments."""
    return [] if current().listens_after(on_changes) else None


def publish_own(conn: sqlite3.Connection, out: Out) -> None:
    """Hand entries and exits segments made on their own to the subscribers after them."""
    if out:
        current().publish(conn, out, origin=on_changes)

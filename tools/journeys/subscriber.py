"""Journeys hear the change events of every write, inside its transaction: a stored event,
a segment entered or left, an attribute changed start the workflows they trigger, wake the
journeys waiting for them, re-check waits on conditions and goals; a merge moves the
secondary's journeys. Timed work advances journeys whose wait ended (JourneyWork).

A write with no workflow at all pays one indexed read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from store import journeys_repo as repo
from tools import writes
from tools.changes import (
    AttributesChanged,
    Change,
    EventStored,
    PeopleMerged,
    SegmentEntered,
    SegmentExited,
)
from tools.core.journeys import interpreter
from tools.core.journeys.facts import event_matches
from tools.core.journeys.state_json import dump_state, load_state
from tools.journeys import dates
from tools.journeys.facts import StoredFacts
from tools.journeys.runner import (
    MAX_DEPTH,
    Ports,
    advance_journey,
    end_journey,
    new_run_id,
    start_journey,
    workflow_of,
)
from tools.journeys.trigger_cache import live_triggers
from tools.timed import Ran
from tools.writes import Subscriber, WriteContext

MISSING: Any = object()
BACKFILL_S = 72 * 3_600


def make_subscriber(ports: Ports) -> Subscriber:
    """The journeys' subscriber, reaching other areas through `ports`."""

    def on_journey_changes(conn: sqlite3.Connection, changes: Sequence[Change],
                           context: WriteContext) -> None:
        keys = live_triggers(conn)
        if keys is None:
            return None
        now, depth = context.now, context.journey_depth
        touched: set[int] = set()
        for change in changes:
            kind = type(change)
            if kind is EventStored:
                assert isinstance(change, EventStored)
                if change.person_pk is not None:
                    _event(conn, ports, keys, change, now, depth)
                    touched.add(change.person_pk)
            elif kind is SegmentEntered or kind is SegmentExited:
                assert isinstance(change, (SegmentEntered, SegmentExited))
                _segment(conn, ports, keys, change, now, depth)
                touched.add(change.person_pk)
            elif kind is AttributesChanged:
                assert isinstance(change, AttributesChanged)
                _attributes(conn, ports, keys, change, now, depth)
                touched.add(change.person_pk)
            elif kind is PeopleMerged:
                assert isinstance(change, PeopleMerged)
                repo.move_journeys(conn, change.secondary_pk, change.primary_pk)
        for person_pk in touched:  # waits on conditions, goals: they may hold now
            open_rows = repo.open_of(conn, person_pk)
            for pk, _, _, wait_event in open_rows:
                if wait_event == "":
                    advance_journey(conn, ports, pk, now, recheck=True)
            if open_rows:
                _goals(conn, person_pk, now, None)
        return None

    return on_journey_changes


def _start_all(conn: sqlite3.Connection, ports: Ports, trigger_type: str, key: str,
               person_pk: int, data: Mapping[str, Any], now: float, depth: int,
               accept: Callable[[Any], bool] = lambda workflow: True) -> None:
    if depth > MAX_DEPTH:  # journeys triggering journeys: the journey that caused it logs it
        return
    for workflow_pk, version in repo.active_workflows(conn, trigger_type, key):
        workflow = workflow_of(conn, workflow_pk, version)
        if not accept(workflow):
            continue
        run_pk = repo.insert_run(conn, new_run_id(), workflow_pk, trigger_type,
                                 json.dumps(data, separators=(",", ":")), now)
        start_journey(conn, ports, workflow_pk, version, run_pk, person_pk, data, depth, now)


def _event(conn: sqlite3.Connection, ports: Ports, keys: dict[str, set[str | None]],
           change: EventStored, now: float, depth: int) -> None:
    person_pk = change.person_pk
    assert person_pk is not None
    properties: dict[str, Any] | None = None  # parsed only when something reads them
    open_rows = repo.open_of(conn, person_pk)
    for pk, _, _, wait_event in open_rows:
        if wait_event == change.name:
            properties = properties if properties is not None else json.loads(change.data_json)
            advance_journey(conn, ports, pk, now, event=(change.name, properties))
    if open_rows:
        _goals(conn, person_pk, now, change.name)
    # only events of the past 72 hours trigger journeys (backfilled ones count for
    # segments, not for journeys)
    if change.name in keys.get("event", ()) and change.type == "event" \
            and change.timestamp >= now - BACKFILL_S:
        properties = properties if properties is not None else json.loads(change.data_json)
        _start_all(conn, ports, "event", change.name, person_pk,
                   {"event": properties, "event_name": change.name}, now, depth,
                   lambda w: event_matches(w.trigger.event, w.trigger.properties,
                                           change.name, properties, now))


def _segment(conn: sqlite3.Connection, ports: Ports, keys: dict[str, set[str | None]],
             change: SegmentEntered | SegmentExited, now: float, depth: int) -> None:
    kind = "segment_entered" if type(change) is SegmentEntered else "segment_exited"
    if kind == "segment_exited":
        for journey in repo.open_journeys_of(conn, change.person_pk):
            workflow = workflow_of(conn, journey.workflow_pk, journey.version)
            if workflow.settings.exit_on_trigger_exit \
                    and workflow.trigger.segment_id == change.segment_id:
                end_journey(conn, journey.pk, "exited",
                            f"left the trigger segment {change.segment_id!r}", now)
    if change.segment_id in keys.get(kind, ()):
        _start_all(conn, ports, kind, change.segment_id, change.person_pk,
                   {"segment": {"id": change.segment_id}}, now, depth)


def _attributes(conn: sqlite3.Connection, ports: Ports, keys: dict[str, set[str | None]],
                change: AttributesChanged, now: float, depth: int) -> None:
    before = change.before or {}
    for attribute in keys.get("date", ()):
        if attribute is not None and before.get(attribute, MISSING) != change.after.get(
                attribute, MISSING):
            dates.attribute_changed(conn, attribute, change.person_pk, change.after, now)
    for attribute in keys.get("attribute_changed", ()):
        if attribute is None:
            continue
        old, new = before.get(attribute, MISSING), change.after.get(attribute, MISSING)
        if old == new and (old is MISSING) == (new is MISSING):
            continue

        def accept(workflow: Any, old: Any = old, new: Any = new) -> bool:
            trigger = workflow.trigger
            if trigger.has_from() and not _same(old, trigger.from_value):
                return False
            return not trigger.has_to() or _same(new, trigger.to_value)

        data = {"attribute": {"name": attribute, "from": None if old is MISSING else old,
                              "to": None if new is MISSING else new}}
        _start_all(conn, ports, "attribute_changed", attribute, change.person_pk, data, now,
                   depth, accept)


def _same(value: Any, wanted: Any) -> bool:
    """`from` / `to` of a trigger: null matches an unset attribute."""
    return (value is MISSING and wanted is None) or (value is not MISSING and value == wanted)


def _goals(conn: sqlite3.Connection, person_pk: int, now: float, event: str | None) -> None:
    """Open journeys of the person that reach their workflow's goal now convert."""
    for pk, workflow_pk, version, _ in repo.open_of(conn, person_pk):
        workflow = workflow_of(conn, workflow_pk, version)
        goal = workflow.settings.goal
        if goal is None or (event is None and goal.condition is None) \
                or (event is not None and goal.event != event and goal.condition is None):
            continue
        journey = repo.journey_by_pk(conn, pk)
        assert journey is not None
        state = load_state(journey.state)
        facts = interpreter.RuleFacts(StoredFacts(conn, person_pk))
        reason = interpreter.check_goal(workflow, state, facts, now, event)
        if reason is None:
            continue
        if goal.exit:
            end_journey(conn, journey.pk, "exited", f"converted: {reason}", now,
                        converted=True)
        else:
            done = interpreter.converted(state, now, False)
            repo.save_journey(conn, journey.pk, journey.status, dump_state(done),
                              journey.step_id, journey.wait_event, journey.due, None, now)
            repo.add_log(conn, journey.pk, [(now, journey.step_id or "", "", "converted",
                                             reason)])


class JourneyWork:
    """Journeys whose wait ends (a delay, a wait's deadline, a time window opening) are
    advanced at that moment, each in the transaction of its chunk."""

    area = "journeys"
    needs_dispatch = False

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def earliest(self, conn: sqlite3.Connection) -> float | None:
        return repo.earliest_due(conn)

    def run_due(self, conn: sqlite3.Connection, until: float, budget: int) -> Ran:
        now = writes.current().now
        rows = repo.due_journeys(conn, until, budget)
        for pk, _due in rows:
            if not advance_journey(conn, self.ports, pk, max(now, until)):
                repo.clear_due(conn, pk)  # nothing to resume (ended meanwhile): no spin
        return Ran(len(rows), rows[0][1] if rows else None)

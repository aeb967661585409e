"""The durable runner: starts journeys and advances them inside write units.

A journey's position is its row (state JSON plus the indexed columns the scheduler and the
subscriber look up). Advancing one runs the pure interpreter (tools/core/journeys) and, in
the same transaction, applies each effect as it is produced (a message into the outbox,
attributes, an emitted event) and stores the new position: a transaction that is retried
repeats nothing, and a crash loses nothing. The effects reach the other areas through the
ports the composition root gives (tools/journey_ports.py).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from store import journeys_repo as repo
from tools import writes
from tools.core.errors import EngineError
from tools.core.journeys import interpreter
from tools.core.journeys.definition import parse_workflow
from tools.core.journeys.model import (
    Advanced,
    Effect,
    Emit,
    JourneyState,
    LogEntry,
    Send,
    SetAttributes,
    WaitUntilStep,
    Workflow,
)
from tools.core.journeys.state_json import dump_state, load_state
from tools.journeys.facts import StoredFacts

MAX_DEPTH = 5  # journeys started by events journeys emitted, one inside another
ENDED = ("completed", "exited", "cancelled", "failed")


@dataclass(frozen=True)
class SendRequest:
    user_id: str
    channel: str
    template_id: str
    fallback: tuple[tuple[str, str], ...]
    topic: str | None
    transactional: bool
    idempotency_key: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Ports:
    """How journeys reach the other areas (wired by the composition root): each runs
    inside the current write unit."""

    send: Callable[[sqlite3.Connection, SendRequest, float], tuple[str, str]]  # (id, status)
    set_attributes: Callable[[sqlite3.Connection, str, dict[str, Any], float], None]
    emit_event: Callable[[sqlite3.Connection, str, str, Mapping[str, Any], str, float], None]
    render_value: Callable[[str, Mapping[str, Any], float], str]


@lru_cache(maxsize=512)
def _parsed(text: str) -> Workflow:
    return parse_workflow(**json.loads(text))


def workflow_of(conn: sqlite3.Connection, workflow_pk: int, version: int) -> Workflow:
    """A stored version of a workflow (parsed once per process)."""
    return _parsed(repo.definition(conn, workflow_pk, version))


def new_run_id() -> str:
    return "run_" + secrets.token_hex(8)


def may_enter(conn: sqlite3.Connection, workflow: Workflow, workflow_pk: int, person_pk: int,
              now: float) -> str | None:
    """None when the person may start the workflow now, else why not. With re-entry
    `always` (or once the interval has passed) a person may be on several journeys of one
    workflow at a time, one per trigger."""
    last = repo.last_entry(conn, workflow_pk, person_pk)
    if last is None:
        return None
    entered_at, still_open = last
    settings = workflow.settings
    if settings.reentry == "once":
        return ("already on this journey" if still_open
                else "has been on this journey before (re-entry: once)")
    if settings.reentry == "interval" and settings.reentry_interval is not None \
            and entered_at + settings.reentry_interval > now:
        return "entered it less than the re-entry interval ago"
    return None


def start_journey(conn: sqlite3.Connection, ports: Ports, workflow_pk: int, version: int,
                  run_pk: int, person_pk: int, data: Mapping[str, Any], depth: int,
                  now: float) -> int | None:
    """Start one person's journey and run it to its first wait; None when re-entry
    settings keep them out."""
    workflow = workflow_of(conn, workflow_pk, version)
    if may_enter(conn, workflow, workflow_pk, person_pk, now) is not None:
        return None
    pk = repo.insert_journey(conn, workflow_pk, version, run_pk, person_pk,
                             json.dumps(data, separators=(",", ":")), depth, now)
    repo.add_to_run(conn, run_pk, 1)
    state = interpreter.start(workflow, now)
    split = split_key_of(workflow_pk, person_pk)
    _run(conn, ports, pk, workflow, state, now, lambda s, f: interpreter.advance(
        workflow, s, f, now, journey_key=_key(pk), split_key=split), entered=True)
    return pk


def advance_journey(conn: sqlite3.Connection, ports: Ports, pk: int, now: float,
                    event: tuple[str, Mapping[str, Any]] | None = None,
                    recheck: bool = False) -> bool:
    """Advance a stored journey (its wait ended, an event it waits for arrived, or its
    condition may hold now); False when nothing moved."""
    row = repo.journey_by_pk(conn, pk)
    if row is None or row.status in ENDED:
        return False
    workflow = workflow_of(conn, row.workflow_pk, row.version)
    state = load_state(row.state)
    key, split = _key(pk), split_key_of(row.workflow_pk, row.person_pk)
    if event is not None:
        name, properties = event

        def step(s: JourneyState, f: Any) -> Advanced | None:
            return interpreter.wake_on_event(workflow, s, f, name, properties, now,
                                             journey_key=key, split_key=split)
    elif recheck:
        def step(s: JourneyState, f: Any) -> Advanced | None:
            return interpreter.recheck(workflow, s, f, now, journey_key=key, split_key=split)
    else:
        def step(s: JourneyState, f: Any) -> Advanced | None:
            return interpreter.advance(workflow, s, f, now, journey_key=key, split_key=split)
    return _run(conn, ports, pk, workflow, state, now, step, row=row)


def end_journey(conn: sqlite3.Connection, pk: int, status: str, reason: str,
                now: float, converted: bool = False) -> None:
    """Stop a journey from outside its steps (goal reached, trigger segment left)."""
    row = repo.journey_by_pk(conn, pk)
    if row is None or row.status in ENDED:
        return
    state = load_state(row.state)
    done = JourneyState(path=(), status=status, waiting=None,  # type: ignore[arg-type]
                        steps_done=state.steps_done, visits=state.visits,
                        cohorts=state.cohorts, exit_reason=reason,
                        converted_at=now if converted else state.converted_at)
    repo.save_journey(conn, pk, status, dump_state(done), row.step_id, None, None, now, now)
    repo.add_log(conn, pk, [(now, row.step_id or "", "", "exited" if not converted
                             else "converted", reason)])


def _key(pk: int) -> str:
    """Keys the journey's effects (message idempotency keys, event ids)."""
    return f"journey-{pk}"


def split_key_of(workflow_pk: int, person_pk: int) -> str:
    """Picks split cohorts: the same person lands in the same cohort every time."""
    return f"workflow-{workflow_pk}-person-{person_pk}"


def _run(conn: sqlite3.Connection, ports: Ports, pk: int, workflow: Workflow,
         state: JourneyState, now: float, step: Callable[[JourneyState, Any], Advanced | None],
         entered: bool = False, row: repo.JourneyRow | None = None) -> bool:
    if row is None:
        row = repo.journey_by_pk(conn, pk)
    assert row is not None
    stored = StoredFacts(conn, row.person_pk)
    facts = interpreter.RuleFacts(stored)
    data = json.loads(row.data)
    log: list[LogEntry] = []
    if entered:
        log.append(LogEntry(now, "", "", "entered", f"run {row.run_id}"))

    def apply(effect: Effect) -> str:
        # A step that cannot take effect (a template deleted, a value that does not render)
        # is logged and undone alone; the write that woke the journey stands.
        conn.execute("SAVEPOINT journey_effect")
        try:
            detail = _apply(conn, ports, row, effect, data, stored.attributes(), now)
        except EngineError as exc:
            conn.execute("ROLLBACK TO journey_effect")
            detail = f"not done: {exc.kind}: {exc.message}"
        finally:
            conn.execute("RELEASE journey_effect")
        stored.forget_attributes()
        stored.forget_events()
        return detail

    result = step(state, facts)
    if result is None:
        return False
    # The new position is stored first: the change events the effects cause (an update,
    # an emitted event) reach this journey where it now is, and what they do to it (a goal
    # reached, the trigger segment left) stands.
    cut = {e.step_id for e in result.effects if isinstance(e, Emit) and row.depth >= MAX_DEPTH}
    _save(conn, pk, workflow, result, now, [])
    done = {effect.step_id: apply(effect) for effect in result.effects}  # in order
    for entry in result.log:  # each effect's outcome right after its step's line
        if entry.what == "emitted" and entry.step_id in cut:
            entry = LogEntry(entry.at, entry.step_id, entry.step_type, "not emitted",
                             done.pop(entry.step_id))
        log.append(entry)
        if entry.step_id in done and entry.what in ("sent", "updated", "emitted"):
            log.append(LogEntry(entry.at, entry.step_id, entry.step_type, "effect",
                                done.pop(entry.step_id)))
    log += [LogEntry(now, step_id, "", "effect", detail) for step_id, detail in done.items()]
    repo.add_log(conn, pk, [(e.at, e.step_id, e.step_type, e.what, e.detail) for e in log])
    return True


def _apply(conn: sqlite3.Connection, ports: Ports, row: repo.JourneyRow, effect: Effect,
           data: Mapping[str, Any], attributes: Mapping[str, Any], now: float) -> str:
    if isinstance(effect, Send):
        message_id, status = ports.send(conn, SendRequest(
            row.user_id, effect.channel, effect.template_id, effect.fallback, effect.topic,
            effect.transactional, effect.key, data), now)
        return f"message {message_id} {status}"
    if isinstance(effect, SetAttributes):
        scope = {"event": {}, "trigger": {}, **data,
                 "customer": {**attributes, "id": row.user_id}}
        values: dict[str, Any] = {
            name: ports.render_value(value, scope, now) if isinstance(value, str) else value
            for name, value in effect.set.items()}
        values.update({name: None for name in effect.unset})
        with _deeper(row.depth):  # journeys the change triggers start one level down
            ports.set_attributes(conn, row.user_id, values, now)
        cut = (f"; journeys it would trigger were cut off at depth {MAX_DEPTH}"
               if row.depth >= MAX_DEPTH else "")
        return f"set {sorted(effect.set)}" + (f", unset {list(effect.unset)}" if effect.unset
                                               else "") + cut
    if isinstance(effect, Emit):
        if row.depth >= MAX_DEPTH:
            return (f"event {effect.name!r} not emitted: journeys triggering journeys were cut "
                    f"off at depth {MAX_DEPTH}")
        with _deeper(row.depth):
            ports.emit_event(conn, row.user_id, effect.name, effect.properties, effect.key, now)
        return f"emitted event {effect.name!r}"
    raise AssertionError(effect)  # pragma: no cover


@contextmanager
def _deeper(depth: int) -> Iterator[None]:
    """While a journey's effect is applied, journeys it triggers start at depth + 1."""
    context = writes.current()
    outer = context.journey_depth
    context.journey_depth = depth + 1
    try:
        yield
    finally:
        context.journey_depth = outer


def _save(conn: sqlite3.Connection, pk: int, workflow: Workflow, result: Advanced,
          now: float, log: list[LogEntry]) -> None:
    state = result.state
    waiting = state.waiting
    step_id = waiting.step_id if waiting is not None else None
    if step_id is None:
        current = interpreter.step_at(workflow, state.path)
        step_id = current.id if current is not None else None
    wait_event = None
    if waiting is not None and waiting.kind == "wait_until":
        path = interpreter.path_of(workflow, waiting.step_id)
        wait_step = interpreter.step_at(workflow, path) if path is not None else None
        if isinstance(wait_step, WaitUntilStep):
            wait_event = wait_step.event if wait_step.event is not None else ""
    due = waiting.until if waiting is not None else None
    ended = now if state.status in ENDED else None
    repo.save_journey(conn, pk, state.status, dump_state(state), step_id, wait_event, due,
                      ended, now)
    repo.add_log(conn, pk, [(e.at, e.step_id, e.step_type, e.what, e.detail) for e in log])
    if due is not None:
        writes.current().schedule(due)

"""batch: many Track operations in one call and one transaction, each failing on its own.

Track operations are buffered and written with one executemany; any other operation
first flushes the buffer and runs inside a savepoint, so a failure undoes only itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from store import people_repo as repo
from tools.changes import Change, PersonCreated
from tools.core import limits
from tools.core.errors import EngineError, InvalidInput, LimitExceeded
from tools.core.people import check_device_id, prepare_device, prepare_identify, prepare_track
from tools.core.validate import check_identifier, utf8_len
from tools.people import units
from tools.people.models import BatchFailure, BatchResult
from tools.writes import publish

TRACK_ACTIONS = ("track", "page", "screen")
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # action: (required fields, optional fields)
    "identify": ({"user_id"}, {"attributes", "anonymous_id", "timestamp"}),
    "track": ({"name"}, {"user_id", "anonymous_id", "properties", "timestamp", "event_id"}),
    "delete": ({"user_id"}, set()),
    "suppress": ({"user_id"}, set()),
    "unsuppress": ({"user_id"}, set()),
    "merge": ({"primary", "secondary"}, set()),
    "add_device": ({"user_id", "device_id", "platform"}, {"attributes"}),
    "remove_device": ({"user_id", "device_id"}, set()),
}
FIELDS["page"] = FIELDS["screen"] = FIELDS["track"]


class _Run:
    """State of one batch while it is applied."""

    def __init__(self, conn: sqlite3.Connection, now: float) -> None:
        self.conn, self.now = conn, now
        self.pending: list[repo.EventValues] = []
        self.people: dict[str, int | None] = {}
        self.links: dict[str, int | None] = {}
        self.duplicates = self.suppressed = self.created = 0
        self.failures: list[BatchFailure] = []
        self.bytes = 0
        self.new_people: dict[int, str] = {}  # pk -> user_id of people a track op created

    def flush(self) -> None:
        """Store the buffered events and publish what changed, in operation order: a
        person created by a track op, then each event stored (never a duplicate)."""
        if self.pending:
            pks = repo.insert_events(self.conn, self.pending)
            self.duplicates += pks.count(None)
            changes: list[Change] = []
            for values, event_pk in zip(self.pending, pks, strict=True):
                person_pk = values[1]
                if person_pk in self.new_people:
                    changes.append(PersonCreated(person_pk, self.new_people.pop(person_pk),
                                                 "batch"))
                if event_pk is not None:
                    changes.append(units.event_stored(values, event_pk, "batch"))
            changes += [PersonCreated(pk, uid, "batch") for pk, uid in self.new_people.items()]
            self.new_people.clear()
            self.pending.clear()
            if changes:
                publish(self.conn, changes)
        self.people.clear()
        self.links.clear()


    def fail(self, index: int, action: str | None, error: EngineError) -> None:
        self.failures.append(BatchFailure(
            index=index, action=action,
            reason=error.kind, field=error.field, message=error.message,
        ))


def check_shape(op: Any) -> str:
    """The operation's action, after checking its fields are the ones that action takes."""
    if not isinstance(op, dict):
        raise InvalidInput(f"each operation must be an object, got {type(op).__name__}")
    action = op.get("action")
    if not isinstance(action, str) or action not in FIELDS:
        raise InvalidInput(
            f"action must be one of {', '.join(FIELDS)}, got {action!r:.80}", field="action"
        )
    required, optional = FIELDS[action]
    given = op.keys() - {"action"}
    missing, unknown = required - given, given - required - optional
    if missing:
        raise InvalidInput(f"{action} needs {', '.join(sorted(missing))}", field=min(missing))
    if unknown:
        raise InvalidInput(
            f"{action} does not take {', '.join(sorted(map(str, unknown)))}; it takes "
            f"{', '.join(sorted(required | optional))}",
            field=str(min(map(str, unknown))),
        )
    return action


def apply_batch(conn: sqlite3.Connection, operations: list[Any], now: float) -> BatchResult:
    """Apply every operation in order; failures are listed, successes all stored."""
    run = _Run(conn, now)
    for index, op in enumerate(operations):
        try:
            action = check_shape(op)
            if action in TRACK_ACTIONS:
                _track(run, op, action)
            else:
                run.flush()
                _in_savepoint(conn, _other, run, op, action)
        except _BatchFull as exc:
            for rest in range(index, len(operations)):
                run.fail(rest, _action_of(operations[rest]), exc)
            break
        except EngineError as exc:
            run.fail(index, _action_of(op), exc)
    run.flush()
    failed = len(run.failures)
    return BatchResult(
        total=len(operations), succeeded=len(operations) - failed, failed=failed,
        duplicates=run.duplicates, ignored_suppressed=run.suppressed,
        people_created=run.created, failures=run.failures,
    )


class _BatchFull(LimitExceeded):
    """The batch passed its total size limit: this and later operations are refused."""


def _action_of(op: Any) -> str | None:
    action = op.get("action") if isinstance(op, dict) else None
    return action if isinstance(action, str) else None


def _size_check(run: _Run, payload_bytes: int) -> None:
    if run.bytes + payload_bytes > limits.BATCH_MAX_BYTES:
        raise _BatchFull(
            f"the batch is over {limits.BATCH_MAX_BYTES} bytes; this operation and the ones "
            "after it were not applied. Send them in another batch"
        )
    if payload_bytes > limits.BATCH_OPERATION_MAX_BYTES:
        raise LimitExceeded(
            f"this operation is {payload_bytes} bytes; each batch operation may be at most "
            f"{limits.BATCH_OPERATION_MAX_BYTES} bytes"
        )
    run.bytes += payload_bytes


def _track(run: _Run, op: dict[str, Any], action: str) -> None:
    cmd = prepare_track(
        op["name"], op.get("user_id"), op.get("anonymous_id"), op.get("properties"),
        "event" if action == "track" else action, op.get("timestamp"), op.get("event_id"),
        run.now,
    )
    _size_check(run, len(cmd.data_json) + len(cmd.name) + 64)
    if cmd.user_id is not None:
        key, cache = cmd.user_id, run.people
    else:
        key, cache = cmd.anonymous_id or "", run.links
    if key in cache:
        pk = cache[key]
        if pk is None and cache is run.people:
            run.suppressed += 1
            return
    else:
        outcome = units.resolve_track(run.conn, cmd, run.now)
        run.created += outcome.person_created
        if outcome.person_created and outcome.person_pk is not None:
            run.new_people[outcome.person_pk] = key
        pk = cache[key] = outcome.person_pk
        if outcome.status == "ignored_suppressed":
            run.suppressed += 1
            return
    run.pending.append(units.event_values(cmd, pk, run.now))


def _other(run: _Run, op: dict[str, Any], action: str) -> None:
    conn, now = run.conn, run.now
    if action == "identify":
        cmd = prepare_identify(op["user_id"], op.get("attributes"), op.get("anonymous_id"),
                               op.get("timestamp"), now)
        _size_check(run, sum(utf8_len(str(v)) + len(k) for k, v in cmd.changes.sets.items()))
        result = units.apply_identify(conn, cmd, now)
        run.created += result.created
        run.suppressed += result.status == "ignored_suppressed"
    elif action == "add_device":
        device = prepare_device(op["user_id"], op["device_id"], op["platform"],
                                op.get("attributes"), now)
        _size_check(run, len(device.attributes_json) + len(device.device_id))
        run.suppressed += units.apply_add_device(conn, device).status == "ignored_suppressed"
    elif action == "merge":
        primary = check_identifier(op["primary"], "primary")
        units.apply_merge(conn, primary, check_identifier(op["secondary"], "secondary"), now)
    else:
        user_id = check_identifier(op["user_id"], "user_id")
        if action == "remove_device":
            device_id = check_device_id(op["device_id"])
            units.apply_remove_device(conn, user_id, device_id)
        elif action == "delete":
            units.apply_delete(conn, user_id)
        elif action == "suppress":
            units.apply_suppress(conn, user_id, now)
        else:
            units.apply_unsuppress(conn, user_id)


def _in_savepoint(conn: sqlite3.Connection, body: Callable[..., None], *args: Any) -> None:
    conn.execute("SAVEPOINT batch_op")
    try:
        body(*args)
    except BaseException:
        conn.execute("ROLLBACK TO batch_op")
        conn.execute("RELEASE batch_op")
        raise
    conn.execute("RELEASE batch_op")

"""SQL for workflows, their versions and references, runs, journeys and their logs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_WORKFLOW_COLUMNS = ("pk, workflow_id, name, status, version, trigger_type, trigger_key, "
                     "created_at, updated_at")
_JOURNEY_COLUMNS = ("j.pk, j.workflow_pk, w.workflow_id, j.version, j.run_pk, r.run_id, "
                    "j.person_pk, p.user_id, j.status, j.state, j.step_id, j.wait_event, j.due, "
                    "j.data, j.depth, j.entered_at, j.updated_at, j.ended_at")
_JOURNEY_FROM = (" FROM journeys j JOIN workflows w ON w.pk = j.workflow_pk "
                 "JOIN workflow_runs r ON r.pk = j.run_pk JOIN people p ON p.pk = j.person_pk")
OPEN = ("active", "waiting")


@dataclass(frozen=True)
class WorkflowRow:
    pk: int
    workflow_id: str
    name: str
    status: str
    version: int
    trigger_type: str
    trigger_key: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class JourneyRow:
    pk: int
    workflow_pk: int
    workflow_id: str
    version: int
    run_pk: int
    run_id: str
    person_pk: int
    user_id: str
    status: str
    state: str  # JSON
    step_id: str | None
    wait_event: str | None
    due: float | None
    data: str  # JSON
    depth: int
    entered_at: float
    updated_at: float
    ended_at: float | None


@dataclass(frozen=True)
class RunRow:
    pk: int
    run_id: str
    workflow_pk: int
    cause: str
    data: str
    status: str
    total: int
    created_at: float


# --- workflows --------------------------------------------------------------------------

def insert_workflow(conn: sqlite3.Connection, workflow_id: str, name: str, status: str,
                    trigger_type: str, trigger_key: str | None, now: float) -> int:
    return conn.execute(
        "INSERT INTO workflows (workflow_id, name, status, version, trigger_type, trigger_key, "
        "created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?) RETURNING pk",
        (workflow_id, name, status, trigger_type, trigger_key, now, now)).fetchone()[0]


def workflow_by_id(conn: sqlite3.Connection, workflow_id: str) -> WorkflowRow | None:
    row = conn.execute(f"SELECT {_WORKFLOW_COLUMNS} FROM workflows WHERE workflow_id = ?",
                       (workflow_id,)).fetchone()
    return WorkflowRow(*row) if row else None


def workflow_by_pk(conn: sqlite3.Connection, pk: int) -> WorkflowRow | None:
    row = conn.execute(f"SELECT {_WORKFLOW_COLUMNS} FROM workflows WHERE pk = ?",
                       (pk,)).fetchone()
    return WorkflowRow(*row) if row else None


def update_workflow(conn: sqlite3.Connection, pk: int, now: float, **values: Any) -> None:
    """Set columns of a workflow (names are ours, never user text)."""
    names = sorted(values)
    assignments = ", ".join(f"{name} = ?" for name in names)
    conn.execute(f"UPDATE workflows SET {assignments}, updated_at = ? WHERE pk = ?",
                 (*(values[name] for name in names), now, pk))


def list_workflows(conn: sqlite3.Connection, after: str | None, limit: int,
                   include_archived: bool) -> list[WorkflowRow]:
    clauses, params = [], []
    if after is not None:
        clauses.append("workflow_id > ?")
        params.append(after)
    if not include_archived:
        clauses.append("status != 'archived'")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(f"SELECT {_WORKFLOW_COLUMNS} FROM workflows{where} ORDER BY workflow_id "
                        "LIMIT ?", (*params, limit)).fetchall()
    return [WorkflowRow(*row) for row in rows]



def put_version(conn: sqlite3.Connection, workflow_pk: int, version: int, definition: str,
                now: float) -> None:
    conn.execute("INSERT OR REPLACE INTO workflow_versions VALUES (?, ?, ?, ?)",
                 (workflow_pk, version, definition, now))


def definition(conn: sqlite3.Connection, workflow_pk: int, version: int) -> str:
    return conn.execute("SELECT definition FROM workflow_versions WHERE workflow_pk = ? AND "
                        "version = ?", (workflow_pk, version)).fetchone()[0]


def active_workflows(conn: sqlite3.Connection, trigger_type: str,
                     trigger_key: str | None) -> list[tuple[int, int]]:
    """(pk, version) of the active workflows with this trigger."""
    return conn.execute("SELECT pk, version FROM workflows WHERE status = 'active' AND "
                        "trigger_type = ? AND trigger_key IS ?",
                        (trigger_type, trigger_key)).fetchall()



def set_refs(conn: sqlite3.Connection, workflow_pk: int,
             refs: Iterable[tuple[str, str]]) -> None:
    conn.execute("DELETE FROM workflow_refs WHERE workflow_pk = ?", (workflow_pk,))
    conn.executemany("INSERT OR IGNORE INTO workflow_refs VALUES (?, ?, ?)",
                     [(workflow_pk, kind, ref) for kind, ref in refs])


def workflows_using(conn: sqlite3.Connection, kind: str, ref_id: str) -> list[str]:
    """Ids of the workflows (not archived) whose current version uses `ref_id`."""
    return [row[0] for row in conn.execute(
        "SELECT w.workflow_id FROM workflow_refs r JOIN workflows w ON w.pk = r.workflow_pk "
        "WHERE r.kind = ? AND r.ref_id = ? AND w.status != 'archived' ORDER BY w.workflow_id",
        (kind, ref_id))]


# --- runs -------------------------------------------------------------------------------

def insert_run(conn: sqlite3.Connection, run_id: str, workflow_pk: int, cause: str,
               data: str, now: float) -> int:
    return conn.execute(
        "INSERT INTO workflow_runs (run_id, workflow_pk, cause, data, status, created_at) "
        "VALUES (?, ?, ?, ?, 'running', ?) RETURNING pk",
        (run_id, workflow_pk, cause, data, now)).fetchone()[0]


def run_by_id(conn: sqlite3.Connection, run_id: str) -> RunRow | None:
    row = conn.execute("SELECT pk, run_id, workflow_pk, cause, data, status, total, created_at "
                       "FROM workflow_runs WHERE run_id = ?", (run_id,)).fetchone()
    return RunRow(*row) if row else None


def add_to_run(conn: sqlite3.Connection, run_pk: int, count: int) -> None:
    conn.execute("UPDATE workflow_runs SET total = total + ? WHERE pk = ?", (count, run_pk))


def cancel_run(conn: sqlite3.Connection, run_pk: int, now: float) -> int:
    """Every open journey of the run cancelled; returns how many."""
    conn.execute("UPDATE workflow_runs SET status = 'cancelled' WHERE pk = ?", (run_pk,))
    return conn.execute(
        "UPDATE journeys SET status = 'cancelled', due = NULL, wait_event = NULL, "
        "ended_at = ?, updated_at = ? WHERE run_pk = ? AND ended_at IS NULL",
        (now, now, run_pk)).rowcount


def run_counts(conn: sqlite3.Connection, run_pk: int) -> dict[str, int]:
    return dict(conn.execute("SELECT status, count(*) FROM journeys WHERE run_pk = ? "
                             "GROUP BY status", (run_pk,)).fetchall())


def run_journeys(conn: sqlite3.Connection, run_pk: int, after: int | None,
                 limit: int) -> list[JourneyRow]:
    rows = conn.execute(f"SELECT {_JOURNEY_COLUMNS}{_JOURNEY_FROM} WHERE j.run_pk = ? AND "
                        "j.pk > ? ORDER BY j.pk LIMIT ?",
                        (run_pk, after or 0, limit)).fetchall()
    return [JourneyRow(*row) for row in rows]


def step_counts(conn: sqlite3.Connection, workflow_pk: int) -> dict[str, int]:
    """Open journeys of the workflow at each step."""
    return dict(conn.execute("SELECT step_id, count(*) FROM journeys WHERE workflow_pk = ? "
                             "AND ended_at IS NULL GROUP BY step_id",
                             (workflow_pk,)).fetchall())


# --- journeys ---------------------------------------------------------------------------

def insert_journey(conn: sqlite3.Connection, workflow_pk: int, version: int, run_pk: int,
                   person_pk: int, data: str, depth: int, now: float) -> int:
    return conn.execute(
        "INSERT INTO journeys (workflow_pk, version, run_pk, person_pk, status, state, data, "
        "depth, entered_at, updated_at) VALUES (?, ?, ?, ?, 'active', '{}', ?, ?, ?, ?) "
        "RETURNING pk",
        (workflow_pk, version, run_pk, person_pk, data, depth, now, now)).fetchone()[0]


def journey_by_pk(conn: sqlite3.Connection, pk: int) -> JourneyRow | None:
    row = conn.execute(f"SELECT {_JOURNEY_COLUMNS}{_JOURNEY_FROM} WHERE j.pk = ?",
                       (pk,)).fetchone()
    return JourneyRow(*row) if row else None


def save_journey(conn: sqlite3.Connection, pk: int, status: str, state: str,
                 step_id: str | None, wait_event: str | None, due: float | None,
                 ended_at: float | None, now: float) -> None:
    conn.execute("UPDATE journeys SET status = ?, state = ?, step_id = ?, wait_event = ?, "
                 "due = ?, ended_at = ?, updated_at = ? WHERE pk = ?",
                 (status, state, step_id, wait_event, due, ended_at, now, pk))


def last_entry(conn: sqlite3.Connection, workflow_pk: int,
               person_pk: int) -> tuple[float, bool] | None:
    """(entered_at, still open) of the person's latest journey through the workflow."""
    row = conn.execute("SELECT entered_at, ended_at IS NULL FROM journeys WHERE "
                       "workflow_pk = ? AND person_pk = ? ORDER BY pk DESC LIMIT 1",
                       (workflow_pk, person_pk)).fetchone()
    return (row[0], bool(row[1])) if row else None


def open_journeys_of(conn: sqlite3.Connection, person_pk: int) -> list[JourneyRow]:
    rows = conn.execute(f"SELECT {_JOURNEY_COLUMNS}{_JOURNEY_FROM} WHERE j.person_pk = ? AND "
                        "j.ended_at IS NULL ORDER BY j.pk", (person_pk,)).fetchall()
    return [JourneyRow(*row) for row in rows]


def journeys_of(conn: sqlite3.Connection, person_pk: int, before: int | None,
                limit: int) -> list[JourneyRow]:
    rows = conn.execute(f"SELECT {_JOURNEY_COLUMNS}{_JOURNEY_FROM} WHERE j.person_pk = ? AND "
                        "j.pk < ? ORDER BY j.pk DESC LIMIT ?",
                        (person_pk, before if before is not None else 2**62, limit)).fetchall()
    return [JourneyRow(*row) for row in rows]



def due_journeys(conn: sqlite3.Connection, until: float, limit: int) -> list[tuple[int, float]]:
    return conn.execute("SELECT pk, due FROM journeys WHERE due IS NOT NULL AND due <= ? "
                        "ORDER BY due, pk LIMIT ?",
                        (until, limit)).fetchall()


def earliest_due(conn: sqlite3.Connection) -> float | None:
    return conn.execute("SELECT min(due) FROM journeys WHERE due IS NOT NULL").fetchone()[0]



def add_log(conn: sqlite3.Connection, journey_pk: int,
            entries: Iterable[tuple[float, str, str, str, str]]) -> None:
    """(at, step_id, step_type, what, detail) appended in order."""
    entries = list(entries)
    if not entries:
        return
    start = conn.execute("SELECT coalesce(max(seq), 0) FROM journey_log WHERE journey_pk = ?",
                         (journey_pk,)).fetchone()[0]
    conn.executemany("INSERT INTO journey_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(journey_pk, start + n, *entry) for n, entry in enumerate(entries, 1)])


def log_of(conn: sqlite3.Connection, journey_pk: int, limit: int) -> list[tuple[Any, ...]]:
    """The newest `limit` entries, oldest first: (at, step_id, step_type, what, detail)."""
    rows = conn.execute("SELECT at, step_id, step_type, what, detail FROM journey_log WHERE "
                        "journey_pk = ? ORDER BY seq DESC LIMIT ?", (journey_pk, limit)).fetchall()
    return rows[::-1]


def move_journeys(conn: sqlite3.Connection, from_pk: int, to_pk: int) -> None:
    conn.execute("UPDATE journeys SET person_pk = ? WHERE person_pk = ?", (to_pk, from_pk))



def clear_due(conn: sqlite3.Connection, pk: int) -> None:
    conn.execute("UPDATE journeys SET due = NULL WHERE pk = ?", (pk,))


def cancel_workflow_journeys(conn: sqlite3.Connection, workflow_pk: int, now: float) -> int:
    return conn.execute(
        "UPDATE journeys SET status = 'cancelled', due = NULL, wait_event = NULL, "
        "ended_at = ?, updated_at = ? WHERE workflow_pk = ? AND ended_at IS NULL",
        (now, now, workflow_pk)).rowcount


def versions_started(conn: sqlite3.Connection, workflow_pk: int, version: int) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM journeys WHERE workflow_pk = ? AND "
                        "version = ?)", (workflow_pk, version)).fetchone()[0] == 1


def workflow_totals(conn: sqlite3.Connection, workflow_pk: int) -> dict[str, int]:
    """Journeys of the workflow by status, and how many converted."""
    found = dict(conn.execute("SELECT status, count(*) FROM journeys WHERE workflow_pk = ? "
                              "GROUP BY status", (workflow_pk,)).fetchall())
    found["converted"] = conn.execute(
        "SELECT count(*) FROM journeys WHERE workflow_pk = ? AND "
        "json_extract(state, '$.converted_at') IS NOT NULL", (workflow_pk,)).fetchone()[0]
    return found


def run_by_pk(conn: sqlite3.Connection, pk: int) -> RunRow | None:
    row = conn.execute("SELECT pk, run_id, workflow_pk, cause, data, status, total, created_at "
                       "FROM workflow_runs WHERE pk = ?", (pk,)).fetchone()
    return RunRow(*row) if row else None


def live_triggers(conn: sqlite3.Connection) -> dict[str, set[str | None]] | None:
    """trigger type -> keys of the active workflows; None when no workflow exists that is
    not archived (one read a write pays while journeys are in use)."""
    rows = conn.execute("SELECT trigger_type, trigger_key, status FROM workflows "
                        "WHERE status != 'archived'").fetchall()
    if not rows:
        return None
    found: dict[str, set[str | None]] = {}
    for kind, key, status in rows:
        if status == "active":
            found.setdefault(kind, set()).add(key)
    return found


def open_of(conn: sqlite3.Connection, person_pk: int) -> list[tuple[int, int, int, str | None]]:
    """(pk, workflow_pk, version, wait_event) of the person's open journeys."""
    return conn.execute("SELECT pk, workflow_pk, version, wait_event FROM journeys WHERE "
                        "person_pk = ? AND ended_at IS NULL ORDER BY pk",
                        (person_pk,)).fetchall()


# --- date triggers ------------------------------------------------------------------------

def people_with(conn: sqlite3.Connection, attribute: str) -> list[tuple[int, str]]:
    """(pk, attributes JSON) of the people who have `attribute` (bound as a JSON path)."""
    path = '$."' + attribute.replace('"', '\\"') + '"'
    return conn.execute("SELECT pk, attributes FROM people WHERE json_extract(attributes, ?) "
                        "IS NOT NULL", (path,)).fetchall()


def set_date(conn: sqlite3.Connection, workflow_pk: int, person_pk: int,
             due: float | None) -> None:
    if due is None:
        conn.execute("DELETE FROM journey_dates WHERE workflow_pk = ? AND person_pk = ?",
                     (workflow_pk, person_pk))
    else:
        conn.execute("INSERT OR REPLACE INTO journey_dates VALUES (?, ?, ?)",
                     (workflow_pk, person_pk, due))


def clear_dates(conn: sqlite3.Connection, workflow_pk: int) -> None:
    conn.execute("DELETE FROM journey_dates WHERE workflow_pk = ?", (workflow_pk,))


def due_dates(conn: sqlite3.Connection, until: float,
              limit: int) -> list[tuple[int, int, float]]:
    """(workflow_pk, person_pk, due) of date triggers due by `until`, oldest first."""
    return conn.execute("SELECT workflow_pk, person_pk, due FROM journey_dates WHERE due <= ? "
                        "ORDER BY due LIMIT ?", (until, limit)).fetchall()


def earliest_date(conn: sqlite3.Connection) -> float | None:
    return conn.execute("SELECT min(due) FROM journey_dates").fetchone()[0]

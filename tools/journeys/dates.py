"""Date triggers: each person's moment (tools/core/journeys/dates.py) kept in journey_dates
while the workflow is active, recomputed when the attribute changes, and started as timed
work at that moment (re-entry settings apply)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from store import journeys_repo as repo
from tools import writes
from tools.core.journeys.dates import trigger_moment
from tools.core.journeys.model import Workflow
from tools.journeys.runner import Ports, new_run_id, start_journey, workflow_of
from tools.timed import Ran


def schedule_person(conn: sqlite3.Connection, workflow_pk: int, workflow: Workflow,
                    person_pk: int, attributes: Mapping[str, Any], now: float) -> None:
    """The person's moment for a date workflow (none when it passed or is not a time)."""
    due = trigger_moment(workflow.trigger, attributes)
    if due is not None and due <= now:
        due = None
    repo.set_date(conn, workflow_pk, person_pk, due)
    if due is not None:
        writes.current().schedule(due)


def schedule_everyone(conn: sqlite3.Connection, workflow_pk: int, workflow: Workflow,
                      now: float) -> None:
    """At activation: the moment of everyone who has the attribute."""
    assert workflow.trigger.attribute is not None
    for person_pk, attributes in repo.people_with(conn, workflow.trigger.attribute):
        schedule_person(conn, workflow_pk, workflow, person_pk, json.loads(attributes), now)


def attribute_changed(conn: sqlite3.Connection, attribute: str, person_pk: int,
                      attributes: Mapping[str, Any], now: float) -> None:
    for workflow_pk, version in repo.active_workflows(conn, "date", attribute):
        schedule_person(conn, workflow_pk, workflow_of(conn, workflow_pk, version), person_pk,
                        attributes, now)


class DateWork:
    """Date triggers whose moment came start their journeys."""

    area = "journey_dates"
    needs_dispatch = False

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def earliest(self, conn: sqlite3.Connection) -> float | None:
        return repo.earliest_date(conn)

    def run_due(self, conn: sqlite3.Connection, until: float, budget: int) -> Ran:
        now = writes.current().now
        rows = repo.due_dates(conn, until, budget)
        for workflow_pk, person_pk, due in rows:
            repo.set_date(conn, workflow_pk, person_pk, None)
            workflow = repo.workflow_by_pk(conn, workflow_pk)
            if workflow is None or workflow.status != "active":
                continue
            data = {"date": {"attribute": workflow.trigger_key, "at": due}}
            run_pk = repo.insert_run(conn, new_run_id(), workflow_pk, "date",
                                     json.dumps(data), now)
            start_journey(conn, self.ports, workflow_pk, workflow.version, run_pk, person_pk,
                          data, 0, max(now, due))
        return Ran(len(rows), rows[0][2] if rows else None)

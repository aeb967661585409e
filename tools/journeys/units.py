"""Write units of the journey operations (synchronous functions of the connection)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from store import delivery_repo, journeys_repo, people_repo, segments_repo, templates_repo
from tools.core.errors import Conflict, InvalidInput, NotFound
from tools.core.journeys.definition import References, references, to_json, walk
from tools.core.journeys.interpreter import path_of
from tools.core.journeys.model import SendStep, Step, WebhookStep, Workflow
from tools.journeys import dates
from tools.journeys.models import Cancelled, Triggered, WorkflowSaved
from tools.journeys.runner import Ports, new_run_id, start_journey, workflow_of
from tools.journeys.trigger_cache import workflows_changed

TRIGGER_KEYS = {"event": "event", "segment_entered": "segment_id",
                "segment_exited": "segment_id", "attribute_changed": "attribute",
                "date": "attribute"}
NOTES = {"draft": "saved as a draft: try it with workflows_simulate, then workflows_activate",
         "active": "active: its trigger starts journeys", "paused": "paused: nobody new "
         "enters; people on their way continue", "archived": "archived: open journeys were "
         "cancelled; its history stays"}


def require_workflow(conn: sqlite3.Connection, workflow_id: str) -> journeys_repo.WorkflowRow:
    row = journeys_repo.workflow_by_id(conn, workflow_id)
    if row is None:
        raise NotFound(f"workflow {workflow_id!r} not found; workflows_list shows the ids",
                       field="workflow_id")
    return row


def _trigger_key(workflow: Workflow) -> str | None:
    trigger = workflow.trigger
    name = TRIGGER_KEYS.get(trigger.type)
    return None if name is None else getattr(trigger, name)


def step_field(workflow: Workflow, uses: Callable[[Step], bool], key: str) -> str:
    """The input path of the first step `uses` picks, e.g. steps[3].then[0].template_id."""
    for step in walk(workflow.steps):
        if uses(step):
            path = path_of(workflow, step.id) or ()
            parts, index = ["steps"], 0
            while index < len(path):
                item = path[index]
                if item == "cohort":
                    parts.append(f".cohorts[{path[index + 1]}].steps")
                    index += 2
                    continue
                parts.append(f"[{item}]" if isinstance(item, int) else
                             f".{'on_timeout' if item == 'timeout' else item}")
                index += 1
            return "".join(parts) + f".{key}"
    return "steps"


def _fallbacks(step: Step) -> list[tuple[str, str]]:
    main = [(step.channel, step.template_id)] if isinstance(step, SendStep) else \
        [("webhook", step.template_id)] if isinstance(step, WebhookStep) else []
    return main + list(step.fallback if isinstance(step, SendStep) else ())


def _sends(template_id: str, not_channel: str | None = None) -> Callable[[Step], bool]:
    """A step sending the template (on a channel other than `not_channel`)."""
    def uses(step: Step) -> bool:
        return any(t == template_id and (not_channel is None or c != not_channel)
                   for c, t in _fallbacks(step))
    return uses


def _reads_segment(segment_id: str) -> Callable[[Step], bool]:
    """A step whose own condition (not a nested step's) reads the segment."""
    needle = json.dumps({"segment": segment_id})[1:-1]
    def uses(step: Step) -> bool:
        condition = getattr(step, "condition", None)
        return condition is not None and needle in json.dumps(condition)
    return uses


def _sends_under(topic: str) -> Callable[[Step], bool]:
    def uses(step: Step) -> bool:
        return getattr(step, "topic", None) == topic
    return uses


def check_references(conn: sqlite3.Connection, workflow: Workflow, refs: References) -> None:
    """Everything the workflow names exists and suits its step; an error names the path
    of the step (or the trigger) that names it."""
    for template_id, channels in sorted(refs.templates.items()):
        field = step_field(workflow, _sends(template_id), "template_id")
        template = templates_repo.get_template(conn, template_id)
        if template is None:
            raise NotFound(f"template {template_id!r} not found; templates_create makes it, "
                           "templates_list shows the ids", field=field)
        wrong = sorted(c for c in channels if c != template.channel)
        if wrong:
            field = step_field(workflow, _sends(template_id, template.channel), "template_id")
            raise InvalidInput(f"template {template_id!r} is a {template.channel} template "
                               f"but a step sends it on {', '.join(wrong)}; give a template "
                               "of that channel", field=field)
    for segment_id in sorted(refs.segments):
        if segments_repo.find_segment(conn, segment_id) is None:
            field = "trigger.segment_id" if workflow.trigger.segment_id == segment_id else \
                step_field(workflow, _reads_segment(segment_id), "condition.segment")
            raise NotFound(f"segment {segment_id!r} not found; segments_list shows the ids",
                           field=field)
    for topic in sorted(refs.topics):
        if delivery_repo.topic_default(conn, topic) is None:
            raise NotFound(f"topic {topic!r} not found; topics_create makes it",
                           field=step_field(workflow, _sends_under(topic), "topic"))


def _ref_rows(refs: References) -> list[tuple[str, str]]:
    return ([("template", t) for t in refs.templates] + [("segment", s) for s in refs.segments]
            + [("topic", t) for t in refs.topics])


def _saved(row: journeys_repo.WorkflowRow, workflow: Workflow, note: str = "") -> WorkflowSaved:
    return WorkflowSaved(workflow_id=row.workflow_id, status=row.status,  # type: ignore[arg-type]
                         version=row.version, steps=sum(1 for _ in walk(workflow.steps)),
                         note=note or NOTES[row.status])


def apply_create(conn: sqlite3.Connection, workflow: Workflow, now: float) -> WorkflowSaved:
    if journeys_repo.workflow_by_id(conn, workflow.workflow_id) is not None:
        raise Conflict(f"workflow {workflow.workflow_id!r} exists; workflows_update changes "
                       "it", field="workflow_id")
    refs = references(workflow)
    check_references(conn, workflow, refs)
    workflows_changed()
    pk = journeys_repo.insert_workflow(conn, workflow.workflow_id, workflow.name, "draft",
                                       workflow.trigger.type, _trigger_key(workflow), now)
    journeys_repo.put_version(conn, pk, 1, json.dumps(to_json(workflow)), now)
    journeys_repo.set_refs(conn, pk, _ref_rows(refs))
    row = journeys_repo.workflow_by_pk(conn, pk)
    assert row is not None
    return _saved(row, workflow)


def current_definition(conn: sqlite3.Connection, workflow_id: str) -> dict[str, Any]:
    row = require_workflow(conn, workflow_id)
    return dict(json.loads(journeys_repo.definition(conn, row.pk, row.version)))


def apply_update(conn: sqlite3.Connection, workflow: Workflow, now: float) -> WorkflowSaved:
    row = require_workflow(conn, workflow.workflow_id)
    if row.status == "archived":
        raise Conflict(f"workflow {row.workflow_id!r} is archived; create a new one",
                       field="workflow_id")
    refs = references(workflow)
    check_references(conn, workflow, refs)
    version = row.version
    note = "updated in place (nobody has started this version)"
    kept: list[tuple[str, str]] = []
    if journeys_repo.versions_started(conn, row.pk, version):
        # people on the old version still send its templates: they stay in use
        kept = _ref_rows(references(workflow_of(conn, row.pk, version)))
        version += 1
        note = (f"saved as version {version}: new journeys start on it, people on their way "
                f"finish on version {row.version}")
    workflows_changed()
    journeys_repo.put_version(conn, row.pk, version, json.dumps(to_json(workflow)), now)
    journeys_repo.update_workflow(conn, row.pk, now, name=workflow.name, version=version,
                                  trigger_type=workflow.trigger.type,
                                  trigger_key=_trigger_key(workflow))
    journeys_repo.set_refs(conn, row.pk, [*_ref_rows(refs), *kept])
    updated = journeys_repo.workflow_by_pk(conn, row.pk)
    assert updated is not None
    return _saved(updated, workflow, note)


def apply_status(conn: sqlite3.Connection, workflow_id: str, status: str,
                 now: float) -> WorkflowSaved:
    row = require_workflow(conn, workflow_id)
    workflow = workflow_of(conn, row.pk, row.version)
    if row.status == "archived":
        if status == "archived":
            return _saved(row, workflow)
        raise Conflict(f"workflow {workflow_id!r} is archived; create a new one",
                       field="workflow_id")
    if status == "active":
        check_references(conn, workflow, references(workflow))  # still there since it was saved
    if status == "archived":
        journeys_repo.cancel_workflow_journeys(conn, row.pk, now)
        journeys_repo.set_refs(conn, row.pk, [])
    workflows_changed()
    journeys_repo.update_workflow(conn, row.pk, now, status=status)
    if workflow.trigger.type == "date":  # the people's moments, while it is active
        journeys_repo.clear_dates(conn, row.pk)
        if status == "active":
            dates.schedule_everyone(conn, row.pk, workflow, now)
    updated = journeys_repo.workflow_by_pk(conn, row.pk)
    assert updated is not None
    return _saved(updated, workflow)


def apply_trigger(conn: sqlite3.Connection, ports: Ports, workflow_id: str,
                  recipients: list[str], segment: str | None, data: Mapping[str, Any],
                  now: float) -> Triggered:
    row = require_workflow(conn, workflow_id)
    if row.status != "active":
        raise Conflict(f"workflow {workflow_id!r} is {row.status}; workflows_activate "
                       "switches it on first", field="workflow_id")
    people: list[tuple[str, int]] = []
    skipped: list[dict[str, str]] = []
    for user_id in dict.fromkeys(recipients):
        pk = people_repo.person_pk(conn, user_id)
        if pk is None:
            skipped.append({"user_id": user_id, "reason": "no such person"})
        else:
            people.append((user_id, pk))
    if segment is not None:
        found = segments_repo.find_segment(conn, segment)
        if found is None:
            raise NotFound(f"segment {segment!r} not found; segments_list shows the ids",
                           field="segment")
        seen = {pk for _, pk in people}
        for pk in sorted(segments_repo.member_pks(conn, found.pk) - seen):
            people.append(("", pk))
    run_pk = journeys_repo.insert_run(conn, new_run_id(), row.pk, "api",
                                      json.dumps({"trigger": dict(data)}), now)
    started = 0
    for user_id, pk in people:
        if start_journey(conn, ports, row.pk, row.version, run_pk, pk, {"trigger": dict(data)},
                         0, now) is None:
            skipped.append({"user_id": user_id or _user_id(conn, pk),
                            "reason": "re-entry settings keep them out (on it, or been on it)"})
        else:
            started += 1
    run = journeys_repo.run_by_pk(conn, run_pk)
    assert run is not None
    return Triggered(run_id=run.run_id, recipients=started, skipped=skipped[:100])


def _user_id(conn: sqlite3.Connection, pk: int) -> str:
    row = conn.execute("SELECT user_id FROM people WHERE pk = ?", (pk,)).fetchone()
    return row[0] if row else ""


def apply_cancel(conn: sqlite3.Connection, run_id: str, now: float) -> Cancelled:
    run = journeys_repo.run_by_id(conn, run_id)
    if run is None:
        raise NotFound(f"run {run_id!r} not found; workflows_trigger returns run ids, "
                       "journeys_list shows each journey's", field="run_id")
    return Cancelled(run_id=run_id, cancelled=journeys_repo.cancel_run(conn, run.pk, now))

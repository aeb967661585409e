"""Reads of the journey operations, and the simulator's inputs and rendering."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from store import journeys_repo as repo
from store import people_repo, segments_repo, templates_repo
from tools.core.durations import parse_duration
from tools.core.errors import EngineError, InvalidInput, NotFound
from tools.core.journeys import interpreter
from tools.core.journeys.definition import parse_workflow, references
from tools.core.journeys.diagram import mermaid
from tools.core.journeys.model import Workflow as WorkflowModel
from tools.core.journeys.simulate import Simulation as SimulationResult
from tools.core.journeys.state_json import load_state
from tools.core.templates.preview import render_send
from tools.core.timefmt import iso
from tools.core.validate import check_event_name, check_object
from tools.journeys.models import (
    JourneyInfo,
    JourneysPage,
    RecipientStatus,
    RunStatus,
    SimulatedMessage,
    SimulatedStep,
    Simulation,
    Workflow,
    WorkflowsPage,
    WorkflowSummary,
)
from tools.journeys.runner import ENDED, split_key_of, workflow_of
from tools.journeys.units import require_workflow
from tools.paging import paged
from tools.person_views import PersonJourney
from tools.render_pool import RENDERS

RECENT_LOG = 5


def read_workflow(conn: sqlite3.Connection, workflow_id: str) -> Workflow:
    row = require_workflow(conn, workflow_id)
    definition = json.loads(repo.definition(conn, row.pk, row.version))
    return Workflow(workflow_id=row.workflow_id, name=row.name,
                    status=row.status,  # type: ignore[arg-type]
                    version=row.version, definition=definition,
                    journeys=repo.workflow_totals(conn, row.pk),
                    at_step={k or "": v for k, v in repo.step_counts(conn, row.pk).items()},
                    created_at=iso(row.created_at), updated_at=iso(row.updated_at))


def read_diagram(conn: sqlite3.Connection, workflow_id: str) -> str:
    row = require_workflow(conn, workflow_id)
    return mermaid(workflow_of(conn, row.pk, row.version),
                   {k: v for k, v in repo.step_counts(conn, row.pk).items() if k},
                   repo.workflow_totals(conn, row.pk))


def read_workflows(conn: sqlite3.Connection, after: str | None, limit: int,
                   include_archived: bool) -> WorkflowsPage:
    rows, cursor = paged(lambda n: repo.list_workflows(conn, after, n, include_archived),
                         limit, lambda row: [row.workflow_id])
    return WorkflowsPage(workflows=[WorkflowSummary(
        workflow_id=r.workflow_id, name=r.name, status=r.status,  # type: ignore[arg-type]
        version=r.version, trigger=r.trigger_type + (f" {r.trigger_key}" if r.trigger_key
                                                     else ""),
        updated_at=iso(r.updated_at)) for r in rows], next_cursor=cursor)


def _progress(conn: sqlite3.Connection, journey: repo.JourneyRow) -> tuple[str | None, str]:
    workflow = workflow_of(conn, journey.workflow_pk, journey.version)
    state = load_state(journey.state)
    on_path = interpreter.steps_on_path(workflow, state)
    return journey.step_id if journey.ended_at is None else None, \
        f"{state.steps_done}/{max(on_path, state.steps_done)}"


def read_run(conn: sqlite3.Connection, run_id: str, after: int | None, limit: int) -> RunStatus:
    run = repo.run_by_id(conn, run_id)
    if run is None:
        raise NotFound(f"run {run_id!r} not found; workflows_trigger returns run ids",
                       field="run_id")
    workflow = repo.workflow_by_pk(conn, run.workflow_pk)
    assert workflow is not None
    counts = repo.run_counts(conn, run.pk)
    ended = sum(n for status, n in counts.items() if status in ENDED)
    total = sum(counts.values())
    status = "cancelled" if run.status == "cancelled" else (
        "running" if ended < total else "failed" if counts.get("failed") == total and total
        else "completed")
    rows, cursor = paged(lambda n: repo.run_journeys(conn, run.pk, after, n), limit,
                         lambda row: [row.pk])
    recipients = []
    for journey in rows:
        step, progress = _progress(conn, journey)
        recipients.append(RecipientStatus(user_id=journey.user_id, status=journey.status,
                                          current_step=step, progress=progress,
                                          entered_at=iso(journey.entered_at)))
    at_step: dict[str, int] = {}
    for journey in repo.run_journeys(conn, run.pk, None, 10_000):
        if journey.ended_at is None and journey.step_id:
            at_step[journey.step_id] = at_step.get(journey.step_id, 0) + 1
    return RunStatus(run_id=run_id, workflow_id=workflow.workflow_id,
                     status=status,  # type: ignore[arg-type]
                     progress=f"{ended}/{total}", counts=counts, at_step=at_step,
                     recipients=recipients, next_cursor=cursor)


def read_journeys(conn: sqlite3.Connection, user_id: str, before: int | None,
                  limit: int) -> JourneysPage:
    pk = people_repo.person_pk(conn, user_id)
    if pk is None:
        raise NotFound(f"no person with user_id {user_id!r}; identify creates people",
                       field="user_id")
    rows, cursor = paged(lambda n: repo.journeys_of(conn, pk, before, n), limit,
                         lambda row: [row.pk])
    journeys = []
    for journey in rows:
        state = load_state(journey.state)
        recent = [f"{iso(at)} {step_id or '-'} {what}" + (f": {detail}" if detail else "")
                  for at, step_id, _, what, detail in repo.log_of(conn, journey.pk, RECENT_LOG)]
        journeys.append(JourneyInfo(
            workflow_id=journey.workflow_id, version=journey.version, run_id=journey.run_id,
            status=journey.status,
            current_step=journey.step_id if journey.ended_at is None else None,
            waiting_until=iso(state.waiting.until) if state.waiting and journey.ended_at is None
            else None, entered_at=iso(journey.entered_at), recent=recent))
    return JourneysPage(user_id=user_id, journeys=journeys, next_cursor=cursor)


# --- simulation ---------------------------------------------------------------------------

@dataclass
class SimulationInputs:
    workflow: WorkflowModel
    profile: dict[str, Any]
    segments: set[str]
    devices: set[str]
    user_id: str
    templates: dict[str, tuple[str, dict[str, Any], str | None, dict[str, str]]] = \
        field(default_factory=dict)  # id -> (channel, fields, layout, snippets)
    split_key: str | None = None  # a stored person on a saved workflow: their real cohorts


def check_simulated_events(events: Any, horizon: float) -> list[tuple[float, str, dict[str, Any]]]:
    """[{"name", "at": "+2d" (or "-1d": history), "properties"?}] as (seconds, name, props)."""
    if events is None:
        return []
    if not isinstance(events, list) or len(events) > 1_000:
        raise InvalidInput("events must be a list of at most 1,000 {\"name\", \"at\": \"+2d\", "
                           "\"properties\"} objects", field="events")
    found = []
    for index, item in enumerate(events):
        where = f"events[{index}]"
        item = check_object(item, where)
        unknown = set(item) - {"name", "at", "properties"}
        if unknown:
            raise InvalidInput(f"{where} has unknown keys {sorted(unknown)}; it takes name, at, "
                               "properties", field=where)
        name = check_event_name(item.get("name"), f"{where}.name")
        at = item.get("at", "+0s")
        if not isinstance(at, str) or at[:1] not in "+-":
            raise InvalidInput(f"{where}.at must be a signed duration like '+2d' or '-1h'",
                               field=f"{where}.at")
        seconds = 0.0 if at[1:] in ("0s", "0") else parse_duration(at[1:], f"{where}.at")
        found.append(((seconds if at[0] == "+" else -seconds), name,
                      dict(check_object(item.get("properties", {}), f"{where}.properties"))))
    return found


def simulation_inputs(conn: sqlite3.Connection, workflow_id: str | None,
                      unsaved: WorkflowModel | None, user_id: str | None,
                      profile: Mapping[str, Any]) -> SimulationInputs:
    workflow_pk = None
    if unsaved is not None:
        workflow = unsaved
    else:
        assert workflow_id is not None
        row = require_workflow(conn, workflow_id)
        workflow_pk = row.pk
        workflow = parse_workflow(**json.loads(repo.definition(conn, row.pk, row.version)))
    split = None
    attributes: dict[str, Any] = {}
    segments: set[str] = set()
    devices: set[str] = set()
    if user_id is not None:
        person = people_repo.find_person(conn, user_id)
        if person is None:
            raise NotFound(f"no person with user_id {user_id!r}; give a profile instead to "
                           "simulate someone hypothetical", field="user_id")
        attributes = dict(person.attributes)
        if workflow_pk is not None:
            split = split_key_of(workflow_pk, person.pk)
        segments = {sid for sid, _, _ in segments_repo.segments_of(conn, person.pk)}
        devices = segments_repo.platforms_of(conn, person.pk)
    inputs = SimulationInputs(workflow, {**attributes, **profile}, segments, devices,
                              user_id or str(profile.get("id", "simulated")), split_key=split)
    for template_id in references(workflow).templates:
        template = templates_repo.get_template(conn, template_id)
        if template is None:
            continue
        layout = None
        roots: list[tuple[templates_repo.UserKind, str]] = [("template", template_id)]
        if template.layout_id:
            piece = templates_repo.get_piece(conn, "layout", template.layout_id)
            layout = piece.body if piece else None
            roots.append(("layout", template.layout_id))
        inputs.templates[template_id] = (template.channel, template.fields, layout,
                                         templates_repo.snippet_closure(conn, roots))
    return inputs


def _render_messages(jobs: list[tuple[str, dict[str, Any], str | None, dict[str, str],
                                      dict[str, Any], float]]) -> list[dict[str, Any] | str]:
    """Each message rendered, or its render error (run in a render process)."""
    done: list[dict[str, Any] | str] = []
    for channel, fields, layout, snippets, data, now in jobs:
        try:
            done.append(render_send(channel, fields, layout, snippets, data, now))
        except EngineError as exc:
            done.append(exc.message)
    return done


async def simulation_result(agent_id: str, inputs: SimulationInputs,
                            result: SimulationResult) -> Simulation:
    jobs = []
    for send, (at, profile) in zip(result.messages, result.message_context, strict=False):
        found = inputs.templates.get(send.template_id)
        if found is not None:
            channel, fields, layout, snippets = found
            data = {"customer": {**profile, "id": inputs.user_id}, "trigger": {}, "event": {},
                    "message": {"id": "simulated", "channel": channel}, "unsubscribe_url": ""}
            jobs.append((channel, fields, layout, snippets, data, at))
    rendered = await RENDERS.run(agent_id, _render_messages, jobs) if jobs else []
    messages = []
    for send, (at, _), output in zip(result.messages, result.message_context, rendered,
                                     strict=False):
        messages.append(SimulatedMessage(
            at=iso(at), step_id=send.step_id, channel=send.channel,
            template_id=send.template_id,
            rendered=output if isinstance(output, dict) else None,
            error=output if isinstance(output, str) else None))
    waiting = result.waiting
    return Simulation(
        status=result.status,
        path=[SimulatedStep(at=iso(e.at), step_id=e.step_id, step_type=e.step_type,
                            what=e.what, detail=e.detail) for e in result.path],
        messages=messages,
        waiting=None if waiting is None else f"{waiting.kind} at {waiting.step_id} until "
                                             f"{iso(waiting.until)}",
        attributes=result.attributes)


def person_view(conn: sqlite3.Connection, person_pk: int) -> dict[str, Any]:
    """The workflows a person is on now (for get_person)."""
    return {"journeys": [
        PersonJourney(workflow_id=j.workflow_id, status=j.status, current_step=j.step_id)
        for j in repo.open_journeys_of(conn, person_pk)]}

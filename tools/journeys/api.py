"""Journey operations of the engine (mixed into tools.api.CustomerIO): workflows an agent
writes, simulates, switches on, triggers and follows.

    await cio.workflows_create("welcome", "Welcome", {"type": "event", "event": "signup"},
                               [{"type": "send", "channel": "email", "template_id": "hi"},
                                {"type": "delay", "duration": "3d"}, ...])
    await cio.workflows_simulate("welcome", profile={"email": "a@example.com"})
    await cio.workflows_activate("welcome")

The definition format is in tools/core/journeys/definition.py (and the README). Journeys
run inside the writes that trigger them and as timed work (tools/journeys/subscriber.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from tools.core.cursor import decode_cursor
from tools.core.durations import check_duration
from tools.core.errors import InvalidInput
from tools.core.journeys.definition import parse_workflow
from tools.core.journeys.simulate import simulate
from tools.core.templates.commands import check_id
from tools.core.validate import check_identifier, check_object, to_json
from tools.engine import EngineBase, check_limit
from tools.journeys import queries, units
from tools.journeys.models import (
    Cancelled,
    JourneysPage,
    RunStatus,
    Simulation,
    Triggered,
    Workflow,
    WorkflowSaved,
    WorkflowsPage,
)
from tools.journeys.runner import Ports

MAX_RECIPIENTS = 10_000
TRIGGER_DATA_MAX_BYTES = 100_000
SIMULATED_EVENTS_MAX = 1_000
HORIZON_MAX_S = 365 * 86_400


class JourneysOps(EngineBase):
    """Workflows and the journeys people take through them."""

    journey_ports: ClassVar[Ports]  # wired by the composition root (tools/api.py)

    async def workflows_create(self, workflow_id: str, name: str, trigger: Mapping[str, Any],
                               steps: list[Any], settings: Mapping[str, Any] | None = None
                               ) -> WorkflowSaved:
        """Validate and save a workflow as a draft (workflows_activate switches it on)."""
        workflow = await asyncio.to_thread(parse_workflow, workflow_id, name, trigger, steps,
                                           settings)
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_create(conn, workflow, now))

    async def workflows_update(self, workflow_id: str, name: str | None = None,
                               trigger: Mapping[str, Any] | None = None,
                               steps: list[Any] | None = None,
                               settings: Mapping[str, Any] | None = None) -> WorkflowSaved:
        """Replace the given parts; an edit of a workflow people are on is a new version."""
        wid = check_id(workflow_id, "workflow_id")
        if name is None and trigger is None and steps is None and settings is None:
            raise InvalidInput("nothing to update: give name, trigger, steps and/or settings",
                               field="steps")
        current = await self._read(lambda conn: units.current_definition(conn, wid), small=True)
        merged = {**current, **{key: value for key, value in (
            ("name", name), ("trigger", trigger), ("steps", steps), ("settings", settings))
            if value is not None}}
        workflow = await asyncio.to_thread(lambda: parse_workflow(**merged))
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_update(conn, workflow, now))

    async def workflows_get(self, workflow_id: str) -> Workflow:
        """A workflow's definition, status, version and live counts."""
        wid = check_id(workflow_id, "workflow_id")
        return await self._read(lambda conn: queries.read_workflow(conn, wid))

    async def workflows_diagram(self, workflow_id: str) -> str:
        """The workflow as a Mermaid flowchart with the people at each step now."""
        wid = check_id(workflow_id, "workflow_id")
        return await self._read(lambda conn: queries.read_diagram(conn, wid))

    async def workflows_list(self, limit: int = 50, cursor: str | None = None,
                             include_archived: bool = False) -> WorkflowsPage:
        """Workflows in id order."""
        size = check_limit(limit)
        after = decode_cursor(cursor, (str,))[0] if cursor is not None else None
        archived = include_archived is True
        return await self._read(
            lambda conn: queries.read_workflows(conn, after, size, archived), small=True)

    async def workflows_activate(self, workflow_id: str) -> WorkflowSaved:
        """Switch a workflow on: its trigger starts journeys from now on."""
        return await self._set_status(workflow_id, "active")

    async def workflows_pause(self, workflow_id: str) -> WorkflowSaved:
        """Stop new entries; people already on their way continue."""
        return await self._set_status(workflow_id, "paused")

    async def workflows_delete(self, workflow_id: str) -> WorkflowSaved:
        """Archive a workflow: open journeys are cancelled, its templates and segments are
        free to delete; its history stays."""
        return await self._set_status(workflow_id, "archived")

    async def _set_status(self, workflow_id: str, status: str) -> WorkflowSaved:
        wid = check_id(workflow_id, "workflow_id")
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_status(conn, wid, status, now),
                                 small=True)

    async def workflows_trigger(self, workflow_id: str, recipients: list[str] | None = None,
                                segment: str | None = None,
                                data: Mapping[str, Any] | None = None) -> Triggered:
        """Start one journey per recipient (user_ids and/or a segment's members); `data` is
        `trigger.*` in templates and conditions."""
        wid = check_id(workflow_id, "workflow_id")
        if recipients is None and segment is None:
            raise InvalidInput("give recipients (user_ids) and/or segment (its members)",
                               field="recipients")
        if recipients is not None and (not isinstance(recipients, list)
                                       or len(recipients) > MAX_RECIPIENTS):
            raise InvalidInput(f"recipients must be a list of at most {MAX_RECIPIENTS:,} "
                               "user_ids", field="recipients")
        ids = [check_identifier(r, "recipients") for r in recipients or []]
        sid = check_id(segment, "segment") if segment is not None else None
        payload = check_object(data, "data") if data is not None else {}
        to_json(payload, "data", TRIGGER_DATA_MAX_BYTES)
        now, ports = self.clock.now(), self.journey_ports
        return await self._write(lambda conn: units.apply_trigger(
            conn, ports, wid, ids, sid, payload, now))

    async def workflows_get_status(self, run_id: str, limit: int = 50,
                                   cursor: str | None = None) -> RunStatus:
        """A run's status, progress, counts per step and each recipient (a page)."""
        rid = check_identifier(run_id, "run_id")
        size = check_limit(limit)
        after = decode_cursor(cursor, (int,))[0] if cursor is not None else None
        return await self._read(lambda conn: queries.read_run(conn, rid, after, size))

    async def workflows_cancel(self, run_id: str) -> Cancelled:
        """Stop every journey of a run at once; nothing more is sent for them."""
        rid = check_identifier(run_id, "run_id")
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_cancel(conn, rid, now), small=True)

    async def journeys_list(self, user_id: str, limit: int = 50,
                            cursor: str | None = None) -> JourneysPage:
        """Where one person is in every workflow, newest journey first."""
        uid = check_identifier(user_id)
        size = check_limit(limit)
        before = decode_cursor(cursor, (int,))[0] if cursor is not None else None
        return await self._read(lambda conn: queries.read_journeys(conn, uid, before, size))

    async def workflows_simulate(self, workflow_id: str | None = None,
                                 definition: Mapping[str, Any] | None = None,
                                 user_id: str | None = None,
                                 profile: Mapping[str, Any] | None = None,
                                 events: list[Any] | None = None,
                                 horizon: str = "30d") -> Simulation:
        """Run a journey for one real or hypothetical person on a virtual clock: every step
        with its time and why, every message as it would be rendered. Stores nothing."""
        if (workflow_id is None) == (definition is None):
            raise InvalidInput("give workflow_id (a saved workflow) or definition (an unsaved "
                               "one: {name, trigger, steps, settings})", field="workflow_id")
        seconds = check_duration(horizon, "horizon", 60, HORIZON_MAX_S)
        injected = queries.check_simulated_events(events, seconds)
        extra = check_object(profile, "profile") if profile is not None else {}
        uid = check_identifier(user_id) if user_id is not None else None
        wid = check_id(workflow_id, "workflow_id") if workflow_id is not None else None
        if definition is not None:
            raw = dict(check_object(definition, "definition"))
            unknown = sorted(set(raw) - {"workflow_id", "name", "trigger", "steps", "settings"})
            if unknown:
                raise InvalidInput(f"definition has unknown keys {unknown}; it takes trigger, "
                                   "steps, settings (and name, workflow_id)", field="definition")
            workflow = await asyncio.to_thread(
                parse_workflow, raw.get("workflow_id", "simulation"),
                raw.get("name", "simulation"), raw.get("trigger"), raw.get("steps"),
                raw.get("settings"))
        else:
            workflow = None
        now = self.clock.now()
        inputs = await self._read(lambda conn: queries.simulation_inputs(
            conn, wid, workflow, uid, extra))
        render = self.journey_ports.render_value

        def rendered(value: Any, profile: Mapping[str, Any]) -> Any:
            return render(value, {"customer": {**profile, "id": inputs.user_id}}, now)

        result = await asyncio.to_thread(
            simulate, inputs.workflow, profile=inputs.profile, events=injected,
            segments=inputs.segments, devices=inputs.devices, start=now, horizon=seconds,
            journey_key=f"simulation-{uid or 'profile'}", split_key=inputs.split_key,
            render_value=rendered)
        return await queries.simulation_result(self.agent_id, inputs, result)

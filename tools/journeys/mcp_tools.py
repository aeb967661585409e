"""The journey operations as MCP tools, and the workflow resources (the workflow, its
Mermaid diagram with live counts, and the definition format)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from tools.core.journeys import definition as definition_format
from tools.journeys.api import JourneysOps
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
from tools.mcp_support import (
    Cursor,
    EngineResolver,
    Limit,
    OptionalText,
    guarded,
    guarded_resource,
    tool_hints,
)

FORMAT = "customerio://docs/workflows"
WorkflowId = Annotated[str, Field(description="The workflow's id, e.g. 'onboarding'")]
RunId = Annotated[str, Field(description="The run_id workflows_trigger returned")]
Trigger = Annotated[dict[str, Any], Field(
    description=f"e.g. {{\"type\": \"event\", \"event\": \"signup\"}}; types api, event, "
    f"segment_entered, segment_exited, attribute_changed, date (see {FORMAT})")]
Steps = Annotated[list[dict[str, Any]], Field(
    description="e.g. [{\"type\": \"send\", \"channel\": \"email\", \"template_id\": \"hi\"}, "
    "{\"type\": \"delay\", \"duration\": \"3d\"}, {\"type\": \"branch\", \"condition\": RULE, "
    "\"then\": [...], \"else\": [...]}]; types send, delay, wait_until, time_window, branch, "
    f"split, update_attributes, webhook, emit_event, exit (see {FORMAT})")]
Settings = Annotated[dict[str, Any] | None, Field(
    description="reentry (once|always|'7d'), exit_on_trigger_exit, goal {event|condition}")]


def register(server: MCPServer[Any], engine_for: EngineResolver[JourneysOps]) -> None:
    """Add the journey tools and resources to `server`."""

    @server.tool(annotations=tool_hints(title="Create a workflow"))
    async def workflows_create(workflow_id: WorkflowId, name: str, trigger: Trigger,
                               steps: Steps, ctx: Context[Any, Any],
                               settings: Settings = None) -> WorkflowSaved:
        """Validate and save a journey as a draft; errors name the step path
        (steps[3].then[0].duration). Then workflows_simulate, then workflows_activate."""
        return await guarded(engine_for(ctx).workflows_create(workflow_id, name, trigger,
                                                              steps, settings))

    @server.tool(annotations=tool_hints(title="Update a workflow"))
    async def workflows_update(
        workflow_id: WorkflowId, ctx: Context[Any, Any],
        name: Annotated[OptionalText, Field(description="New display name")] = None,
        trigger: Annotated[dict[str, Any] | None, Field(description="New trigger")] = None,
        steps: Annotated[list[dict[str, Any]] | None, Field(description="New steps")] = None,
        settings: Settings = None,
    ) -> WorkflowSaved:
        """Replace the given parts; once people are on it, the edit is a new version and
        they finish on the one they started."""
        return await guarded(engine_for(ctx).workflows_update(workflow_id, name, trigger,
                                                              steps, settings))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Get a workflow"))
    async def workflows_get(workflow_id: WorkflowId, ctx: Context[Any, Any]) -> Workflow:
        """Definition, status, version, journeys by status, conversions, people per step."""
        return await guarded(engine_for(ctx).workflows_get(workflow_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List workflows"))
    async def workflows_list(ctx: Context[Any, Any], limit: Limit = 50, cursor: Cursor = None,
                             include_archived: bool = False) -> WorkflowsPage:
        """Workflows in id order with status and trigger."""
        return await guarded(engine_for(ctx).workflows_list(limit, cursor, include_archived))

    @server.tool(annotations=tool_hints(idempotent=True, title="Activate a workflow"))
    async def workflows_activate(workflow_id: WorkflowId, ctx: Context[Any, Any]) -> WorkflowSaved:
        """Switch a workflow on: its trigger starts journeys from now on."""
        return await guarded(engine_for(ctx).workflows_activate(workflow_id))

    @server.tool(annotations=tool_hints(idempotent=True, title="Pause a workflow"))
    async def workflows_pause(workflow_id: WorkflowId, ctx: Context[Any, Any]) -> WorkflowSaved:
        """Stop new entries; people already on their way continue."""
        return await guarded(engine_for(ctx).workflows_pause(workflow_id))

    @server.tool(annotations=tool_hints(destructive=True, idempotent=True,
                                         title="Archive a workflow"))
    async def workflows_delete(workflow_id: WorkflowId, ctx: Context[Any, Any]) -> WorkflowSaved:
        """Archive a workflow: its open journeys are cancelled; its history stays."""
        return await guarded(engine_for(ctx).workflows_delete(workflow_id))

    @server.tool(annotations=tool_hints(title="Trigger a workflow"))
    async def workflows_trigger(
        workflow_id: WorkflowId, ctx: Context[Any, Any],
        recipients: Annotated[list[str] | None, Field(description="user_ids")] = None,
        segment: Annotated[OptionalText, Field(description="A segment: its members")] = None,
        data: Annotated[dict[str, Any] | None, Field(
            description="Read as {{ trigger.<key> }} in templates")] = None,
    ) -> Triggered:
        """Start one journey per recipient of an active workflow; returns the run_id for
        workflows_get_status. Unknown people are skipped and listed."""
        return await guarded(engine_for(ctx).workflows_trigger(workflow_id, recipients,
                                                               segment, data))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="Get a run's status"))
    async def workflows_get_status(run_id: RunId, ctx: Context[Any, Any], limit: Limit = 50,
                                   cursor: Cursor = None) -> RunStatus:
        """A run's status, progress, people per step and each recipient (a page)."""
        return await guarded(engine_for(ctx).workflows_get_status(run_id, limit, cursor))

    @server.tool(annotations=tool_hints(destructive=True, idempotent=True,
                                         title="Cancel a run"))
    async def workflows_cancel(run_id: RunId, ctx: Context[Any, Any]) -> Cancelled:
        """Stop every journey of a run at once; nothing more is sent for them."""
        return await guarded(engine_for(ctx).workflows_cancel(run_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="Simulate a workflow"))
    async def workflows_simulate(
        ctx: Context[Any, Any],
        workflow_id: Annotated[OptionalText, Field(description="A saved workflow")] = None,
        definition: Annotated[dict[str, Any] | None, Field(
            description="Or an unsaved one: {trigger, steps, settings}")] = None,
        user_id: Annotated[OptionalText, Field(description="A stored person")] = None,
        profile: Annotated[dict[str, Any] | None, Field(
            description="Attributes (over the stored person's, or a hypothetical one)")] = None,
        events: Annotated[list[dict[str, Any]] | None, Field(
            description="Injected: [{\"name\": \"purchase\", \"at\": \"+2d\"}]")] = None,
        horizon: Annotated[str, Field(description="How far to run, e.g. '30d'")] = "30d",
    ) -> Simulation:
        """Run the journey on a virtual clock for one person: each step with its time and
        why, each message as rendered, where it waits at the horizon. Stores nothing."""
        return await guarded(engine_for(ctx).workflows_simulate(
            workflow_id, definition, user_id, profile, events, horizon))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="List a person's journeys"))
    async def journeys_list(user_id: Annotated[str, Field(description="The person's user_id")],
                            ctx: Context[Any, Any], limit: Limit = 50,
                            cursor: Cursor = None) -> JourneysPage:
        """Where one person is in every workflow, with each journey's recent steps."""
        return await guarded(engine_for(ctx).journeys_list(user_id, limit, cursor))

    @server.resource("customerio://workflows/{workflow_id}", name="workflow",
                     mime_type="application/json", description="A workflow and its counts")
    async def workflow_resource(workflow_id: str, ctx: Context[Any, Any]) -> str:
        found = await guarded_resource(engine_for(ctx).workflows_get(workflow_id))
        return found.model_dump_json()

    @server.resource("customerio://workflows/{workflow_id}/diagram", name="workflow diagram",
                     mime_type="text/vnd.mermaid",
                     description="The workflow as a Mermaid flowchart with live counts")
    async def workflow_diagram(workflow_id: str, ctx: Context[Any, Any]) -> str:
        return await guarded_resource(engine_for(ctx).workflows_diagram(workflow_id))

    @server.resource(FORMAT, name="workflow format", mime_type="text/plain",
                     description="How to write a workflow: triggers, steps, settings")
    async def workflow_format() -> str:
        return definition_format.__doc__ or ""

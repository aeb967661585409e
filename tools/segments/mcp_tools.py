"""The segment operations as MCP tools and the customerio://segments/{segment_id} resource."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from tools.mcp_support import (
    Cursor,
    EngineResolver,
    Limit,
    OptionalText,
    guarded,
    guarded_resource,
    tool_hints,
)
from tools.segments.api import SegmentsOps
from tools.segments.models import (
    CheckResult,
    MembersPage,
    PreviewResult,
    SegmentCreated,
    SegmentDeleted,
    SegmentsPage,
    SegmentUpdated,
)

RULES_HELP = (
    "A rule (JSON). Combinators: {\"and\": [...]}, {\"or\": [...]}, {\"not\": {...}} (at most 8 "
    "deep, 100 conditions). Conditions: "
    "{\"attribute\": NAME, \"operator\": OP, \"value\": V} with OP eq, neq, gt, gte, lt, lte, "
    "contains, not_contains, starts_with, ends_with, in, not_in (value a list), exists, "
    "not_exists (no value), before, after (value unix seconds or ISO-8601), within, "
    "not_within (value a timeframe like \"30d\"; the attribute is unix seconds); "
    "{\"event\": NAME, \"operator\": \"did\"|\"did_not\", \"timeframe\": \"30m\"|\"12h\"|\"7d\"|\"4w\", "
    "\"at_least\"|\"at_most\"|\"exactly\": N, \"properties\": [{\"property\": P, \"operator\": OP, "
    "\"value\": V}]} (all but event optional); {\"page\": URL, \"match\": \"eq\"|\"contains\", ...same "
    "options}; {\"segment\": ID, \"operator\": \"in\"|\"not_in\"}; {\"device\": \"ios\"|\"android\"|"
    "\"web\"|\"any\", \"operator\": \"has\"|\"has_not\"}. Types must match: \"42\" is not 42. "
    "Example: {\"and\": [{\"attribute\": \"plan\", \"operator\": \"eq\", \"value\": \"pro\"}, "
    "{\"event\": \"login\", \"operator\": \"did\", \"timeframe\": \"7d\"}]}"
)
SegmentId = Annotated[str, Field(description="The segment's id, e.g. 'active-pro-users'")]
UserIds = Annotated[list[str] | None, Field(
    description="user_ids of existing people (manual segments only; at most 10,000)")]


def register(server: MCPServer[Any], engine_for: EngineResolver[SegmentsOps]) -> None:
    """Add the segment tools and resource to `server`."""

    @server.tool(annotations=tool_hints(title="Create a segment"))
    async def segments_create(
        name: Annotated[str, Field(description="Display name; the id is its slug "
                                   "('Active Pro Users' -> 'active-pro-users')")],
        ctx: Context[Any, Any],
        rules: Annotated[dict[str, Any] | None, Field(description=RULES_HELP)] = None,
        manual: Annotated[bool, Field(
            description="true: a manual segment, whose members you add by id")] = False,
        description: Annotated[OptionalText, Field(description="What the audience is for")] = None,
    ) -> SegmentCreated:
        """Create a dynamic segment from rules (membership computed now and kept current in
        real time) or a manual one. Returns the id, the member count and the rule in
        words. Try rules with segments_preview first."""
        return await guarded(engine_for(ctx).segments_create(name, rules, manual, description))

    @server.tool(annotations=tool_hints(title="Update a segment"))
    async def segments_update(
        segment_id: SegmentId, ctx: Context[Any, Any],
        name: Annotated[OptionalText, Field(description="New display name (the id stays)")] = None,
        rules: Annotated[dict[str, Any] | None, Field(
            description="New rules (dynamic segments); membership is recomputed")] = None,
        add_user_ids: UserIds = None, remove_user_ids: UserIds = None,
        description: Annotated[OptionalText, Field(description="New description")] = None,
    ) -> SegmentUpdated:
        """Rename a segment, replace its rules, or add / remove members of a manual
        segment. Returns the new member count and how many entered and exited."""
        return await guarded(engine_for(ctx).segments_update(
            segment_id, name, rules, add_user_ids, remove_user_ids, description))

    @server.tool(annotations=tool_hints(destructive=True, title="Delete a segment"))
    async def segments_delete(segment_id: SegmentId, ctx: Context[Any, Any]) -> SegmentDeleted:
        """Delete a segment with its membership and history. Refused while another
        segment's rules read it."""
        return await guarded(engine_for(ctx).segments_delete(segment_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List segments"))
    async def segments_list(ctx: Context[Any, Any], limit: Limit = 50,
                            cursor: Cursor = None) -> SegmentsPage:
        """Segments in creation order with their rules, the rule in words and member
        counts."""
        return await guarded(engine_for(ctx).segments_list(limit, cursor))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="List a segment's members"))
    async def segments_members(segment_id: SegmentId, ctx: Context[Any, Any],
                               limit: Limit = 50, cursor: Cursor = None) -> MembersPage:
        """The member count and a page of members, each with when they entered."""
        return await guarded(engine_for(ctx).segments_members(segment_id, limit, cursor))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="Check a person against a segment"))
    async def segments_check(
        segment_id: SegmentId,
        user_id: Annotated[str, Field(description="The person's id")],
        ctx: Context[Any, Any],
    ) -> CheckResult:
        """Whether the person is a member, since when, and why: each condition with its
        result and the value it saw (e.g. 'plan = "pro" ✓ (saw "pro"); did "login" in the
        last 7 days ✗ (0 times)')."""
        return await guarded(engine_for(ctx).segments_check(segment_id, user_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="Preview a segment"))
    async def segments_preview(
        rules: Annotated[dict[str, Any], Field(description=RULES_HELP)], ctx: Context[Any, Any],
    ) -> PreviewResult:
        """How many people would match these rules now and a sample of who, without saving
        anything: test an audience before creating it."""
        return await guarded(engine_for(ctx).segments_preview(rules))

    @server.resource("customerio://segments/{segment_id}", name="segment",
                     mime_type="application/json",
                     description="A segment's rules, the rule in words and its member count")
    async def segment_resource(segment_id: str, ctx: Context[Any, Any]) -> str:
        segment = await guarded_resource(engine_for(ctx).segments_get(segment_id))
        return segment.model_dump_json()

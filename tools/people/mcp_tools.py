"""The Track API as MCP tools and the customerio://people/{user_id} resource."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field, StrictFloat, StrictInt

from tools.mcp_support import (
    Cursor,
    EngineResolver,
    Limit,
    OptionalText,
    guarded,
    guarded_resource,
    tool_hints,
)
from tools.people.api import PeopleOps
from tools.people.batch_schema import OPERATIONS_SCHEMA
from tools.people.models import (
    BatchResult,
    DeleteResult,
    DeviceResult,
    EventsPage,
    IdentifyResult,
    MergeResult,
    PeoplePage,
    Person,
    RemoveDeviceResult,
    SuppressResult,
    TrackResult,
    UnsuppressResult,
)

UserId = Annotated[str, Field(description="The person's id in your system (at most 150 bytes)")]
# Strict numbers: lax validation would turn a boolean into 1 (1970-01-01T00:00:01Z).
Seconds = StrictInt | StrictFloat
Timestamp = Annotated[
    Seconds | str | None,
    Field(description="When it happened: unix seconds or ISO-8601 (default now; not in the future)"),
]
Attributes = Annotated[
    dict[str, Any],
    Field(description=(
        "Attributes to merge into the profile; null removes one. Reserved: email, created_at "
        "(unix seconds), timezone (IANA), unsubscribed (true/false), anonymous_id, _update "
        "(true: only update an existing person, never create)"
    )),
]


def register(server: MCPServer[Any], engine_for: EngineResolver[PeopleOps]) -> None:
    """Add the people tools and resource to `server`."""

    @server.tool(annotations=tool_hints(idempotent=True, title="Identify a person"))
    async def identify(
        user_id: UserId, ctx: Context[Any, Any], attributes: Attributes = {},  # noqa: B006
        anonymous_id: Annotated[OptionalText, Field(
            description="Anonymous id used before sign-up: its events of the last 30 days "
            "become this person's")] = None,
        timestamp: Timestamp = None,
    ) -> IdentifyResult:
        """Create or update a person (upsert by user_id) and merge attributes into their
        profile. Returns whether the person was created and how many anonymous events were
        merged."""
        return await guarded(engine_for(ctx).identify(user_id, attributes, anonymous_id,
                                                      timestamp))

    @server.tool(annotations=tool_hints(title="Track an event"))
    async def track(
        name: Annotated[str, Field(description="Event name (for type page: the URL)")],
        ctx: Context[Any, Any],
        user_id: Annotated[OptionalText, Field(description="The person (created if new)")] = None,
        anonymous_id: Annotated[OptionalText, Field(
            description="A visitor not yet identified (give this or user_id, not both)")] = None,
        properties: Annotated[dict[str, Any], Field(
            description="Event data, at most 100,000 bytes as JSON")] = {},  # noqa: B006
        type: Annotated[Literal["event", "page", "screen"], Field(
            description="event, page (a page view; name is the URL) or screen")] = "event",
        timestamp: Timestamp = None,
        event_id: Annotated[OptionalText, Field(
            description="Your unique id for the event (e.g. a ULID): a repeat is reported as "
            "duplicate and not stored twice")] = None,
    ) -> TrackResult:
        """Record an event for a person or an anonymous visitor. Exactly one of user_id or
        anonymous_id."""
        return await guarded(engine_for(ctx).track(name, user_id, anonymous_id, properties,
                                                   type, timestamp, event_id))

    @server.tool(annotations=tool_hints(destructive=True, title="Apply many operations"))
    async def batch(
        operations: Annotated[list[dict[str, Any]], Field(
            description="Operations applied in order; each is an object with an 'action' and "
            "that action's fields", json_schema_extra=OPERATIONS_SCHEMA)],
        ctx: Context[Any, Any],
    ) -> BatchResult:
        """Apply up to 10,000 identify / track / page / screen / delete / suppress /
        unsuppress / merge / add_device / remove_device operations (500 KB in all, 32 KB
        each) in one call. Each fails on its own: failures are listed by index with the
        reason, and every other operation is stored."""
        return await guarded(engine_for(ctx).batch(operations))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Get a person"))
    async def get_person(user_id: UserId, ctx: Context[Any, Any]) -> Person:
        """A person's attributes, devices, linked anonymous ids, event counts by name and most
        recent events."""
        return await guarded(engine_for(ctx).get_person(user_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List people"))
    async def list_people(
        ctx: Context[Any, Any], limit: Limit = 50, cursor: Cursor = None,
        email: Annotated[OptionalText, Field(
            description="Only the person with this email (case-insensitive)")] = None,
    ) -> PeoplePage:
        """People in the order they were first seen, a page at a time."""
        return await guarded(engine_for(ctx).list_people(limit, cursor, email))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List events"))
    async def list_events(
        ctx: Context[Any, Any],
        user_id: Annotated[OptionalText, Field(description="Only this person's events")] = None,
        anonymous_id: Annotated[OptionalText, Field(
            description="Only events sent with this anonymous id")] = None,
        name: Annotated[OptionalText, Field(description="Only events with this name")] = None,
        since: Timestamp = None,
        until: Annotated[Seconds | str | None, Field(
            description="Only events before this time (unix seconds or ISO-8601)")] = None,
        limit: Limit = 50, cursor: Cursor = None,
    ) -> EventsPage:
        """Events newest first, filtered by person, anonymous id, name and time range."""
        return await guarded(engine_for(ctx).list_events(user_id, anonymous_id, name, since,
                                                         until, limit, cursor))

    @server.tool(annotations=tool_hints(destructive=True, title="Delete a person"))
    async def delete_person(user_id: UserId, ctx: Context[Any, Any]) -> DeleteResult:
        """Delete a person with their events and devices. A later identify creates them
        afresh."""
        return await guarded(engine_for(ctx).delete_person(user_id))

    @server.tool(annotations=tool_hints(destructive=True, idempotent=True,
                                         title="Suppress a person"))
    async def suppress_person(user_id: UserId, ctx: Context[Any, Any]) -> SuppressResult:
        """Delete the person and ignore this user_id from now on: later identify / track calls
        for it are accepted and dropped, until unsuppress_person."""
        return await guarded(engine_for(ctx).suppress_person(user_id))

    @server.tool(annotations=tool_hints(idempotent=True, title="Unsuppress a person"))
    async def unsuppress_person(user_id: UserId, ctx: Context[Any, Any]) -> UnsuppressResult:
        """Free a suppressed user_id so it can be identified again. Restores nothing."""
        return await guarded(engine_for(ctx).unsuppress_person(user_id))

    @server.tool(annotations=tool_hints(destructive=True, title="Merge two people"))
    async def merge_people(
        primary: Annotated[str, Field(description="The person who remains")],
        secondary: Annotated[str, Field(description="The person folded in and deleted")],
        ctx: Context[Any, Any],
    ) -> MergeResult:
        """Merge secondary into primary: attributes missing on primary are copied, events and
        devices move, secondary is deleted. Irreversible."""
        return await guarded(engine_for(ctx).merge_people(primary, secondary))

    @server.tool(annotations=tool_hints(idempotent=True, title="Add a device"))
    async def add_device(
        user_id: UserId,
        device_id: Annotated[str, Field(description="The device's push token")],
        platform: Annotated[Literal["ios", "android", "web"], Field(description="Platform")],
        ctx: Context[Any, Any],
        attributes: Annotated[dict[str, Any], Field(
            description="Device attributes (e.g. app_version); last_used as unix seconds or "
            "ISO-8601")] = {},  # noqa: B006
    ) -> DeviceResult:
        """Add or update a person's push device. A token already held by another person moves
        to this one."""
        return await guarded(engine_for(ctx).add_device(user_id, device_id, platform,
                                                        attributes))

    @server.tool(annotations=tool_hints(destructive=True, idempotent=True,
                                         title="Remove a device"))
    async def remove_device(
        user_id: UserId,
        device_id: Annotated[str, Field(description="The device's push token")],
        ctx: Context[Any, Any],
    ) -> RemoveDeviceResult:
        """Remove a device from a person."""
        return await guarded(engine_for(ctx).remove_device(user_id, device_id))

    @server.resource("customerio://people/{user_id}", name="person",
                     mime_type="application/json",
                     description="A person's profile, devices, event counts and recent events")
    async def person_resource(user_id: str, ctx: Context[Any, Any]) -> str:
        person = await guarded_resource(engine_for(ctx).get_person(user_id))
        return person.model_dump_json()

"""The delivery operations as MCP tools and the customerio://messages/{message_id} resource."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from tools.delivery.api import DeliveryOps
from tools.delivery.models import (
    ChannelsList,
    InboxPage,
    MarkedRead,
    Message,
    MessagesPage,
    Preferences,
    Queued,
    Topic,
    TopicsList,
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

ChannelName = Literal["email", "sms", "push", "in_app", "webhook"]
UserId = Annotated[str, Field(description="The person's user_id")]
Choices = Annotated[dict[str, bool | None] | None, Field(
    description="name -> true (subscribed) / false (opted out) / null (back to the default)")]


def register(server: MCPServer[Any], engine_for: EngineResolver[DeliveryOps]) -> None:
    """Add the delivery tools and resource to `server`."""

    @server.tool(annotations=tool_hints(title="Send a message", open_world=True))
    async def send(
        user_id: UserId, channel: ChannelName, ctx: Context[Any, Any],
        template_id: Annotated[OptionalText, Field(
            description="A saved template of this channel (or give content)")] = None,
        content: Annotated[dict[str, Any] | None, Field(
            description="The template fields inline, e.g. {\"subject\": ..., \"body\": ...}")] = None,
        data: Annotated[dict[str, Any] | None, Field(
            description="Render data, read as {{ trigger.<key> }}")] = None,
        fallback: Annotated[list[dict[str, Any]] | None, Field(
            description="Tried in order when the channel cannot be used: "
            "[{\"channel\": \"sms\", \"template_id\": \"...\"}]")] = None,
        topic: Annotated[OptionalText, Field(description="Subscription topic it is sent under")] = None,
        transactional: Annotated[bool, Field(
            description="true: a receipt or reset (ignores opt-outs and caps, never "
            "suppression)")] = False,
        idempotency_key: Annotated[OptionalText, Field(
            description="The same key never sends twice")] = None,
        send_at: Annotated[str | float | None, Field(
            description="ISO-8601 or unix seconds; default now")] = None,
    ) -> Queued:
        """Queue a message to a person; it goes out in the background. Returns its id and
        status (dropped or undeliverable with the reason when it cannot go out); then
        messages_get shows every transition."""
        return await guarded(engine_for(ctx).send(
            user_id, channel, template_id, content, data, fallback, topic, transactional,
            idempotency_key, send_at))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Get a message"))
    async def messages_get(
        message_id: Annotated[str, Field(description="The id send returned")],
        ctx: Context[Any, Any],
    ) -> Message:
        """A message's status, attempts, every transition with the provider's answer, the
        rendered fields and (capture provider) the exact bytes."""
        return await guarded(engine_for(ctx).messages_get(message_id))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List messages"))
    async def messages_list(
        ctx: Context[Any, Any], user_id: Annotated[OptionalText, Field(
            description="Only this person's")] = None,
        status: Annotated[OptionalText, Field(
            description="queued, sending, sent, delivered, captured, failed, dropped or "
            "undeliverable")] = None,
        channel: ChannelName | None = None, limit: Limit = 50, cursor: Cursor = None,
    ) -> MessagesPage:
        """Messages newest first."""
        return await guarded(engine_for(ctx).messages_list(user_id, status, channel, limit,
                                                           cursor))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="List a person's in-app inbox"))
    async def inbox_list(user_id: UserId, ctx: Context[Any, Any], unread_only: bool = False,
                         limit: Limit = 50, cursor: Cursor = None) -> InboxPage:
        """A person's in-app messages, newest first."""
        return await guarded(engine_for(ctx).inbox_list(user_id, unread_only, limit, cursor))

    @server.tool(annotations=tool_hints(idempotent=True, title="Mark in-app messages read"))
    async def inbox_mark_read(
        user_id: UserId, message_ids: Annotated[list[str], Field(description="1-500 ids")],
        ctx: Context[Any, Any],
    ) -> MarkedRead:
        """Mark in-app messages of a person read."""
        return await guarded(engine_for(ctx).inbox_mark_read(user_id, message_ids))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True,
                                         title="Get a person's preferences"))
    async def preferences_get(user_id: UserId, ctx: Context[Any, Any]) -> Preferences:
        """A person's global unsubscribe, channel opt-outs and topic choices."""
        return await guarded(engine_for(ctx).preferences_get(user_id))

    @server.tool(annotations=tool_hints(idempotent=True, title="Update a person's preferences"))
    async def preferences_update(
        user_id: UserId, ctx: Context[Any, Any],
        unsubscribed: Annotated[bool | None, Field(
            description="true: no marketing messages at all")] = None,
        channels: Choices = None, topics: Choices = None,
    ) -> Preferences:
        """Change a person's choices, e.g. channels={"sms": false}, topics={"newsletter":
        true}. Marketing sends check them; transactional ones do not."""
        return await guarded(engine_for(ctx).preferences_update(user_id, unsubscribed,
                                                                channels, topics))

    @server.tool(annotations=tool_hints(idempotent=True, title="Create a topic"))
    async def topics_create(
        topic_id: Annotated[str, Field(description="e.g. 'newsletter'")],
        name: Annotated[str, Field(description="Display name")], ctx: Context[Any, Any],
        default: Literal["opt_in", "opt_out"] = "opt_in",
    ) -> Topic:
        """Create or update a subscription topic; opt_in: only people who opted in get its
        messages, opt_out: everyone until they opt out."""
        return await guarded(engine_for(ctx).topics_create(topic_id, name, default))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List topics"))
    async def topics_list(ctx: Context[Any, Any]) -> TopicsList:
        """Every subscription topic."""
        return await guarded(engine_for(ctx).topics_list())

    @server.tool(annotations=tool_hints(idempotent=True, title="Configure a channel provider"))
    async def channels_configure(
        channel: ChannelName,
        provider: Annotated[str, Field(
            description="email: smtp; sms: twilio; push: fcm, webpush; webhook: webhook; "
            "any: capture (keep the bytes, send nothing) or disabled")],
        ctx: Context[Any, Any],
        settings: Annotated[dict[str, Any] | None, Field(
            description="smtp: host, port, username, password, security (none|starttls|tls), "
            "from; twilio: account_sid, auth_token, from; fcm: project_id, client_email, "
            "private_key; webpush: vapid_private_key, vapid_subject; webhook: "
            "signing_secret")] = None,
    ) -> ChannelsList:
        """Set this agent's provider for a channel. Secrets are kept and never shown."""
        return await guarded(engine_for(ctx).channels_configure(channel, provider, settings))

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="List channels"))
    async def channels_list(ctx: Context[Any, Any]) -> ChannelsList:
        """What each channel sends through now (secrets redacted)."""
        return await guarded(engine_for(ctx).channels_list())

    @server.tool(annotations=tool_hints(idempotent=True, title="Set the frequency cap"))
    async def delivery_frequency_cap(
        ctx: Context[Any, Any],
        cap: Annotated[int | None, Field(description="Marketing messages per person")] = None,
        period: Annotated[OptionalText, Field(description="e.g. '1d', '7d', '12h'")] = None,
    ) -> dict[str, Any]:
        """Cap marketing messages per person per period (both null: no cap); over it a
        message is undeliverable. Transactional messages are never capped."""
        return await guarded(engine_for(ctx).delivery_frequency_cap(cap, period))

    @server.resource("customerio://messages/{message_id}", name="message",
                     mime_type="application/json",
                     description="A message with its transitions and provider answers")
    async def message_resource(message_id: str, ctx: Context[Any, Any]) -> str:
        message = await guarded_resource(engine_for(ctx).messages_get(message_id))
        return message.model_dump_json()

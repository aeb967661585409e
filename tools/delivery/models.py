"""Typed results of the delivery operations (also the MCP tools' output schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["email", "sms", "push", "in_app", "webhook"]
CHANNELS: tuple[str, ...] = ("email", "sms", "push", "in_app", "webhook")
# queued -> sending -> sent | delivered (in_app) | captured; or failed, dropped, undeliverable
Status = Literal["queued", "sending", "sent", "delivered", "captured", "failed", "dropped",
                 "undeliverable"]
STATUSES: tuple[str, ...] = ("queued", "sending", "sent", "delivered", "captured", "failed",
                             "dropped", "undeliverable")


class Queued(BaseModel):
    message_id: str = Field(description="messages_get(message_id) shows what happened to it")
    status: Status
    channel: Channel = Field(description="The channel it will go out on (fallback may change it)")
    reason: str | None = Field(default=None, description="Why it was dropped or is undeliverable")
    repeat: bool = Field(default=False, description="true: this idempotency_key was used "
                         "before; nothing new was queued and this is the first message")


class Transition(BaseModel):
    at: str
    status: str = Field(description="queued, skipped (a channel that could not be used), "
                        "sending, retry, and the final status")
    channel: Channel
    attempt: int
    detail: str | None = Field(description="The provider's answer or the reason")


class Capture(BaseModel):
    channel: Channel
    attempt: int
    size: int = Field(description="Bytes the capture provider kept")
    text: str = Field(description="The bytes as text (UTF-8), the first 64 KiB")


class Message(BaseModel):
    message_id: str
    idempotency_key: str | None
    user_id: str
    channel: Channel
    status: Status
    reason: str | None
    template_id: str | None
    topic: str | None
    transactional: bool
    attempts: int = Field(description="Attempts on the current channel")
    provider: str | None
    provider_message_id: str | None
    send_at: str
    created_at: str
    updated_at: str
    read_at: str | None = Field(description="in_app: when the person read it")
    fallback: list[dict[str, str | None]] = Field(description="Channels still to try")
    rendered: dict[str, object] | None = Field(description="The fields as last rendered")
    transitions: list[Transition]
    captures: list[Capture]


class MessageSummary(BaseModel):
    message_id: str
    idempotency_key: str | None
    user_id: str
    channel: Channel
    status: Status
    reason: str | None
    template_id: str | None
    created_at: str
    updated_at: str


class MessagesPage(BaseModel):
    messages: list[MessageSummary]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class InboxMessage(BaseModel):
    message_id: str
    title: str | None
    body: str
    link: str | None
    created_at: str
    read_at: str | None


class InboxPage(BaseModel):
    user_id: str
    messages: list[InboxMessage]
    next_cursor: str | None


class MarkedRead(BaseModel):
    user_id: str
    marked: int = Field(description="Messages newly marked read")
    not_found: list[str] = Field(description="Ids that are no in-app message of this person")


class TopicChoice(BaseModel):
    topic_id: str
    name: str
    default: Literal["opt_in", "opt_out"]
    choice: bool | None = Field(description="The person's own choice; null: the default")
    subscribed: bool


class Preferences(BaseModel):
    user_id: str
    unsubscribed: bool = Field(description="Unsubscribed from every marketing message")
    channels: dict[str, bool] = Field(description="Per channel: false = opted out")
    topics: list[TopicChoice]


class Topic(BaseModel):
    topic_id: str
    name: str
    default: Literal["opt_in", "opt_out"]
    created: bool = False


class TopicsList(BaseModel):
    topics: list[Topic]


class ChannelProvider(BaseModel):
    channel: Channel
    provider: str
    source: Literal["agent", "operator", "default"] = Field(
        description="agent: set with channels_configure; operator: the server's config "
        "file; default: nothing configured (capture keeps the bytes, nothing leaves)")
    settings: dict[str, object] = Field(description="Secrets are shown as '***'")


class ChannelsList(BaseModel):
    channels: list[ChannelProvider] = Field(description="What each channel uses now")
    configured: list[ChannelProvider] = Field(description="Every provider configured")


class Unsubscribed(BaseModel):
    user_id: str
    message_id: str
    topic: str | None = Field(description="The topic left; null: every marketing message")

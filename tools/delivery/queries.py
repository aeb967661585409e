"""Reads and small write units of delivery: messages, the inbox, preferences, topics and
channel settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from store import delivery_repo as repo
from store import people_repo
from tools import writes
from tools.changes import AttributesChanged
from tools.core.delivery.preferences import merge_choices, topic_reason
from tools.core.delivery.providers import providers_for, redacted
from tools.core.delivery.tokens import read_unsubscribe_token
from tools.core.errors import InvalidInput, NotFound
from tools.core.timefmt import iso
from tools.core.validate import to_json
from tools.delivery.models import (
    CHANNELS,
    Capture,
    ChannelProvider,
    ChannelsList,
    InboxMessage,
    InboxPage,
    MarkedRead,
    Message,
    MessagesPage,
    MessageSummary,
    Preferences,
    Topic,
    TopicChoice,
    TopicsList,
    Transition,
    Unsubscribed,
)
from tools.paging import paged

CAPTURE_TEXT_BYTES = 65_536


def require_person(conn: sqlite3.Connection, user_id: str) -> int:
    pk = people_repo.person_pk(conn, user_id)
    if pk is None:
        raise NotFound(f"no person with user_id {user_id!r}; identify creates people and "
                       "list_people shows who exists", field="user_id")
    return pk


def read_message(conn: sqlite3.Connection, message_id: str) -> Message:
    row = repo.message_by_id(conn, message_id)
    if row is None:
        raise NotFound(f"message {message_id!r} not found; messages_list shows the ids",
                       field="message_id")
    transitions = [Transition(at=iso(at), status=status, channel=channel,
                              attempt=attempt, detail=detail)
                   for at, status, channel, attempt, detail in repo.transitions(conn, row.pk)]
    captures = [Capture(channel=channel, attempt=attempt, size=len(data),  # type: ignore[arg-type]
                        text=bytes(data[:CAPTURE_TEXT_BYTES]).decode("utf-8", "replace"))
                for channel, attempt, data in repo.captures(conn, row.pk)]
    return Message(
        message_id=row.message_id, idempotency_key=row.idempotency_key, user_id=row.user_id,
        channel=row.channel,  # type: ignore[arg-type]
        status=row.status, reason=row.reason, template_id=row.template_id,  # type: ignore[arg-type]
        topic=row.topic, transactional=row.transactional, attempts=row.attempts,
        provider=row.provider, provider_message_id=row.provider_message_id,
        send_at=iso(row.send_at), created_at=iso(row.created_at), updated_at=iso(row.updated_at),
        read_at=iso(row.read_at) if row.read_at is not None else None, fallback=row.plan,
        rendered=row.rendered, transitions=transitions, captures=captures)


def read_messages(conn: sqlite3.Connection, user_id: str | None, status: str | None,
                  channel: str | None, before: int | None, limit: int) -> MessagesPage:
    person = require_person(conn, user_id) if user_id is not None else None
    rows, cursor = paged(lambda n: repo.list_messages(conn, person, status, channel, before, n),
                         limit, lambda row: [row.pk])
    return MessagesPage(messages=[MessageSummary(
        message_id=r.message_id, idempotency_key=r.idempotency_key, user_id=r.user_id,
        channel=r.channel,  # type: ignore[arg-type]
        status=r.status, reason=r.reason, template_id=r.template_id,  # type: ignore[arg-type]
        created_at=iso(r.created_at), updated_at=iso(r.updated_at)) for r in rows],
        next_cursor=cursor)


def read_inbox(conn: sqlite3.Connection, user_id: str, unread_only: bool, before: int | None,
               limit: int) -> InboxPage:
    person = require_person(conn, user_id)
    rows, cursor = paged(lambda n: repo.list_messages(conn, person, "delivered", "in_app",
                                                      before, n, unread_only),
                         limit, lambda row: [row.pk])
    messages = []
    for row in rows:
        fields = row.rendered or {}
        messages.append(InboxMessage(
            message_id=row.message_id, title=fields.get("title") or None,
            body=str(fields.get("body", "")), link=fields.get("link") or None,
            created_at=iso(row.created_at),
            read_at=iso(row.read_at) if row.read_at is not None else None))
    return InboxPage(user_id=user_id, messages=messages, next_cursor=cursor)


def apply_mark_read(conn: sqlite3.Connection, user_id: str, message_ids: list[str],
                    now: float) -> MarkedRead:
    person = require_person(conn, user_id)
    marked, missing = 0, []
    for message_id in message_ids:
        row = repo.message_by_id(conn, message_id)
        if row is None or row.person_pk != person or row.channel != "in_app" \
                or row.status != "delivered":
            missing.append(message_id)
        elif row.read_at is None:
            repo.update_message(conn, row.pk, now, read_at=now)
            marked += 1
    return MarkedRead(user_id=user_id, marked=marked, not_found=missing)


def read_preferences(conn: sqlite3.Connection, user_id: str) -> Preferences:
    person = people_repo.find_person(conn, user_id)
    if person is None:
        require_person(conn, user_id)
        raise AssertionError  # pragma: no cover - require_person raised
    channels, topics = repo.preferences(conn, person.pk)
    return Preferences(
        user_id=user_id, unsubscribed=person.attributes.get("unsubscribed") is True,
        channels={name: channels.get(name, True) for name in CHANNELS},
        topics=[TopicChoice(topic_id=tid, name=name, default=default,  # type: ignore[arg-type]
                            choice=topics.get(tid),
                            subscribed=topic_reason(tid, default, topics.get(tid)) is None)  # type: ignore[arg-type]
                for tid, name, default, _ in repo.topics(conn)])


def apply_preferences(conn: sqlite3.Connection, user_id: str, unsubscribed: bool | None,
                      channels: Mapping[str, bool | None] | None,
                      topics: Mapping[str, bool | None] | None, now: float) -> int:
    """Store the global choice (the `unsubscribed` attribute, with its change event) and
    channel and topic choices; returns the person's pk. Unknown topics are an error."""
    pk = require_person(conn, user_id)
    for topic in topics or {}:
        if repo.topic_default(conn, topic) is None:
            raise NotFound(f"topic {topic!r} not found; topics_list shows the ids, "
                           "topics_create makes one", field=f"topics.{topic}")
    if channels or topics:
        current_channels, current_topics = repo.preferences(conn, pk)
        repo.put_preferences(conn, pk, merge_choices(current_channels, channels or {}),
                             merge_choices(current_topics, topics or {}), now)
    if unsubscribed is not None:
        _set_unsubscribed(conn, user_id, unsubscribed, now)
    return pk


def _set_unsubscribed(conn: sqlite3.Connection, user_id: str, value: bool, now: float) -> None:
    person = people_repo.find_person(conn, user_id)
    assert person is not None
    if person.attributes.get("unsubscribed") is value:
        return
    after = {**person.attributes, "unsubscribed": value}
    people_repo.update_person(conn, person.pk, to_json(after, "attributes", 10**9),
                              after.get("email") if isinstance(after.get("email"), str) else None,
                              person.created_at, now)
    writes.publish(conn, [AttributesChanged(person.pk, person.attributes, after, "preferences")])


def apply_unsubscribe(conn: sqlite3.Connection, agent_id: str, token: str,
                      now: float) -> Unsubscribed:
    """Verify an unsubscribe link's token and apply it: the person leaves the message's
    topic, or every marketing message when it had none; the message records it."""
    found = read_unsubscribe_token(repo.secret(conn), token)
    if found.agent_id != agent_id:
        raise InvalidInput("this unsubscribe link belongs to another agent", field="token")
    row = repo.message_by_id(conn, found.message_id)
    if row is None:
        raise NotFound("the message of this unsubscribe link no longer exists (its person "
                       "was deleted)", field="token")
    if found.topic is not None and repo.topic_default(conn, found.topic) is not None:
        apply_preferences(conn, row.user_id, None, None, {found.topic: False}, now)
        detail, topic = f"left topic '{found.topic}' through the link", found.topic
    else:
        apply_preferences(conn, row.user_id, True, None, None, now)
        detail, topic = "unsubscribed from all marketing messages through the link", None
    repo.add_transition(conn, row.pk, now, "unsubscribed", row.channel, row.attempts, detail)
    return Unsubscribed(user_id=row.user_id, message_id=row.message_id, topic=topic)


def apply_topic(conn: sqlite3.Connection, topic_id: str, name: str, default: str,
                now: float) -> Topic:
    created = repo.put_topic(conn, topic_id, name, default, now)
    return Topic(topic_id=topic_id, name=name, default=default, created=created)  # type: ignore[arg-type]


def read_topics(conn: sqlite3.Connection) -> TopicsList:
    return TopicsList(topics=[Topic(topic_id=tid, name=name, default=default)  # type: ignore[arg-type]
                              for tid, name, default, _ in repo.topics(conn)])


def read_channels(conn: sqlite3.Connection,
                  operator: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> ChannelsList:
    agent = repo.channel_settings(conn)
    using = [ChannelProvider(channel=channel, provider=p.name, source=p.source,  # type: ignore[arg-type]
                             settings=redacted(p.settings))
             for channel in CHANNELS
             for p in providers_for(channel, agent.get(channel, {}), operator.get(channel, {}))]
    configured = [ChannelProvider(channel=channel, provider=name, source=source,  # type: ignore[arg-type]
                                  settings=redacted(settings))
                  for source, table in (("agent", agent), ("operator", operator))
                  for channel, providers in sorted(table.items())
                  for name, settings in sorted(providers.items())]
    return ChannelsList(channels=using, configured=configured)


def apply_channel(conn: sqlite3.Connection, channel: str, provider: str,
                  settings: dict[str, Any], now: float) -> None:
    """An agent's provider for a channel. Email and SMS have one provider, push one per
    kind of device (fcm: android and ios; webpush: web), so capture or disabled replaces
    every other provider of the channel, and fcm / webpush replace capture / disabled."""
    if channel == "push" and provider in ("fcm", "webpush"):
        conn.execute("DELETE FROM channel_settings WHERE channel = 'push' AND provider IN "
                     "('capture', 'disabled')")
        repo.put_channel_settings(conn, channel, provider, settings, False, now)
    else:
        repo.put_channel_settings(conn, channel, provider, settings, True, now)

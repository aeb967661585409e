"""Delivery operations of the engine (mixed into tools.api.CustomerIO): send, messages,
the in-app inbox, preferences and topics, channel providers.

    await cio.send("ada", "email", template_id="welcome")
    await cio.messages_get(message_id)

`send` queues (one row in the outbox, in one transaction with every check) and returns at
once; the process's dispatcher renders and delivers it (tools/delivery/outbox.py). A plain
Python program has no dispatcher: its messages stay queued until a server or a
`customerio-mcp worker` process on the same data directory delivers them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from store import delivery_repo
from tools.core.cursor import decode_cursor
from tools.core.delivery.channels import CHANNELS, check_channel
from tools.core.delivery.frequency import check_cap
from tools.core.delivery.plan import check_fallback
from tools.core.delivery.preferences import check_choices
from tools.core.delivery.providers import HOST_SETTINGS, check_settings
from tools.core.errors import InvalidInput
from tools.core.templates.commands import check_id, prepare_template
from tools.core.validate import check_identifier, check_object, check_text, to_json
from tools.delivery import outbox, queries, record
from tools.delivery.models import (
    STATUSES,
    ChannelsList,
    InboxPage,
    MarkedRead,
    Message,
    MessagesPage,
    Preferences,
    Queued,
    Topic,
    TopicsList,
    Unsubscribed,
)
from tools.delivery.settle import operator_channels
from tools.engine import EngineBase, check_limit

DATA_MAX_BYTES = 100_000
KEY_MAX_BYTES = 200
SEND_AT_MAX_AHEAD_S = 366 * 86_400
MARK_READ_MAX = 500


def _check_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field} must be true or false", field=field)
    return value


def parse_send_at(value: Any, now: float) -> float:
    """When to send: unix seconds or ISO-8601, at most a year ahead (past: now)."""
    if value is None:
        return now
    field = "send_at"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"send_at {value[:40]!r} is not an ISO-8601 time; write e.g. "
                               "'2026-12-24T09:00:00Z' or unix seconds", field=field) from None
        seconds = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    elif isinstance(value, (int, float)) and not isinstance(value, bool) \
            and math.isfinite(float(value)) and abs(value) < 1e11:
        seconds = float(value)
    else:
        raise InvalidInput("send_at must be unix seconds or an ISO-8601 time", field=field)
    if seconds > now + SEND_AT_MAX_AHEAD_S:
        raise InvalidInput("send_at is more than a year ahead", field=field)
    return seconds


class DeliveryOps(EngineBase):
    """Messages on five channels, their outbox, preferences and providers."""

    async def send(self, user_id: str, channel: str, template_id: str | None = None,
                   content: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                   fallback: list[Any] | None = None, topic: str | None = None,
                   transactional: bool = False, idempotency_key: str | None = None,
                   send_at: Any = None) -> Queued:
        """Queue a message to a person on a channel (fallback channels tried in order when
        it cannot be used); returns at once with its id and status."""
        cmd = await self._send_command(user_id, channel, template_id, content, data, fallback,
                                       topic, transactional, idempotency_key, send_at)
        now = self.clock.now()
        message_id, status, used, reason, repeat = await self._write(
            lambda conn: outbox.apply_send(conn, cmd, now), small=True)
        return Queued(message_id=message_id, status=status, channel=used,  # type: ignore[arg-type]
                      reason=reason, repeat=repeat)

    async def _send_command(self, user_id: Any, channel: Any, template_id: Any, content: Any,
                            data: Any, fallback: Any, topic: Any, transactional: Any,
                            idempotency_key: Any, send_at: Any) -> outbox.SendCommand:
        uid = check_identifier(user_id)
        name = check_channel(channel)
        if (template_id is None) == (content is None):
            raise InvalidInput("give template_id (a saved template) or content (the fields "
                               "inline), not both and not neither", field="template_id")
        tid = check_id(template_id, "template_id") if template_id is not None else None
        fields = None
        if content is not None:  # parsed once here (CPU work: off the event loop)
            fields = (await asyncio.to_thread(prepare_template, "inline", name,
                                              check_object(content, "content"))).fields
        steps = check_fallback(fallback, name)
        for index, step in enumerate(steps):
            if step.template_id is None:
                raise InvalidInput(f"fallback[{index}] needs a template_id: the {step.channel} "
                                   "template to send instead", field=f"fallback[{index}]")
        return outbox.SendCommand(
            uid, name, tid, fields,
            to_json(check_object(data, "data") if data is not None else {}, "data",
                    DATA_MAX_BYTES),
            [{"channel": s.channel, "template_id": s.template_id} for s in steps],
            check_id(topic, "topic") if topic is not None else None,
            _check_bool(transactional, "transactional"),
            check_text(idempotency_key, "idempotency_key", KEY_MAX_BYTES, "key")
            if idempotency_key is not None else None,
            parse_send_at(send_at, self.clock.now()))

    async def delivery_record_many(
            self, outcomes: list[tuple[outbox.DeliveryJob, outbox.Outcome]]) -> list[bool]:
        """Record the outcomes of claimed attempts in one transaction (the dispatcher calls
        this); False for an attempt that is no longer this process's."""
        owner, now = self.services.owner, self.clock.now()
        return await self._write(lambda conn: [
            record.apply_outcome(conn, job, outcome, owner, now) for job, outcome in outcomes],
            small=len(outcomes) <= 4)

    async def messages_get(self, message_id: str) -> Message:
        """A message: status, attempts, every transition, the provider's answers."""
        mid = check_text(message_id, "message_id", 100, "message id")
        return await self._read(lambda conn: queries.read_message(conn, mid), small=True)

    async def messages_list(self, user_id: str | None = None, status: str | None = None,
                            channel: str | None = None, limit: int = 50,
                            cursor: str | None = None) -> MessagesPage:
        """Messages newest first, optionally of one person, status or channel."""
        uid = check_identifier(user_id) if user_id is not None else None
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        name = check_channel(channel) if channel is not None else None
        size = check_limit(limit)
        before = decode_cursor(cursor, (int,))[0] if cursor is not None else None
        return await self._read(
            lambda conn: queries.read_messages(conn, uid, status, name, before, size))

    async def inbox_list(self, user_id: str, unread_only: bool = False, limit: int = 50,
                         cursor: str | None = None) -> InboxPage:
        """A person's in-app messages, newest first."""
        uid = check_identifier(user_id)
        unread = _check_bool(unread_only, "unread_only")
        size = check_limit(limit)
        before = decode_cursor(cursor, (int,))[0] if cursor is not None else None
        return await self._read(lambda conn: queries.read_inbox(conn, uid, unread, before, size))

    async def inbox_mark_read(self, user_id: str, message_ids: list[str]) -> MarkedRead:
        """Mark in-app messages of a person read."""
        uid = check_identifier(user_id)
        if not isinstance(message_ids, list) or not message_ids \
                or len(message_ids) > MARK_READ_MAX:
            raise InvalidInput(f"message_ids must be a list of 1-{MARK_READ_MAX} message ids",
                               field="message_ids")
        ids = [check_text(m, "message_ids", 100, "message id") for m in message_ids]
        now = self.clock.now()
        return await self._write(lambda conn: queries.apply_mark_read(conn, uid, ids, now),
                                 small=True)

    async def preferences_get(self, user_id: str) -> Preferences:
        """A person's global, channel and topic choices."""
        uid = check_identifier(user_id)
        return await self._read(lambda conn: queries.read_preferences(conn, uid), small=True)

    async def preferences_update(self, user_id: str, unsubscribed: bool | None = None,
                                 channels: Mapping[str, Any] | None = None,
                                 topics: Mapping[str, Any] | None = None) -> Preferences:
        """Change a person's choices (true = subscribed; a topic set to null returns to its
        default); returns them all."""
        uid = check_identifier(user_id)
        flag = _check_bool(unsubscribed, "unsubscribed") if unsubscribed is not None else None
        chosen = check_choices(channels, "channels", set(CHANNELS)) if channels is not None else None
        picked = check_choices(topics, "topics", None) if topics is not None else None
        if flag is None and not chosen and not picked:
            raise InvalidInput("nothing to update: give unsubscribed, channels and/or topics",
                               field="channels")
        now = self.clock.now()

        def unit(conn: Any) -> Preferences:
            queries.apply_preferences(conn, uid, flag, chosen, picked, now)
            return queries.read_preferences(conn, uid)

        return await self._write(unit, small=True)

    async def unsubscribe_with_token(self, token: str) -> Unsubscribed:
        """Apply an unsubscribe link (its token names the message and topic, signed with
        the agent's secret): for the HTTP endpoint that serves the links."""
        text = check_text(token, "token", 400, "token")
        now, agent_id = self.clock.now(), self.agent_id
        return await self._write(
            lambda conn: queries.apply_unsubscribe(conn, agent_id, text, now), small=True)

    async def topics_create(self, topic_id: str, name: str, default: str = "opt_in") -> Topic:
        """Create (or rename, or change the default of) a subscription topic."""
        tid = check_id(topic_id, "topic_id")
        title = check_text(name, "name", 200, "topic's display name")
        if default not in ("opt_in", "opt_out"):
            raise InvalidInput("default must be opt_in (nobody gets it until they opt in) or "
                               "opt_out (everybody gets it until they opt out)", field="default")
        now = self.clock.now()
        return await self._write(lambda conn: queries.apply_topic(conn, tid, title, default, now),
                                 small=True)

    async def topics_list(self) -> TopicsList:
        """Every subscription topic."""
        return await self._read(queries.read_topics, small=True)

    async def channels_configure(self, channel: str, provider: str,
                                 settings: Mapping[str, Any] | None = None) -> ChannelsList:
        """Set this agent's provider for a channel (capture: keep the bytes, send nothing;
        disabled: turn the channel off). Secrets are stored, never shown again."""
        name = check_channel(channel)
        if not isinstance(provider, str):
            raise InvalidInput("provider must be a string", field="provider")
        checked = check_settings(name, provider, settings)
        check = getattr(self.services, "check_destination", None)
        if check is not None:
            for key in HOST_SETTINGS:
                if key in checked:
                    await check(checked[key], f"settings.{key}")
        now = self.clock.now()
        operator = operator_channels(self.services)

        def unit(conn: Any) -> ChannelsList:
            queries.apply_channel(conn, name, provider, checked, now)
            return queries.read_channels(conn, operator)

        return await self._write(unit, small=True)

    async def channels_list(self) -> ChannelsList:
        """What each channel uses now, and every provider configured (secrets redacted)."""
        operator = operator_channels(self.services)
        return await self._read(lambda conn: queries.read_channels(conn, operator), small=True)

    async def delivery_frequency_cap(self, cap: int | None = None,
                                     period: str | None = None) -> dict[str, Any]:
        """Cap marketing messages per person per period (both null: no cap)."""
        checked = check_cap(cap, period)
        await self._write(lambda conn: delivery_repo.set_frequency_cap(conn, *checked),
                          small=True)
        return {"cap": checked[0], "period_seconds": checked[1]}

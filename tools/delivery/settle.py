"""Whether a message can go out on its channel now, and the fallback walk when it cannot.

Run inside a write unit when a message is queued and again when it is claimed for
sending (preferences may have changed in between): a channel with no address or device,
one the person opted out of, one turned off, or a message over the frequency cap is
skipped (recorded with the reason) and the next fallback channel is tried; when none is
left the message is `dropped` (a preference said no) or `undeliverable`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from store import delivery_repo as repo
from store import people_repo
from tools.core.delivery import frequency
from tools.core.delivery.addresses import email_address, phone_number
from tools.core.delivery.preferences import TopicDefault, drop_reason
from tools.core.delivery.providers import PLATFORMS, Provider, providers_for
from tools.core.durations import format_duration
from tools.core.errors import InvalidInput


@dataclass
class Usable:
    """What a message needs to go out on its channel."""

    providers: list[Provider]
    to: str | None = None
    devices: list[people_repo.DeviceRow] = field(default_factory=list)


@dataclass
class Settled:
    channel: str
    template_id: str | None
    content: dict[str, Any] | None
    status: str  # queued (usable), dropped or undeliverable
    reason: str | None
    usable: Usable | None
    skipped: list[tuple[str, str]]  # (channel, why) of each channel skipped


def operator_channels(services: Any) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """The providers the operator configured (empty in a plain Python program)."""
    return getattr(services, "channels", None) or {}


def settle(conn: sqlite3.Connection, row: repo.MessageRow, attributes: Mapping[str, Any],
           now: float, services: Any) -> tuple[Settled, list[dict[str, Any]]]:
    """The channel the message goes out on (or why none can be used) and the fallback
    plan left after it."""
    plan = list(row.plan)
    channel, template_id, content = row.channel, row.template_id, row.content
    skipped: list[tuple[str, str]] = []
    agent_settings = repo.channel_settings(conn)
    operator = operator_channels(services)
    while True:
        usable, why, preference = _check(conn, row, channel, attributes, now,
                                         agent_settings.get(channel, {}),
                                         operator.get(channel, {}))
        if usable is not None:
            return Settled(channel, template_id, content, "queued", None, usable, skipped), plan
        skipped.append((channel, why))
        if not plan:
            status = "dropped" if preference else "undeliverable"
            return Settled(channel, template_id, content, status, why, None, skipped), plan
        step = plan.pop(0)
        channel, template_id, content = step["channel"], step.get("template_id"), None


def _check(conn: sqlite3.Connection, row: repo.MessageRow, channel: str,
           attributes: Mapping[str, Any], now: float, agent: Mapping[str, Any],
           operator: Mapping[str, Any]) -> tuple[Usable | None, str, bool]:
    """(what the channel needs, or None with why it cannot be used and whether a
    preference said no)."""
    providers = providers_for(channel, agent, operator)
    if not providers:
        return None, f"the {channel} channel is turned off (channels_configure)", False
    channels, topics = repo.preferences(conn, row.person_pk)
    topic_default = cast(TopicDefault | None,
                         repo.topic_default(conn, row.topic) if row.topic else None)
    refusal = drop_reason(channel, transactional=row.transactional,
                     globally_unsubscribed=attributes.get("unsubscribed") is True,
                     channel_choices=channels, topic=row.topic, topic_default=topic_default,
                     topic_choices=topics)
    if refusal is not None:
        return None, refusal, True
    if not row.transactional and channel != "webhook":
        cap, period = repo.frequency_cap(conn)
        if cap is not None and period is not None:
            others = repo.count_marketing_since(conn, row.person_pk, now - period, now, row.pk)
            if frequency.over_cap(others, cap):
                return None, f"over the frequency cap of {cap} marketing messages per " \
                             f"{format_duration(period)}", False
    usable = Usable(providers)
    try:
        if channel == "email":
            usable.to = _address(attributes.get("email"), "email", email_address)
        elif channel == "sms":
            usable.to = _address(attributes.get("phone"), "phone", phone_number)
        elif channel == "push":
            served = frozenset().union(*(PLATFORMS.get(p.name, ()) for p in providers))
            usable.devices = [device for device in people_repo.devices_of(conn, row.person_pk)
                              if device.platform in served]
            if not usable.devices:
                raise InvalidInput("the person has no push device the configured providers "
                                   "serve (add_device adds one)")
    except InvalidInput as exc:
        return None, exc.message, False
    return usable, "", False


def _address(value: Any, name: str, check: Any) -> str:
    if value in (None, ""):
        raise InvalidInput(f"the person has no {name} attribute")
    return str(check(value))


def plan_json(plan: list[dict[str, Any]]) -> str:
    return json.dumps(plan, separators=(",", ":"))

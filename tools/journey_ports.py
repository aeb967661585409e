"""Part of the composition root: how journeys reach the other areas. A journey's send is
delivery's queueing unit, its attribute updates and emitted events are the people area's
identify and track units, all run inside the journey's own transaction (so the change
events they publish reach every subscriber, journeys included)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from tools.core.people import prepare_identify, prepare_track
from tools.core.templates.render import compile_message, render_message
from tools.delivery.outbox import SendCommand, apply_send
from tools.journeys.runner import Ports, SendRequest
from tools.people.units import apply_identify, apply_track


def journey_send(conn: sqlite3.Connection, request: SendRequest, now: float) -> tuple[str, str]:
    # the message's data is its `trigger.*`; the triggering event's properties its `event.*`
    data = dict(request.data.get("trigger") or {})
    if isinstance(request.data.get("event"), dict):
        data["event"] = request.data["event"]
    cmd = SendCommand(
        user_id=request.user_id, channel=request.channel, template_id=request.template_id,
        content=None, data_json=json.dumps(data, separators=(",", ":")),
        plan=[{"channel": c, "template_id": t} for c, t in request.fallback],
        topic=request.topic, transactional=request.transactional,
        idempotency_key=request.idempotency_key, send_at=now, from_journey=True)
    message_id, status, _, _, _ = apply_send(conn, cmd, now)
    return message_id, status


def journey_set_attributes(conn: sqlite3.Connection, user_id: str, values: dict[str, Any],
                           now: float) -> None:
    apply_identify(conn, prepare_identify(user_id, values, None, None, now), now)


def journey_emit(conn: sqlite3.Connection, user_id: str, name: str,
                 properties: Mapping[str, Any], event_id: str, now: float) -> None:
    cmd = prepare_track(name, user_id, None, dict(properties), "event", None, event_id, now)
    apply_track(conn, cmd, now)


def render_value(source: str, data: Mapping[str, Any], now: float) -> str:
    """A Liquid attribute value of an update_attributes step, rendered for the person."""
    if "{" not in source:
        return source
    return str(render_message(compile_message("sms", {"body": source}), data, now=now)["body"])


PORTS = Ports(send=journey_send, set_attributes=journey_set_attributes, emit_event=journey_emit,
              render_value=render_value)

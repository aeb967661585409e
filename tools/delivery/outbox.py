"""The outbox's write units: queue a message, claim due ones for sending.

Each is a synchronous function of the connection (no network I/O): queueing writes the
row in the transaction that decided to send; the claim marks due rows `sending` with an
attempt number and a lease and hands a DeliveryJob per message to the process's
dispatcher after the commit (WriteContext.effects); the dispatcher does the I/O outside
any transaction and records each outcome with `apply_outcome` (tools/delivery/record.py),
which schedules a retry or moves to the fallback channel as timed work.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from store import delivery_repo as repo
from store import people_repo, templates_repo
from tools import writes
from tools.core.delivery.providers import Provider
from tools.core.delivery.tokens import make_unsubscribe_token, unsubscribe_url
from tools.core.errors import Conflict, InvalidInput, NotFound
from tools.delivery.settle import Settled, plan_json, settle
from tools.timed import Ran

log = logging.getLogger(__name__)
# How long a claimed message may stay `sending` before another process may take it over
# (its process died mid-send); longer than any send's timeouts.
SEND_LEASE_S = float(os.environ.get("CUSTOMERIO_MCP_SEND_LEASE", "300"))
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class SendCommand:
    """A validated send (tools.delivery.api checks the arguments)."""

    user_id: str
    channel: str
    template_id: str | None
    content: dict[str, Any] | None
    data_json: str
    plan: list[dict[str, Any]]
    topic: str | None
    transactional: bool
    idempotency_key: str | None
    send_at: float
    # A journey's send: its templates were checked when the workflow was saved, and cannot
    # be deleted while it is in use.
    from_journey: bool = False


@dataclass(frozen=True)
class DeliveryJob:
    """One claimed attempt, with everything its render and I/O need (read in the claim)."""

    message_pk: int
    message_id: str
    attempt: int
    channel: str
    user_id: str
    fields: dict[str, Any]  # the template's (or inline) sources of the channel
    layout: str | None
    snippets: dict[str, str]
    context: dict[str, Any]  # the render data: customer, trigger, message, unsubscribe_url
    providers: list[Provider]
    to: str | None
    devices: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    unsubscribe_url: str | None = None
    transactional: bool = False
    now: float = 0.0


@dataclass(frozen=True)
class Outcome:
    """What the dispatcher tells the outbox about one attempt."""

    kind: str  # sent | delivered | captured | transient | permanent | failed (render)
    detail: str
    provider: str | None = None
    provider_message_id: str | None = None
    retry_after: float | None = None
    captured: bytes | None = None
    rendered: dict[str, Any] | None = None


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(10)


def person_attributes(conn: sqlite3.Connection, person_pk: int) -> tuple[str, dict[str, Any]] | None:
    row = conn.execute("SELECT user_id, attributes FROM people WHERE pk = ?",
                       (person_pk,)).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def apply_send(conn: sqlite3.Connection, cmd: SendCommand, now: float) -> tuple[str, str, str,
                                                                                  str | None, bool]:
    """Queue one message (or find the one its idempotency key made): (message_id, status,
    channel, reason, repeat)."""
    if cmd.idempotency_key is not None:
        first = repo.message_by_key(conn, cmd.idempotency_key)
        if first is not None:
            return first.message_id, first.status, first.channel, first.reason, True
    person = people_repo.find_person(conn, cmd.user_id)
    if person is None:
        if people_repo.is_suppressed(conn, cmd.user_id):
            raise Conflict(f"user_id {cmd.user_id!r} is suppressed: nothing is sent to them; "
                           "unsuppress_person frees the id", field="user_id")
        raise NotFound(f"no person with user_id {cmd.user_id!r}; identify creates people",
                       field="user_id")
    if not cmd.from_journey:
        check_templates(conn, cmd)
    if cmd.topic is not None and repo.topic_default(conn, cmd.topic) is None:
        raise NotFound(f"topic {cmd.topic!r} not found; topics_create makes it, topics_list "
                       "shows the ids", field="topic")
    due = max(cmd.send_at, now)
    message_id = new_message_id()
    pk = repo.insert_message(conn, repo.NewMessage(
        message_id, cmd.idempotency_key, person.pk, cmd.channel, cmd.template_id,
        json.dumps(cmd.content) if cmd.content is not None else None, cmd.data_json,
        plan_json(cmd.plan), cmd.topic, cmd.transactional, "queued", None, due, cmd.send_at),
        now)
    repo.add_transition(conn, pk, now, "queued", cmd.channel, 0,
                        None if due <= now else "scheduled")
    row = repo.MessageRow(  # the row just written, without reading it back
        pk, message_id, cmd.idempotency_key, person.pk, person.user_id, cmd.channel,
        cmd.template_id, cmd.content, json.loads(cmd.data_json), cmd.plan, cmd.topic,
        cmd.transactional, "queued", None, 0, due, None, None, None, None, None, cmd.send_at,
        now, now, None)
    if due <= now:  # say at once when it cannot go out (checked again when claimed)
        settled, plan = settle(conn, row, person.attributes, now, writes.current().services)
        row = _apply_settled(conn, row, settled, plan, now) or row
    if row.status == "queued":
        writes.current().schedule(due)
    return row.message_id, row.status, row.channel, row.reason, False


def check_templates(conn: sqlite3.Connection, cmd: SendCommand) -> None:
    """Every template the message may render exists and is one of its channel."""
    steps = [(cmd.channel, cmd.template_id, "template_id")]
    steps += [(step["channel"], step.get("template_id"), f"fallback[{index}].template_id")
              for index, step in enumerate(cmd.plan)]
    for channel, template_id, where in steps:
        if template_id is None:
            continue
        template = templates_repo.get_template(conn, template_id)
        if template is None:
            raise NotFound(f"template {template_id!r} not found; templates_list shows the "
                           "ids", field=where)
        if template.channel != channel:
            raise InvalidInput(f"template {template_id!r} is a {template.channel} template, "
                               f"not {channel}; give a {channel} template", field=where)


def _apply_settled(conn: sqlite3.Connection, row: repo.MessageRow, settled: Settled,
                   plan: list[dict[str, Any]], now: float) -> repo.MessageRow | None:
    """Store what settle decided: skipped channels, the channel now, or the final status.
    Returns the updated row (None when nothing changed)."""
    if not settled.skipped:
        return None
    for channel, why in settled.skipped:
        repo.add_transition(conn, row.pk, now, "skipped", channel, row.attempts, why)
    values: dict[str, Any] = {"channel": settled.channel, "template_id": settled.template_id,
                              "content": json.dumps(settled.content)
                              if settled.content is not None else None,
                              "plan": plan_json(plan)}
    if settled.channel != row.channel:
        values["attempts"] = 0
    if settled.status != "queued":
        values.update(status=settled.status, reason=settled.reason, due=None,
                      lease_owner=None, lease_expires=None)
        repo.add_transition(conn, row.pk, now, settled.status, settled.channel, 0,
                            settled.reason)
    repo.update_message(conn, row.pk, now, **values)
    return repo.message_by_pk(conn, row.pk)


class DeliveryWork:
    """The outbox as timed work: queued messages fall due at `due`; a `sending` one whose
    lease lapsed (its process died) falls due again at `lease_expires`."""

    area = "delivery"
    needs_dispatch = True

    def earliest(self, conn: sqlite3.Connection) -> float | None:
        return repo.earliest_due(conn)

    def run_due(self, conn: sqlite3.Connection, until: float, budget: int) -> Ran:
        context = writes.current()
        dispatch = context.services.dispatch
        room = min(budget, dispatch.capacity(context.agent_id))
        if room <= 0:
            return Ran(0, None)
        rows = repo.due_messages(conn, until, room)
        for row in rows:
            job = claim(conn, row, context)
            if job is not None:
                context.effects.append(job)
        oldest = (rows[0].due or rows[0].lease_expires) if rows else None
        return Ran(len(rows), oldest)


def claim(conn: sqlite3.Connection, row: repo.MessageRow,
          context: writes.WriteContext) -> DeliveryJob | None:
    """Mark one due message `sending` (a new attempt, under this process's lease) and
    build its job; or settle it as dropped / undeliverable / failed."""
    now = context.now
    if row.status == "sending":
        repo.add_transition(conn, row.pk, now, "retry", row.channel, row.attempts,
                            f"the process sending it ({row.lease_owner}) stopped before "
                            "recording the outcome; sending again")
    person = person_attributes(conn, row.person_pk)
    assert person is not None  # messages are deleted with their person
    user_id, attributes = person
    settled, plan = settle(conn, row, attributes, now, context.services)
    row = _apply_settled(conn, row, settled, plan, now) or row
    if settled.status != "queued" or settled.usable is None:
        return None
    sources = _sources(conn, row)
    if isinstance(sources, str):
        finish(conn, row, "failed", sources, now)
        return None
    fields, layout, snippets = sources
    attempt = row.attempts + 1
    services = context.services
    link = None
    if not row.transactional and row.channel in ("email", "in_app", "sms", "push"):
        token = make_unsubscribe_token(repo.secret(conn), context.agent_id, row.message_id,
                                       row.topic)
        link = unsubscribe_url(getattr(services, "public_url", None) or DEFAULT_PUBLIC_URL,
                               token)
    render_data = {"customer": {**attributes, "id": user_id}, "trigger": row.data,
                   "event": row.data.get("event", {}) if isinstance(row.data.get("event"),
                                                                    dict) else {},
                   "message": {"id": row.message_id, "channel": row.channel},
                   "unsubscribe_url": link or ""}
    repo.update_message(conn, row.pk, now, status="sending", attempts=attempt, due=None,
                        lease_owner=services.owner, lease_expires=now + SEND_LEASE_S)
    repo.add_transition(conn, row.pk, now, "sending", row.channel, attempt, None)
    usable = settled.usable
    if row.channel == "webhook":
        usable.providers = [_signing(conn, provider) for provider in usable.providers]
    return DeliveryJob(
        row.pk, row.message_id, attempt, row.channel, user_id, fields, layout, snippets,
        render_data, usable.providers, usable.to,
        [(d.device_id, d.platform, d.attributes) for d in usable.devices], link,
        row.transactional, now)


def _signing(conn: sqlite3.Connection, provider: Provider) -> Provider:
    """The webhook provider with a signing secret: when none was set, one derived from the
    agent's own secret (stable, never stored as a setting, never shown)."""
    if provider.settings.get("signing_secret"):
        return provider
    derived = hmac.new(repo.secret(conn), b"webhook signing secret", hashlib.sha256).hexdigest()
    return Provider(provider.name, {**provider.settings, "signing_secret": derived},
                    provider.source)


def _sources(conn: sqlite3.Connection, row: repo.MessageRow
             ) -> tuple[dict[str, Any], str | None, dict[str, str]] | str:
    """The fields, layout and snippets the message renders, or why they are gone."""
    if row.template_id is None:
        return dict(row.content or {}), None, {}
    template = templates_repo.get_template(conn, row.template_id)
    if template is None:
        return f"template {row.template_id!r} was deleted before the message was sent"
    layout = None
    roots: list[tuple[templates_repo.UserKind, str]] = [("template", template.template_id)]
    if template.layout_id:
        piece = templates_repo.get_piece(conn, "layout", template.layout_id)
        layout = piece.body if piece else None
        roots.append(("layout", template.layout_id))
    return template.fields, layout, templates_repo.snippet_closure(conn, roots)


def finish(conn: sqlite3.Connection, row: repo.MessageRow, status: str, reason: str | None,
            now: float, **values: Any) -> None:
    repo.update_message(conn, row.pk, now, status=status, reason=reason, due=None,
                        lease_owner=None, lease_expires=None, **values)
    repo.add_transition(conn, row.pk, now, status, row.channel, row.attempts, reason)

"""Recording one attempt's outcome: sent, or a retry scheduled as timed work, or the next
fallback channel, or failed."""

from __future__ import annotations

import json
import random
import sqlite3

from store import delivery_repo as repo
from tools import writes
from tools.core.delivery.retry import MAX_ATTEMPTS, retry_delay
from tools.delivery.outbox import DeliveryJob, Outcome, finish
from tools.delivery.settle import plan_json


def apply_outcome(conn: sqlite3.Connection, job: DeliveryJob, outcome: Outcome, owner: str,
                  now: float) -> bool:
    """Record one attempt's outcome; False when the message is no longer this attempt's
    (deleted with its person, or taken over by another process after the lease)."""
    row = repo.message_by_pk(conn, job.message_pk)
    if row is None or row.status != "sending" or row.attempts != job.attempt \
            or row.lease_owner != owner:
        return False
    rendered = json.dumps(outcome.rendered) if outcome.rendered is not None else row_rendered(row)
    if outcome.kind in ("sent", "delivered", "captured"):
        if outcome.captured is not None:
            repo.add_capture(conn, row.pk, row.channel, row.attempts, outcome.captured)
        repo.update_message(conn, row.pk, now, status=outcome.kind, reason=None,
                            lease_owner=None, lease_expires=None, rendered=rendered,
                            provider=outcome.provider,
                            provider_message_id=outcome.provider_message_id)
        repo.add_transition(conn, row.pk, now, outcome.kind, row.channel, row.attempts,
                            outcome.detail)
        return True
    if outcome.kind == "failed":  # the render failed: nothing broken is sent
        finish(conn, row, "failed", outcome.detail, now, rendered=rendered)
        return True
    delay = retry_delay(row.attempts, outcome.retry_after, random.random()) \
        if outcome.kind == "transient" else None
    if delay is not None:
        repo.update_message(conn, row.pk, now, status="queued", due=now + delay,
                            lease_owner=None, lease_expires=None, provider=outcome.provider)
        repo.add_transition(conn, row.pk, now, "retry", row.channel, row.attempts,
                            f"{outcome.detail}; next attempt in {delay:.0f} s")
        writes.current().schedule(now + delay)
        return True
    detail = outcome.detail if outcome.kind == "permanent" else \
        f"{outcome.detail} (gave up after {MAX_ATTEMPTS} attempts)"
    if row.plan:
        step, rest = row.plan[0], row.plan[1:]
        repo.add_transition(conn, row.pk, now, "skipped", row.channel, row.attempts, detail)
        repo.update_message(conn, row.pk, now, status="queued", channel=step["channel"],
                            template_id=step.get("template_id"), content=None,
                            plan=plan_json(rest), attempts=0, due=now, lease_owner=None,
                            lease_expires=None)
        writes.current().schedule(now)
        return True
    finish(conn, row, "failed", detail, now, provider=outcome.provider)
    return True


def row_rendered(row: repo.MessageRow) -> str | None:
    return json.dumps(row.rendered) if row.rendered is not None else None

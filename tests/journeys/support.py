"""Helpers of the journey tests: saving and switching on a workflow in one call, reading a
person's journeys, moving the manual clock and running what fell due."""

from __future__ import annotations

from typing import Any

from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.journeys.models import JourneyInfo
from tools.timed import TimedRun

MINUTE, HOUR, DAY = 60.0, 3_600.0, 86_400.0
API = {"type": "api"}
SMS = {"body": "Hi {{ customer.first_name }} {{ trigger.x }}"}


async def workflow(cio: CustomerIO, workflow_id: str, trigger: dict[str, Any],
                   steps: list[dict[str, Any]], settings: dict[str, Any] | None = None,
                   *, activate: bool = True) -> None:
    """Save a workflow (and switch it on unless told not to)."""
    await cio.workflows_create(workflow_id, workflow_id.title(), trigger, steps, settings)
    if activate:
        await cio.workflows_activate(workflow_id)


async def people(cio: CustomerIO, *user_ids: str, **attributes: Any) -> None:
    """identify each user_id with an email, a first name and `attributes`."""
    for user_id in user_ids:
        await cio.identify(user_id, {"email": f"{user_id}@example.com",
                                     "first_name": user_id.title(), **attributes})


async def journeys(cio: CustomerIO, user_id: str, workflow_id: str | None = None
                   ) -> list[JourneyInfo]:
    """The person's journeys, newest first (of one workflow when given)."""
    found = (await cio.journeys_list(user_id, limit=100)).journeys
    return [j for j in found if workflow_id is None or j.workflow_id == workflow_id]


async def journey(cio: CustomerIO, user_id: str, workflow_id: str) -> JourneyInfo:
    """The person's one journey through `workflow_id`."""
    [found] = await journeys(cio, user_id, workflow_id)
    return found


async def totals(cio: CustomerIO, workflow_id: str) -> dict[str, int]:
    """Journeys of the workflow by status, and `converted`."""
    return (await cio.workflows_get(workflow_id)).journeys


async def started(cio: CustomerIO, workflow_id: str) -> int:
    """How many journeys the workflow has had."""
    return sum(n for status, n in (await totals(cio, workflow_id)).items()
               if status != "converted")


async def later(cio: CustomerIO, clock: ManualClock, seconds: float) -> TimedRun:
    """Move the clock on by `seconds` and run what fell due."""
    clock.advance(seconds)
    return await cio.run_due()


async def sent(cio: CustomerIO, user_id: str | None = None) -> list[tuple[str | None, str]]:
    """(template_id, idempotency_key) of every message in the outbox, oldest first."""
    page = await cio.messages_list(user_id=user_id, limit=100)
    return [(m.template_id, m.idempotency_key or "") for m in reversed(page.messages)]


def lines(info: JourneyInfo, what: str) -> list[str]:
    """The journey's recent log lines that say `what`."""
    return [line for line in info.recent if f" {what}" in line]

"""A send step queues a message in the outbox under an idempotency key, once however often
the due work runs; a delay holds the journey until its end, as timed work the agent's status
shows."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.journeys.support import API, DAY, HOUR, SMS, journey, later, people, sent, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio

SEND = {"id": "hello", "type": "send", "channel": "sms", "template_id": "hi"}
DELAYED_SEND = [{"id": "wait", "type": "delay", "duration": "1d"},
                {**SEND, "id": "again"}, {"id": "rest", "type": "delay", "duration": "1d"}]


@pytest.fixture
async def ready(cio: CustomerIO) -> CustomerIO:
    await people(cio, "ada", phone="+14155550123")
    await cio.templates_create("hi", "sms", SMS)
    return cio


async def test_a_send_step_queues_a_message_under_an_idempotency_key(ready: CustomerIO) -> None:
    await workflow(ready, "w", API, [SEND])
    await ready.workflows_trigger("w", ["ada"])
    [message] = (await ready.messages_list(user_id="ada")).messages
    assert (message.template_id, message.channel, message.status) == ("hi", "sms", "queued")
    assert message.idempotency_key and message.idempotency_key.endswith(":hello:1")
    found = await journey(ready, "ada", "w")
    assert found.status == "completed"
    assert any(message.message_id in line for line in found.recent)


async def test_running_the_same_due_work_twice_sends_nothing_twice(
        ready: CustomerIO, clock: ManualClock) -> None:
    await workflow(ready, "w", API, DELAYED_SEND)
    await ready.workflows_trigger("w", ["ada"])
    first = await later(ready, clock, DAY)
    again = await ready.run_due()
    assert (first.ran, again.ran) == (1, 0)
    [(template, key)] = await sent(ready, "ada")
    assert template == "hi" and key.endswith(":again:2")
    assert (await journey(ready, "ada", "w")).current_step == "rest"


async def test_a_step_repeated_after_its_position_was_lost_reuses_its_keys(
        ready: CustomerIO, clock: ManualClock, db: Path) -> None:
    """The keys come from the journey, step and visit: running the same transition again
    (the stored position put back as it was before the delay ended) queues nothing new."""
    await workflow(ready, "w", API, DELAYED_SEND)
    await ready.workflows_trigger("w", ["ada"])
    columns = "status, state, step_id, wait_event, due, ended_at"
    with closing(sqlite3.connect(db)) as conn:
        before = conn.execute(f"SELECT {columns} FROM journeys").fetchone()
    await later(ready, clock, DAY)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE journeys SET status = ?, state = ?, step_id = ?, wait_event = ?, "
                     "due = ?, ended_at = ?", before)
    assert (await ready.run_due()).ran == 1
    assert len(await sent(ready, "ada")) == 1
    assert (await journey(ready, "ada", "w")).current_step == "rest"


async def test_a_delay_holds_the_journey_until_it_ends(
        ready: CustomerIO, clock: ManualClock) -> None:
    await workflow(ready, "w", API, DELAYED_SEND)
    await ready.workflows_trigger("w", ["ada"])
    end = clock.now() + DAY
    found = await journey(ready, "ada", "w")
    assert (found.status, found.current_step, found.waiting_until) == ("waiting", "wait",
                                                                       iso(end))
    assert (await later(ready, clock, DAY - 1)).ran == 0
    assert await sent(ready) == []
    assert (await journey(ready, "ada", "w")).current_step == "wait"
    assert (await later(ready, clock, 1)).ran == 1
    assert len(await sent(ready)) == 1
    assert (await journey(ready, "ada", "w")).current_step == "rest"


async def test_agent_status_shows_when_the_journeys_area_is_due_next(
        ready: CustomerIO, clock: ManualClock) -> None:
    await workflow(ready, "w", API, DELAYED_SEND)
    await ready.workflows_trigger("w", ["ada"])

    async def journeys_due() -> str | None:
        areas = {a.area: a.next_due for a in (await ready.agent_status()).scheduled}
        return areas["journeys"]

    assert await journeys_due() == iso(clock.now() + DAY)
    await later(ready, clock, DAY + HOUR)  # an hour late: the next delay starts from now
    assert await journeys_due() == iso(clock.now() + DAY)
    await later(ready, clock, DAY)
    assert await journeys_due() is None
    assert (await journey(ready, "ada", "w")).status == "completed"


async def test_a_late_run_records_its_lateness_in_the_journey_log(
        ready: CustomerIO, clock: ManualClock) -> None:
    await workflow(ready, "w", API, DELAYED_SEND)
    await ready.workflows_trigger("w", ["ada"])
    run = await later(ready, clock, DAY + 2 * HOUR)
    assert run.lateness == pytest.approx(2 * HOUR)
    recent = (await journey(ready, "ada", "w")).recent
    assert any("wait resumed: after 1d2h (2h late)" in line for line in recent), recent

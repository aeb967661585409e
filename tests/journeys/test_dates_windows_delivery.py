"""Date triggers start each person's journey at their own moment (timed work, recomputed when
the attribute changes); after a stretch with nothing running, due steps catch up but a time
window still waits for its window; journey messages obey preferences and frequency caps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import START
from tests.journeys.support import API, DAY, journey, journeys, people, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio

RENEWAL = START + 10 * DAY  # 2026-06-07T20:26:40Z; three days before: Thursday 2026-06-04
RENEWAL_TRIGGER = {"type": "date", "attribute": "renewal_date", "offset": "-3d", "at": "09:00"}
REMIND = [{"id": "remind", "type": "update_attributes", "set": {"reminded": True}}]


def at(*fields: int) -> float:
    return datetime(*fields, tzinfo=UTC).timestamp()


async def dates_due(cio: CustomerIO) -> str | None:
    return {a.area: a.next_due for a in (await cio.agent_status()).scheduled}["journey_dates"]


@pytest.fixture
async def renewals(cio: CustomerIO) -> CustomerIO:
    """ada in Paris and bob (no timezone: UTC) renewing on 2026-06-07, a date workflow."""
    await people(cio, "ada", renewal_date=RENEWAL, timezone="Europe/Paris")
    await people(cio, "bob", renewal_date=RENEWAL)
    await workflow(cio, "renewal", RENEWAL_TRIGGER, REMIND)
    return cio


async def test_a_date_trigger_starts_each_journey_at_nine_in_the_persons_timezone(
        renewals: CustomerIO, clock: ManualClock) -> None:
    paris_nine, utc_nine = at(2026, 6, 4, 7), at(2026, 6, 4, 9)
    assert await dates_due(renewals) == iso(paris_nine)
    clock.set(paris_nine - 1)
    assert (await renewals.run_due()).ran == 0
    assert await journeys(renewals, "ada") == []
    clock.set(paris_nine)
    await renewals.run_due()
    assert (await journey(renewals, "ada", "renewal")).entered_at == iso(paris_nine)
    assert await journeys(renewals, "bob") == []
    assert await dates_due(renewals) == iso(utc_nine)
    clock.set(utc_nine)
    await renewals.run_due()
    assert (await renewals.get_person("bob")).attributes["reminded"] is True
    assert await dates_due(renewals) is None


async def test_changing_the_date_attribute_moves_the_persons_moment(
        renewals: CustomerIO, clock: ManualClock) -> None:
    await renewals.identify("ada", {"renewal_date": RENEWAL + 7 * DAY})
    assert await dates_due(renewals) == iso(at(2026, 6, 4, 9))  # bob's now comes first
    clock.set(at(2026, 6, 5))
    await renewals.run_due()
    assert await journeys(renewals, "ada") == []
    assert await dates_due(renewals) == iso(at(2026, 6, 11, 7))


async def test_a_paused_date_workflow_lets_the_moment_pass(
        renewals: CustomerIO, clock: ManualClock) -> None:
    await renewals.workflows_pause("renewal")
    assert await dates_due(renewals) is None
    clock.set(at(2026, 6, 5))
    await renewals.run_due()
    assert await journeys(renewals, "ada") == [] and await journeys(renewals, "bob") == []


async def test_after_a_long_stop_due_steps_catch_up_but_a_time_window_still_waits(
        cio: CustomerIO, clock: ManualClock) -> None:
    await people(cio, "ada")
    await workflow(cio, "w", API, [
        {"id": "wait", "type": "delay", "duration": "1d"},
        {"id": "office", "type": "time_window", "days": ["mon", "tue", "wed", "thu", "fri"],
         "start": "09:00", "end": "17:00", "timezone": "Europe/Paris"},
        *REMIND])
    await cio.workflows_trigger("w", ["ada"])  # Thursday evening
    clock.set(at(2026, 5, 30, 12))  # nothing ran until Saturday noon
    run = await cio.run_due()
    assert run.ran == 1 and run.lateness == pytest.approx(at(2026, 5, 30, 12) - START - DAY)
    found = await journey(cio, "ada", "w")
    assert (found.current_step, found.waiting_until) == ("office", "2026-06-01T07:00:00Z")
    assert any("late" in line for line in found.recent)
    clock.set(at(2026, 6, 1, 7))
    await cio.run_due()
    assert (await cio.get_person("ada")).attributes["reminded"] is True


async def test_a_journey_message_obeys_topics_and_the_journey_goes_on(cio: CustomerIO) -> None:
    await people(cio, "ada", phone="+14155550123")
    await cio.templates_create("hi", "sms", {"body": "Hi"})
    await cio.topics_create("news", "News")
    await cio.preferences_update("ada", topics={"news": False})
    await workflow(cio, "w", API, [
        {"type": "send", "channel": "sms", "template_id": "hi", "topic": "news"}, *REMIND])
    await cio.workflows_trigger("w", ["ada"])
    [message] = (await cio.messages_list()).messages
    assert (message.status, message.reason) == ("dropped", "opted out of topic 'news'")
    assert (await journey(cio, "ada", "w")).status == "completed"
    assert (await cio.get_person("ada")).attributes["reminded"] is True


async def test_the_frequency_cap_applies_to_journey_messages_but_not_transactional_ones(
        cio: CustomerIO) -> None:
    await people(cio, "ada", phone="+14155550123")
    await cio.templates_create("hi", "sms", {"body": "Hi"})
    await cio.delivery_frequency_cap(cap=1, period="1d")
    send = {"type": "send", "channel": "sms", "template_id": "hi"}
    await workflow(cio, "w", API, [send, send, {**send, "transactional": True}])
    await cio.workflows_trigger("w", ["ada"])
    statuses = [m.status for m in reversed((await cio.messages_list()).messages)]
    assert statuses == ["queued", "undeliverable", "queued"]

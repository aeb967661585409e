"""Anonymous visitors: their recent events become the person's when identified."""

from __future__ import annotations

import pytest

from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio

DAY = 86_400.0


async def test_anonymous_events_of_the_last_30_days_are_merged_on_identify(
    cio: CustomerIO,
) -> None:
    await cio.track("view", anonymous_id="visitor-1", type="page", properties={"n": 1})
    await cio.track("added_to_cart", anonymous_id="visitor-1")
    await cio.track("view", anonymous_id="someone-else")
    result = await cio.identify("ada", {"plan": "pro"}, anonymous_id="visitor-1")
    assert (result.created, result.merged_anonymous_events) == (True, 2)
    person = await cio.get_person("ada")
    assert person.event_counts == {"added_to_cart": 1, "view": 1}
    assert person.anonymous_ids == ["visitor-1"]
    others = await cio.list_events(anonymous_id="someone-else")
    assert [e.user_id for e in others.events] == [None]


async def test_anonymous_events_older_than_30_days_stay_anonymous(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.track("old_visit", anonymous_id="visitor-1")
    clock.advance(30 * DAY + 1)
    await cio.track("recent_visit", anonymous_id="visitor-1")
    result = await cio.identify("ada", anonymous_id="visitor-1")
    assert result.merged_anonymous_events == 1
    assert (await cio.get_person("ada")).event_counts == {"recent_visit": 1}
    events = (await cio.list_events(anonymous_id="visitor-1")).events
    assert {(e.name, e.user_id) for e in events} == {("recent_visit", "ada"), ("old_visit", None)}


async def test_an_event_exactly_30_days_old_is_still_merged(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.track("visit", anonymous_id="visitor-1")
    clock.advance(30 * DAY)
    assert (await cio.identify("ada", anonymous_id="visitor-1")).merged_anonymous_events == 1


async def test_the_window_counts_from_the_event_time_not_its_arrival(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.track("backfilled", anonymous_id="visitor-1", timestamp=clock.now() - 31 * DAY)
    assert (await cio.identify("ada", anonymous_id="visitor-1")).merged_anonymous_events == 0


async def test_the_anonymous_id_may_come_inside_the_attributes(cio: CustomerIO) -> None:
    await cio.track("visit", anonymous_id="visitor-1")
    result = await cio.identify("ada", {"anonymous_id": "visitor-1", "plan": "pro"})
    assert result.merged_anonymous_events == 1
    person = await cio.get_person("ada")
    assert "anonymous_id" not in person.attributes
    assert person.anonymous_ids == ["visitor-1"]


async def test_later_anonymous_events_of_a_linked_id_belong_to_the_person(
    cio: CustomerIO,
) -> None:
    await cio.identify("ada", anonymous_id="visitor-1")
    result = await cio.track("checkout", anonymous_id="visitor-1")
    assert (result.status, result.user_id, result.anonymous_id) == ("stored", "ada", "visitor-1")
    assert (await cio.get_person("ada")).event_counts == {"checkout": 1}


async def test_identifying_again_with_the_same_anonymous_id_merges_nothing_twice(
    cio: CustomerIO,
) -> None:
    await cio.track("visit", anonymous_id="visitor-1")
    await cio.identify("ada", anonymous_id="visitor-1")
    assert (await cio.identify("ada", anonymous_id="visitor-1")).merged_anonymous_events == 0
    assert (await cio.get_person("ada")).total_events == 1


async def test_a_person_may_have_several_anonymous_ids(cio: CustomerIO) -> None:
    await cio.track("phone_visit", anonymous_id="phone")
    await cio.track("laptop_visit", anonymous_id="laptop")
    await cio.identify("ada", anonymous_id="phone")
    await cio.identify("ada", anonymous_id="laptop")
    person = await cio.get_person("ada")
    assert sorted(person.anonymous_ids) == ["laptop", "phone"]
    assert person.event_counts == {"laptop_visit": 1, "phone_visit": 1}


async def test_an_anonymous_id_identified_as_someone_else_moves_its_link(
    cio: CustomerIO,
) -> None:
    await cio.identify("ada", anonymous_id="shared-tablet")
    await cio.identify("bob", anonymous_id="shared-tablet")
    result = await cio.track("visit", anonymous_id="shared-tablet")
    assert result.user_id == "bob"
    assert (await cio.get_person("ada")).anonymous_ids == []

"""get_person: the profile with devices, counts by event name and bounded recent events."""

from __future__ import annotations

import pytest

from tools.api import CustomerIO
from tools.core import limits
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.anyio


async def test_recent_events_are_bounded_newest_first_while_counts_cover_all(
    cio: CustomerIO, clock: ManualClock
) -> None:
    for i in range(30):
        await cio.track("view" if i % 3 else "login", user_id="ada", properties={"i": i})
        clock.advance(1)
    person = await cio.get_person("ada")
    assert person.event_counts == {"login": 10, "view": 20}
    assert person.total_events == 30
    assert len(person.recent_events) == limits.RECENT_EVENTS
    assert [e.properties["i"] for e in person.recent_events] == list(range(29, 9, -1))


async def test_a_new_person_has_no_events_devices_or_links(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"})
    person = await cio.get_person("ada")
    assert (person.event_counts, person.total_events, person.recent_events) == ({}, 0, [])
    assert (person.devices, person.anonymous_ids) == ([], [])


async def test_recent_events_include_merged_anonymous_ones(cio: CustomerIO) -> None:
    await cio.track("visit", anonymous_id="visitor-1")
    await cio.identify("ada", anonymous_id="visitor-1")
    (event,) = (await cio.get_person("ada")).recent_events
    assert (event.name, event.user_id, event.anonymous_id) == ("visit", "ada", "visitor-1")


async def test_an_unknown_person_is_not_found_with_a_hint(cio: CustomerIO) -> None:
    with pytest.raises(NotFound) as info:
        await cio.get_person("nobody")
    assert "identify creates people" in info.value.message
    assert info.value.field == "user_id"


async def test_a_malformed_user_id_is_invalid(cio: CustomerIO) -> None:
    with pytest.raises(InvalidInput):
        await cio.get_person("bad\nid")

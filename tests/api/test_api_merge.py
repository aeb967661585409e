"""merge_people: the secondary's events, devices and links move; missing attributes copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput, LimitExceeded, NotFound

pytestmark = pytest.mark.anyio


async def two_people(cio: CustomerIO, clock: ManualClock) -> None:
    await cio.identify("primary", {"email": "p@example.com", "plan": "pro"})
    await cio.track("login", user_id="primary")
    clock.advance(60)
    await cio.identify("secondary", {"email": "s@example.com", "city": "Paris", "age": 30},
                       anonymous_id="old-phone")
    await cio.track("view", user_id="secondary")
    await cio.track("purchase", user_id="secondary", event_id="buy-1")
    await cio.add_device("secondary", "tok-s", "ios")
    clock.advance(60)


async def test_merge_moves_events_devices_and_links_and_deletes_the_secondary(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await two_people(cio, clock)
    result = await cio.merge_people("primary", "secondary")
    assert (result.events_moved, result.devices_moved) == (2, 1)
    assert sorted(result.attributes_copied) == ["age", "city"]
    person = await cio.get_person("primary")
    assert person.event_counts == {"login": 1, "purchase": 1, "view": 1}
    assert [d.device_id for d in person.devices] == ["tok-s"]
    assert person.anonymous_ids == ["old-phone"]
    with pytest.raises(NotFound):
        await cio.get_person("secondary")


async def test_merge_keeps_the_primary_attributes_and_copies_only_missing_ones(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await two_people(cio, clock)
    primary_created = (await cio.get_person("primary")).created_at
    await cio.merge_people("primary", "secondary")
    person = await cio.get_person("primary")
    assert person.attributes["email"] == "p@example.com"
    assert (person.attributes["plan"], person.attributes["city"]) == ("pro", "Paris")
    assert person.created_at == primary_created
    assert (await cio.list_people(email="s@example.com")).people == []
    assert [p.user_id for p in (await cio.list_people(email="p@example.com")).people] == [
        "primary"
    ]


async def test_after_a_merge_the_secondary_anonymous_id_tracks_to_the_primary(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await two_people(cio, clock)
    await cio.merge_people("primary", "secondary")
    assert (await cio.track("visit", anonymous_id="old-phone")).user_id == "primary"


async def test_after_a_merge_the_secondary_event_ids_still_deduplicate(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await two_people(cio, clock)
    await cio.merge_people("primary", "secondary")
    assert (await cio.track("purchase", user_id="primary", event_id="buy-1")).status == "duplicate"


async def test_the_secondary_id_may_be_identified_again_as_a_new_person(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await two_people(cio, clock)
    await cio.merge_people("primary", "secondary")
    assert (await cio.identify("secondary")).created


@pytest.mark.parametrize(
    ("primary", "secondary", "error", "field"),
    [
        ("primary", "nobody", NotFound, "user_id"),
        ("nobody", "secondary", NotFound, "user_id"),
        ("primary", "primary", InvalidInput, "secondary"),
        ("", "secondary", InvalidInput, "primary"),
        ("primary", "a\nb", InvalidInput, "secondary"),
    ],
)
async def test_a_bad_merge_is_refused_and_changes_nothing(
    cio: CustomerIO, clock: ManualClock, db_path: Path, primary: str, secondary: str,
    error: type[Exception], field: str,
) -> None:
    await two_people(cio, clock)
    with unchanged(db_path), pytest.raises(error) as info:
        await cio.merge_people(primary, secondary)
    assert info.value.field == field  # type: ignore[attr-defined]


async def test_a_merge_that_would_exceed_the_device_limit_changes_nothing(
    cio: CustomerIO, db_path: Path
) -> None:
    await cio.identify("p")
    await cio.identify("s")
    for i in range(30):
        await cio.add_device("p", f"p-{i}", "web")
        await cio.add_device("s", f"s-{i}", "web")
    with unchanged(db_path), pytest.raises(LimitExceeded):
        await cio.merge_people("p", "s")

"""track through the Python API: events for people and visitors, de-duplication, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import rows, unchanged
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio


async def test_track_for_a_new_user_id_creates_the_person(
    cio: CustomerIO, clock: ManualClock
) -> None:
    result = await cio.track("signed_up", user_id="ada", properties={"plan": "pro"})
    assert (result.status, result.user_id, result.person_created) == ("stored", "ada", True)
    person = await cio.get_person("ada")
    assert person.attributes == {"created_at": int(clock.now())}
    assert person.event_counts == {"signed_up": 1}
    assert person.recent_events[0].properties == {"plan": "pro"}


async def test_track_for_a_known_person_does_not_create_another(cio: CustomerIO) -> None:
    await cio.identify("ada")
    assert (await cio.track("login", user_id="ada")).person_created is False
    assert (await cio.list_people()).total == 1


async def test_an_event_keeps_its_type_name_properties_and_times(
    cio: CustomerIO, clock: ManualClock
) -> None:
    when = clock.now() - 3_600
    await cio.track("https://example.com/pricing", user_id="ada", type="page",
                    properties={"ref": "ad"}, timestamp=when, event_id="01HX")
    await cio.track("Settings", user_id="ada", type="screen")
    page, screen = reversed((await cio.list_events(user_id="ada")).events)
    assert (page.type, page.name, page.properties) == ("page", "https://example.com/pricing",
                                                      {"ref": "ad"})
    assert (page.timestamp, page.received_at, page.event_id) == (iso(when), iso(clock.now()),
                                                                "01HX")
    assert (screen.type, screen.timestamp) == ("screen", iso(clock.now()))


async def test_an_anonymous_event_is_stored_without_a_person(cio: CustomerIO, db_path: Path) -> None:
    result = await cio.track("view", anonymous_id="visitor-1")
    assert (result.status, result.user_id, result.person_created) == ("stored", None, False)
    assert rows(db_path, "people") == []
    assert len(rows(db_path, "events")) == 1


async def test_a_repeated_event_id_is_accepted_and_reported_as_a_duplicate(
    cio: CustomerIO, db_path: Path
) -> None:
    first = await cio.track("purchase", user_id="ada", event_id="01J0000000000000000000000A")
    with unchanged(db_path):
        again = await cio.track("purchase", user_id="ada", properties={"changed": True},
                                event_id="01J0000000000000000000000A")
    assert (first.status, again.status) == ("stored", "duplicate")
    assert (await cio.get_person("ada")).event_counts == {"purchase": 1}


async def test_an_event_id_is_unique_across_people_and_visitors(cio: CustomerIO) -> None:
    await cio.track("x", user_id="ada", event_id="same")
    assert (await cio.track("x", anonymous_id="v", event_id="same")).status == "duplicate"
    assert (await cio.track("x", user_id="bob", event_id="same")).status == "duplicate"


async def test_events_without_an_event_id_are_never_duplicates(cio: CustomerIO) -> None:
    for _ in range(3):
        assert (await cio.track("tick", user_id="ada")).status == "stored"
    assert (await cio.get_person("ada")).event_counts == {"tick": 3}


async def test_properties_up_to_100000_bytes_are_stored(cio: CustomerIO) -> None:
    await cio.track("big", user_id="ada", properties={"blob": "x" * 99_980})
    event = (await cio.get_person("ada")).recent_events[0]
    assert len(event.properties["blob"]) == 99_980  # type: ignore[arg-type]


BAD_TRACK: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"user_id": None, "anonymous_id": None}, InvalidInput, "user_id"),
    ({"user_id": "ada", "anonymous_id": "visitor-1"}, InvalidInput, "user_id"),
    ({"name": ""}, InvalidInput, "name"),
    ({"name": "n" * 101}, LimitExceeded, "name"),
    ({"name": "bad\x00name"}, InvalidInput, "name"),
    ({"name": 7}, InvalidInput, "name"),
    ({"user_id": "ada\n"}, InvalidInput, "user_id"),
    ({"user_id": "x" * 151}, LimitExceeded, "user_id"),
    ({"user_id": None, "anonymous_id": " padded"}, InvalidInput, "anonymous_id"),
    ({"type": "click"}, InvalidInput, "type"),
    ({"properties": ["a"]}, InvalidInput, "properties"),
    ({"properties": {"blob": "x" * 100_000}}, LimitExceeded, "properties"),
    ({"properties": {"n": float("inf")}}, InvalidInput, "properties"),
    ({"properties": {"s": {1, 2}}}, InvalidInput, "properties"),
    ({"properties": {"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
     InvalidInput, "properties"),
    ({"properties": {"u": "\udc00"}}, InvalidInput, "properties"),
    ({"timestamp": 1_780_000_000_000}, InvalidInput, "timestamp"),
    ({"timestamp": 1_780_000_000 + 7_200}, InvalidInput, "timestamp"),
    ({"timestamp": -10}, InvalidInput, "timestamp"),
    ({"timestamp": True}, InvalidInput, "timestamp"),
    ({"event_id": ""}, InvalidInput, "event_id"),
    ({"event_id": "e" * 151}, LimitExceeded, "event_id"),
]


@pytest.mark.parametrize(("args", "error", "field"), BAD_TRACK)
async def test_a_bad_track_is_refused_and_stores_nothing(
    seeded: CustomerIO, db_path: Path, args: dict[str, Any], error: type[Exception], field: str
) -> None:
    call = {"name": "login", "user_id": "ada", **args}
    with unchanged(db_path), pytest.raises(error) as info:
        await seeded.track(**call)
    assert info.value.field == field  # type: ignore[attr-defined]

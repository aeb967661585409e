"""delete, suppress and unsuppress through the Python API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.db_dump import rows, unchanged
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import EngineError, NotFound
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio


async def ada_with_history(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"}, anonymous_id="visitor-1")
    await cio.track("login", user_id="ada")
    await cio.track("view", user_id="ada")
    await cio.add_device("ada", "tok-1", "android")


async def test_delete_removes_the_person_and_all_their_data(
    cio: CustomerIO, db_path: Path
) -> None:
    await ada_with_history(cio)
    await cio.identify("bob")
    result = await cio.delete_person("ada")
    assert (result.deleted, result.events_deleted) == (True, 2)
    with pytest.raises(NotFound):
        await cio.get_person("ada")
    assert [r[1] for r in rows(db_path, "people")] == ["bob"]
    assert rows(db_path, "events") == rows(db_path, "devices") == []
    assert rows(db_path, "anonymous_links") == []


async def test_a_deleted_person_identified_again_starts_fresh(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await ada_with_history(cio)
    await cio.delete_person("ada")
    clock.advance(3_600)
    result = await cio.identify("ada", {"city": "Paris"})
    assert result.created
    person = await cio.get_person("ada")
    assert person.attributes == {"city": "Paris", "created_at": int(clock.now())}
    assert (person.total_events, person.devices, person.anonymous_ids) == (0, [], [])
    assert person.created_at == iso(clock.now())


async def test_deleting_an_unknown_person_is_not_found_and_changes_nothing(
    seeded: CustomerIO, db_path: Path
) -> None:
    with unchanged(db_path), pytest.raises(NotFound) as info:
        await seeded.delete_person("nobody")
    assert "list_people" in info.value.message


async def test_suppress_deletes_the_person_and_their_data(cio: CustomerIO, db_path: Path) -> None:
    await ada_with_history(cio)
    result = await cio.suppress_person("ada")
    assert (result.suppressed, result.profile_deleted, result.events_deleted) == (True, True, 2)
    with pytest.raises(NotFound):
        await cio.get_person("ada")
    assert rows(db_path, "people") == rows(db_path, "events") == rows(db_path, "devices") == []
    assert [r[0] for r in rows(db_path, "suppressions")] == ["ada"]


async def test_a_suppressed_id_drops_later_identify_track_and_add_device(
    cio: CustomerIO, db_path: Path
) -> None:
    await cio.suppress_person("ada")
    with unchanged(db_path):
        identify = await cio.identify("ada", {"plan": "pro"})
        track = await cio.track("login", user_id="ada")
        page = await cio.track("https://x.io", user_id="ada", type="page")
        device = await cio.add_device("ada", "tok-1", "ios")
    assert (identify.status, identify.created) == ("ignored_suppressed", False)
    assert identify.note and "unsuppress_person" in identify.note
    assert (track.status, track.person_created) == ("ignored_suppressed", False)
    assert page.status == "ignored_suppressed"
    assert device.status == "ignored_suppressed"


async def test_an_id_never_seen_can_be_suppressed_in_advance(cio: CustomerIO) -> None:
    result = await cio.suppress_person("future-spammer")
    assert (result.suppressed, result.profile_deleted, result.events_deleted) == (True, False, 0)
    assert (await cio.identify("future-spammer")).status == "ignored_suppressed"


async def test_suppressing_twice_is_harmless(cio: CustomerIO, db_path: Path) -> None:
    await cio.suppress_person("ada")
    with unchanged(db_path):
        assert (await cio.suppress_person("ada")).suppressed


async def test_suppress_leaves_anonymous_history_of_other_visitors(cio: CustomerIO) -> None:
    await ada_with_history(cio)
    await cio.track("view", anonymous_id="visitor-2")
    await cio.suppress_person("ada")
    assert len((await cio.list_events()).events) == 1


async def test_unsuppress_frees_the_id_and_restores_nothing(
    cio: CustomerIO, clock: ManualClock, db_path: Path
) -> None:
    await ada_with_history(cio)
    await cio.suppress_person("ada")
    assert (await cio.unsuppress_person("ada")).was_suppressed
    assert rows(db_path, "suppressions") == []
    with pytest.raises(NotFound):
        await cio.get_person("ada")
    clock.advance(60)
    assert (await cio.identify("ada")).created
    person = await cio.get_person("ada")
    assert person.attributes == {"created_at": int(clock.now())}
    assert person.total_events == 0 and person.devices == []


async def test_a_later_track_after_unsuppress_creates_the_person_again(cio: CustomerIO) -> None:
    await cio.suppress_person("ada")
    await cio.unsuppress_person("ada")
    assert (await cio.track("login", user_id="ada")).person_created


async def test_unsuppressing_an_id_that_is_not_suppressed_says_so(
    seeded: CustomerIO, db_path: Path
) -> None:
    with unchanged(db_path):
        assert (await seeded.unsuppress_person("ada")).was_suppressed is False


@pytest.mark.parametrize("bad", ["", "a\tb", "x" * 151, None, 3])
async def test_delete_suppress_and_unsuppress_refuse_bad_ids(
    seeded: CustomerIO, db_path: Path, bad: object
) -> None:
    for call in (seeded.delete_person, seeded.suppress_person, seeded.unsuppress_person):
        with unchanged(db_path), pytest.raises(EngineError) as info:
            await call(bad)  # type: ignore[arg-type]
        assert getattr(info.value, "field", None) == "user_id"

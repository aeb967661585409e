"""identify through the Python API: upsert, attribute merge, reserved attributes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import rows, unchanged
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput, LimitExceeded, NotFound
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio


async def test_the_first_identify_creates_the_person(cio: CustomerIO, clock: ManualClock) -> None:
    result = await cio.identify("ada", {"plan": "pro"})
    assert (result.status, result.created, result.merged_anonymous_events) == ("created", True, 0)
    person = await cio.get_person("ada")
    assert person.attributes == {"plan": "pro", "created_at": int(clock.now())}
    assert person.created_at == person.updated_at == iso(clock.now())


async def test_a_later_identify_updates_and_merges_attributes(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.identify("ada", {"plan": "free", "age": 40, "city": "Paris"})
    clock.advance(3_600)
    result = await cio.identify("ada", {"plan": "pro", "city": None, "team": "core"})
    assert (result.status, result.created) == ("updated", False)
    person = await cio.get_person("ada")
    assert person.attributes == {
        "plan": "pro", "age": 40, "team": "core", "created_at": int(clock.now() - 3_600),
    }
    assert person.updated_at == iso(clock.now())
    assert person.created_at == iso(clock.now() - 3_600)


async def test_identify_with_no_attributes_keeps_the_profile(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"})
    await cio.identify("ada")
    assert (await cio.get_person("ada")).attributes["plan"] == "pro"


async def test_removing_an_attribute_that_does_not_exist_is_harmless(cio: CustomerIO) -> None:
    await cio.identify("ada", {"never_set": None})
    assert "never_set" not in (await cio.get_person("ada")).attributes


async def test_created_at_is_kept_as_given(cio: CustomerIO) -> None:
    await cio.identify("ada", {"created_at": 1_700_000_000})
    await cio.identify("ada", {"plan": "pro"})
    person = await cio.get_person("ada")
    assert person.attributes["created_at"] == 1_700_000_000
    assert person.created_at == iso(1_700_000_000)


async def test_created_at_may_be_given_as_iso_text(cio: CustomerIO) -> None:
    await cio.identify("ada", {"created_at": "2026-01-31T12:00:00Z"})
    person = await cio.get_person("ada")
    assert person.attributes["created_at"] == 1_769_860_800
    assert person.created_at == "2026-01-31T12:00:00Z"


async def test_created_at_defaults_to_the_identify_timestamp(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.identify("ada", timestamp=clock.now() - 86_400)
    person = await cio.get_person("ada")
    assert person.attributes["created_at"] == int(clock.now() - 86_400)


async def test_email_lookup_is_case_insensitive_and_the_email_is_kept_as_given(
    cio: CustomerIO,
) -> None:
    await cio.identify("ada", {"email": "Ada.Lovelace@Example.COM"})
    await cio.identify("bob", {"email": "bob@example.com"})
    page = await cio.list_people(email="ada.lovelace@example.com")
    assert [p.user_id for p in page.people] == ["ada"]
    assert page.people[0].attributes["email"] == "Ada.Lovelace@Example.COM"
    assert [p.user_id for p in (await cio.list_people(email="BOB@EXAMPLE.COM")).people] == ["bob"]


async def test_a_changed_or_removed_email_is_no_longer_found_by_the_old_address(
    cio: CustomerIO,
) -> None:
    await cio.identify("ada", {"email": "old@example.com"})
    await cio.identify("ada", {"email": "new@example.com"})
    assert (await cio.list_people(email="old@example.com")).people == []
    assert len((await cio.list_people(email="new@example.com")).people) == 1
    await cio.identify("ada", {"email": None})
    assert (await cio.list_people(email="new@example.com")).people == []


async def test_update_only_identify_of_an_unknown_person_creates_nothing(
    cio: CustomerIO, db_path: Path
) -> None:
    await cio.identify("bob")
    with unchanged(db_path):
        result = await cio.identify("ghost", {"_update": True, "plan": "pro"})
    assert (result.status, result.created) == ("skipped_update_only", False)
    assert result.note and "_update" in result.note
    with pytest.raises(NotFound):
        await cio.get_person("ghost")


async def test_update_only_identify_of_a_known_person_updates_it(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "free"})
    result = await cio.identify("ada", {"_update": True, "plan": "pro"})
    assert result.status == "updated"
    assert (await cio.get_person("ada")).attributes["plan"] == "pro"
    assert "_update" not in (await cio.get_person("ada")).attributes


@pytest.mark.parametrize(("given", "stored"), [("true", True), (1, True), (0, False)])
async def test_unsubscribed_is_stored_as_a_boolean(
    cio: CustomerIO, given: Any, stored: bool
) -> None:
    await cio.identify("ada", {"unsubscribed": given})
    assert (await cio.get_person("ada")).attributes["unsubscribed"] is stored


async def test_attributes_are_case_sensitive(cio: CustomerIO) -> None:
    await cio.identify("ada", {"Plan": "a", "plan": "b"})
    attributes = (await cio.get_person("ada")).attributes
    assert attributes["Plan"] == "a" and attributes["plan"] == "b"


async def test_a_person_may_grow_to_300_attributes_but_not_beyond(
    cio: CustomerIO, db_path: Path
) -> None:
    await cio.identify("ada", {f"a{i}": i for i in range(299)})  # plus created_at = 300
    assert len((await cio.get_person("ada")).attributes) == 300
    with unchanged(db_path), pytest.raises(LimitExceeded) as info:
        await cio.identify("ada", {"one_more": 1})
    assert "at most 300 attributes" in info.value.message


BAD_IDENTIFY: list[tuple[dict[str, Any], type[Exception], str | None]] = [
    ({"user_id": ""}, InvalidInput, "user_id"),
    ({"user_id": "a\nb"}, InvalidInput, "user_id"),
    ({"user_id": "x" * 151}, LimitExceeded, "user_id"),
    ({"user_id": 42}, InvalidInput, "user_id"),
    ({"attributes": ["plan"]}, InvalidInput, "attributes"),
    ({"attributes": {"bio": "x" * 1001}}, LimitExceeded, "attributes.bio"),
    ({"attributes": {"n" * 151: 1}}, LimitExceeded, None),
    ({"attributes": {"score": float("nan")}}, InvalidInput, "attributes.score"),
    ({"attributes": {"when": object()}}, InvalidInput, "attributes.when"),
    ({"attributes": {"email": "not-an-email"}}, InvalidInput, "attributes.email"),
    ({"attributes": {"timezone": "Mars/Base"}}, InvalidInput, "attributes.timezone"),
    ({"attributes": {"created_at": None}}, InvalidInput, "attributes.created_at"),
    ({"attributes": {"created_at": 1_780_000_000_000}}, InvalidInput, "attributes.created_at"),
    ({"attributes": {"_update": "maybe"}}, InvalidInput, "attributes._update"),
    ({"attributes": {"unsubscribed": "nope"}}, InvalidInput, "attributes.unsubscribed"),
    ({"attributes": {"plan": "pro"}, "anonymous_id": ""}, InvalidInput, "anonymous_id"),
    ({"attributes": {"anonymous_id": "x"}, "anonymous_id": "y"}, InvalidInput, "anonymous_id"),
    ({"timestamp": 1_780_000_000 + 86_400}, InvalidInput, "timestamp"),
    ({"timestamp": -1}, InvalidInput, "timestamp"),
    ({"timestamp": "last tuesday"}, InvalidInput, "timestamp"),
]


@pytest.mark.parametrize(("args", "error", "field"), BAD_IDENTIFY)
async def test_a_bad_identify_is_refused_and_stores_nothing(
    seeded: CustomerIO, db_path: Path, args: dict[str, Any], error: type[Exception],
    field: str | None,
) -> None:
    call = {"user_id": "ada", **args}
    with unchanged(db_path), pytest.raises(error) as info:
        await seeded.identify(**call)
    assert getattr(info.value, "field", None) == field or field is None
    assert rows(db_path, "people"), "the seeded data is still there"

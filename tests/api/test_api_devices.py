"""Devices: add, update, move between people, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput, LimitExceeded, NotFound
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio


async def test_a_device_is_added_with_its_platform_attributes_and_last_use(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.identify("ada")
    result = await cio.add_device("ada", "tok-1", "ios", {"app_version": "2.1"})
    assert result.status == "added"
    (device,) = (await cio.get_person("ada")).devices
    assert (device.device_id, device.platform, device.attributes) == ("tok-1", "ios",
                                                                      {"app_version": "2.1"})
    assert device.last_used == iso(clock.now())


async def test_adding_a_known_device_again_updates_it(cio: CustomerIO, clock: ManualClock) -> None:
    await cio.identify("ada")
    await cio.add_device("ada", "tok-1", "ios", {"app_version": "2.1"})
    clock.advance(600)
    result = await cio.add_device("ada", "tok-1", "android",
                                  {"app_version": "2.2", "last_used": clock.now() - 10})
    assert result.status == "updated"
    (device,) = (await cio.get_person("ada")).devices
    assert (device.platform, device.attributes) == ("android", {"app_version": "2.2"})
    assert device.last_used == iso(clock.now() - 10)


async def test_a_device_token_added_to_another_person_moves_to_them(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.identify("bob")
    await cio.add_device("ada", "shared-tablet", "web")
    assert (await cio.add_device("bob", "shared-tablet", "web")).status == "updated"
    assert (await cio.get_person("ada")).devices == []
    assert [d.device_id for d in (await cio.get_person("bob")).devices] == ["shared-tablet"]


async def test_a_person_may_have_several_devices_most_recent_first(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await cio.identify("ada")
    await cio.add_device("ada", "old", "ios")
    clock.advance(60)
    await cio.add_device("ada", "new", "android")
    assert [d.device_id for d in (await cio.get_person("ada")).devices] == ["new", "old"]


async def test_remove_device_removes_only_that_device(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.add_device("ada", "tok-1", "ios")
    await cio.add_device("ada", "tok-2", "web")
    assert (await cio.remove_device("ada", "tok-1")).removed
    assert [d.device_id for d in (await cio.get_person("ada")).devices] == ["tok-2"]


async def test_removing_a_device_the_person_does_not_have_is_not_found(
    seeded: CustomerIO, db_path: Path
) -> None:
    await seeded.identify("bob")
    with unchanged(db_path):
        with pytest.raises(NotFound) as info:
            await seeded.remove_device("ada", "no-such-token")
        assert info.value.field == "device_id"
        with pytest.raises(NotFound):
            await seeded.remove_device("bob", "tok-ada")  # ada's device, not bob's
        with pytest.raises(NotFound) as info:
            await seeded.remove_device("nobody", "tok-ada")
        assert info.value.field == "user_id"


async def test_the_fiftieth_device_is_accepted_and_the_fifty_first_refused(
    cio: CustomerIO, db_path: Path
) -> None:
    await cio.identify("ada")
    for i in range(50):
        await cio.add_device("ada", f"tok-{i}", "web")
    with unchanged(db_path), pytest.raises(LimitExceeded):
        await cio.add_device("ada", "tok-50", "web")
    assert (await cio.add_device("ada", "tok-0", "ios")).status == "updated"


BAD_DEVICE: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"user_id": "nobody"}, NotFound, "user_id"),
    ({"user_id": ""}, InvalidInput, "user_id"),
    ({"device_id": ""}, InvalidInput, "device_id"),
    ({"device_id": "t" * 1001}, LimitExceeded, "device_id"),
    ({"device_id": "tok\n"}, InvalidInput, "device_id"),
    ({"platform": "windows"}, InvalidInput, "platform"),
    ({"attributes": ["x"]}, InvalidInput, "attributes"),
    ({"attributes": {"big": "x" * 1000}}, LimitExceeded, "attributes"),
    ({"attributes": {"last_used": "whenever"}}, InvalidInput, "attributes.last_used"),
    ({"attributes": {"last_used": 1_780_000_000 + 86_400}}, InvalidInput, "attributes.last_used"),
]


@pytest.mark.parametrize(("args", "error", "field"), BAD_DEVICE)
async def test_a_bad_add_device_is_refused_and_changes_nothing(
    seeded: CustomerIO, db_path: Path, args: dict[str, Any], error: type[Exception], field: str
) -> None:
    call = {"user_id": "ada", "device_id": "tok-new", "platform": "ios", **args}
    with unchanged(db_path), pytest.raises(error) as info:
        await seeded.add_device(**call)
    assert info.value.field == field  # type: ignore[attr-defined]

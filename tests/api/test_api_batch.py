"""batch: each operation succeeds or fails on its own; failures are listed by index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import content, unchanged
from tools.api import CustomerIO
from tools.core import limits
from tools.core.clock import ManualClock
from tools.core.errors import InvalidInput

pytestmark = pytest.mark.anyio

GOOD: list[dict[str, Any]] = [
    {"action": "identify", "user_id": "ada", "attributes": {"plan": "pro"},
     "anonymous_id": "visitor-1"},
    {"action": "track", "user_id": "ada", "name": "login", "event_id": "ev-1"},
    {"action": "page", "anonymous_id": "visitor-2", "name": "https://example.com/"},
    {"action": "screen", "user_id": "bob", "name": "Home"},
    {"action": "add_device", "user_id": "ada", "device_id": "tok-1", "platform": "ios"},
    {"action": "identify", "user_id": "cy", "attributes": {"city": "Oslo"}},
    {"action": "merge", "primary": "ada", "secondary": "cy"},
    {"action": "suppress", "user_id": "spammer"},
    {"action": "identify", "user_id": "dee"},
    {"action": "delete", "user_id": "dee"},
    {"action": "suppress", "user_id": "eve"},
    {"action": "unsuppress", "user_id": "eve"},
    {"action": "add_device", "user_id": "bob", "device_id": "tok-2", "platform": "web"},
    {"action": "remove_device", "user_id": "bob", "device_id": "tok-2"},
]

BAD: list[tuple[dict[str, Any] | Any, str, str | None]] = [
    ({"action": "explode", "user_id": "ada"}, "invalid_input", "action"),
    ({"user_id": "ada"}, "invalid_input", "action"),
    ("identify ada", "invalid_input", None),
    ({"action": "track", "user_id": "ada"}, "invalid_input", "name"),
    ({"action": "track", "user_id": "ada", "name": "x", "colour": "red"}, "invalid_input",
     "colour"),
    ({"action": "identify", "user_id": "ada", "traits": {}}, "invalid_input", "traits"),
    ({"action": "track", "name": "x"}, "invalid_input", "user_id"),
    ({"action": "track", "user_id": "ada", "name": "n" * 101}, "limit_exceeded", "name"),
    ({"action": "track", "user_id": "ada", "name": "x", "timestamp": 1e12}, "invalid_input",
     "timestamp"),
    ({"action": "identify", "user_id": "", "attributes": {}}, "invalid_input", "user_id"),
    ({"action": "identify", "user_id": "ada", "attributes": {"email": "nope"}},
     "invalid_input", "attributes.email"),
    ({"action": "delete", "user_id": "nobody"}, "not_found", "user_id"),
    ({"action": "merge", "primary": "ada", "secondary": "nobody"}, "not_found", "user_id"),
    ({"action": "remove_device", "user_id": "ada", "device_id": "none"}, "not_found",
     "device_id"),
    ({"action": "add_device", "user_id": "ada", "device_id": "t", "platform": "nokia"},
     "invalid_input", "platform"),
    ({"action": "add_device", "user_id": "ghost", "device_id": "t", "platform": "ios"},
     "not_found", "user_id"),
]


def interleave(good: list[Any], bad: list[Any]) -> tuple[list[Any], list[int]]:
    """good[0], bad[0], good[1], bad[1], ...; returns the batch and the bad indexes."""
    batch: list[Any] = []
    bad_at: list[int] = []
    for i in range(max(len(good), len(bad))):
        if i < len(good):
            batch.append(good[i])
        if i < len(bad):
            bad_at.append(len(batch))
            batch.append(bad[i])
    return batch, bad_at


async def test_a_mixed_batch_stores_every_success_exactly_as_if_alone(
    tmp_path: Path, clock: ManualClock
) -> None:
    mixed, bad_at = interleave(GOOD, [op for op, _, _ in BAD])
    async with CustomerIO.for_agent("mixed", data_dir=tmp_path, clock=clock) as cio:
        result = await cio.batch(mixed)
    async with CustomerIO.for_agent("clean", data_dir=tmp_path, clock=clock) as cio:
        clean = await cio.batch(GOOD)
    assert (clean.total, clean.failed) == (len(GOOD), 0)
    assert (result.total, result.succeeded, result.failed) == (len(mixed), len(GOOD), len(BAD))
    assert content(tmp_path / "mixed.sqlite3") == content(tmp_path / "clean.sqlite3")
    failures = [(f.index, f.reason, f.field) for f in result.failures]
    assert failures == [(i, reason, field) for i, (_, reason, field) in zip(bad_at, BAD,
                                                                             strict=True)]


async def test_failures_carry_the_action_and_a_message(cio: CustomerIO) -> None:
    result = await cio.batch([{"action": "delete", "user_id": "nobody"}, 42])
    first, second = result.failures
    assert (first.index, first.action, first.reason) == (0, "delete", "not_found")
    assert "nobody" in first.message
    assert (second.index, second.action, second.field) == (1, None, None)
    assert "must be an object" in second.message


async def test_identify_then_track_in_one_batch_belong_to_one_person(cio: CustomerIO) -> None:
    result = await cio.batch([
        {"action": "track", "anonymous_id": "visitor-1", "name": "visit"},
        {"action": "identify", "user_id": "ada", "anonymous_id": "visitor-1",
         "attributes": {"plan": "pro"}},
        {"action": "track", "user_id": "ada", "name": "signup"},
        {"action": "track", "anonymous_id": "visitor-1", "name": "after"},
    ])
    assert (result.failed, result.people_created) == (0, 1)
    person = await cio.get_person("ada")
    assert person.event_counts == {"after": 1, "signup": 1, "visit": 1}
    assert (await cio.list_people()).total == 1


async def test_operations_apply_in_order(cio: CustomerIO) -> None:
    result = await cio.batch([
        {"action": "track", "user_id": "ada", "name": "first"},
        {"action": "delete", "user_id": "ada"},
        {"action": "track", "user_id": "ada", "name": "second"},
        {"action": "identify", "user_id": "ada", "attributes": {"plan": "pro"}},
        {"action": "identify", "user_id": "ada", "attributes": {"plan": None}},
        {"action": "suppress", "user_id": "bob"},
        {"action": "track", "user_id": "bob", "name": "dropped"},
        {"action": "unsuppress", "user_id": "bob"},
        {"action": "track", "user_id": "bob", "name": "kept"},
    ])
    assert (result.failed, result.ignored_suppressed, result.people_created) == (0, 1, 3)
    ada = await cio.get_person("ada")
    assert ada.event_counts == {"second": 1}
    assert "plan" not in ada.attributes
    assert (await cio.get_person("bob")).event_counts == {"kept": 1}


async def test_repeated_event_ids_are_counted_as_duplicates(cio: CustomerIO) -> None:
    await cio.track("purchase", user_id="ada", event_id="buy-0")
    result = await cio.batch([
        {"action": "track", "user_id": "ada", "name": "purchase", "event_id": "buy-0"},
        {"action": "track", "user_id": "ada", "name": "purchase", "event_id": "buy-1"},
        {"action": "track", "user_id": "ada", "name": "purchase", "event_id": "buy-1"},
        {"action": "track", "anonymous_id": "v", "name": "purchase", "event_id": "buy-1"},
    ])
    assert (result.succeeded, result.failed, result.duplicates) == (4, 0, 3)
    assert (await cio.get_person("ada")).event_counts == {"purchase": 2}


async def test_suppressed_ids_in_a_batch_are_accepted_and_dropped(
    seeded: CustomerIO, db_path: Path
) -> None:
    with unchanged(db_path):
        result = await seeded.batch([
            {"action": "identify", "user_id": "spammer"},
            {"action": "track", "user_id": "spammer", "name": "x"},
            {"action": "track", "user_id": "spammer", "name": "y"},
        ])
    assert (result.succeeded, result.ignored_suppressed, result.people_created) == (3, 3, 0)


def big_track(i: int, size: int) -> dict[str, Any]:
    return {"action": "track", "user_id": f"u{i % 7}", "name": "blob",
            "properties": {"data": "x" * size}}


async def test_operations_past_the_500kb_total_fail_and_earlier_ones_are_stored(
    cio: CustomerIO,
) -> None:
    operations = [big_track(i, 30_000) for i in range(20)]
    result = await cio.batch(operations)
    fits = limits.BATCH_MAX_BYTES // 30_100
    assert result.succeeded == fits
    assert [f.index for f in result.failures] == list(range(fits, 20))
    assert {f.reason for f in result.failures} == {"limit_exceeded"}
    assert "500000 bytes" in result.failures[0].message
    assert len((await cio.list_events(limit=500)).events) == fits


async def test_an_operation_over_32kb_fails_alone(cio: CustomerIO, db_path: Path) -> None:
    result = await cio.batch([
        big_track(0, 1_000),
        big_track(1, limits.BATCH_OPERATION_MAX_BYTES),
        big_track(2, 1_000),
        {"action": "identify", "user_id": "ada",
         "attributes": {f"a{i}": "x" * 900 for i in range(40)}},
        {"action": "identify", "user_id": "bob"},
    ])
    assert [(f.index, f.reason) for f in result.failures] == [(1, "limit_exceeded"),
                                                              (3, "limit_exceeded")]
    assert "32000 bytes" in result.failures[0].message
    assert len((await cio.list_events()).events) == 2
    assert [p.user_id for p in (await cio.list_people()).people] == ["u0", "u2", "bob"]


async def test_a_batch_of_10000_operations_is_accepted(cio: CustomerIO) -> None:
    # Track operations count at least 64 bytes each towards the 500 KB total, so 10,000 of
    # them never fit; identify operations count only their attribute bytes.
    operations = [{"action": "identify", "user_id": f"u{i}"}
                  for i in range(limits.BATCH_MAX_OPERATIONS)]
    result = await cio.batch(operations)
    assert (result.succeeded, result.people_created) == (10_000, 10_000)
    assert (await cio.list_people(limit=1)).total == 10_000


async def test_a_batch_of_more_than_10000_operations_is_refused_whole(
    seeded: CustomerIO, db_path: Path
) -> None:
    operations = [{"action": "track", "user_id": "ada", "name": "tick"}] * 10_001
    with unchanged(db_path), pytest.raises(InvalidInput) as info:
        await seeded.batch(operations)
    assert "at most 10000 operations" in info.value.message
    assert info.value.field == "operations"


@pytest.mark.parametrize("operations", [{"action": "identify"}, "ops", None, 3])
async def test_operations_must_be_a_list(
    seeded: CustomerIO, db_path: Path, operations: Any
) -> None:
    with unchanged(db_path), pytest.raises(InvalidInput) as info:
        await seeded.batch(operations)
    assert info.value.field == "operations"


async def test_an_empty_batch_does_nothing(seeded: CustomerIO, db_path: Path) -> None:
    with unchanged(db_path):
        result = await seeded.batch([])
    assert (result.total, result.succeeded, result.failed) == (0, 0, 0)


async def test_a_batch_where_everything_fails_changes_nothing(
    seeded: CustomerIO, db_path: Path
) -> None:
    with unchanged(db_path):
        result = await seeded.batch([op for op, _, _ in BAD])
    assert result.failed == len(BAD) and result.succeeded == 0

"""Change events: each write operation publishes exactly these changes, in this order, to
the subscribers after segments (a recording subscriber here), cascades included."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.segments.cases import attr, event
from tools.api import CustomerIO
from tools.changes import (
    AnonymousEventsClaimed,
    AttributesChanged,
    Change,
    DeviceAdded,
    DeviceRemoved,
    EventStored,
    PeopleMerged,
    PersonCreated,
    PersonDeleted,
    SegmentEntered,
    SegmentExited,
)
from tools.core.clock import ManualClock
from tools.segments.subscriber import on_changes as segments_on_changes
from tools.writes import WriteContext

pytestmark = pytest.mark.anyio
DAY = 86_400.0


def describe(conn: sqlite3.Connection, change: Change) -> tuple[Any, ...]:
    """A change as a readable tuple: people by user_id (read while their row exists)."""

    def who(pk: int | None) -> str | None:
        row = conn.execute("SELECT user_id FROM people WHERE pk = ?", (pk,)).fetchone()
        return row[0] if row else None

    match change:
        case PersonCreated(pk, user_id, cause):
            return ("created", user_id, cause)
        case AttributesChanged(pk, before, after, cause):
            return ("attributes", who(pk), None if before is None else dict(before),
                    dict(after), cause)
        case AnonymousEventsClaimed(pk, anonymous_id, count):
            return ("claimed", who(pk), anonymous_id, count)
        case EventStored():
            return ("event", who(change.person_pk), change.anonymous_id, change.name,
                    change.cause)
        case DeviceAdded(pk, device_id, _, previous):
            return ("device+", who(pk), device_id, who(previous))
        case DeviceRemoved(pk, device_id):
            return ("device-", who(pk), device_id)
        case PeopleMerged(primary, secondary):
            return ("merged", who(primary), who(secondary))
        case PersonDeleted(pk, user_id, cause):
            return ("deleted", user_id, cause)
        case SegmentEntered(pk, _, segment_id, _, cause):
            return ("entered", who(pk), segment_id, cause)
        case SegmentExited(pk, _, segment_id, _, cause):
            return ("exited", who(pk), segment_id, cause)
    raise AssertionError(change)


Recorder = tuple[CustomerIO, list[tuple[Any, ...]]]


@pytest.fixture
async def recorded(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Recorder]:
    """Agent tom's engine with a subscriber after segments that records what reaches it."""
    seen: list[tuple[Any, ...]] = []

    def record(conn: sqlite3.Connection, changes: Sequence[Change],
               context: WriteContext) -> None:
        seen.extend(describe(conn, change) for change in changes)

    class Recorded(CustomerIO):
        subscribers = (segments_on_changes, record)

    async with Recorded.for_agent("tom", data_dir=tmp_path, clock=clock) as cio:
        await cio.segments_create("Pro", attr("plan", "eq", "pro"))
        await cio.segments_create("Pro on iOS", {"and": [{"segment": "pro"},
                                                          {"device": "ios"}]})
        await cio.segments_create("Buyers", event("purchase"))
        await cio.segments_create("Fresh", attr("seen", "within", "1d"))
        await cio.identify("bob", {"plan": "free"})
        seen.clear()
        yield cio, seen


Step = Callable[[CustomerIO], Awaitable[Any]]
CASES: list[tuple[str, list[Step], list[tuple[Any, ...]]]] = [
    ("identify of a new person", [lambda c: c.identify("ada", {"plan": "pro"})], [
        ("created", "ada", "identify"),
        ("attributes", "ada", None, {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "ada", "pro", "identify")]),
    ("identify that changes nothing", [lambda c: c.identify("bob", {"plan": "free"})], []),
    ("identify that changes an attribute", [lambda c: c.identify("bob", {"plan": "pro"})], [
        ("attributes", "bob", {"plan": "free", "created_at": 1_780_000_000},
         {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "bob", "pro", "identify")]),
    ("track of a known person", [lambda c: c.track("purchase", user_id="bob")], [
        ("event", "bob", None, "purchase", "track"),
        ("entered", "bob", "buyers", "track")]),
    ("track that creates the person", [lambda c: c.track("view", user_id="cy")], [
        ("created", "cy", "track"), ("event", "cy", None, "view", "track")]),
    ("track of an anonymous visitor", [lambda c: c.track("view", anonymous_id="v1")], [
        ("event", None, "v1", "view", "track")]),
    ("a repeated event_id", [lambda c: c.track("purchase", user_id="bob", event_id="e1"),
                             lambda c: c.track("purchase", user_id="bob", event_id="e1")], [
        ("event", "bob", None, "purchase", "track"), ("entered", "bob", "buyers", "track")]),
    ("a batch with a repeated event_id produces one event", [lambda c: c.batch([
        {"action": "track", "user_id": "bob", "name": "view", "event_id": "b1"},
        {"action": "track", "user_id": "bob", "name": "view", "event_id": "b1"},
        {"action": "track", "user_id": "dee", "name": "purchase", "event_id": "b2"},
        {"action": "track", "user_id": "dee", "name": "purchase", "event_id": "b1"}])], [
        ("event", "bob", None, "view", "batch"), ("created", "dee", "batch"),
        ("event", "dee", None, "purchase", "batch"), ("entered", "dee", "buyers", "batch")]),
    ("identify that claims anonymous events", [
        lambda c: c.track("view", anonymous_id="v2"),
        lambda c: c.identify("bob", anonymous_id="v2")], [
        ("event", None, "v2", "view", "track"), ("claimed", "bob", "v2", 1)]),
    ("a device entering a cascade of segments", [
        lambda c: c.identify("bob", {"plan": "pro"}),
        lambda c: c.add_device("bob", "tok-1", "ios")], [
        ("attributes", "bob", {"plan": "free", "created_at": 1_780_000_000},
         {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "bob", "pro", "identify"),
        ("device+", "bob", "tok-1", None), ("entered", "bob", "pro-on-ios", "device")]),
    ("a device moving to another person", [
        lambda c: c.identify("ada", {"plan": "pro"}),
        lambda c: c.add_device("bob", "tok-1", "ios"),
        lambda c: c.add_device("ada", "tok-1", "ios"),
        lambda c: c.remove_device("ada", "tok-1")], [
        ("created", "ada", "identify"),
        ("attributes", "ada", None, {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "ada", "pro", "identify"),
        ("device+", "bob", "tok-1", None),
        ("device+", "ada", "tok-1", "bob"), ("entered", "ada", "pro-on-ios", "device"),
        ("device-", "ada", "tok-1"), ("exited", "ada", "pro-on-ios", "device")]),
    ("a change cascading out of a segment", [
        lambda c: c.identify("bob", {"plan": "pro"}),
        lambda c: c.add_device("bob", "tok-1", "ios"),
        lambda c: c.identify("bob", {"plan": "free"})], [
        ("attributes", "bob", {"plan": "free", "created_at": 1_780_000_000},
         {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "bob", "pro", "identify"),
        ("device+", "bob", "tok-1", None), ("entered", "bob", "pro-on-ios", "device"),
        ("attributes", "bob", {"plan": "pro", "created_at": 1_780_000_000},
         {"plan": "free", "created_at": 1_780_000_000}, "identify"),
        ("exited", "bob", "pro", "identify"), ("exited", "bob", "pro-on-ios", "identify")]),
    ("delete leaves every segment", [
        lambda c: c.track("purchase", user_id="bob"),
        lambda c: c.delete_person("bob")], [
        ("event", "bob", None, "purchase", "track"), ("entered", "bob", "buyers", "track"),
        ("deleted", "bob", "delete"), ("exited", "bob", "buyers", "delete")]),
    ("suppress leaves every segment", [
        lambda c: c.track("purchase", user_id="bob"),
        lambda c: c.suppress_person("bob")], [
        ("event", "bob", None, "purchase", "track"), ("entered", "bob", "buyers", "track"),
        ("deleted", "bob", "suppress"), ("exited", "bob", "buyers", "suppress")]),
    ("merge", [
        lambda c: c.identify("ada", {"plan": "pro"}),
        lambda c: c.track("purchase", user_id="bob"),
        lambda c: c.merge_people("ada", "bob")], [
        ("created", "ada", "identify"),
        ("attributes", "ada", None, {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "ada", "pro", "identify"),
        ("event", "bob", None, "purchase", "track"), ("entered", "bob", "buyers", "track"),
        ("merged", "ada", "bob"), ("deleted", "bob", "merge"),
        ("exited", "bob", "buyers", "merge"), ("entered", "ada", "buyers", "merge")]),
    ("a segment created over people", [
        lambda c: c.segments_create("Free", attr("plan", "eq", "free"))], [
        ("entered", "bob", "free", "segment_created")]),
    ("manual members and their readers", [
        lambda c: c.segments_create("VIP", manual=True),
        lambda c: c.segments_create("VIP readers", {"segment": "vip"}),
        lambda c: c.segments_update("vip", add_user_ids=["bob"]),
        lambda c: c.segments_update("vip", remove_user_ids=["bob"])], [
        ("entered", "bob", "vip", "manual"), ("entered", "bob", "vip-readers", "manual"),
        ("exited", "bob", "vip", "manual"), ("exited", "bob", "vip-readers", "manual")]),
]


@pytest.mark.parametrize("steps, expected", [(s, e) for _, s, e in CASES],
                         ids=[name for name, _, _ in CASES])
async def test_each_write_publishes_exactly_these_changes_in_order(
        recorded: Recorder, steps: list[Step], expected: list[tuple[Any, ...]]) -> None:
    cio, seen = recorded
    for step in steps:
        await step(cio)
    assert seen == expected


async def test_time_publishes_the_entries_and_exits_it_makes(
        recorded: Recorder, clock: ManualClock) -> None:
    cio, seen = recorded
    start = clock.now()
    await cio.identify("bob", {"seen": int(start)})
    await cio.run_due(start + DAY)
    assert seen[-1] == ("exited", "bob", "fresh", "time")
    assert ("entered", "bob", "fresh", "identify") in seen


async def test_a_failed_write_publishes_nothing_that_sticks(recorded: Recorder) -> None:
    cio, seen = recorded
    result = await cio.batch([{"action": "identify", "user_id": "bob", "attributes": {"plan": "pro"}},
                              {"action": "merge", "primary": "bob", "secondary": "nobody"}])
    assert result.failed == 1
    assert seen == [
        ("attributes", "bob", {"plan": "free", "created_at": 1_780_000_000},
         {"plan": "pro", "created_at": 1_780_000_000}, "identify"),
        ("entered", "bob", "pro", "identify")]

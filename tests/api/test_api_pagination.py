"""list_people and list_events: pages joined by next_cursor, without duplicates or gaps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.cursor import encode_cursor
from tools.core.errors import InvalidInput, NotFound
from tools.people.models import Event

pytestmark = pytest.mark.anyio


async def all_people(cio: CustomerIO, limit: int, **filters: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await cio.list_people(limit=limit, cursor=cursor, **filters)
        pages.append([p.user_id for p in page.people])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def all_events(cio: CustomerIO, limit: int, **filters: Any) -> list[list[Event]]:
    pages, cursor = [], None
    while True:
        page = await cio.list_events(limit=limit, cursor=cursor, **filters)
        pages.append(page.events)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_people_pages_cover_everyone_once_in_the_order_first_seen(cio: CustomerIO) -> None:
    ids = [f"person-{i:02}" for i in range(25)]
    await cio.batch([{"action": "identify", "user_id": uid} for uid in ids])
    pages = await all_people(cio, limit=10)
    assert [len(page) for page in pages] == [10, 10, 5]
    assert [uid for page in pages for uid in page] == ids
    assert (await cio.list_people(limit=10)).total == 25


async def test_a_page_that_ends_exactly_at_the_last_person_has_no_next_cursor(
    cio: CustomerIO,
) -> None:
    for uid in ("a", "b"):
        await cio.identify(uid)
    page = await cio.list_people(limit=2)
    assert page.next_cursor is None and len(page.people) == 2


async def test_people_added_between_pages_are_not_missed_or_repeated(cio: CustomerIO) -> None:
    for uid in ("a", "b", "c"):
        await cio.identify(uid)
    first = await cio.list_people(limit=2)
    await cio.identify("d")
    await cio.identify("a", {"touched": True})  # an update does not move anyone
    second = await cio.list_people(limit=2, cursor=first.next_cursor)
    assert [p.user_id for p in first.people + second.people] == ["a", "b", "c", "d"]


async def test_an_empty_agent_lists_no_people(cio: CustomerIO) -> None:
    page = await cio.list_people()
    assert (page.people, page.total, page.next_cursor) == ([], 0, None)


async def test_events_pages_are_newest_first_without_duplicates_or_gaps(
    cio: CustomerIO, clock: ManualClock
) -> None:
    for i in range(23):
        await cio.track(f"e{i}", user_id="ada")
        if i % 3 == 0:
            clock.advance(1)  # several events share a timestamp: arrival breaks the tie
    pages = await all_events(cio, limit=5)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    names = [e.name for page in pages for e in page]
    assert names == [f"e{i}" for i in reversed(range(23))]


async def test_events_added_while_paging_do_not_shift_later_pages(
    cio: CustomerIO, clock: ManualClock
) -> None:
    for i in range(6):
        await cio.track(f"e{i}", user_id="ada")
        clock.advance(1)
    first = await cio.list_events(limit=3)
    await cio.track("newer", user_id="ada")
    second = await cio.list_events(limit=3, cursor=first.next_cursor)
    assert [e.name for e in first.events + second.events] == [f"e{i}" for i in range(5, -1, -1)]
    assert second.next_cursor is None


async def seed_events(cio: CustomerIO, clock: ManualClock) -> float:
    start = clock.now()
    await cio.track("login", user_id="ada")
    clock.advance(100)
    await cio.track("view", user_id="ada")
    await cio.track("view", user_id="bob")
    clock.advance(100)
    await cio.track("view", anonymous_id="visitor-1")
    await cio.track("login", user_id="ada")
    return start


async def test_events_filter_by_person_name_and_anonymous_id(
    cio: CustomerIO, clock: ManualClock
) -> None:
    await seed_events(cio, clock)
    ada = await cio.list_events(user_id="ada")
    assert [e.name for e in ada.events] == ["login", "view", "login"]
    assert {e.user_id for e in (await cio.list_events(name="view")).events} == {"ada", "bob", None}
    ada_views = await cio.list_events(user_id="ada", name="view")
    assert [(e.name, e.user_id) for e in ada_views.events] == [("view", "ada")]
    visitor = await cio.list_events(anonymous_id="visitor-1")
    assert [(e.name, e.anonymous_id) for e in visitor.events] == [("view", "visitor-1")]


async def test_events_filter_by_since_inclusive_and_until_exclusive(
    cio: CustomerIO, clock: ManualClock
) -> None:
    start = await seed_events(cio, clock)
    middle = await cio.list_events(since=start + 100, until=start + 200)
    assert [(e.name, e.user_id) for e in middle.events] == [("view", "bob"), ("view", "ada")]
    assert len((await cio.list_events(since=start + 200)).events) == 2
    assert len((await cio.list_events(until=start + 100)).events) == 1
    future = await cio.list_events(until=clock.now() + 10 * 86_400)
    assert len(future.events) == 5


async def test_filtered_events_paginate_too(cio: CustomerIO, clock: ManualClock) -> None:
    for i in range(7):
        await cio.track("view", user_id="ada", properties={"i": i})
        await cio.track("other", user_id="ada")
        clock.advance(1)
    pages = await all_events(cio, limit=3, user_id="ada", name="view")
    assert [e.properties["i"] for page in pages for e in page] == list(range(6, -1, -1))


async def test_events_of_an_unknown_person_are_not_found(seeded: CustomerIO, db_path: Path) -> None:
    with unchanged(db_path), pytest.raises(NotFound):
        await seeded.list_events(user_id="nobody")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": encode_cursor([1.5, 2])}, "cursor"),
        ({"email": "not an email"}, "email"),
    ],
)
async def test_bad_list_people_arguments_are_refused(
    seeded: CustomerIO, db_path: Path, args: dict[str, Any], field: str
) -> None:
    with unchanged(db_path), pytest.raises(InvalidInput) as info:
        await seeded.list_people(**args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": encode_cursor([7])}, "cursor"),
        ({"since": "not a time"}, "since"),
        ({"since": 1_780_000_000_000}, "since"),
        ({"until": -1}, "until"),
        ({"name": ""}, "name"),
        ({"anonymous_id": "a\x00"}, "anonymous_id"),
        ({"anonymous_id": ""}, "anonymous_id"),
        ({"user_id": " ada"}, "user_id"),
    ],
)
async def test_bad_list_events_arguments_are_refused(
    seeded: CustomerIO, db_path: Path, args: dict[str, Any], field: str
) -> None:
    with unchanged(db_path), pytest.raises(InvalidInput) as info:
        await seeded.list_events(**args)
    assert info.value.field == field

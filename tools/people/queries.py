"""Read units for people and events (run in one read transaction)."""

from __future__ import annotations

import sqlite3
from typing import Any

from store import people_repo as repo
from tools.core import limits
from tools.core.people import person_not_found
from tools.core.timefmt import iso
from tools.paging import paged
from tools.people.models import Device, Event, EventsPage, PeoplePage, Person, PersonSummary
from tools.people.units import require_person
from tools.person_views import PersonView


def event_model(row: repo.EventRow) -> Event:
    return Event(
        seq=row.seq, event_id=row.event_id, user_id=row.user_id, anonymous_id=row.anonymous_id,
        type=row.type,  # type: ignore[arg-type]
        name=row.name, properties=row.data, timestamp=iso(row.timestamp),
        received_at=iso(row.received_at),
    )


def read_person(conn: sqlite3.Connection, user_id: str,
                views: tuple[PersonView, ...] = ()) -> Person:
    """The whole profile of one person, with devices, event counts and recent events, and
    what each of `views` adds."""
    person = require_person(conn, user_id)
    counts = repo.event_counts(conn, person.pk)
    recent = repo.list_events(conn, repo.EventFilter(person_pk=person.pk), None,
                              limits.RECENT_EVENTS)
    extra: dict[str, Any] = {}
    for view in views:
        extra.update(view(conn, person.pk))
    return Person(
        user_id=person.user_id, attributes=person.attributes,
        created_at=iso(person.created_at), updated_at=iso(person.updated_at),
        devices=[
            Device(device_id=d.device_id, platform=d.platform,  # type: ignore[arg-type]
                   attributes=d.attributes, last_used=iso(d.last_used))
            for d in repo.devices_of(conn, person.pk)
        ],
        anonymous_ids=repo.anonymous_ids_of(conn, person.pk),
        event_counts=counts, total_events=sum(counts.values()),
        recent_events=[event_model(e) for e in recent],
        **extra,
    )


def read_people(
    conn: sqlite3.Connection, email: str | None, after_pk: int | None, limit: int
) -> PeoplePage:
    rows, cursor = paged(lambda n: repo.list_people(conn, email, after_pk, n), limit,
                         lambda row: [row.pk])
    return PeoplePage(
        people=[
            PersonSummary(user_id=r.user_id, attributes=r.attributes,
                          created_at=iso(r.created_at), updated_at=iso(r.updated_at))
            for r in rows
        ],
        total=repo.count_people(conn),
        next_cursor=cursor,
    )


def read_events(
    conn: sqlite3.Connection, user_id: str | None, where: repo.EventFilter,
    after: tuple[float, int] | None, limit: int,
) -> EventsPage:
    if user_id is not None:
        pk = repo.person_pk(conn, user_id)
        if pk is None:
            raise person_not_found(user_id)
        where = repo.EventFilter(pk, where.anonymous_id, where.name, where.since, where.until)
    rows, cursor = paged(lambda n: repo.list_events(conn, where, after, n), limit,
                         lambda row: [row.timestamp, row.seq])
    return EventsPage(events=[event_model(r) for r in rows], next_cursor=cursor)

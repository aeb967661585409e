"""What the evaluator reads about one stored person, loaded on first use.

For an event condition only the events it can count are read. Without property filters,
the `cap` newest events of its type and name decide both its answer and when that next
changes; the events inside a timeframe are always the newest ones, so one read of the
largest cap any rule needs (SegmentIndex.caps) serves every condition on that event.
With property filters, the newest MAX_SCANNED of its timeframe are read with their data
and filtered by the evaluator.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from store import segments_repo as repo
from tools.core.segments.compile import SLACK
from tools.core.segments.evaluate import EventFact
from tools.core.segments.nodes import EventLeaf
from tools.segments.index import SegmentIndex

MAX_SCANNED = 10_000
_EMPTY: Mapping[str, Any] = {}


class PersonFacts:
    """The Facts (tools.core.segments.evaluate) of one person in one transaction."""

    def __init__(self, conn: sqlite3.Connection, person_pk: int, index: SegmentIndex,
                 memberships: dict[int, float], attributes: Mapping[str, Any] | None = None,
                 exact: bool = False) -> None:
        self.conn, self.person_pk, self.index = conn, person_pk, index
        self.memberships = memberships  # live: updated while segments are re-evaluated
        self._attributes = attributes
        self._platforms: set[str] | None = None
        self._events: dict[object, list[EventFact]] = {}
        self.exact = exact  # count every event (up to MAX_SCANNED) for explanations

    def attributes(self) -> Mapping[str, Any]:
        if self._attributes is None:
            self._attributes = repo.attributes_of(self.conn, self.person_pk)
        return self._attributes

    def events(self, leaf: EventLeaf, now: float) -> Sequence[EventFact]:
        if leaf.filters:
            key: object = id(leaf)  # leaves live in the index while the facts are in use
            since = None if leaf.timeframe is None else now - leaf.timeframe.seconds - SLACK
            limit = MAX_SCANNED
        else:
            key = (leaf.kind, leaf.name, leaf.match)
            since = None
            limit = MAX_SCANNED if self.exact else max(self.index.caps.get(key, 0), leaf.cap)
        found = self._events.get(key)
        if found is None:
            rows = repo.activity_of(self.conn, self.person_pk, leaf.kind, leaf.name,
                                    leaf.match == "contains", since, limit, bool(leaf.filters))
            found = [EventFact(kind, name, stamp, json.loads(data) if leaf.filters else _EMPTY)
                     for kind, name, stamp, data in rows]
            self._events[key] = found
        return found

    def platforms(self) -> Collection[str]:
        if self._platforms is None:
            self._platforms = repo.platforms_of(self.conn, self.person_pk)
        return self._platforms

    def in_segment(self, segment_id: str) -> bool:
        definition = self.index.by_id.get(segment_id)
        return definition is not None and definition.pk in self.memberships

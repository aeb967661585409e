"""What journey conditions read about one stored person (the segment rule evaluator's
Facts), loaded on first use inside the transaction that advances the journey."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from store import segments_repo
from tools.core.segments.evaluate import EventFact
from tools.core.segments.nodes import EventLeaf

MAX_SCANNED = 10_000  # events of one name a condition may look at


class StoredFacts:
    """The Facts (tools.core.segments.evaluate) of one stored person."""

    def __init__(self, conn: sqlite3.Connection, person_pk: int,
                 attributes: Mapping[str, Any] | None = None) -> None:
        self.conn, self.person_pk = conn, person_pk
        self._attributes = attributes
        self._platforms: set[str] | None = None
        self._segments: set[str] | None = None
        self._events: dict[tuple[str, str, str, bool], list[EventFact]] = {}

    def attributes(self) -> Mapping[str, Any]:
        if self._attributes is None:
            self._attributes = segments_repo.attributes_of(self.conn, self.person_pk)
        return self._attributes

    def forget_attributes(self) -> None:
        """A step changed them: read them again next time."""
        self._attributes = None

    def events(self, leaf: EventLeaf, now: float) -> Sequence[EventFact]:
        key = (leaf.kind, leaf.name, leaf.match, bool(leaf.filters))
        found = self._events.get(key)
        if found is None:
            rows = segments_repo.activity_of(self.conn, self.person_pk, leaf.kind, leaf.name,
                                             leaf.match == "contains", None, MAX_SCANNED,
                                             bool(leaf.filters))
            found = [EventFact(kind, name, stamp, json.loads(data))
                     for kind, name, stamp, data in rows]
            self._events[key] = found
        return found

    def forget_events(self) -> None:
        self._events.clear()

    def platforms(self) -> Collection[str]:
        if self._platforms is None:
            self._platforms = segments_repo.platforms_of(self.conn, self.person_pk)
        return self._platforms

    def in_segment(self, segment_id: str) -> bool:
        if self._segments is None:
            self._segments = {sid for sid, _, _ in
                              segments_repo.segments_of(self.conn, self.person_pk)}
        return segment_id in self._segments

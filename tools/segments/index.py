"""The process-wide cache of each database's segments: parsed rules, the evaluation order
and which segments read which attribute, event, device or segment.

A database is told apart by the uuid its segment_state row holds (with the connection:
a copied file keeps its uuid) and its definitions by the version there (changed by every
segment write), so one cheap query keeps it exact.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from store import segments_repo as repo
from tools.core.errors import EngineError
from tools.core.segments.deps import (
    Dependencies,
    dependencies,
    evaluation_order,
    event_polarity,
)
from tools.core.segments.nodes import EventLeaf, Rule, leaves
from tools.core.segments.rules import parse_rule

log = logging.getLogger(__name__)
MAX_CACHED = 256
MAX_POLARITIES = 10_000
_UNKNOWN = object()
_NEVER = {"and": [{"attribute": "_", "operator": "exists"},
                  {"attribute": "_", "operator": "not_exists"}]}


@dataclass(frozen=True)
class SegmentDef:
    row: repo.SegmentRow
    rule: Rule | None  # None: a manual segment
    deps: Dependencies | None

    @property
    def pk(self) -> int:
        return self.row.pk


class SegmentIndex:
    """Every segment of one database and what each reads."""

    def __init__(self, version: int, rows: Iterable[repo.SegmentRow]) -> None:
        self.version = version
        self.by_pk: dict[int, SegmentDef] = {}
        self.by_id: dict[str, SegmentDef] = {}
        for row in rows:
            self._add(row)
        reads = {d.row.segment_id: (d.deps.segments if d.deps else frozenset())
                 for d in self.by_pk.values()}
        order = [self.by_id[sid].pk for sid in evaluation_order(reads)]
        self.position = {pk: place for place, pk in enumerate(order)}
        self.dynamic = [pk for pk in order if self.by_pk[pk].rule is not None]
        self.dependents: dict[int, list[int]] = {}
        self.by_attribute: dict[str, list[int]] = {}
        self.by_event: dict[tuple[str, str], list[int]] = {}
        self.by_pattern: list[tuple[str, int]] = []
        self.with_devices: list[int] = []
        self.with_events: list[int] = []
        # (type, name or URL part, match) -> how many newest events decide every
        # condition without property filters on it (see tools.segments.facts)
        self.caps: dict[tuple[str, str, str], int] = {}
        self._polarities: dict[tuple[int, str, str], object] = {}
        self._seeds: dict[tuple[str, str], frozenset[int]] = {}
        for pk in self.dynamic:
            self._index(self.by_pk[pk])

    def _add(self, row: repo.SegmentRow) -> None:
        rule = deps = None
        if row.rules is not None:
            try:
                rule = parse_rule(row.rules, bound_cost=False)
            except EngineError as exc:  # stored by an older, more lenient version
                log.error("segment %s has rules this version cannot read (%s); it is "
                          "treated as empty", row.segment_id, exc.message)
                rule = parse_rule(_NEVER)
            deps = dependencies(rule.root)
        definition = SegmentDef(row, rule, deps)
        self.by_pk[row.pk] = definition
        self.by_id[row.segment_id] = definition

    def _index(self, definition: SegmentDef) -> None:
        deps, pk = definition.deps, definition.pk
        assert deps is not None
        for name in deps.attributes:
            self.by_attribute.setdefault(name, []).append(pk)
        for key in deps.events:
            self.by_event.setdefault(key, []).append(pk)
        self.by_pattern += [(part, pk) for part in deps.page_patterns]
        if deps.devices:
            self.with_devices.append(pk)
        if deps.reads_events:
            self.with_events.append(pk)
        for segment_id in deps.segments:
            self.dependents.setdefault(self.by_id[segment_id].pk, []).append(pk)
        assert definition.rule is not None
        for leaf in leaves(definition.rule.root):
            if isinstance(leaf, EventLeaf) and not leaf.filters:
                load = (leaf.kind, leaf.name, leaf.match)
                self.caps[load] = max(self.caps.get(load, 0), leaf.cap)

    @property
    def segment_pks(self) -> dict[str, int]:
        return {segment_id: d.pk for segment_id, d in self.by_id.items()}

    def reading_attributes(self, names: Collection[str]) -> set[int]:
        return {pk for name in names for pk in self.by_attribute.get(name, ())}

    def polarity(self, segment_pk: int, kind: str, name: str) -> int | None:
        """How one more such event can move the segment (tools.core.segments.deps)."""
        key = (segment_pk, kind, name)
        found = self._polarities.get(key, _UNKNOWN)
        if found is _UNKNOWN:
            rule = self.by_pk[segment_pk].rule
            found = None if rule is None else event_polarity(rule.root, kind, name)
            if len(self._polarities) > MAX_POLARITIES:
                self._polarities.clear()
            self._polarities[key] = found
        return found  # type: ignore[return-value]

    def event_seeds(self, kind: str, name: str) -> frozenset[int]:
        """reading_event, cached (page URLs are many: the cache is bounded)."""
        seeds = self._seeds.get((kind, name))
        if seeds is None:
            seeds = frozenset(self.reading_event(kind, name))
            if len(self._seeds) > MAX_POLARITIES:
                self._seeds.clear()
            self._seeds[(kind, name)] = seeds
        return seeds

    def reading_event(self, kind: str, name: str) -> set[int]:
        found = set(self.by_event.get((kind, name), ()))
        if kind == "page":
            found.update(pk for part, pk in self.by_pattern if part in name)
        return found


_CACHE: OrderedDict[tuple[str, int], SegmentIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()  # agents' units run on their own connection threads


def index_for(conn: sqlite3.Connection, state: tuple[str, int] | None = None) -> SegmentIndex:
    """The segments of the database behind `conn` (cached while its version holds);
    `state` is repo.state(conn) when the caller has already read it."""
    uuid, version = state if state is not None else repo.state(conn)
    key = (uuid, id(conn))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.version == version:
            _CACHE.move_to_end(key)
            return cached
    index = SegmentIndex(version, repo.all_segments(conn))
    with _CACHE_LOCK:
        _CACHE[key] = index
        _CACHE.move_to_end(key)
        while len(_CACHE) > MAX_CACHED:
            _CACHE.popitem(last=False)
    return index

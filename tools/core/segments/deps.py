"""Dependency analysis: what a rule reads, so a change re-evaluates only the segments it
can affect; and the order segments are evaluated in (a segment after those it reads)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from tools.core.errors import InvalidInput
from tools.core.segments.nodes import (
    AllOf,
    AnyOf,
    AttrLeaf,
    DeviceLeaf,
    EventLeaf,
    Node,
    Not,
    SegmentLeaf,
    is_time_relative,
    leaves,
)

RISING, FALLING, EITHER = 1, -1, 0


@dataclass(frozen=True)
class Dependencies:
    attributes: frozenset[str]
    events: frozenset[tuple[str, str]]  # (type, exact name)
    page_patterns: frozenset[str]  # page conditions on a part of the URL
    segments: frozenset[str]
    devices: bool
    time: bool

    def reads_event(self, kind: str, name: str) -> bool:
        """Can an event of this type and name change the answer?"""
        if (kind, name) in self.events:
            return True
        return kind == "page" and any(part in name for part in self.page_patterns)

    @property
    def reads_events(self) -> bool:
        return bool(self.events or self.page_patterns)


def dependencies(node: Node) -> Dependencies:
    """Everything `node` reads."""
    attributes, events, patterns, segments = set(), set(), set(), set()
    devices = False
    for leaf in leaves(node):
        if isinstance(leaf, AttrLeaf):
            attributes.add(leaf.name)
        elif isinstance(leaf, EventLeaf):
            if leaf.match == "contains":
                patterns.add(leaf.name)
            else:
                events.add((leaf.kind, leaf.name))
        elif isinstance(leaf, SegmentLeaf):
            segments.add(leaf.segment_id)
        elif isinstance(leaf, DeviceLeaf):
            devices = True
    return Dependencies(frozenset(attributes), frozenset(events), frozenset(patterns),
                        frozenset(segments), devices, is_time_relative(node))


def event_polarity(node: Node, kind: str, name: str) -> int | None:
    """How one more event of this type and name can move the answer: RISING (only from
    false to true), FALLING (only from true to false), EITHER, or None (it cannot).

    `did` with at most an at_least is RISING, `did_not` FALLING, an at_most or exactly
    EITHER; and / or keep the direction of their parts, not reverses it."""
    if isinstance(node, EventLeaf):
        hit = node.kind == kind and (node.name == name if node.match == "eq"
                                     else node.name in name)
        if not hit:
            return None
        if node.hi is not None:
            return EITHER
        return FALLING if node.negated else RISING
    if isinstance(node, Not):
        inner = event_polarity(node.child, kind, name)
        return -inner if inner else inner
    if isinstance(node, (AllOf, AnyOf)):
        found = {event_polarity(child, kind, name) for child in node.children} - {None}
        if not found:
            return None
        return found.pop() if len(found) == 1 else EITHER
    return None


def find_cycle(reads: Mapping[str, Collection[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start through segment references, if there is one."""
    path: list[str] = []
    done: set[str] = set()

    def visit(segment: str) -> bool:
        if segment == start and path:
            path.append(segment)
            return True
        if segment in done:
            return False
        done.add(segment)
        path.append(segment)
        for target in sorted(reads.get(segment, ())):
            if visit(target):
                return True
        path.pop()
        return False

    return path if visit(start) else None


def check_no_cycle(reads: Mapping[str, Collection[str]], segment_id: str) -> None:
    """Refuse a rule set in which `segment_id` (directly or not) reads itself."""
    cycle = find_cycle(reads, segment_id)
    if cycle:
        raise InvalidInput(
            "rules would make a cycle of segments (" + " -> ".join(cycle) + "); a segment "
            "cannot depend on itself",
            field="rules",
        )


def evaluation_order(reads: Mapping[str, Iterable[str]]) -> list[str]:
    """Every segment after the segments it reads (the graph has no cycles)."""
    order: list[str] = []
    placed: set[str] = set()

    def place(segment: str) -> None:
        if segment in placed:
            return
        placed.add(segment)
        for target in sorted(reads.get(segment, ())):
            place(target)
        order.append(segment)

    for segment in sorted(reads):
        place(segment)
    return [segment for segment in order if segment in reads]

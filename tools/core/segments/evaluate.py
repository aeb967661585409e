"""The Python evaluator: is a person in a segment at time `now`, why, and when does that
next change by time alone?

Time semantics (the SQL compiler implements the same):
- an event counts in a timeframe of length W while `timestamp + W > now`;
- an attribute is `within` W while `value <= now` and `value + W > now`.
So every change happens exactly at an instant the evaluator can name (`next_change`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from tools.core.segments import values
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
)
from tools.core.segments.sentence import leaf_sentence, show


class EventFact(NamedTuple):
    """One event of the person (a tuple: built once per event read, so it must be cheap)."""

    type: str
    name: str
    timestamp: float
    data: Mapping[str, Any] = MappingProxyType({})


class Facts(Protocol):
    """What the evaluator may know about one person."""

    def attributes(self) -> Mapping[str, Any]: ...

    def events(self, leaf: EventLeaf, now: float) -> Sequence[EventFact]:
        """At least the events `leaf` counts; at minimum the `leaf.cap` newest of them."""
        ...

    def platforms(self) -> Collection[str]: ...

    def in_segment(self, segment_id: str) -> bool: ...


@dataclass
class StaticFacts:
    """Facts held in memory: everything about the person."""

    attrs: Mapping[str, Any] = field(default_factory=dict)
    all_events: Sequence[EventFact] = ()
    devices: Collection[str] = ()
    segments: Collection[str] = ()

    def attributes(self) -> Mapping[str, Any]:
        return self.attrs

    def events(self, leaf: EventLeaf, now: float) -> Sequence[EventFact]:
        return self.all_events

    def platforms(self) -> Collection[str]:
        return self.devices

    def in_segment(self, segment_id: str) -> bool:
        return segment_id in self.segments


def matching_times(leaf: EventLeaf, facts: Facts, now: float) -> list[float]:
    """Timestamps (newest first) of the person's events that `leaf` counts at `now`."""
    window = leaf.timeframe.seconds if leaf.timeframe is not None else None
    found = []
    for event in facts.events(leaf, now):
        if event.type != leaf.kind:
            continue
        if leaf.match == "eq":
            if event.name != leaf.name:
                continue
        elif leaf.name not in event.name:
            continue
        if window is not None and not event.timestamp + window > now:
            continue
        if leaf.filters and not all(
            values.test(f, f.name in event.data, event.data.get(f.name), now)
            for f in leaf.filters
        ):
            continue
        found.append(event.timestamp)
    found.sort(reverse=True)
    return found


def _count_ok(leaf: EventLeaf, count: int) -> bool:
    return count >= leaf.lo and (leaf.hi is None or count <= leaf.hi)


def evaluate(node: Node, facts: Facts, now: float) -> bool:
    """Does the person match `node` at time `now`?"""
    if isinstance(node, AllOf):  # the most frequent kinds first: this runs on every write
        return all(evaluate(child, facts, now) for child in node.children)
    if isinstance(node, AttrLeaf):
        attrs = facts.attributes()
        return values.test(node, node.name in attrs, attrs.get(node.name), now)
    if isinstance(node, EventLeaf):
        return _count_ok(node, len(matching_times(node, facts, now))) != node.negated
    if isinstance(node, AnyOf):
        return any(evaluate(child, facts, now) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, facts, now)
    if isinstance(node, SegmentLeaf):
        return facts.in_segment(node.segment_id) != node.negated
    assert isinstance(node, DeviceLeaf)
    platforms = facts.platforms()
    has = bool(platforms) if node.platform is None else node.platform in platforms
    return has != node.negated


def next_change(node: Node, facts: Facts, now: float) -> float | None:
    """The next instant after `now` at which the answer may change by time alone (None:
    never). A condition that cannot change (no timeframe, no within) never wakes anyone;
    an `and` with a fixed false part, or an `or` with a fixed true part, neither."""
    if not is_time_relative(node):
        return None
    if isinstance(node, Not):
        return next_change(node.child, facts, now)
    if isinstance(node, (AllOf, AnyOf)):
        decisive = isinstance(node, AnyOf)  # a fixed child with this value decides the node
        for child in node.children:
            if not is_time_relative(child) and evaluate(child, facts, now) == decisive:
                return None
        times = [when for child in node.children if is_time_relative(child)
                 if (when := next_change(child, facts, now)) is not None]
        return min(times, default=None)
    if isinstance(node, AttrLeaf):
        attrs = facts.attributes()
        return values.next_flip(node, node.name in attrs, attrs.get(node.name), now)
    assert isinstance(node, EventLeaf) and node.timeframe is not None
    stamps = matching_times(node, facts, now)
    window = node.timeframe.seconds
    if node.hi is not None and len(stamps) > node.hi:
        return stamps[node.hi] + window  # enough have aged out to fall to at_most
    if len(stamps) >= node.lo:
        return stamps[node.lo - 1] + window  # the count falls below at_least
    return None


def judge(node: Node, facts: Facts, now: float) -> tuple[bool, float | None]:
    """(evaluate, next_change) in one walk, reading each event list once; real-time
    membership uses it for time-relative rules (the agreement table checks it equals
    the two)."""
    if not is_time_relative(node):
        return evaluate(node, facts, now), None
    if isinstance(node, Not):
        value, when = judge(node.child, facts, now)
        return not value, when
    if isinstance(node, (AllOf, AnyOf)):
        decisive = isinstance(node, AnyOf)
        result, soonest = not decisive, None
        for child in node.children:
            if not is_time_relative(child):
                if evaluate(child, facts, now) == decisive:
                    return decisive, None  # a fixed part decides: no change by time
                continue
            value, when = judge(child, facts, now)
            if value == decisive:
                result = decisive
            if when is not None and (soonest is None or when < soonest):
                soonest = when
        return result, soonest
    if isinstance(node, AttrLeaf):
        attrs = facts.attributes()
        present, stored = node.name in attrs, attrs.get(node.name)
        return (values.test(node, present, stored, now),
                values.next_flip(node, present, stored, now))
    assert isinstance(node, EventLeaf) and node.timeframe is not None
    stamps = matching_times(node, facts, now)
    value = _count_ok(node, len(stamps)) != node.negated
    window = node.timeframe.seconds
    if node.hi is not None and len(stamps) > node.hi:
        return value, stamps[node.hi] + window
    if len(stamps) >= node.lo:
        return value, stamps[node.lo - 1] + window
    return value, None


@dataclass(frozen=True)
class Check:
    """One line of an explanation."""

    depth: int
    condition: str
    result: bool
    seen: str | None


def explain(node: Node, facts: Facts, now: float, depth: int = 0) -> list[Check]:
    """Each condition with its result and the value it saw, in rule order."""
    result = evaluate(node, facts, now)
    if isinstance(node, (AllOf, AnyOf)):
        label = "all of" if isinstance(node, AllOf) else "any of"
        lines = [Check(depth, label, result, None)]
        for child in node.children:
            lines += explain(child, facts, now, depth + 1)
        return lines
    if isinstance(node, Not):
        return [Check(depth, "not", result, None), *explain(node.child, facts, now, depth + 1)]
    return [Check(depth, leaf_sentence(node), result, _seen(node, facts, now))]


def _seen(leaf: Node, facts: Facts, now: float) -> str:
    if isinstance(leaf, AttrLeaf):
        attrs = facts.attributes()
        return f"saw {show(attrs[leaf.name])}" if leaf.name in attrs else "not set"
    if isinstance(leaf, EventLeaf):
        count = len(matching_times(leaf, facts, now))
        return f"{count} time{'' if count == 1 else 's'}"
    if isinstance(leaf, SegmentLeaf):
        return "member" if facts.in_segment(leaf.segment_id) else "not a member"
    platforms = sorted(facts.platforms())
    return f"devices: {', '.join(platforms)}" if platforms else "no devices"


def summary(checks: Sequence[Check]) -> str:
    """plan = "pro" ✓ (saw "pro"); did "login" in the last 7 days ✗ (0 times)."""
    return "; ".join(
        f"{c.condition} {'✓' if c.result else '✗'} ({c.seen})" for c in checks
        if c.seen is not None
    )

"""What the journey interpreter may know about one person: the JourneyFacts protocol, and
RuleFacts, which answers it from a segment-rule Facts object (tools/core/segments) with the
segment evaluator itself, so a journey condition means exactly what a segment rule means."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

from tools.core.segments.evaluate import (
    EventFact,
    Facts,
    StaticFacts,
    explain,
    matching_times,
    summary,
)
from tools.core.segments.nodes import EventLeaf
from tools.core.segments.nodes import Rule as ParsedRule
from tools.core.segments.rules import parse_rule

Filters = Sequence[Mapping[str, Any]]  # property filters, as in rules: {property, operator, value}


class JourneyFacts(Protocol):
    """The person as the interpreter sees them."""

    def attributes(self) -> Mapping[str, Any]: ...

    def judge(self, rule: Mapping[str, Any], now: float) -> tuple[bool, str]:
        """Does `rule` (segment rule language, JSON) hold at `now`, and a one-line why."""
        ...

    def happened(self, event: str, properties: Filters, since: float, until: float) -> bool:
        """Did the person perform `event`, matching `properties`, in (since, until]?"""
        ...

    def with_changes(self, changes: Mapping[str, Any], removed: Collection[str],
                     events: Sequence[EventFact]) -> JourneyFacts:
        """The person after a step of the same advance set / unset attributes or emitted
        events (the caller applies the effects only after the advance returns)."""
        ...


@lru_cache(maxsize=1024)
def _parsed(text: str) -> ParsedRule:
    return parse_rule(json.loads(text), "condition", bound_cost=False)


def parsed_rule(rule: Mapping[str, Any]) -> ParsedRule:
    """A rule parsed once per process (keyed by its canonical JSON)."""
    return _parsed(json.dumps(rule, sort_keys=True, separators=(",", ":")))


def event_leaf(event: str, properties: Filters) -> EventLeaf:
    """The segment evaluator's condition 'did `event` with these property filters'."""
    raw: dict[str, Any] = {"event": event}
    if properties:
        raw["properties"] = [dict(p) for p in properties]
    root = parsed_rule(raw).root
    assert isinstance(root, EventLeaf)
    return root


def event_matches(event: str, filters: Filters, name: str, properties: Mapping[str, Any],
                  now: float) -> bool:
    """Is the event `name` with `properties` one that 'did `event` with `filters`' counts?"""
    if name != event:
        return False
    leaf = event_leaf(event, filters)
    single = StaticFacts(all_events=(EventFact("event", name, now, properties),))
    return bool(matching_times(leaf, single, now))


class RuleFacts:
    """JourneyFacts over a segment-rule Facts object (StaticFacts, a stored person, ...).
    `happened` needs `facts.events` to return every event of the name in the window (the
    StaticFacts of the simulator and the runner's stored facts do)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._rules: dict[int, tuple[Mapping[str, Any], ParsedRule]] = {}

    def attributes(self) -> Mapping[str, Any]:
        return self.facts.attributes()

    def judge(self, rule: Mapping[str, Any], now: float) -> tuple[bool, str]:
        checks = explain(self._rule(rule).root, self.facts, now)
        return checks[0].result, summary(checks)

    def happened(self, event: str, properties: Filters, since: float, until: float) -> bool:
        leaf = event_leaf(event, properties)
        return any(since < stamp <= until for stamp in matching_times(leaf, self.facts, until))

    def with_changes(self, changes: Mapping[str, Any], removed: Collection[str],
                     events: Sequence[EventFact]) -> RuleFacts:
        changed = RuleFacts(_Changed(self.facts, changes, removed, events))
        changed._rules = self._rules
        return changed

    def _rule(self, rule: Mapping[str, Any]) -> ParsedRule:
        cached = self._rules.get(id(rule))
        if cached is not None and cached[0] is rule:  # held, so the id is not reused
            return cached[1]
        parsed = parsed_rule(rule)
        self._rules[id(rule)] = (rule, parsed)
        return parsed


class _Changed:
    """Segment Facts with attributes set / unset and events added on top of others."""

    def __init__(self, base: Facts, changes: Mapping[str, Any], removed: Collection[str],
                 events: Sequence[EventFact]) -> None:
        self.base, self.extra = base, tuple(events)
        attrs = dict(base.attributes())
        attrs.update(changes)
        for name in removed:
            attrs.pop(name, None)
        self._attrs = attrs

    def attributes(self) -> Mapping[str, Any]:
        return self._attrs

    def events(self, leaf: EventLeaf, now: float) -> Sequence[EventFact]:
        found = self.base.events(leaf, now)
        return [*found, *self.extra] if self.extra else found

    def platforms(self) -> Collection[str]:
        return self.base.platforms()

    def in_segment(self, segment_id: str) -> bool:
        return self.base.in_segment(segment_id)

"""The SQL compiler: a rule as an SQLite expression over one row `p` of `people`, for
bulk membership (and its twin: when each person's answer next changes by time alone).

Every value is a bound parameter; the only identifiers are this module's own. Attributes
and event properties are read with json_type / json_extract on a `$."name"` path built
from a validated name (no quote, no backslash, no control character).
The semantics are exactly those of tools.core.segments.evaluate (see its docstring).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
from tools.core.segments.values import kind

_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "before": "<", "after": ">"}
_NUMBER = "IN ('integer', 'real')"
_NEVER = "1e308"  # stands for "no change" inside min()
SLACK = 1.0  # seconds: a loose index bound, the exact window test follows it


def json_path(name: str) -> str:
    """The SQLite JSON path of a top-level key (names are validated by the rule parser)."""
    return f'$."{name}"'


class Compiler:
    """Builds SQL text and its parameters, in order, for one query."""

    def __init__(self, now: float, segment_pks: Mapping[str, int], person: str = "p.pk",
                 attributes: str = "p.attributes") -> None:
        self.now = now
        self.segment_pks = segment_pks
        self.person = person
        self.attributes = attributes
        self.params: dict[str, Any] = {}

    def _p(self, value: Any) -> str:
        """A named placeholder bound to `value` (names make the order irrelevant)."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    param = _p

    # --- membership -----------------------------------------------------------------

    def value(self, node: Node) -> str:
        """An expression that is 1 when the person matches, else 0 (never NULL)."""
        if isinstance(node, (AllOf, AnyOf)):
            joiner = " AND " if isinstance(node, AllOf) else " OR "
            return "(" + joiner.join(self.value(child) for child in node.children) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.value(node.child)})"
        if isinstance(node, AttrLeaf):
            return self.attr(node, self.attributes)
        if isinstance(node, EventLeaf):
            return self._event(node)
        if isinstance(node, SegmentLeaf):
            pk = self.segment_pks[node.segment_id]
            test = (f"EXISTS (SELECT 1 FROM segment_people m WHERE m.person_pk = {self.person}"
                    f" AND m.segment_pk = {self._p(pk)} AND m.since IS NOT NULL)")
            return f"(NOT {test})" if node.negated else test
        assert isinstance(node, DeviceLeaf)
        platform = "" if node.platform is None else f" AND d.platform = {self._p(node.platform)}"
        test = f"EXISTS (SELECT 1 FROM devices d WHERE d.person_pk = {self.person}{platform})"
        return f"(NOT {test})" if node.negated else test

    def attr(self, leaf: AttrLeaf, column: str) -> str:
        """An attribute (or event property) test on the JSON in `column`."""
        test = f"coalesce({self._positive(leaf, column)}, 0)"
        return f"(NOT {test})" if leaf.negated else test

    def _type(self, column: str, name: str) -> str:
        return f"json_type({column}, {self._p(json_path(name))})"

    def _val(self, column: str, name: str) -> str:
        return f"json_extract({column}, {self._p(json_path(name))})"

    def _positive(self, leaf: AttrLeaf, col: str) -> str:
        op, name, wanted = leaf.positive, leaf.name, leaf.value
        if op == "exists":
            return f"(coalesce({self._type(col, name)}, 'null') != 'null')"
        if op == "eq":
            return self._equals(col, name, wanted)
        if op in ("gt", "gte", "lt", "lte"):
            typed = f"{_NUMBER}" if kind(wanted) == "number" else "= 'text'"
            return (f"({self._type(col, name)} {typed} AND {self._val(col, name)} "
                    f"{_COMPARE[op]} {self._p(wanted)})")
        if op == "contains":
            return self._contains(col, name, wanted)
        if op == "starts_with":
            return (f"({self._type(col, name)} = 'text' AND substr({self._val(col, name)}, 1, "
                    f"{self._p(len(wanted))}) = {self._p(wanted)})")
        if op == "ends_with":
            return (f"({self._type(col, name)} = 'text' AND substr({self._val(col, name)}, "
                    f"-{self._p(len(wanted))}) = {self._p(wanted)})")
        if op == "in":
            return self._in(col, name, leaf.choices)
        number = f"{self._type(col, name)} {_NUMBER}"
        if op in ("before", "after"):
            return f"({number} AND {self._val(col, name)} {_COMPARE[op]} {self._p(leaf.seconds)})"
        x = self._val(col, name)
        return (f"({number} AND {x} <= {self._p(self.now)} AND {self._val(col, name)} + "
                f"{self._p(leaf.seconds)} > {self._p(self.now)})")

    def _equals(self, col: str, name: str, wanted: Any) -> str:
        k = kind(wanted)
        if k == "bool":
            return f"({self._type(col, name)} = '{'true' if wanted else 'false'}')"
        typed = _NUMBER if k == "number" else "= 'text'"
        return f"({self._type(col, name)} {typed} AND {self._val(col, name)} = {self._p(wanted)})"

    def _element(self, wanted: Any) -> str:
        k = kind(wanted)
        if k == "bool":
            return f"j.type = '{'true' if wanted else 'false'}'"
        typed = f"j.type {_NUMBER}" if k == "number" else "j.type = 'text'"
        return f"{typed} AND j.value = {self._p(wanted)}"

    def _contains(self, col: str, name: str, wanted: Any) -> str:
        in_list = (f"({self._type(col, name)} = 'array' AND EXISTS (SELECT 1 FROM json_each("
                   f"{col}, {self._p(json_path(name))}) j WHERE {self._element(wanted)}))")
        if not isinstance(wanted, str):
            return in_list
        return (f"(({self._type(col, name)} = 'text' AND instr({self._val(col, name)}, "
                f"{self._p(wanted)}) > 0) OR {in_list})")

    def _in(self, col: str, name: str, choices: tuple[Any, ...]) -> str:
        strings = [c for c in choices if kind(c) == "string"]
        numbers = [c for c in choices if kind(c) == "number"]
        flags = {c for c in choices if kind(c) == "bool"}
        parts = []
        if strings:
            parts.append(f"({self._type(col, name)} = 'text' AND {self._val(col, name)} IN "
                         f"(SELECT value FROM json_each({self._p(json.dumps(strings))})))")
        if numbers:
            parts.append(f"({self._type(col, name)} {_NUMBER} AND {self._val(col, name)} IN "
                         f"(SELECT value FROM json_each({self._p(json.dumps(numbers))})))")
        for flag in sorted(flags):
            parts.append(f"({self._type(col, name)} = '{'true' if flag else 'false'}')")
        return "(" + " OR ".join(parts) + ")"

    def _selector(self, leaf: EventLeaf) -> str:
        """The WHERE clause of the events `leaf` counts for the current person."""
        named = (f"e.name = {self._p(leaf.name)}" if leaf.match == "eq"
                 else f"instr(e.name, {self._p(leaf.name)}) > 0")
        text = f"e.person_pk = {self.person} AND e.type = {self._p(leaf.kind)} AND {named}"
        if leaf.timeframe is not None:
            window = leaf.timeframe.seconds
            text += (f" AND e.timestamp > {self._p(self.now - window - SLACK)} AND e.timestamp"
                     f" + {self._p(window)} > {self._p(self.now)}")
        for condition in leaf.filters:
            text += f" AND {self.attr(condition, 'e.data')}"
        return text

    def _event(self, leaf: EventLeaf) -> str:
        if leaf.lo == 1 and leaf.hi is None:
            test = f"EXISTS (SELECT 1 FROM events e WHERE {self._selector(leaf)})"
        else:
            counted = (f"(SELECT count(*) FROM (SELECT 1 FROM events e WHERE "
                       f"{self._selector(leaf)} LIMIT {self._p(leaf.cap)}))")
            if leaf.hi is None:
                test = f"({counted} >= {self._p(leaf.lo)})"
            else:
                test = f"({counted} BETWEEN {self._p(leaf.lo)} AND {self._p(leaf.hi)})"
        return f"(NOT {test})" if leaf.negated else test

    # --- next change by time alone --------------------------------------------------

    def next_change(self, node: Node) -> str | None:
        """An expression giving the next instant the answer may change (NULL: never);
        None when the node cannot change with time at all."""
        if not is_time_relative(node):
            return None
        if isinstance(node, Not):
            return self.next_change(node.child)
        if isinstance(node, (AllOf, AnyOf)):
            return self._combined_change(node)
        if isinstance(node, AttrLeaf):
            return self._within_change(node)
        assert isinstance(node, EventLeaf) and node.timeframe is not None
        when = self._nth_newest(node, node.lo - 1)  # the count falls below at_least
        if node.hi is not None:  # enough have aged out to fall to at_most
            when = f"coalesce({self._nth_newest(node, node.hi)}, {when})"
        return f"({when} + {self._p(node.timeframe.seconds)})"

    def _nth_newest(self, leaf: EventLeaf, offset: int) -> str:
        return (f"(SELECT e.timestamp FROM events e WHERE {self._selector(leaf)} "
                f"ORDER BY e.timestamp DESC LIMIT 1 OFFSET {self._p(offset)})")

    def _combined_change(self, node: AllOf | AnyOf) -> str:
        fixed = [child for child in node.children if not is_time_relative(child)]
        timed = [self.next_change(child) for child in node.children if is_time_relative(child)]
        parts = [part for part in timed if part is not None]
        if len(parts) == 1:
            soonest = parts[0]
        else:
            soonest = (f"nullif(min({', '.join(f'coalesce({p}, {_NEVER})' for p in parts)}), "
                       f"{_NEVER})")
        if not fixed:
            return soonest
        if isinstance(node, AllOf):  # a fixed false part decides: no change
            gate = " AND ".join(self.value(child) for child in fixed)
        else:  # a fixed true part decides
            gate = "NOT (" + " OR ".join(self.value(child) for child in fixed) + ")"
        return f"(CASE WHEN {gate} THEN {soonest} END)"

    def _within_change(self, leaf: AttrLeaf) -> str:
        col, name = self.attributes, leaf.name
        return (f"(CASE WHEN {self._type(col, name)} {_NUMBER} THEN CASE "
                f"WHEN {self._val(col, name)} > {self._p(self.now)} THEN {self._val(col, name)} "
                f"WHEN {self._val(col, name)} + {self._p(leaf.seconds)} > {self._p(self.now)} "
                f"THEN {self._val(col, name)} + {self._p(leaf.seconds)} END END)")

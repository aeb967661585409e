"""The validated form of a segment rule: small immutable nodes the evaluator, the SQL
compiler, the sentence writer and the dependency analysis all walk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.core.errors import InvalidInput

MAX_DEPTH = 8  # combinators nested around the deepest condition
MAX_LEAVES = 100
MAX_IN_VALUES = 1000
MAX_PROPERTY_FILTERS = 20
MAX_VALUE_BYTES = 1000
MAX_COUNT = 1_000_000
# The work one person costs a rule, in units of one attribute test (see rule_cost): bounds
# what 100 conditions x 20 filters x 1,000-value lists would otherwise cost per person.
MAX_RULE_COST = 1_000
EVENT_COST = 4  # an event condition reads the person's events of that name
FILTER_FACTOR = 2  # a property filter is tested on every one of those events
IN_VALUES_PER_UNIT = 100  # an in / not_in list costs one unit per 100 values

UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
MAX_TIMEFRAME_SECONDS = 520 * 7 * 86_400  # ten years
_TIMEFRAME = re.compile(r"([1-9][0-9]{0,6})([mhdw])")

ATTRIBUTE_OPERATORS = (
    "eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with",
    "ends_with", "in", "not_in", "exists", "not_exists", "before", "after", "within",
    "not_within",
)
# Each negative operator matches exactly the people its positive one does not.
NEGATIONS = {
    "neq": "eq", "not_contains": "contains", "not_in": "in", "not_exists": "exists",
    "not_within": "within",
}
TIME_RELATIVE = ("within", "not_within")
PLATFORMS = ("ios", "android", "web")


@dataclass(frozen=True)
class Timeframe:
    text: str  # as written, e.g. "7d"
    seconds: float

    def words(self) -> str:
        """'7d' -> '7 days'."""
        number, unit = int(self.text[:-1]), self.text[-1]
        word = UNIT_WORDS[unit]
        return f"{number} {word}{'' if number == 1 else 's'}"


def parse_timeframe(value: Any, where: str) -> Timeframe:
    """A timeframe such as 30m, 12h, 7d or 4w (at most ten years)."""
    if not isinstance(value, str) or not _TIMEFRAME.fullmatch(value):
        raise InvalidInput(
            f"{where} must be a timeframe like '30m', '12h', '7d' or '4w' (a whole number "
            f"and m, h, d or w), got {value!r}",
            field=where,
        )
    seconds = int(value[:-1]) * UNITS[value[-1]]
    if seconds > MAX_TIMEFRAME_SECONDS:
        raise InvalidInput(f"{where} {value!r} is longer than ten years (520w)", field=where)
    return Timeframe(value, float(seconds))


@dataclass(frozen=True)
class AttrLeaf:
    """A test on one attribute (or one property of an event's data)."""

    name: str
    op: str  # one of ATTRIBUTE_OPERATORS
    value: Any = None  # as written (for sentences); normalised below
    seconds: float | None = None  # before/after: the instant; within: the period
    choices: tuple[Any, ...] = ()  # in / not_in
    timeframe: Timeframe | None = None

    @property
    def positive(self) -> str:
        return NEGATIONS.get(self.op, self.op)

    @property
    def negated(self) -> bool:
        return self.op in NEGATIONS


@dataclass(frozen=True)
class EventLeaf:
    """Did (or did not) do an event / view a page, counted in an optional timeframe."""

    kind: str  # "event" or "page" (the stored event type)
    name: str  # event name, or the URL (or part of it) for pages
    match: str = "eq"  # "eq" or "contains" (pages only)
    timeframe: Timeframe | None = None
    lo: int = 1
    hi: int | None = None
    negated: bool = False
    filters: tuple[AttrLeaf, ...] = ()
    counted: str | None = None  # the count option as written, for sentences

    @property
    def cap(self) -> int:
        """How many newest matching events decide this condition (and its next change)."""
        return self.lo if self.hi is None else max(self.lo, self.hi + 1)


@dataclass(frozen=True)
class SegmentLeaf:
    segment_id: str
    negated: bool = False


@dataclass(frozen=True)
class DeviceLeaf:
    platform: str | None  # None: any platform
    negated: bool = False


@dataclass(frozen=True)
class AllOf:
    children: tuple[Node, ...]
    timed: bool = False  # some condition below is time-relative


@dataclass(frozen=True)
class AnyOf:
    children: tuple[Node, ...]
    timed: bool = False


@dataclass(frozen=True)
class Not:
    child: Node
    timed: bool = False


Leaf = AttrLeaf | EventLeaf | SegmentLeaf | DeviceLeaf
Node = AllOf | AnyOf | Not | AttrLeaf | EventLeaf | SegmentLeaf | DeviceLeaf


def leaves(node: Node) -> list[Leaf]:
    """Every condition of a rule, left to right."""
    if isinstance(node, (AllOf, AnyOf)):
        return [leaf for child in node.children for leaf in leaves(child)]
    if isinstance(node, Not):
        return leaves(node.child)
    return [node]


def leaf_cost(leaf: Leaf) -> float:
    """The work one condition costs per person, in attribute-test units."""
    if isinstance(leaf, AttrLeaf):
        return 1 + len(leaf.choices) / IN_VALUES_PER_UNIT
    if isinstance(leaf, EventLeaf):
        return EVENT_COST + FILTER_FACTOR * sum(leaf_cost(f) for f in leaf.filters)
    return 1.0


def rule_cost(node: Node) -> float:
    """The work one person costs the whole rule (bounded by MAX_RULE_COST)."""
    return sum(leaf_cost(leaf) for leaf in leaves(node))


def is_time_relative(node: Node) -> bool:
    """True when the node's truth can change with time alone."""
    if isinstance(node, AttrLeaf):
        return node.op in TIME_RELATIVE
    if isinstance(node, EventLeaf):
        return node.timeframe is not None
    if isinstance(node, (AllOf, AnyOf, Not)):
        return node.timed
    return False


@dataclass(frozen=True)
class Rule:
    """A validated rule: its tree and its canonical JSON (what is stored)."""

    root: Node
    canonical: dict[str, Any] = field(compare=False)
    time_relative: bool = False

"""The segment rule language: pydantic models of each condition, and `parse_rule`, which
validates a JSON rule (shape, operators, value types, bounds) into nodes.

    {"and": [
      {"attribute": "plan", "operator": "eq", "value": "pro"},
      {"event": "login", "operator": "did", "timeframe": "7d"}
    ]}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.segments import values
from tools.core.segments.nodes import (
    MAX_COUNT,
    MAX_DEPTH,
    MAX_LEAVES,
    MAX_PROPERTY_FILTERS,
    MAX_RULE_COST,
    AllOf,
    AnyOf,
    AttrLeaf,
    DeviceLeaf,
    EventLeaf,
    Node,
    Not,
    Rule,
    SegmentLeaf,
    is_time_relative,
    parse_timeframe,
    rule_cost,
)
from tools.core.segments.slug import check_segment_id
from tools.core.validate import check_event_name, check_text

AttributeOperator = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with",
    "ends_with", "in", "not_in", "exists", "not_exists", "before", "after", "within",
    "not_within",
]
PropertyOperator = Literal[
    "eq", "neq", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with",
    "ends_with", "in", "not_in", "exists", "not_exists", "before", "after",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AttributeCondition(_Strict):
    """A test on a profile attribute, e.g. plan eq "pro" or created_at within "30d"."""

    attribute: str
    operator: AttributeOperator
    value: Any = None


class PropertyFilter(_Strict):
    """A test on a property of the event's data (attribute operators except within)."""

    property: str
    operator: PropertyOperator
    value: Any = None


class _Activity(_Strict):
    operator: Literal["did", "did_not"] = "did"
    timeframe: str | None = None
    at_least: int | None = None
    at_most: int | None = None
    exactly: int | None = None
    properties: list[PropertyFilter] = []


class EventCondition(_Activity):
    """Did (or did not) perform an event, optionally in a timeframe and a number of times."""

    event: str


class PageCondition(_Activity):
    """Viewed a page whose URL equals (or contains) the given text."""

    page: str
    match: Literal["eq", "contains"] = "eq"


class SegmentCondition(_Strict):
    """Is (or is not) a member of another segment."""

    segment: str
    operator: Literal["in", "not_in"] = "in"


class DeviceCondition(_Strict):
    """Has (or has not) a push device of a platform ("any" for any platform)."""

    device: Literal["ios", "android", "web", "any"]
    operator: Literal["has", "has_not"] = "has"


_LEAF_KINDS: dict[str, tuple[type[_Strict], str]] = {
    "attribute": (AttributeCondition, "an attribute condition"),
    "event": (EventCondition, "an event condition"),
    "page": (PageCondition, "a page condition"),
    "segment": (SegmentCondition, "a segment condition"),
    "device": (DeviceCondition, "a device condition"),
}
_COMBINATORS = ("and", "or", "not")


def parse_rule(raw: Any, where: str = "rules", *, bound_cost: bool = True) -> Rule:
    """Validate a rule; raises InvalidInput / LimitExceeded naming the faulty part.
    `bound_cost=False` reads back a stored rule saved before the cost bound existed."""
    counter = [0]
    root, canonical = _parse(raw, where, 0, counter)
    cost = rule_cost(root)
    if bound_cost and cost > MAX_RULE_COST:
        raise LimitExceeded(
            f"{where} would cost {cost:,.0f} units of work per person, over the limit of "
            f"{MAX_RULE_COST:,} (an attribute test costs 1, an event condition 4 plus 2 per "
            "property filter, an in / not_in list 1 more per 100 values). Use fewer event "
            "conditions, property filters or list values, or split the rule into segments "
            "that read each other", field=where)
    return Rule(root, canonical, is_time_relative(root))


def _parse(raw: Any, where: str, depth: int, counter: list[int]) -> tuple[Node, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise InvalidInput(
            f"{where} must be a condition object such as {{\"attribute\": \"plan\", "
            f"\"operator\": \"eq\", \"value\": \"pro\"}} or a combinator {{\"and\": [...]}}, "
            f"got {type(raw).__name__}",
            field=where,
        )
    combinator = [key for key in _COMBINATORS if key in raw]
    if combinator:
        return _combinator(raw, combinator[0], where, depth, counter)
    kind = next((key for key in _LEAF_KINDS if key in raw), None)
    if kind is None:
        keys = ", ".join(repr(k) for k in list(raw)[:5]) or "none"
        raise InvalidInput(
            f"{where} is not a condition: it needs one of the keys and, or, not, attribute, "
            f"event, page, segment, device (got {keys})",
            field=where,
        )
    counter[0] += 1
    if counter[0] > MAX_LEAVES:
        raise LimitExceeded(f"rules may have at most {MAX_LEAVES} conditions", field=where)
    model_type, label = _LEAF_KINDS[kind]
    try:
        model = model_type.model_validate(raw)
    except ValidationError as exc:
        raise _explain(exc, where, label, model_type) from None
    node = _LEAF_BUILDERS[kind](model, where)
    dumped = model.model_dump(exclude_none=True)
    if not dumped.get("properties", True):
        del dumped["properties"]
    canonical = {kind: dumped.pop(kind), **dumped}  # the condition's kind first
    return node, canonical


def _combinator(raw: dict[str, Any], key: str, where: str, depth: int,
                counter: list[int]) -> tuple[Node, dict[str, Any]]:
    if len(raw) != 1:
        others = ", ".join(repr(k) for k in raw if k != key)
        raise InvalidInput(
            f"{where}: a {key!r} combinator takes nothing but its {key!r} key (also got "
            f"{others}); wrap conditions in it instead",
            field=where,
        )
    if depth >= MAX_DEPTH:
        raise LimitExceeded(
            f"{where}: rules may nest and / or / not at most {MAX_DEPTH} deep", field=where
        )
    inner = raw[key]
    if key == "not":
        if not isinstance(inner, dict):
            raise InvalidInput(f"{where}.not must be one condition object", field=f"{where}.not")
        child, canonical = _parse(inner, f"{where}.not", depth + 1, counter)
        return Not(child, is_time_relative(child)), {"not": canonical}
    if not isinstance(inner, list) or not inner:
        raise InvalidInput(f"{where}.{key} must be a non-empty list of conditions",
                           field=f"{where}.{key}")
    parsed = [_parse(item, f"{where}.{key}[{i}]", depth + 1, counter)
              for i, item in enumerate(inner)]
    children = tuple(node for node, _ in parsed)
    timed = any(is_time_relative(child) for child in children)
    node: Node = AllOf(children, timed) if key == "and" else AnyOf(children, timed)
    return node, {key: [canonical for _, canonical in parsed]}


def _explain(exc: ValidationError, where: str, label: str,
             model_type: type[_Strict]) -> InvalidInput:
    error = exc.errors()[0]
    loc = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    path = f"{where}{loc}"
    kind = error["type"]
    fields = ", ".join(model_type.model_fields)
    if kind == "extra_forbidden":
        message = f"{path}: unknown field {error['loc'][-1]!r}; {label} takes {fields}"
    elif kind == "missing":
        message = f"{path} is missing; {label} takes {fields}"
    elif kind == "literal_error" and error["loc"][-1] == "operator":
        message = f"{path}: unknown operator {error['input']!r}; {error['msg'].lower()}"
    else:
        message = f"{path}: {error['msg'].lower()} (got {error['input']!r})"[:500]
    return InvalidInput(message, field=path)


def _attr_name(name: str, where: str, what: str) -> str:
    check_text(name, where, 150, what)
    if '"' in name or "\\" in name:
        raise InvalidInput(
            f"{where} {name!r} contains a double quote or backslash; rules cannot read such "
            "names: rename the attribute",
            field=where,
        )
    return name


def attr_leaf(name: str, op: str, value: Any, where: str, what: str) -> AttrLeaf:
    """Validate one attribute / property test and normalise its value."""
    name = _attr_name(name, f"{where}.{what}", f"{what} name")
    return values.normalise(name, op, value, f"{where}.value")


def _attribute(model: AttributeCondition, where: str) -> AttrLeaf:
    return attr_leaf(model.attribute, model.operator, model.value, where, "attribute")


def _activity(model: _Activity, where: str, kind: str, name: str, match: str) -> EventLeaf:
    timeframe = None
    if model.timeframe is not None:
        timeframe = parse_timeframe(model.timeframe, f"{where}.timeframe")
    lo, hi, counted = _counts(model, where)
    if len(model.properties) > MAX_PROPERTY_FILTERS:
        raise LimitExceeded(
            f"{where}.properties may have at most {MAX_PROPERTY_FILTERS} filters",
            field=f"{where}.properties",
        )
    filters = tuple(
        attr_leaf(f.property, f.operator, f.value, f"{where}.properties[{i}]", "property")
        for i, f in enumerate(model.properties)
    )
    return EventLeaf(kind, name, match, timeframe, lo, hi, model.operator == "did_not",
                     filters, counted)


def _counts(model: _Activity, where: str) -> tuple[int, int | None, str | None]:
    given = {k: v for k in ("at_least", "at_most", "exactly")
             if (v := getattr(model, k)) is not None}
    for key, number in given.items():
        if not 1 <= number <= MAX_COUNT:
            raise InvalidInput(
                f"{where}.{key} must be from 1 to {MAX_COUNT} (did_not with at_least N "
                "expresses 'fewer than N times', including never)",
                field=f"{where}.{key}",
            )
    if "exactly" in given and len(given) > 1:
        raise InvalidInput(f"{where}: exactly cannot be combined with at_least or at_most",
                           field=f"{where}.exactly")
    if "exactly" in given:
        return given["exactly"], given["exactly"], f"exactly {given['exactly']}"
    lo, hi = given.get("at_least", 1), given.get("at_most")
    if hi is not None and hi < lo:
        raise InvalidInput(f"{where}: at_most ({hi}) is smaller than at_least ({lo})",
                           field=f"{where}.at_most")
    words = [f"at least {lo}"] if "at_least" in given else []
    words += [f"at most {hi}"] if hi is not None else []
    return lo, hi, " and ".join(words) or None


def _event(model: EventCondition, where: str) -> EventLeaf:
    name = check_event_name(model.event, f"{where}.event")
    return _activity(model, where, "event", name, "eq")


def _page(model: PageCondition, where: str) -> EventLeaf:
    url = check_text(model.page, f"{where}.page", 2048, "page URL (or part of it)")
    return _activity(model, where, "page", url, model.match)


def _segment(model: SegmentCondition, where: str) -> SegmentLeaf:
    return SegmentLeaf(check_segment_id(model.segment, f"{where}.segment"),
                       model.operator == "not_in")


def _device(model: DeviceCondition, where: str) -> DeviceLeaf:
    platform = None if model.device == "any" else model.device
    return DeviceLeaf(platform, model.operator == "has_not")


_LEAF_BUILDERS: dict[str, Any] = {
    "attribute": _attribute, "event": _event, "page": _page, "segment": _segment,
    "device": _device,
}

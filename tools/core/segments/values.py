"""Attribute operators: which values each takes, and what each means in Python.

Comparisons are type-correct: a number compares only with numbers, a string only with
strings, a boolean only with booleans. "42" (a string) is not equal to 42 and is not
greater than 10; strings order by Unicode code point. A negative operator (neq,
not_contains, not_in, not_exists, not_within) matches exactly the people its positive
operator does not match, including people without the attribute.
"""

from __future__ import annotations

import math
from typing import Any

from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.segments.nodes import (
    ATTRIBUTE_OPERATORS,
    MAX_IN_VALUES,
    MAX_VALUE_BYTES,
    AttrLeaf,
    parse_timeframe,
)
from tools.core.validate import check_integer, parse_timestamp, utf8_len

_SCALARS = "a string, a number or true/false"


_KINDS: dict[type, str] = {type(None): "null", bool: "bool", int: "number", float: "number",
                           str: "string", list: "array", dict: "object"}


def kind(value: Any) -> str:
    """The JSON type of a stored value: null, bool, number, string, array or object."""
    found = _KINDS.get(type(value))
    if found is not None:
        return found
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def same(stored: Any, wanted: Any) -> bool:
    """Type-correct equality of two scalars (1 equals 1.0; "1" does not equal 1)."""
    k = kind(stored)
    return k == kind(wanted) and k in ("bool", "number", "string") and stored == wanted


def _scalar(value: Any, where: str, op: str) -> Any:
    k = kind(value)
    if k not in ("bool", "number", "string"):
        raise InvalidInput(f"{where}: {op} needs {_SCALARS}, got {_json_name(value)}",
                           field=where)
    if k == "number":
        check_integer(value, where)
        if not math.isfinite(value):
            raise InvalidInput(f"{where} must be a finite number", field=where)
    if k == "string":
        try:
            size = utf8_len(value)
        except UnicodeEncodeError:
            raise InvalidInput(f"{where} contains a lone surrogate (invalid Unicode)",
                               field=where) from None
        if size > MAX_VALUE_BYTES:
            raise LimitExceeded(f"{where} is longer than {MAX_VALUE_BYTES} bytes", field=where)
    return value


def _json_name(value: Any) -> str:
    return {"null": "null (use exists / not_exists to test for absence)", "bool": "a boolean",
            "number": "a number", "string": "a string", "array": "a list",
            "object": "an object"}[kind(value)]


def normalise(name: str, op: str, value: Any, where: str) -> AttrLeaf:
    """Check that `value` suits `op` and build the condition."""
    if op not in ATTRIBUTE_OPERATORS:  # pragma: no cover - the models restrict op
        raise InvalidInput(f"unknown operator {op!r}", field=where)
    if op in ("exists", "not_exists"):
        if value is not None:
            raise InvalidInput(f"{where}: {op} takes no value; remove it", field=where)
        return AttrLeaf(name, op)
    if value is None:
        raise InvalidInput(f"{where} is missing: {op} needs a value", field=where)
    if op in ("eq", "neq"):
        return AttrLeaf(name, op, _scalar(value, where, op))
    if op in ("gt", "gte", "lt", "lte"):
        if kind(value) not in ("number", "string"):
            raise InvalidInput(
                f"{where}: {op} compares numbers with numbers or strings with strings; got "
                f"{_json_name(value)}", field=where)
        return AttrLeaf(name, op, _scalar(value, where, op))
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        return _text_test(name, op, value, where)
    if op in ("in", "not_in"):
        return _choices(name, op, value, where)
    if op in ("before", "after"):
        if kind(value) not in ("number", "string"):
            raise InvalidInput(
                f"{where}: {op} needs a time (unix seconds or ISO-8601), got "
                f"{_json_name(value)}", field=where)
        return AttrLeaf(name, op, value, seconds=parse_timestamp(value, where, math.inf))
    timeframe = parse_timeframe(value, where)
    return AttrLeaf(name, op, value, seconds=timeframe.seconds, timeframe=timeframe)


def _text_test(name: str, op: str, value: Any, where: str) -> AttrLeaf:
    allowed = ("string",) if op in ("starts_with", "ends_with") else ("string", "number", "bool")
    if kind(value) not in allowed:
        need = "a string" if len(allowed) == 1 else "a string (or a list element's value)"
        raise InvalidInput(f"{where}: {op} needs {need}, got {_json_name(value)}", field=where)
    if value == "":
        raise InvalidInput(f"{where}: {op} needs a non-empty string", field=where)
    return AttrLeaf(name, op, _scalar(value, where, op))


def _choices(name: str, op: str, value: Any, where: str) -> AttrLeaf:
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{where}: {op} needs a non-empty list of values", field=where)
    if len(value) > MAX_IN_VALUES:
        raise LimitExceeded(f"{where}: {op} takes at most {MAX_IN_VALUES} values", field=where)
    choices = tuple(_scalar(item, f"{where}[{i}]", op) for i, item in enumerate(value))
    return AttrLeaf(name, op, value, choices=choices)


def test(leaf: AttrLeaf, present: bool, stored: Any, now: float) -> bool:
    """Does a stored value (present or not) satisfy the condition at time `now`?"""
    result = present and _positive(leaf, stored, now)
    return not result if leaf.negated else result


def _positive(leaf: AttrLeaf, stored: Any, now: float) -> bool:
    op, wanted, k = leaf.positive, leaf.value, kind(stored)
    if op == "exists":
        return k != "null"
    if op == "eq":
        return same(stored, wanted)
    if op in ("gt", "gte", "lt", "lte"):
        if k != kind(wanted):
            return False
        return {"gt": stored > wanted, "gte": stored >= wanted,
                "lt": stored < wanted, "lte": stored <= wanted}[op]
    if op == "contains":
        if k == "array":
            return any(same(item, wanted) for item in stored)
        return k == "string" and isinstance(wanted, str) and wanted in stored
    if op == "starts_with":
        return k == "string" and stored.startswith(wanted)
    if op == "ends_with":
        return k == "string" and stored.endswith(wanted)
    if op == "in":
        return any(same(stored, choice) for choice in leaf.choices)
    if k != "number":
        return False
    assert leaf.seconds is not None
    if op == "before":
        return stored < leaf.seconds
    if op == "after":
        return stored > leaf.seconds
    return stored <= now and stored + leaf.seconds > now  # within


def next_flip(leaf: AttrLeaf, present: bool, stored: Any, now: float) -> float | None:
    """When a within / not_within test next changes its answer (None: never)."""
    if leaf.positive != "within" or not present or kind(stored) != "number":
        return None
    assert leaf.seconds is not None
    if stored > now:
        return stored
    end = stored + leaf.seconds
    return end if end > now else None

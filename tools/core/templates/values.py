"""Liquid values as text, and how big they are: what output and filters see.

A value never renders as a Python repr: nil is empty, booleans are `true` / `false`, an
array is its items one after the other (nested arrays flattened), an object (a mapping from
the data) is its JSON, the same text as `| json`. Engine objects without a text of their
own (the `forloop` helper, ...) render empty.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from liquid import Markup
from liquid.exceptions import OutputStreamLimitError
from liquid.undefined import is_undefined

from tools.core.templates import limits

_CONTAINERS = (list, tuple, dict)


def json_default(value: Any) -> Any:
    """How JSON (the json filter, an object's text) writes values JSON does not know."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, range):
        return f"{value.start}..{value.stop - 1}"
    return None  # undefined, nil from `map`, loop helpers: null


def object_json(value: dict[Any, Any]) -> str:
    """The JSON text of an object (a mapping from the data)."""
    return json.dumps(value, default=json_default)


def scalar_text(value: Any) -> str:
    """The text of a value that is not an array."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal, datetime, date)):
        return str(value)
    if isinstance(value, dict):
        return object_json(value)
    if isinstance(value, range):
        return f"{value.start}..{value.stop - 1}"
    if is_undefined(value):
        return str(value)
    return ""


def to_text(value: Any, *, autoescape: bool = False,
            limit: int = limits.OUTPUT_MAX_CHARS) -> str:
    """The text of any value; an array's items are counted as they are turned into text,
    so a huge array fails before its text is built."""
    if isinstance(value, str):
        return value
    if not isinstance(value, (list, tuple)):
        return scalar_text(value)
    parts: list[str] = []
    _array_text(value, parts, limit, 0)
    return Markup("").join(parts) if autoescape else "".join(parts)


def _array_text(items: list[Any] | tuple[Any, ...], parts: list[str], limit: int,
                size: int) -> int:
    for item in items:
        if isinstance(item, (list, tuple)):
            size = _array_text(item, parts, limit, size)
            continue
        text = item if isinstance(item, str) else scalar_text(item)
        size += len(text)
        if size > limit:
            raise OutputStreamLimitError(
                f"the text of an array is over the limit of {limit:,} characters", token=None)
        parts.append(text)
    return size


def held_size(value: Any, limit: int) -> int:
    """Roughly the bytes `value` holds (sys.getsizeof, deeply for arrays and objects;
    each object counted once); stops counting once past `limit`."""
    total = 0
    seen: set[int] = set()
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item, 1)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return total


def text_weight(value: Any, limit: int) -> int:
    """About how many characters the text or JSON of `value` has (strings by length,
    other values 1 each, every occurrence counted); stops counting once past `limit`."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 1
        elif isinstance(item, dict):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += 1
            stack.extend(item)
        else:
            total += 1
    return total

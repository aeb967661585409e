"""The guard every filter runs through, so that no single filter call can outlast the
render's time bound by much, hold unbounded memory, show a Python repr or escape as a bare
Python exception.

A loop is stopped between iterations, but a filter is one call. So before it runs, its input
is bounded (see the sets below and README "Limits"): text filters take Liquid text (an
object as JSON, nil as empty, never str() of a Python value), at most OUTPUT_MAX_CHARS
characters, HEAVY_TEXT_MAX_CHARS for those whose work per character is heavy (one C call
holding the GIL for up to 100 ms on 1,000,000 characters, or Python work per character);
sequence filters take at most SEQUENCE_ITEMS items, flattened here with the deadline
checked as they go, and walk them through an iterator that checks it too; sorting takes at
most OUTPUT_MAX_CHARS characters of items in all. Its result may not exceed the same
bounds. Filters whose cost does not grow with their input (numbers, dates, a lookup) skip
these checks. Any exception a filter raises becomes a Liquid error naming the filter, which
the render reports with the filter's line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, DecimalException
from functools import wraps
from time import monotonic
from typing import Any

from liquid import soft_str
from liquid.exceptions import (
    FilterArgumentError,
    LiquidError,
    LiquidTypeError,
    ResourceLimitError,
)
from liquid.undefined import is_undefined

from tools.core.templates import limits
from tools.core.templates.errors import log_unexpected
from tools.core.templates.sandbox import BUDGET, FilterLimitError
from tools.core.templates.values import text_weight, to_text

budget_now = BUDGET.get
Filter = Callable[..., Any]

# Cost and result size do not grow with the input: no deadline or size checks.
CHEAP = frozenset({
    "abs", "at_least", "at_most", "ceil", "divided_by", "floor", "minus", "plus", "round",
    "modulo", "times", "size", "default", "first", "last", "date", "timezone", "currency",
    "format_number",
})
# Take text (python-liquid's string filters): other values are given as their Liquid text.
TEXT = frozenset({
    "append", "prepend", "capitalize", "downcase", "upcase", "escape", "escape_once",
    "lstrip", "rstrip", "strip", "squish", "strip_html", "strip_newlines", "newline_to_br",
    "remove", "remove_first", "remove_last", "replace", "replace_first", "replace_last",
    "split", "truncate", "truncatewords", "url_encode", "url_decode", "base64_encode",
    "base64_decode", "base64_url_safe_encode", "base64_url_safe_decode", "safe", "escapejs",
})
# Heavy work per character: Unicode case mapping, a regular expression with a match per
# character or two, or Python code per character (0.05-0.2 µs a character).
HEAVY_TEXT = frozenset({
    "upcase", "downcase", "capitalize", "squish", "strip_newlines", "newline_to_br",
    "strip_html", "escape_once", "escapejs", "url_encode", "url_decode",
})
# Walk a sequence. OWN ones (standard.py) and `reverse` get a list, the others an iterator.
SEQUENCE = frozenset({
    "join", "concat", "map", "reverse", "sort", "sort_natural", "where", "reject", "find",
    "find_index", "has", "uniq", "compact", "sum",
})
# Bound their work themselves (standard.json_filter, python-liquid's slice, pluralize).
SELF_BOUNDED = frozenset({"json", "slice", "pluralize"})
AUDITED = CHEAP | TEXT | SEQUENCE | SELF_BOUNDED
TAKES_LIST = frozenset({"join", "concat", "uniq", "reverse", "sort", "sort_natural"})
SORTS = frozenset({"sort", "sort_natural"})
FLATTEN_LEVELS = 5  # as python-liquid's sequence filters


def _too_many(name: str, count: int | None) -> FilterLimitError:
    got = f"{count:,} items are" if count is not None else "more items are"
    return FilterLimitError(f"{name}: {got} over the limit of {limits.SEQUENCE_ITEMS:,}",
                            token=None)


def _too_big(name: str, size: int) -> FilterLimitError:
    return FilterLimitError(f"{name} would make {size:,} characters, over the limit of "
                            f"{limits.OUTPUT_MAX_CHARS:,}", token=None)


def _check_range(name: str, value: Any) -> None:
    if isinstance(value, range) and len(value) > limits.SEQUENCE_ITEMS:
        raise _too_many(name, len(value))


def _check_argument(name: str, value: Any) -> None:
    """A range, array or object argument is bounded like an input (python-liquid str()s
    some, e.g. the key of `map`, once per item)."""
    _check_range(name, value)
    if isinstance(value, (list, tuple, dict)) \
            and text_weight(value, limits.OUTPUT_MAX_CHARS) > limits.OUTPUT_MAX_CHARS:
        raise FilterLimitError(f"{name}: an argument holds more than "
                               f"{limits.OUTPUT_MAX_CHARS:,} characters, the limit", token=None)


def flatten(name: str, items: Iterable[Any], out: list[Any], level: int = FLATTEN_LEVELS) -> None:
    """Append the items of nested arrays (`level` deep) to `out`, counting and pacing."""
    budget = budget_now()
    for item in items:
        if level and isinstance(item, (list, tuple)):
            flatten(name, item, out, level - 1)
            continue
        out.append(item)
        if len(out) % 4096 == 0:
            if len(out) > limits.SEQUENCE_ITEMS:
                raise _too_many(name, None)
            if budget is not None:
                budget.check_time()
    if len(out) > limits.SEQUENCE_ITEMS:
        raise _too_many(name, None)


def sequence_items(name: str, value: Any) -> list[Any]:
    """The items a sequence filter walks, as python-liquid's sequence_filter sees them:
    arrays flattened, a range's numbers, anything else (an object, text) alone."""
    if isinstance(value, (list, tuple)):
        items: list[Any] = []
        flatten(name, value, items)
        return items
    if isinstance(value, range):
        _check_range(name, value)
        return list(value)
    if value is None or isinstance(value, (dict, str)) or not isinstance(value, Iterable):
        return [value]
    return [] if is_undefined(value) else [value]  # an undefined value has no items


def _text_arg(arg: Any) -> Any:
    if isinstance(arg, bool) or not isinstance(arg, (str, int, float, Decimal)):
        return arg if is_undefined(arg) else to_text(arg)
    return arg


def _prepare_text(name: str, left: Any, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    text = left if isinstance(left, str) else to_text(left)
    if name in HEAVY_TEXT and len(text) > limits.HEAVY_TEXT_MAX_CHARS:
        raise FilterLimitError(f"{name} takes at most {limits.HEAVY_TEXT_MAX_CHARS:,} "
                               f"characters; got {len(text):,}", token=None)
    args = tuple(_text_arg(arg) for arg in args)
    if name == "split":
        _check_split(text, args[0] if args else None)
    return text, args


def _check_split(text: str, separator: Any) -> None:
    """Refuse a split into more than SEQUENCE_ITEMS pieces before making them."""
    if separator is None or is_undefined(separator) or separator == "":
        pieces = len(text)  # into characters
    elif separator == " ":
        return  # into words: at most half as many pieces as characters, counted after
    else:
        pieces = text.count(soft_str(separator)) + 1
    if pieces > limits.SEQUENCE_ITEMS:
        raise _too_many("split", pieces)


def _prepare_sequence(name: str, left: Any) -> Any:
    items = sequence_items(name, left)
    if name in SORTS and text_weight(items, limits.OUTPUT_MAX_CHARS) > limits.OUTPUT_MAX_CHARS:
        raise FilterLimitError(f"{name}: the items hold more than "
                               f"{limits.OUTPUT_MAX_CHARS:,} characters, the limit", token=None)
    if name in TAKES_LIST:
        return items
    budget = budget_now()
    return budget.paced(iter(items)) if budget is not None else items


def _prepare_slice(left: Any) -> Any:
    if isinstance(left, (list, tuple)) and len(left) > limits.SEQUENCE_ITEMS:
        raise _too_many("slice", len(left))
    _check_range("slice", left)
    return left if isinstance(left, (list, tuple, range, str)) else to_text(left)


def _check_result(name: str, result: Any) -> Any:
    if isinstance(result, str) and len(result) > limits.OUTPUT_MAX_CHARS:
        raise _too_big(name, len(result))
    if isinstance(result, (list, tuple)) and len(result) > limits.SEQUENCE_ITEMS:
        raise _too_many(name, len(result))
    return result


def failure(name: str, exc: Exception) -> LiquidError:
    """The Liquid error for an exception a filter raised (python-liquid positions it)."""
    if isinstance(exc, ResourceLimitError):
        return FilterLimitError(str(exc.message), token=None)
    if isinstance(exc, LiquidError):  # e.g. "invalid base64-encoded string"
        return FilterArgumentError(f"{name}: {exc.message}", token=None)
    if isinstance(exc, RecursionError):
        return FilterLimitError(f"{name}: the value is nested too deeply", token=None)
    if isinstance(exc, MemoryError):
        return FilterLimitError(f"{name}: the value is too big to work on", token=None)
    if isinstance(exc, UnicodeError):
        detail = "the result is not UTF-8 text"
    elif isinstance(exc, DecimalException):
        detail = "a value is not a number"
    else:
        log_unexpected(f"filter {name}", exc)
        detail = str(exc)[:200] or type(exc).__name__
    return FilterArgumentError(f"{name}: {detail}", token=None)


def _converting(name: str, func: Filter) -> Filter:
    """Only turn exceptions into Liquid errors (for CHEAP filters)."""

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (LiquidError, TypeError):
            raise  # python-liquid reports a TypeError with the filter's name and position
        except Exception as exc:
            raise failure(name, exc) from None

    return guarded


def _bounded(name: str, func: Filter) -> Filter:
    """Deadline, input bounds, Liquid text, result bounds and Liquid errors."""
    text, sequence = name in TEXT, name in SEQUENCE

    @wraps(func)
    def guarded(left: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            budget = budget_now()
            if budget is not None and monotonic() > budget.deadline:
                budget.check_time()
            if text:
                left, args = _prepare_text(name, left, args)
            elif sequence:
                left = _prepare_sequence(name, left)
            elif name == "slice":
                left = _prepare_slice(left)
            else:
                _check_range(name, left)
            for arg in (*args, *kwargs.values()):
                _check_argument(name, arg)
            return _check_result(name, func(left, *args, **kwargs))
        except (FilterArgumentError, LiquidTypeError, TypeError):
            raise  # python-liquid positions these at the filter
        except LiquidError as exc:
            if exc.token is not None:
                raise
            raise failure(name, exc) from None  # so that it is positioned at the filter too
        except Exception as exc:
            raise failure(name, exc) from None

    return guarded


def bounded_replace(func: Filter) -> Filter:
    """Refuse a replace whose result would exceed the output limit (before making it)."""

    @wraps(func)
    def guarded(value: Any, seq: Any = "", sub: Any = "", *args: Any, **kwargs: Any) -> Any:
        text = "" if value is None else soft_str(value)
        old, new = soft_str(seq), soft_str(sub)
        if len(new) > len(old) and len(text) * len(new) > limits.OUTPUT_MAX_CHARS:
            size = len(text) + text.count(old) * (len(new) - len(old))
            if size > limits.OUTPUT_MAX_CHARS:
                raise _too_big("replace", size)
        return func(value, seq, sub, *args, **kwargs)

    return guarded


def bounded_times(func: Filter) -> Filter:
    """Refuse integer products of more than NUMBER_MAX_BITS bits."""

    @wraps(func)
    def guarded(value: Any, other: Any = 1, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and isinstance(other, int) \
                and value.bit_length() + other.bit_length() > limits.NUMBER_MAX_BITS:
            raise FilterLimitError(
                f"times: numbers of more than {limits.NUMBER_MAX_BITS:,} bits are too large",
                token=None)
        return func(value, other, *args, **kwargs)

    return guarded


def guard(name: str, func: Filter) -> Filter:
    """`func` wrapped for a render (keeps python-liquid's with_context/environment flags)."""
    if name == "replace":
        func = bounded_replace(func)
    elif name == "times":
        func = bounded_times(func)
    guarded = _converting(name, func) if name in CHEAP else _bounded(name, func)
    for flag in ("with_context", "with_environment"):
        if getattr(func, flag, False):
            setattr(guarded, flag, True)
    return guarded


def guard_filters(filters: dict[str, Filter]) -> None:
    """Wrap every filter of an environment's register in place (call after adding ours).
    A filter nobody has classified above (its cost audited) is refused."""
    unknown = sorted(set(filters) - AUDITED)
    if unknown:
        raise RuntimeError(f"filters without an audited cost class: {', '.join(unknown)}")
    for name, func in list(filters.items()):
        filters[name] = guard(name, func)

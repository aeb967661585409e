"""Wrappers that stop standard filters from doing unbounded work in one uninterruptible call.

A loop can be stopped between iterations, but `(1..100000000) | join` or a `replace` that
multiplies a long string happens inside one C call. These wrappers check the sizes first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from time import monotonic
from typing import Any

from liquid import soft_str
from liquid.exceptions import LoopIterationLimitError, OutputStreamLimitError

from tools.core.templates import limits
from tools.core.templates.sandbox import BUDGET, RenderLimitError

budget_now = BUDGET.get

# Filters whose cost and result size do not grow with their input (numbers, dates, a
# lookup): they skip the per-call deadline and size check that every other filter gets.
CHEAP_FILTERS = frozenset({
    "abs", "at_least", "at_most", "ceil", "divided_by", "floor", "minus", "plus", "round",
    "modulo", "times", "size", "default", "first", "last", "date", "timezone", "currency",
    "format_number",
})

# Standard filters that walk the whole of a sequence (and accept a range literal).
SEQUENCE_FILTERS = (
    "join", "concat", "map", "reverse", "sort", "sort_natural", "where", "reject", "find",
    "find_index", "has", "uniq", "compact", "sum",
)


def _check_range(value: Any) -> None:
    if isinstance(value, range) and value.stop - value.start > limits.SEQUENCE_ITEMS:
        raise LoopIterationLimitError(
            f"a range of {value.stop - value.start:,} items is over the limit of "
            f"{limits.SEQUENCE_ITEMS:,}", token=None
        )


def bounded_sequence(func: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse ranges longer than SEQUENCE_ITEMS as input or argument."""

    @wraps(func)
    def guarded(left: Any, *args: Any, **kwargs: Any) -> Any:
        _check_range(left)
        for arg in args:
            _check_range(arg)
        return func(left, *args, **kwargs)

    return guarded


def _too_big(size: int, what: str) -> OutputStreamLimitError:
    return OutputStreamLimitError(
        f"{what} would make {size:,} characters, over the limit of "
        f"{limits.OUTPUT_MAX_CHARS:,}", token=None
    )


def bounded_join(func: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a join whose separators alone would exceed the output limit."""

    @wraps(func)
    def guarded(left: Any, separator: Any = " ", *args: Any, **kwargs: Any) -> Any:
        _check_range(left)
        if isinstance(left, (list, tuple, range)) and len(left) > 1:
            size = (len(left) - 1) * len(soft_str(separator))
            if size > limits.OUTPUT_MAX_CHARS:
                raise _too_big(size, "join")
        return func(left, separator, *args, **kwargs)

    return guarded


def bounded_replace(func: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a replace whose result would exceed the output limit."""

    @wraps(func)
    def guarded(value: Any, seq: Any = "", sub: Any = "", *args: Any, **kwargs: Any) -> Any:
        text = "" if value is None else soft_str(value)
        old, new = soft_str(seq), soft_str(sub)
        if len(new) > len(old) and len(text) * len(new) > limits.OUTPUT_MAX_CHARS:
            size = len(text) + text.count(old) * (len(new) - len(old))
            if size > limits.OUTPUT_MAX_CHARS:
                raise _too_big(size, "replace")
        return func(value, seq, sub, *args, **kwargs)

    return guarded


def bounded_times(func: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse integer products of more than NUMBER_MAX_BITS bits."""

    @wraps(func)
    def guarded(value: Any, other: Any = 1, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and isinstance(other, int) \
                and value.bit_length() + other.bit_length() > limits.NUMBER_MAX_BITS:
            raise RenderLimitError(
                f"times: numbers of more than {limits.NUMBER_MAX_BITS:,} bits are too large",
                token=None)
        return func(value, other, *args, **kwargs)

    return guarded


def bounded_result(func: Callable[..., Any]) -> Callable[..., Any]:
    """Check the deadline before a filter runs and the size of what it returns: a chain
    like `| escape | escape | escape` or `| append: x | append: x` stops at the limit."""

    limit = limits.OUTPUT_MAX_CHARS

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = budget_now()
        if budget is not None and monotonic() > budget.deadline:
            budget.check_time()
        result = func(*args, **kwargs)
        if isinstance(result, (str, list)) and len(result) > limit:
            raise _too_big(len(result), "a filter")
        return result

    for flag in ("with_context", "with_environment"):
        if getattr(func, flag, False):
            setattr(guarded, flag, True)
    return guarded


def guard_filters(filters: dict[str, Callable[..., Any]]) -> None:
    """Wrap every filter of an environment's register in place (call after adding ours)."""
    for name in SEQUENCE_FILTERS:
        if name in filters and name != "join":
            filters[name] = bounded_sequence(filters[name])
    filters["join"] = bounded_join(filters["join"])
    filters["replace"] = bounded_replace(filters["replace"])
    filters["times"] = bounded_times(filters["times"])
    for name, func in list(filters.items()):
        if name not in CHEAP_FILTERS:
            filters[name] = bounded_result(func)

"""Our versions of standard filters whose python-liquid version is quadratic, unbounded,
raises on odd input or shows Python values.

- `join`: items as Liquid text (nil empty, objects as JSON), counted before joining.
- `uniq`: one pass with a set (python-liquid's is quadratic: list.index per item).
- `first`: nil for an object (python-liquid returns a (key, value) tuple).
- `concat`: a clear error for a non-array argument, bounded length.
- `json`: indent 0 to 10; the input is weighed before it is serialised, indented JSON is
  counted as it is made.
- `strip_html`: Shopify's rules (script, style and comment blocks, then every `<...>`)
  in linear time; python-liquid's html.parser is slow and raises on some input.
- `sort`, `sort_natural`: sort keys computed with the deadline checked (python-liquid's
  compute them inside one sorted() call).

Sequence filters receive their input already flattened into a list (see guards).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from liquid import Markup
from liquid.builtin.filters.array import MAX_CH
from liquid.builtin.filters.array import _getitem as item_property
from liquid.builtin.filters.array import _lower as lower_text
from liquid.builtin.filters.array import first as library_first
from liquid.exceptions import FilterArgumentError, FilterError
from liquid.filter import int_arg, with_environment
from liquid.undefined import is_undefined

from tools.core.templates import limits
from tools.core.templates.sandbox import FilterLimitError, current_budget
from tools.core.templates.values import json_default, text_weight, to_text

if TYPE_CHECKING:
    from liquid import Environment

JSON_MAX_INDENT = 10


def kind_of(value: Any) -> str:
    """A value's type in Liquid words, for error messages."""
    if value is None or is_undefined(value):
        return "nil"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, range):
        return "a range"
    return "an array" if isinstance(value, (list, tuple)) else "a value"


def paced(items: Iterable[Any]) -> Iterable[Any]:
    """`items`, checking the render's deadline as they are walked."""
    budget = current_budget()
    return budget.paced(iter(items)) if budget is not None else items


def over_limit(what: str, limit: int = limits.OUTPUT_MAX_CHARS) -> FilterLimitError:
    return FilterLimitError(f"{what} would make more than {limit:,} characters, the limit",
                            token=None)


@with_environment
def join(items: list[Any], separator: Any = " ", *, environment: Environment) -> str:
    """The items' texts with `separator` between them."""
    sep = separator if isinstance(separator, str) else to_text(separator)
    if environment.autoescape and sep == " ":
        sep = Markup(" ")
    limit = limits.OUTPUT_MAX_CHARS
    if len(items) > 1 and (len(items) - 1) * len(sep) > limit:
        raise FilterLimitError(f"join would make {(len(items) - 1) * len(sep):,} characters, "
                               f"over the limit of {limit:,}", token=None)
    texts: list[str] = []
    size = -len(sep)
    for item in paced(items):
        text = item if isinstance(item, str) else to_text(item, limit=limit)
        size += len(text) + len(sep)
        if size > limit:
            raise over_limit("join", limit)
        texts.append(text)
    return sep.join(texts)


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in equal exactly when the values are equal (==)."""
    if isinstance(value, dict):
        return ("{}", frozenset((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("[]", tuple(_frozen(item) for item in value))
    try:
        hash(value)
    except TypeError:
        return ("?", id(value))
    return value


def _property(item: Any, key: Any) -> Any:
    try:
        return item[key]
    except (KeyError, IndexError):
        return _MISSING
    except TypeError:
        raise FilterArgumentError(f"uniq: can't read property {to_text(key)[:40]!r} of "
                                  f"{kind_of(item)}", token=None) from None


_MISSING = object()


def uniq(items: list[Any], key: Any = None) -> list[Any]:
    """The items without repeats (compared by `key` when given), in order."""
    by_key = key is not None and not is_undefined(key)
    seen: set[Hashable] = set()
    unique: list[Any] = []
    for item in paced(items):
        probe = _frozen(_property(item, key) if by_key else item)
        if probe not in seen:
            seen.add(probe)
            unique.append(item)
    return unique


@with_environment
def first(value: Any, *, environment: Environment) -> object:
    """The first item of an array; nil for an object, a string or anything else."""
    if isinstance(value, dict):
        return None
    return library_first(value, environment=environment)


def concat(items: list[Any], other: Any) -> list[Any]:
    """The items followed by the items of array `other`."""
    if not isinstance(other, (list, tuple)):
        raise FilterArgumentError(f"concat expects an array argument, got {kind_of(other)}",
                                  token=None)
    if len(items) + len(other) > limits.SEQUENCE_ITEMS:
        raise FilterLimitError(f"concat would make {len(items) + len(other):,} items, over the "
                               f"limit of {limits.SEQUENCE_ITEMS:,}", token=None)
    return [*items, *other]


def _sorted_by(items: list[Any], keys: list[Any]) -> list[Any]:
    try:
        order = sorted(range(len(items)), key=keys.__getitem__)
    except TypeError:
        raise FilterError("can't sort sequence", token=None) from None
    return [items[index] for index in order]


def sort(items: list[Any], key: Any = None) -> list[Any]:
    """The items in ascending order (by property `key`, missing ones last)."""
    if not key:
        return _sorted_by(items, items)
    name = to_text(key)
    return _sorted_by(items, [item_property(item, name, MAX_CH) for item in paced(items)])


def sort_natural(items: list[Any], key: Any = None) -> list[Any]:
    """The items in ascending order ignoring case (by property `key`, missing ones last)."""
    if not key:
        return _sorted_by(items, [lower_text(item) for item in paced(items)])
    name = to_text(key)
    return _sorted_by(items, [lower_text(item_property(item, name, MAX_CH))
                              for item in paced(items)])


def json_filter(value: Any, indent: Any = None) -> str:
    """The JSON text of a value: {{ event.items | json }}, {{ customer | json: 2 }}."""
    spaces = int_arg(indent) if indent else None
    if spaces is not None and not 0 <= spaces <= JSON_MAX_INDENT:
        raise FilterArgumentError(f"json: indent must be 0 to {JSON_MAX_INDENT}", token=None)
    limit = limits.OUTPUT_MAX_CHARS
    if text_weight(value, limit) > limit:
        raise over_limit("json")
    if spaces is None:  # the C encoder: about 10 ms for the largest input
        return json.dumps(value, default=json_default)
    # indented JSON is encoded in Python: chunk by chunk, counted and paced
    chunks: list[str] = []
    size = 0
    for chunk in paced(json.JSONEncoder(default=json_default, indent=spaces).iterencode(value)):
        size += len(chunk)
        if size > limit:
            raise over_limit("json", limit)
        chunks.append(chunk)
    return "".join(chunks)


_BLOCK_START = re.compile(r"<script|<!--|<style", re.I)
_BLOCK_END = {"<script": re.compile(r"</script>", re.I), "<!--": re.compile(r"-->"),
              "<style": re.compile(r"</style>", re.I)}
_START_WITHOUT: dict[frozenset[str], re.Pattern[str]] = {}
_TAG = re.compile(r"<[^>]*>")


def _block_start(dead: frozenset[str]) -> re.Pattern[str] | None:
    """The pattern finding the starts of blocks whose kind still has an end ahead."""
    kinds = [kind for kind in _BLOCK_END if kind not in dead]
    if not kinds:
        return None
    if dead not in _START_WITHOUT:
        _START_WITHOUT[dead] = re.compile("|".join(kinds), re.I)
    return _START_WITHOUT[dead]


def _drop_blocks(text: str, check: Callable[[], None]) -> str:
    """`text` without <script>...</script>, <style>...</style> and <!-- ... --> blocks.
    A kind with no end ahead is never searched for again, so this is linear."""
    kept: list[str] = []
    dead: frozenset[str] = frozenset()
    pos = 0
    pattern: re.Pattern[str] | None = _BLOCK_START
    while pattern is not None:
        start = pattern.search(text, pos)
        if start is None:
            break
        kind = start[0].lower()
        end = _BLOCK_END[kind].search(text, start.end())
        if end is None:
            dead = dead | {kind}
            pattern = _block_start(dead)
            continue
        kept.append(text[pos:start.start()])
        pos = end.end()
        if len(kept) % 1024 == 0:
            check()
    kept.append(text[pos:])
    return "".join(kept)


def _no_check() -> None:
    return None


@with_environment
def strip_html(value: str, *, environment: Environment) -> str:
    """`value` without HTML tags, comments, scripts and styles (entities are kept)."""
    if "<" not in value:
        return value
    budget = current_budget()
    text = _drop_blocks(str(value), budget.check_time if budget is not None else _no_check)
    last = text.rfind(">")  # after it, no '<' can start a tag: the tail is kept as it is
    stripped = _TAG.sub("", text[:last + 1]) + text[last + 1:]
    if environment.autoescape and isinstance(value, Markup):
        return Markup(stripped)
    return stripped

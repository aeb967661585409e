"""Validation of identifiers, names, JSON values and timestamps."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from tools.core import limits
from tools.core.errors import InvalidInput, LimitExceeded

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The numeric domain: integers are what SQLite stores, 64-bit signed; floats are finite.
INTEGERS = range(-(2**63), 2**63)
_LONG_DIGITS = re.compile(r"\d{19}")  # any integer outside INTEGERS has 19+ digits
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
try:  # the C encoder without JSONEncoder.encode's per-call Python overhead
    from json.encoder import c_make_encoder  # type: ignore[attr-defined]

    _encode_chunks = c_make_encoder(
        None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, False
    )
except ImportError:  # pragma: no cover - pure-Python json build
    _encode_chunks = None


def utf8_len(text: str) -> int:
    """Bytes of `text` in UTF-8 (cheap for short ASCII-sized strings)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def check_text(value: Any, field: str, max_bytes: int, what: str) -> str:
    """A non-empty string without control characters, at most `max_bytes` long."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not value or value.isspace():
        raise InvalidInput(f"{field} must not be empty; give the {what}", field=field)
    if not value.isprintable() and _CONTROL.search(value):
        raise InvalidInput(
            f"{field} contains a control character or a lone surrogate (such as a newline "
            "or NUL); remove it",
            field=field,
        )
    if value[0].isspace() or value[-1].isspace():
        raise InvalidInput(f"{field} has leading or trailing whitespace; strip it", field=field)
    size = utf8_len(value)
    if size > max_bytes:
        raise LimitExceeded(
            f"{field} is {size} bytes; the limit is {max_bytes} bytes", field=field
        )
    return value


def check_identifier(value: Any, field: str = "user_id") -> str:
    """A person, anonymous or device id: at most 150 bytes, no control characters."""
    return check_text(value, field, limits.ID_MAX_BYTES, "identifier")


def check_event_name(value: Any, field: str = "name") -> str:
    """An event name: at most 100 bytes, no control characters."""
    return check_text(value, field, limits.EVENT_NAME_MAX_BYTES, "event name")


def to_json(value: Any, field: str, max_bytes: int) -> str:
    """Serialize `value` compactly, refusing non-JSON values and oversized results."""
    if not value and type(value) is dict:
        return "{}"
    try:
        if _encode_chunks is None:
            text = _ENCODER.encode(value)
        else:
            text = "".join(_encode_chunks(value, 0))
    except (TypeError, ValueError) as exc:
        if "digits" in str(exc):  # an integer too long to write: name its path
            _check_integers(value, field)
        raise InvalidInput(
            f"{field} is not JSON-serialisable ({exc}); use strings, numbers, booleans, "
            "null, lists and objects with string keys (no NaN or Infinity)",
            field=field,
        ) from None
    except RecursionError:
        raise _nested_too_deeply(field) from None
    if (isinstance(value, (dict, list, tuple))
            and text.count("[") + text.count("{") > limits.JSON_MAX_DEPTH
            and _too_deep(value, 1)):
        raise _nested_too_deeply(field)
    if _LONG_DIGITS.search(text):
        _check_integers(value, field)
    try:
        size = utf8_len(text)
    except UnicodeEncodeError:
        raise InvalidInput(
            f"{field} contains a lone surrogate (invalid Unicode); remove it", field=field
        ) from None
    if size > max_bytes:
        raise LimitExceeded(
            f"{field} is {size} bytes serialized; the limit is {max_bytes} bytes", field=field
        )
    return text


def check_integer(value: Any, field: str) -> None:
    """Refuse an integer outside the 64-bit range SQLite stores (the numeric domain)."""
    if type(value) is int and value not in INTEGERS:
        digits = int(abs(value).bit_length() * 0.30103) + 1
        shown = str(value) if digits < 60 else f"an integer of about {digits:,} digits"
        raise InvalidInput(
            f"{field} is {shown}, outside the 64-bit integer range (±9.2e18) this engine "
            "stores; send it as a string, or as a float if an approximation will do",
            field=field)


def _check_integers(value: Any, field: str) -> None:
    """check_integer on every integer inside a JSON value (path in the error)."""
    if isinstance(value, dict):
        for key, child in value.items():
            _check_integers(child, f"{field}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, child in enumerate(value):
            _check_integers(child, f"{field}[{index}]")
    else:
        check_integer(value, field)


def _nested_too_deeply(field: str) -> InvalidInput:
    return InvalidInput(
        f"{field} is nested too deeply; use at most {limits.JSON_MAX_DEPTH} levels of lists "
        "and objects", field=field,
    )


def _too_deep(value: Any, depth: int) -> bool:
    """True when the list/object `value`, at nesting `depth`, goes deeper than the limit."""
    if depth > limits.JSON_MAX_DEPTH:
        return True
    children = value.values() if isinstance(value, dict) else value
    return any(
        _too_deep(child, depth + 1) for child in children
        if isinstance(child, (dict, list, tuple))
    )


def check_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object (a dict with string keys)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be an object, got {type(value).__name__}", field=field)
    for key in value:
        if not isinstance(key, str):
            raise InvalidInput(f"{field} keys must be strings, got {key!r}", field=field)
    return value


def parse_timestamp(value: Any, field: str, now: float) -> float:
    """Unix seconds (int/float) or an ISO-8601 string, not in the future beyond skew."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput(
            f"{field} must be unix seconds or an ISO-8601 string, got {type(value).__name__}",
            field=field,
        )
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"{field} {value[:40]!r} is not an ISO-8601 time; use e.g. "
                "'2026-01-31T12:00:00Z' or unix seconds",
                field=field,
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        seconds = parsed.timestamp()
    else:
        try:
            seconds = float(value)
        except OverflowError:  # an integer too large for any float
            seconds = math.inf
        if not math.isfinite(seconds):
            raise InvalidInput(f"{field} must be a finite number of unix seconds", field=field)
        if seconds > 1e11:
            raise InvalidInput(
                f"{field} {value} looks like milliseconds; send unix seconds (divide by 1000)",
                field=field,
            )
    if seconds < 0:
        raise InvalidInput(f"{field} is before 1970; send a unix time >= 0", field=field)
    if seconds > now + limits.FUTURE_TOLERANCE_SECONDS:
        raise InvalidInput(
            f"{field} is {int(seconds - now)} s in the future; timestamps may be at most "
            f"{limits.FUTURE_TOLERANCE_SECONDS} s ahead of the server clock. Omit it to use now",
            field=field,
        )
    return seconds

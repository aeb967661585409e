"""The filters marketers need beyond Liquid's standard set.

`date` and `timezone` read "now" from the render's injected clock reading (never the wall
clock), treat unix numbers and naive times as UTC, and take IANA zone names. `format_number`
and `currency` format with CLDR data through babel (python-liquid's own dependency).
"""

from __future__ import annotations

import copy
import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, numbers
from dateutil import parser as date_parser  # type: ignore[import-untyped]
from liquid.exceptions import FilterArgumentError
from liquid.undefined import is_undefined

from tools.core.templates.sandbox import current_budget
from tools.core.templates.values import to_text

_UNIX = re.compile(r"-?\d{1,12}(\.\d+)?")
_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}")
_STRFTIME_SPECIAL = re.compile(r"%(%|s)")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_MAX_DIGITS = 30  # numbers above 10**30 are refused by the number filters
DATE_FORMAT_MAX_CHARS = 200  # strftime output grows with its format (%c is ~24 characters)


def _brief(value: Any, size: int) -> str:
    """At most `size` characters of a filter argument's text (an array has none)."""
    return "" if isinstance(value, (list, tuple)) else to_text(value)[:size]


def _absent(value: Any) -> bool:
    return value is None or is_undefined(value) or value == ""


def clock_now() -> datetime:
    """The render's clock reading (UTC)."""
    budget = current_budget()
    if budget is None:
        raise FilterArgumentError("'now' is only available while rendering", token=None)
    return budget.now


def _from_unix(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def to_datetime(value: Any) -> datetime | None:
    """A timezone-aware datetime from a datetime, date, unix seconds or a date string."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return _from_unix(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in ("now", "today"):
        return clock_now()
    if _UNIX.fullmatch(text):
        return _from_unix(float(text))
    return _parse_date_text(text) if 0 < len(text) <= 64 else None


@lru_cache(maxsize=256)
def _parse_date_text(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = date_parser.parse(text)
        except (ValueError, OverflowError):
            return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=128)
def _zone_by_name(name: str) -> tzinfo:
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    if len(name) > 64 or not _ZONE.fullmatch(name):
        raise KeyError(name)
    return ZoneInfo(name)


def zone(name: Any) -> tzinfo:
    """The time zone called `name` (IANA, e.g. 'America/New_York'), or a filter error."""
    try:
        return _zone_by_name(_brief(name, 65))
    except (KeyError, ValueError, OSError):
        raise FilterArgumentError(
            f"unknown time zone {_brief(name, 64)!r}; use an IANA name such as "
            "'America/New_York' or 'UTC'", token=None
        ) from None


def _strftime(moment: datetime, fmt: str) -> str:
    def special(match: re.Match[str]) -> str:
        return "%%" if match[1] == "%" else str(int(moment.timestamp()))

    try:
        return moment.strftime(_STRFTIME_SPECIAL.sub(special, fmt))
    except ValueError as exc:
        raise FilterArgumentError(f"date format {fmt[:40]!r}: {exc}", token=None) from None


def date_filter(value: Any, fmt: Any = None, tz: Any = None) -> str:
    """Format a time with strftime: {{ customer.created_at | date: "%B %-d, %Y", "Europe/Paris" }}."""
    if _absent(value):
        return ""
    moment = to_datetime(value)
    if moment is None:
        return to_text(value)  # unparseable input is left as it is (the reference behaviour)
    if not _absent(tz):
        moment = moment.astimezone(zone(tz))
    if _absent(fmt):
        stamp = moment.isoformat(timespec="seconds")
        return stamp.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else stamp
    text = to_text(fmt)
    if len(text) > DATE_FORMAT_MAX_CHARS:
        raise FilterArgumentError(f"date format is {len(text):,} characters long; the limit is "
                                  f"{DATE_FORMAT_MAX_CHARS}", token=None)
    return _strftime(moment, text)


def timezone_filter(value: Any, tz: Any = None) -> Any:
    """Convert a time to a zone: {{ "now" | timezone: "Asia/Tokyo" | date: "%H:%M" }}."""
    if _absent(value):
        return ""
    if _absent(tz):
        raise FilterArgumentError("timezone needs a zone name, e.g. 'America/New_York'",
                                  token=None)
    moment = to_datetime(value)
    if moment is None:
        return value
    return moment.astimezone(zone(tz))


@lru_cache(maxsize=64)
def _locale_by_name(name: str) -> Locale:
    return Locale.parse(name.replace("-", "_"))


def locale(name: Any) -> Locale:
    """The babel Locale for 'en-US' / 'en_us' / 'de', or a filter error."""
    try:
        return _locale_by_name(_brief(name, 32))
    except (UnknownLocaleError, ValueError, TypeError):
        raise FilterArgumentError(
            f"unknown locale {_brief(name, 32)!r}; use a code such as 'en-US' or 'de-DE'",
            token=None,
        ) from None


def to_decimal(value: Any, filter_name: str) -> Decimal:
    """A finite Decimal of at most 30 integer digits from a number or numeric string."""
    number: Decimal | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value)) if math.isfinite(value) else None
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            number = None
    if number is None or not number.is_finite():
        raise FilterArgumentError(
            f"{filter_name} expects a number, got {_brief(value, 40)!r}", token=None
        )
    if number and number.adjusted() >= _MAX_DIGITS:
        raise FilterArgumentError(f"{filter_name}: {_brief(value, 40)} is too large",
                                  token=None)
    return number


def _decimals(value: Any, filter_name: str) -> int | None:
    if _absent(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit() \
            or int(value) > 10:
        raise FilterArgumentError(f"{filter_name}: decimals must be 0 to 10", token=None)
    return int(value)


def format_number(value: Any, locale_name: Any = "en-US", decimals: Any = None) -> str:
    """Group digits for a locale: {{ 1234567.891 | format_number }} -> 1,234,567.891."""
    if _absent(value):
        return ""
    number = to_decimal(value, "format_number")
    name = "en-US" if _absent(locale_name) else _brief(locale_name, 32)
    return _number_text(number, name, _decimals(decimals, "format_number"))


@lru_cache(maxsize=2048)  # the same amounts recur across recipients
def _number_text(number: Decimal, locale_name: str, places: int | None) -> str:
    where = locale(locale_name)
    pattern = where.decimal_formats[None]
    if places is not None:
        pattern = copy.copy(pattern)
        pattern.frac_prec = (places, places)
    return str(pattern.apply(number, where))


def currency(value: Any, locale_name: Any = "en-US", code: Any = None) -> str:
    """Money for a locale: {{ 10 | currency }} -> $10.00; {{ 10 | currency: "de-DE" }} -> 10,00 €."""
    if _absent(value):
        return ""
    number = to_decimal(value, "currency")
    name = "en-US" if _absent(locale_name) else _brief(locale_name, 32)
    return _currency_text(number, name, None if _absent(code) else _brief(code, 8).upper())


@lru_cache(maxsize=2048)
def _currency_text(number: Decimal, locale_name: str, code: str | None) -> str:
    if _CURRENCY_CODE.fullmatch(locale_name) and code is None:  # {{ 10 | currency: "EUR" }}
        locale_name, code = "en-US", locale_name
    where = locale(locale_name)
    if code is None:
        found = numbers.get_territory_currencies(where.territory) if where.territory else []
        code = found[0] if found else "USD"
    if not numbers.is_currency(code):
        raise FilterArgumentError(f"unknown currency code {code!r}; use ISO 4217 such as "
                                  "'USD' or 'EUR'", token=None)
    return str(numbers.format_currency(number, code, locale=where))


def pluralize(count: Any, singular: Any = "", plural: Any = None) -> str:
    """The count and the right word: {{ 3 | pluralize: "item" }} -> 3 items."""
    number = to_decimal(0 if _absent(count) else count, "pluralize")
    word = to_text(singular)
    if number != 1:
        word = word + "s" if _absent(plural) else to_text(plural)
    shown = int(number) if number == number.to_integral_value() else number.normalize()
    return f"{shown} {word}".rstrip()

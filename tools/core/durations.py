"""Durations written as text: '30s', '15m', '2h', '3d', '1w', or combined like '1h30m'."""

from __future__ import annotations

import re
from typing import Any

from tools.core.errors import InvalidInput

UNITS: dict[str, int] = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
MAX_DURATION_CHARS = 32
# Each unit at most once, largest first; counts are 1-9 digits without a sign or leading 0.
_DURATION = re.compile(
    "".join(rf"(?:(?P<{unit}>[1-9][0-9]{{0,8}}){unit})?" for unit in UNITS)
)
_EXAMPLES = "write a whole number and a unit (s, m, h, d, w), like '30m', '12h', '7d' or '1h30m'"


def parse_duration(value: Any, field: str) -> float:
    """Seconds in a duration string; each part is a count >= 1 and a unit, largest first."""
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field} must be a duration string, got {type(value).__name__}; {_EXAMPLES}",
            field=field)
    match = _DURATION.fullmatch(value) if len(value) <= MAX_DURATION_CHARS else None
    if not value or match is None:
        raise InvalidInput(f"{field} {value[:40]!r} is not a duration; {_EXAMPLES}",
                           field=field)
    return float(sum(int(count) * UNITS[unit] for unit, count in match.groupdict().items()
                     if count is not None))


def check_duration(value: Any, field: str, minimum: float, maximum: float) -> float:
    """parse_duration, then refuse a duration outside [minimum, maximum] seconds."""
    seconds = parse_duration(value, field)
    if not minimum <= seconds <= maximum:
        raise InvalidInput(
            f"{field} {value!r} is out of range; use between "
            f"{format_duration(minimum)} and {format_duration(maximum)}", field=field)
    return seconds


def format_duration(seconds: float) -> str:
    """Whole seconds in the form parse_duration reads: whole weeks as weeks ('2w'), else
    days down to seconds ('90d', '1h30m'); '0s' for zero."""
    left = int(seconds)
    if left and left % UNITS["w"] == 0:
        return f"{left // UNITS['w']}w"
    parts: list[str] = []
    for unit, size in list(UNITS.items())[1:]:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"

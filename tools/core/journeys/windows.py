"""Time windows ("weekdays 9:00-17:00 in the person's timezone"): is a moment inside one,
and when does it next open. Wall-clock times are converted with zoneinfo, so a window
opens at the right instant on the days a zone changes its offset: a start time that does
not exist that day (spring forward) opens when the clock jumps past it, one that exists
twice (fall back) opens the first time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from tools.core.journeys.model import TimeWindowStep

EVERY_DAY = frozenset(range(7))
_SEARCH_DAYS = 15  # two weeks and a day: past a window lost to a DST gap on its only day


@lru_cache(maxsize=256)
def _zone_or_none(name: str) -> tzinfo | None:
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return None


def valid_zone(name: Any) -> bool:
    """Is `name` an IANA time zone this machine knows ('Europe/Paris', 'UTC')?"""
    return isinstance(name, str) and _zone_or_none(name) is not None


def zone_info(name: str) -> tzinfo:
    """The zone called `name`; UTC for a name that is not a known zone."""
    found = _zone_or_none(name) if isinstance(name, str) else None
    return UTC if found is None else found


def zone_of(attributes: Mapping[str, Any], step: TimeWindowStep) -> str:
    """The zone a window step is read in: the person's `timezone` attribute when the step
    follows the person and it is a valid zone, else the step's zone (UTC if invalid)."""
    if step.person_timezone and valid_zone(attributes.get("timezone")):
        return str(attributes["timezone"])
    return step.timezone if valid_zone(step.timezone) else "UTC"


def inside(days: frozenset[int], start: int, end: int, zone: str, now: float) -> bool:
    """Is `now` inside the window (days 0 = Monday; [start, end) minutes of the day)?"""
    return _inside(datetime.fromtimestamp(now, zone_info(zone)), days or EVERY_DAY, start, end)


def _inside(local: datetime, days: frozenset[int], start: int, end: int) -> bool:
    second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return local.weekday() in days and start * 60 <= second < end * 60


def next_open(days: frozenset[int], start: int, end: int, zone: str, now: float) -> float:
    """`now` when it is inside the window, else the next instant the window opens (an
    instant that is itself inside it). No days at all reads as every day."""
    if not 0 <= start < end <= 1440:
        raise ValueError(f"a window runs from a start minute to a later end minute within "
                         f"the day (0-1440), got {start}-{end}")
    where = zone_info(zone)
    days = days or EVERY_DAY
    local = datetime.fromtimestamp(now, where)
    if _inside(local, days, start, end):
        return now
    for offset in range(_SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opening = _opening(day, start, where)
        if opening > now and _inside(datetime.fromtimestamp(opening, where), days, start, end):
            return opening
    raise ValueError(f"the window {sorted(days)} {start}-{end} never opens in {zone}")


def _opening(day: date, start: int, where: tzinfo) -> float:
    """The first instant of `day` whose wall-clock time in `where` is `start` minutes or
    later."""
    wall = datetime(day.year, day.month, day.day, start // 60, start % 60)
    first = wall.replace(tzinfo=where).timestamp()  # fold 0: the earlier offset
    if datetime.fromtimestamp(first, where).replace(tzinfo=None) == wall:
        return first  # exists (the first of two when the clock falls back)
    # A gap: fold 0 and fold 1 land on either side of the jump; find the jump by bisection.
    low, high = sorted((first, wall.replace(tzinfo=where, fold=1).timestamp()))
    low_s, high_s = int(low), int(high)
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if datetime.fromtimestamp(middle, where).replace(tzinfo=None) >= wall:
            high_s = middle
        else:
            low_s = middle
    return float(high_s)

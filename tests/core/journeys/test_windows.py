"""Time windows: inside or not, the next opening across days, weekends and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.core.journeys.model import TimeWindowStep
from tools.core.journeys.windows import inside, next_open, valid_zone, zone_of

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
NINE, FIVE = 9 * 60, 17 * 60


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def at(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("days", "start", "end", "zone", "now", "opens"),
    [
        # Thursday 2026-05-28, UTC
        (WEEKDAYS, NINE, FIVE, "UTC", utc(2026, 5, 28, 10, 0), utc(2026, 5, 28, 10, 0)),
        (WEEKDAYS, NINE, FIVE, "UTC", utc(2026, 5, 28, 9, 0), utc(2026, 5, 28, 9, 0)),
        (WEEKDAYS, NINE, FIVE, "UTC", utc(2026, 5, 28, 7, 30), utc(2026, 5, 28, 9, 0)),
        (WEEKDAYS, NINE, FIVE, "UTC", utc(2026, 5, 28, 17, 0), utc(2026, 5, 29, 9, 0)),
        # Friday evening -> Monday morning
        (WEEKDAYS, NINE, FIVE, "UTC", utc(2026, 5, 29, 18, 0), utc(2026, 6, 1, 9, 0)),
        (WEEKDAYS, NINE, FIVE, "UTC", utc(2026, 5, 30, 12, 0), utc(2026, 6, 1, 9, 0)),
        # only Wednesdays (2), from Thursday: six days on
        (frozenset({2}), NINE, FIVE, "UTC", utc(2026, 5, 28, 10, 0), utc(2026, 6, 3, 9, 0)),
        # a window to midnight
        (EVERY_DAY, 22 * 60, 1440, "UTC", utc(2026, 5, 28, 23, 59), utc(2026, 5, 28, 23, 59)),
        (EVERY_DAY, 22 * 60, 1440, "UTC", utc(2026, 5, 29, 0, 0), utc(2026, 5, 29, 22, 0)),
        # no days at all reads as every day
        (frozenset(), NINE, FIVE, "UTC", utc(2026, 5, 30, 7, 0), utc(2026, 5, 30, 9, 0)),
        # the person's zone: 9:00 in Tokyo (UTC+9) is midnight UTC
        (WEEKDAYS, NINE, FIVE, "Asia/Tokyo", utc(2026, 5, 28, 10, 0), utc(2026, 5, 29, 0, 0)),
        # an unknown zone is read as UTC
        (WEEKDAYS, NINE, FIVE, "Mars/Olympus", utc(2026, 5, 28, 7, 0), utc(2026, 5, 28, 9, 0)),
        (WEEKDAYS, NINE, FIVE, "../etc/passwd", utc(2026, 5, 28, 7, 0), utc(2026, 5, 28, 9, 0)),
    ],
)
def test_the_window_opens_now_when_inside_else_at_its_next_start(
        days: frozenset[int], start: int, end: int, zone: str, now: float,
        opens: float) -> None:
    assert at(next_open(days, start, end, zone, now)) == at(opens)


@pytest.mark.parametrize(
    ("zone", "start", "end", "now", "opens"),
    [
        # Paris springs forward on Sunday 2026-03-29 (02:00 CET -> 03:00 CEST).
        # 9:00 is 08:00 UTC on Saturday (CET) and 07:00 UTC on Sunday (CEST).
        ("Europe/Paris", NINE, FIVE, utc(2026, 3, 28, 17, 0), utc(2026, 3, 29, 7, 0)),
        ("Europe/Paris", NINE, FIVE, utc(2026, 3, 28, 7, 59), utc(2026, 3, 28, 8, 0)),
        # 02:30 does not exist that day: the window opens when the clock jumps (01:00 UTC).
        ("Europe/Paris", 150, 240, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 1, 0)),
        # a window entirely inside the gap (02:10-02:50) does not open that day
        ("Europe/Paris", 130, 170, utc(2026, 3, 28, 23, 0), utc(2026, 3, 30, 0, 10)),
        # Paris falls back on Sunday 2026-10-25 (03:00 CEST -> 02:00 CET).
        ("Europe/Paris", NINE, FIVE, utc(2026, 10, 24, 17, 0), utc(2026, 10, 25, 8, 0)),
        # 02:30 happens twice: the window opens the first time (00:30 UTC, still CEST).
        ("Europe/Paris", 150, 240, utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 30)),
        # ... and the second 02:30 (01:30 UTC) is inside it too.
        ("Europe/Paris", 150, 180, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1, 30)),
        # New York springs forward on Sunday 2026-03-08 (02:00 EST -> 03:00 EDT).
        ("America/New_York", NINE, FIVE, utc(2026, 3, 7, 23, 0), utc(2026, 3, 8, 13, 0)),
        ("America/New_York", NINE, FIVE, utc(2026, 3, 6, 23, 0), utc(2026, 3, 7, 14, 0)),
        ("America/New_York", 135, 180, utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 6, 15)),
        # ... and falls back on Sunday 2026-11-01 (02:00 EDT -> 01:00 EST).
        ("America/New_York", NINE, FIVE, utc(2026, 10, 31, 23, 0), utc(2026, 11, 1, 14, 0)),
        ("America/New_York", 90, 120, utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_openings_follow_the_zone_across_dst_changes(zone: str, start: int, end: int,
                                                    now: float, opens: float) -> None:
    assert at(next_open(EVERY_DAY, start, end, zone, now)) == at(opens)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/New_York",
                                  "Australia/Lord_Howe", "Asia/Kolkata"])
def test_an_opening_is_always_inside_the_window(zone: str) -> None:
    now = utc(2026, 1, 1)
    for hour in range(0, 365 * 24, 7):  # every 7 hours through a year, both DST changes
        moment = now + hour * 3600 + 1234
        opens = next_open(WEEKDAYS, 120, 180, zone, moment)
        assert opens >= moment
        assert inside(WEEKDAYS, 120, 180, zone, opens)
        assert next_open(WEEKDAYS, 120, 180, zone, opens) == opens
        assert opens - moment < 8 * 86_400


@pytest.mark.parametrize(("start", "end"), [(600, 600), (700, 600), (-1, 60), (0, 1441)])
def test_a_malformed_window_is_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        next_open(WEEKDAYS, start, end, "UTC", 0.0)


@pytest.mark.parametrize(
    ("attributes", "step", "zone"),
    [
        ({"timezone": "Europe/Paris"}, TimeWindowStep("w", WEEKDAYS, NINE, FIVE), "Europe/Paris"),
        ({"timezone": "Nowhere/City"},
         TimeWindowStep("w", WEEKDAYS, NINE, FIVE, "Asia/Tokyo"), "Asia/Tokyo"),
        ({"timezone": 42}, TimeWindowStep("w", WEEKDAYS, NINE, FIVE), "UTC"),
        ({}, TimeWindowStep("w", WEEKDAYS, NINE, FIVE, "America/New_York"), "America/New_York"),
        ({"timezone": "Europe/Paris"},
         TimeWindowStep("w", WEEKDAYS, NINE, FIVE, "Asia/Tokyo", person_timezone=False),
         "Asia/Tokyo"),
        ({}, TimeWindowStep("w", WEEKDAYS, NINE, FIVE, "Bad/Zone"), "UTC"),
    ],
)
def test_the_zone_is_the_persons_when_valid_else_the_steps(
        attributes: dict[str, object], step: TimeWindowStep, zone: str) -> None:
    assert zone_of(attributes, step) == zone


@pytest.mark.parametrize(("name", "valid"), [
    ("UTC", True), ("Europe/Paris", True), ("", False), ("Europe/Nowhere", False),
    ("/etc/localtime", False), (None, False), ("x" * 100, False)])
def test_valid_zone_names(name: object, valid: bool) -> None:
    assert valid_zone(name) is valid

"""Timestamps: unix seconds or ISO-8601, never milliseconds, negative or far in the future."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core import limits
from tools.core.errors import InvalidInput
from tools.core.validate import parse_timestamp

NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (1_700_000_000, 1_700_000_000.0),
        (1_700_000_000.25, 1_700_000_000.25),
        ("2026-01-31T12:00:00Z", 1_769_860_800.0),
        ("2026-01-31T12:00:00+00:00", 1_769_860_800.0),
        ("2026-01-31T14:00:00+02:00", 1_769_860_800.0),
        ("2026-01-31T12:00:00", 1_769_860_800.0),  # no offset means UTC
        ("2026-01-31T12:00:00.500Z", 1_769_860_800.5),
        ("2026-01-31", 1_769_817_600.0),
        (NOW + limits.FUTURE_TOLERANCE_SECONDS, NOW + limits.FUTURE_TOLERANCE_SECONDS),
    ],
)
def test_accepted_timestamps_become_unix_seconds(value: Any, seconds: float) -> None:
    assert parse_timestamp(value, "timestamp", NOW) == seconds


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (True, "must be unix seconds or an ISO-8601 string, got bool"),
        (None, "must be unix seconds or an ISO-8601 string, got NoneType"),
        ([1], "must be unix seconds or an ISO-8601 string, got list"),
        ({"at": 1}, "must be unix seconds or an ISO-8601 string, got dict"),
        ("yesterday", "is not an ISO-8601 time"),
        ("", "is not an ISO-8601 time"),
        ("2026-13-01", "is not an ISO-8601 time"),
        (float("nan"), "must be a finite number"),
        (float("inf"), "must be a finite number"),
        (10**400, "must be a finite number"),  # too large for any float
        (-1, "is before 1970"),
        ("1969-12-31T23:59:59Z", "is before 1970"),
        (NOW + limits.FUTURE_TOLERANCE_SECONDS + 1, "s in the future"),
        ("2999-01-01T00:00:00Z", "s in the future"),
    ],
)
def test_refused_timestamps_say_what_is_wrong(value: Any, says: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_timestamp(value, "timestamp", NOW)
    assert says in info.value.message
    assert info.value.field == "timestamp"


@pytest.mark.parametrize("value", [1_780_000_000_000, 1.78e12, 10**15])
def test_millisecond_timestamps_get_a_hint_to_divide_by_1000(value: float) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_timestamp(value, "timestamp", NOW)
    assert "looks like milliseconds" in info.value.message
    assert "divide by 1000" in info.value.message


def test_the_future_message_says_how_far_ahead_and_how_to_fix_it() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_timestamp(NOW + 7_200, "created_at", NOW)
    assert info.value.message == (
        "created_at is 7200 s in the future; timestamps may be at most 3600 s ahead of the "
        "server clock. Omit it to use now"
    )


def test_an_unbounded_now_lets_query_bounds_lie_in_the_future() -> None:
    assert parse_timestamp(NOW + 10 * 86_400, "until", float("inf")) == NOW + 10 * 86_400

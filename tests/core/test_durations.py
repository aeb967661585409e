"""Durations as text ('30m', '7d', '1h30m'): parsing, bounds and formatting."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.durations import check_duration, format_duration, parse_duration
from tools.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("30s", 30.0), ("15m", 900.0), ("2h", 7_200.0), ("3d", 259_200.0),
     ("1w", 604_800.0), ("1h30m", 5_400.0), ("1w2d3h4m5s", 788_645.0), ("2d12h", 216_000.0),
     ("90s", 90.0), ("999999999s", 999_999_999.0)],
)
def test_a_duration_is_counts_and_units_largest_first(text: str, seconds: float) -> None:
    assert parse_duration(text, "delay") == seconds


@pytest.mark.parametrize(
    "value",
    ["", "0s", "0m", "1h0m", "01h", "h", "5", "5x", "1.5h", "-1h", "+1h", "1 h", " 1h", "1h ",
     "1H", "1m1h", "1h1h", "1h30", "1d_2h", "1000000000s", "1" * 40 + "s", "1h\n", "１h"],
)
def test_anything_else_is_refused_with_examples(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_duration(value, "delay")
    assert info.value.field == "delay"
    assert "'30m'" in info.value.message


@pytest.mark.parametrize("value", [None, 60, 1.5, True, ["1h"]])
def test_a_duration_must_be_a_string(value: Any) -> None:
    with pytest.raises(InvalidInput, match="must be a duration string"):
        parse_duration(value, "delay")


@pytest.mark.parametrize(
    ("text", "ok"), [("59s", False), ("1m", True), ("1d", True), ("90d", True),
                     ("90d1s", False), ("12w", True), ("13w", False)],
)
def test_check_duration_keeps_it_within_bounds(text: str, ok: bool) -> None:
    if ok:
        assert check_duration(text, "period", 60, 90 * 86_400) == parse_duration(text, "p")
    else:
        with pytest.raises(InvalidInput, match="use between 1m and 90d"):
            check_duration(text, "period", 60, 90 * 86_400)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (1, "1s"), (60, "1m"), (5_400, "1h30m"), (86_400, "1d"), (604_800, "1w"),
     (1_209_600, "2w"), (7_776_000, "90d"), (788_645, "9d3h4m5s"), (93_600, "1d2h"),
     (5_401, "1h30m1s")],
)
def test_format_duration_writes_what_parse_duration_reads(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    if seconds:
        assert parse_duration(text, "d") == seconds

"""Frequency caps: when one more message would exceed the cap, and the cap setting."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.delivery.frequency import check_cap, over_cap
from tools.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("sent", "cap", "over"),
    [(0, None, False), (10_000, None, False), (0, 1, False), (1, 1, True), (2, 3, False),
     (3, 3, True), (4, 3, True), (999, 1000, False), (1000, 1000, True)],
)
def test_a_person_is_over_the_cap_once_cap_messages_went_out(
    sent: int, cap: int | None, over: bool
) -> None:
    assert over_cap(sent, cap) is over


@pytest.mark.parametrize(
    ("cap", "period", "setting"),
    [(None, None, (None, None)), (1, "1d", (1, 86_400.0)), (3, "12h", (3, 43_200.0)),
     (10, "7d", (10, 604_800.0)), (1000, "1m", (1000, 60.0)), (5, "30m", (5, 1_800.0)),
     (2, "1w", (2, 604_800.0)), (2, "90d", (2, 7_776_000.0)), (2, "1h30m", (2, 5_400.0))],
)
def test_a_cap_setting_becomes_cap_and_seconds(
    cap: Any, period: Any, setting: tuple[int | None, float | None]
) -> None:
    assert check_cap(cap, period) == setting


@pytest.mark.parametrize(
    ("cap", "period", "field", "says"),
    [(0, "1d", "cap", "1 to 1000"), (1001, "1d", "cap", "1 to 1000"),
     (-1, "1d", "cap", "1 to 1000"), (True, "1d", "cap", "whole number"),
     (2.0, "1d", "cap", "whole number"), ("3", "1d", "cap", "whole number"),
     (None, "1d", "cap", "period is set but cap is not"),
     (3, None, "period", "needs a period"),
     (3, "59s", "period", "between 1m and 90d"), (3, "91d", "period", "between 1m and 90d"),
     (3, "14w", "period", "between 1m and 90d"), (3, "daily", "period", "not a duration"),
     (3, 86_400, "period", "duration string")],
)
def test_a_bad_cap_setting_is_refused_saying_what_to_write(
    cap: Any, period: Any, field: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        check_cap(cap, period)
    assert info.value.field == field
    assert says in info.value.message

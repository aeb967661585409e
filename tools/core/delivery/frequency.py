"""Frequency caps: at most `cap` marketing messages to one person per period."""

from __future__ import annotations

from typing import Any

from tools.core.durations import check_duration
from tools.core.errors import InvalidInput

MIN_CAP, MAX_CAP = 1, 1_000
MIN_PERIOD_S = 60.0
MAX_PERIOD_S = 90 * 86_400.0


def over_cap(sent_in_period: int, cap: int | None) -> bool:
    """True when one more message would exceed the cap (None: no cap)."""
    return cap is not None and sent_in_period >= cap


def check_cap(cap: Any, period: Any) -> tuple[int | None, float | None]:
    """A frequency cap setting as (cap, period in seconds); (None, None) when there is no
    cap. A cap needs a period from 1m to 90d; a period without a cap is refused."""
    if cap is None:
        if period is not None:
            raise InvalidInput("period is set but cap is not; give cap (a whole number from "
                               f"{MIN_CAP} to {MAX_CAP}) or leave both out", field="cap")
        return None, None
    if type(cap) is not int or not MIN_CAP <= cap <= MAX_CAP:
        raise InvalidInput(
            f"cap must be a whole number from {MIN_CAP} to {MAX_CAP} (messages per period), "
            f"got {str(cap)[:40]!r}; or null for no cap", field="cap")
    if period is None:
        raise InvalidInput("cap needs a period; write one like '1d', '12h' or '1w'",
                           field="period")
    return cap, check_duration(period, "period", MIN_PERIOD_S, MAX_PERIOD_S)

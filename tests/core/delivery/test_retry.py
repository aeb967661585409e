"""The retry policy: which provider answers are retried, and how long to wait."""

from __future__ import annotations

import pytest

from tools.core.delivery.retry import (
    MAX_ATTEMPTS,
    MAX_RETRY_AFTER_S,
    Verdict,
    classify_http,
    classify_smtp,
    retry_delay,
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, "sent"), (201, "sent"), (301, "permanent"), (400, "permanent"),
     (401, "permanent"), (404, "permanent"), (408, "transient"), (410, "permanent"),
     (429, "transient"), (500, "transient"), (503, "transient")],
)
def test_http_statuses_are_sent_transient_or_permanent(status: int, verdict: Verdict) -> None:
    assert classify_http(status) == verdict


@pytest.mark.parametrize(
    ("code", "verdict"),
    [(250, "sent"), (421, "transient"), (450, "transient"), (451, "transient"),
     (452, "transient"), (500, "permanent"), (550, "permanent"), (552, "permanent"),
     (554, "permanent")],
)
def test_smtp_replies_are_sent_transient_or_permanent(code: int, verdict: Verdict) -> None:
    assert classify_smtp(code) == verdict


def test_six_attempts_are_made_on_one_channel() -> None:
    assert MAX_ATTEMPTS == 6


# (attempt, jitter, delay): the step doubles from 30 s; jitter spreads it over [0.1, 1) x.
BACKOFF = [
    (1, 0.0, 3.0), (1, 0.5, 16.5), (1, 0.999, 29.973),
    (2, 0.0, 6.0), (2, 0.5, 33.0), (2, 0.999, 59.946),
    (3, 0.0, 12.0), (3, 0.5, 66.0), (3, 0.999, 119.892),
    (4, 0.0, 24.0), (4, 0.5, 132.0), (4, 0.999, 239.784),
    (5, 0.0, 48.0), (5, 0.5, 264.0), (5, 0.999, 479.568),
    (6, 0.0, None), (6, 0.5, None), (6, 0.999, None),
]


@pytest.mark.parametrize(("attempt", "jitter", "delay"), BACKOFF)
def test_the_backoff_doubles_with_full_jitter_until_the_attempts_are_spent(
    attempt: int, jitter: float, delay: float | None
) -> None:
    result = retry_delay(attempt, None, jitter)
    assert result == (None if delay is None else pytest.approx(delay))


@pytest.mark.parametrize(
    ("attempt", "retry_after", "delay"),
    [(1, 120.0, 120.0),  # larger than the backoff: honoured
     (1, 5.0, 16.5),  # smaller: the backoff stands
     (3, 0.0, 66.0),  # zero or negative: ignored
     (2, 10 * 86_400.0, MAX_RETRY_AFTER_S),  # more than a day: a day
     (MAX_ATTEMPTS, 120.0, None)],  # attempts spent: no retry at all
)
def test_a_retry_after_is_a_minimum_wait(
    attempt: int, retry_after: float, delay: float | None
) -> None:
    result = retry_delay(attempt, retry_after, 0.5)
    assert result == (None if delay is None else pytest.approx(delay))

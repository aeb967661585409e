"""The retry policy of delivery: which provider answers are worth another attempt, and when.

Transient failures (connection errors, timeouts, HTTP 408 / 429 / 5xx, SMTP 4xx) are tried
again with exponential backoff and full jitter, honouring a Retry-After the provider gave,
up to MAX_ATTEMPTS attempts on one channel; permanent ones (HTTP 4xx other than 408 / 429,
SMTP 5xx) are not.
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["sent", "transient", "permanent"]

MAX_ATTEMPTS = 6  # attempts on one channel, the first included
BASE_DELAY_S = 30.0  # the backoff before the second attempt (before jitter)
MAX_DELAY_S = 3_600.0  # no wait between two attempts is longer than this
MAX_RETRY_AFTER_S = 86_400.0  # a provider's Retry-After beyond a day is capped to a day


def classify_http(status: int) -> Verdict:
    """A provider's HTTP status as an outcome."""
    if 200 <= status < 300:
        return "sent"
    if status in (408, 429) or status >= 500:
        return "transient"
    return "permanent"


def classify_smtp(code: int) -> Verdict:
    """An SMTP reply code (to MAIL, RCPT or DATA) as an outcome."""
    if 200 <= code < 400:
        return "sent"
    if 400 <= code < 500:
        return "transient"
    return "permanent"


def retry_delay(attempt: int, retry_after: float | None, jitter: float) -> float | None:
    """Seconds to wait before the attempt after `attempt` (1-based) failed transiently,
    or None when the attempts are spent. `jitter` is a number in [0, 1) (random in the
    engine, fixed in tests): full jitter over the exponential step, never less than a
    tenth of it. A Retry-After is honoured as a minimum."""
    if attempt >= MAX_ATTEMPTS:
        return None
    step = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
    delay = step * (0.1 + 0.9 * min(max(jitter, 0.0), 1.0))
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay

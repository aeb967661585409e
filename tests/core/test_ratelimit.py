"""Token buckets: rate, burst, refill and independent keys."""

import pytest

from tools.core.ratelimit import TokenBuckets


def test_a_burst_is_allowed_then_calls_wait_for_a_refill() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3)
    assert [buckets.take("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", 100.0) == pytest.approx(0.5)
    assert buckets.take("a", 100.5) == 0.0


def test_each_key_has_its_own_bucket() -> None:
    buckets = TokenBuckets(rate=1.0)
    assert buckets.take("alice", 0.0) == 0.0
    assert buckets.take("alice", 0.0) > 0
    assert buckets.take("bob", 0.0) == 0.0


def test_refill_never_exceeds_the_burst() -> None:
    buckets = TokenBuckets(rate=1.0, burst=2)
    buckets.take("a", 0.0)
    assert [buckets.take("a", 1_000.0) for _ in range(3)][2] > 0


def test_a_non_positive_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenBuckets(rate=0)

"""Stored unix times are shown as ISO-8601 UTC strings."""

from __future__ import annotations

import pytest

from tools.core.timefmt import iso


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_780_000_000, "2026-05-28T20:26:40Z"),
        (1_780_000_000.0, "2026-05-28T20:26:40Z"),
        (1_780_000_000.5, "2026-05-28T20:26:40.500Z"),
        (1_780_000_000.123456, "2026-05-28T20:26:40.123Z"),
        (1_769_860_800, "2026-01-31T12:00:00Z"),
    ],
)
def test_iso_shows_utc_with_z_and_milliseconds_only_when_present(
    seconds: float, text: str
) -> None:
    assert iso(seconds) == text

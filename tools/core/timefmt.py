"""Formatting of stored unix times for output."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(seconds: float) -> str:
    """Unix seconds as an ISO-8601 UTC string ('2026-01-31T12:00:00Z', ms when present)."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")

"""The one place that reads the wall clock, and a manual clock for tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Gives the current time in unix seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        self._now += seconds

    def set(self, when: float) -> None:
        """Jump to `when`."""
        self._now = when


class SharedClock:
    """A clock several processes agree on: `start` at wall time `anchor`, running `speed`
    times as fast as the wall clock. For tests that drive real processes through time."""

    def __init__(self, start: float, anchor: float, speed: float = 1.0) -> None:
        self.start, self.anchor, self.speed = start, anchor, speed

    def now(self) -> float:
        return self.start + (time.time() - self.anchor) * self.speed

    def spec(self) -> str:
        """The CUSTOMERIO_MCP_CLOCK value that gives another process this clock."""
        return f"start={self.start!r},anchor={self.anchor!r},speed={self.speed!r}"


CLOCK_VARIABLE = "CUSTOMERIO_MCP_CLOCK"


def clock_from_spec(spec: str | None) -> Clock:
    """The clock a CUSTOMERIO_MCP_CLOCK value describes ("start=S,anchor=A,speed=X";
    unset or empty: the wall clock)."""
    if not spec:
        return SystemClock()
    try:
        fields = dict(part.split("=", 1) for part in spec.split(","))
        return SharedClock(float(fields["start"]), float(fields.get("anchor", time.time())),
                           float(fields.get("speed", 1.0)))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{CLOCK_VARIABLE}={spec!r} is not start=S,anchor=A,speed=X") from exc


def real_seconds(clock: Clock, seconds: float) -> float:
    """How long to really sleep for `seconds` of `clock` time."""
    speed = getattr(clock, "speed", 1.0)
    return seconds / speed if speed > 0 else seconds

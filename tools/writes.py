"""The context of one write unit: its time, its subscribers, the timed work it scheduled.

Every write unit of an engine runs inside a WriteContext (EngineBase._write sets it around
the unit, on whichever thread runs it). Units publish change events through it and note
the earliest timed work they scheduled; the engine then lowers the agent's wake-up in the
control database before the unit commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from tools.changes import Change

T = TypeVar("T")
# A subscriber reacts to changes inside the transaction and returns the changes it made
# itself (or None); those reach only the subscribers after it.
Subscriber = Callable[[sqlite3.Connection, Sequence[Change], "WriteContext"],
                      "Sequence[Change] | None"]


class WriteContext:
    """What one write unit knows beyond its connection."""

    __slots__ = ("agent_id", "earliest", "effects", "journey_depth", "now", "services",
                 "subscribers")

    def __init__(self, now: float, subscribers: Sequence[Subscriber] = (), *,
                 agent_id: str = "", services: Any = None) -> None:
        self.now = now
        self.subscribers = subscribers
        self.agent_id = agent_id
        self.services = services  # the engine's tools.engine.Services
        self.earliest: float | None = None  # the soonest timed work the unit scheduled
        # Work that leaves the process (a message to send), handed to the process's
        # dispatcher once the unit has committed: never done inside the transaction.
        self.effects: list[Any] = []
        self.journey_depth = 0  # > 0 while a journey's emitted event is being stored

    def publish(self, conn: sqlite3.Connection, changes: Sequence[Change],
                origin: Subscriber | None = None) -> None:
        """Hand `changes`, in order, to every subscriber (after `origin`, when a subscriber
        publishes). Each subscriber sees the changes and then those of the subscribers
        before it: a cascade is one pass in a known order."""
        subscribers = self.subscribers
        start = 0 if origin is None else subscribers.index(origin) + 1
        pending = changes
        for subscriber in subscribers[start:]:
            produced = subscriber(conn, pending, self)
            if produced:
                pending = [*pending, *produced]

    def listens_after(self, origin: Subscriber) -> bool:
        """Whether any subscriber comes after `origin` (so its changes are worth building)."""
        return self.subscribers.index(origin) + 1 < len(self.subscribers)

    def schedule(self, due: float | None) -> None:
        """The unit scheduled timed work at `due`."""
        if due is not None and (self.earliest is None or due < self.earliest):
            self.earliest = due


CURRENT: ContextVar[WriteContext | None] = ContextVar("write_context", default=None)


def current() -> WriteContext:
    """The context of the write unit running now."""
    context = CURRENT.get()
    if context is None:
        raise RuntimeError("no write context: run units through EngineBase._write")
    return context


def publish(conn: sqlite3.Connection, changes: Sequence[Change]) -> None:
    """Publish changes of the people area (the first publisher) to every subscriber."""
    context = CURRENT.get()
    if context is not None and context.subscribers:
        context.publish(conn, changes)


def run_in_context(unit: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection,
                   context: WriteContext) -> T:
    """Run `unit` with `context` as the current write context."""
    token = CURRENT.set(context)
    try:
        return unit(conn)
    finally:
        CURRENT.reset(token)

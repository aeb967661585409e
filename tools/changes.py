"""Change events: what a write unit changed, handed to the areas that subscribe.

A write unit publishes its changes inside its own transaction (tools.writes.publish); each
subscriber (segments today; delivery and journeys next) reacts in the same transaction and
may publish changes of its own, which reach only the subscribers after it. The people
area knows no subscriber: the composition root (tools/api.py) wires them.

Changes are slotted dataclasses but not frozen ones (a frozen one costs ~2 µs more to
build, and one is built on every track): subscribers treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class PersonCreated:
    """A profile was created (by identify, track or a batch operation)."""

    person_pk: int
    user_id: str
    cause: str


@dataclass(slots=True)
class AttributesChanged:
    """identify (or a merge) stored new attributes; `before` is None for a new person."""

    person_pk: int
    before: Mapping[str, Any] | None
    after: Mapping[str, Any]
    cause: str


@dataclass(slots=True)
class AnonymousEventsClaimed:
    """identify with an anonymous_id made that visitor's recent events the person's."""

    person_pk: int
    anonymous_id: str
    count: int


@dataclass(slots=True)
class EventStored:
    """An event was stored (never published for a duplicate event_id). `person_pk` is None
    for an anonymous visitor's event."""

    person_pk: int | None
    anonymous_id: str | None
    event_pk: int
    event_id: str | None
    type: str
    name: str
    data_json: str
    timestamp: float
    cause: str


@dataclass(slots=True)
class DeviceAdded:
    """A device was added or updated; `previous_owner` held the token before it moved."""

    person_pk: int
    device_id: str
    platform: str
    previous_owner: int | None


@dataclass(slots=True)
class DeviceRemoved:
    person_pk: int
    device_id: str


@dataclass(slots=True)
class PeopleMerged:
    """The secondary's events, devices and links moved to the primary; published before
    the secondary is deleted (a PersonDeleted with cause "merge" follows)."""

    primary_pk: int
    secondary_pk: int


@dataclass(slots=True)
class PersonDeleted:
    """A person is about to be deleted (cause: delete, suppress or merge); published while
    their rows still exist."""

    person_pk: int
    user_id: str
    cause: str


@dataclass(slots=True)
class SegmentEntered:
    person_pk: int
    segment_pk: int
    segment_id: str
    at: float
    cause: str


@dataclass(slots=True)
class SegmentExited:
    person_pk: int
    segment_pk: int
    segment_id: str
    at: float
    cause: str


Change = (PersonCreated | AttributesChanged | AnonymousEventsClaimed | EventStored | DeviceAdded
          | DeviceRemoved | PeopleMerged | PersonDeleted | SegmentEntered | SegmentExited)

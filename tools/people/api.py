"""The Track API operations of the engine (mixed into tools.api.CustomerIO)."""

from __future__ import annotations

from typing import Any, ClassVar

from store.people_repo import EventFilter
from tools.core import limits
from tools.core.attributes import check_email
from tools.core.cursor import decode_cursor
from tools.core.errors import InvalidInput
from tools.core.people import check_device_id, prepare_device, prepare_identify, prepare_track
from tools.core.validate import check_identifier, check_text, parse_timestamp
from tools.engine import EngineBase, check_limit
from tools.people import queries, units
from tools.people.batch import apply_batch
from tools.people.models import (
    BatchResult,
    DeleteResult,
    DeviceResult,
    EventsPage,
    IdentifyResult,
    MergeResult,
    PeoplePage,
    Person,
    RemoveDeviceResult,
    SuppressResult,
    TrackResult,
    UnsuppressResult,
)
from tools.person_views import PersonView


class PeopleOps(EngineBase):
    """identify, track, batch, people and events."""

    # What other areas add to get_person (wired by the composition root).
    person_views: ClassVar[tuple[PersonView, ...]] = ()

    # --- Track API -------------------------------------------------------------------

    async def identify(self, user_id: str, attributes: dict[str, Any] | None = None,
                       anonymous_id: str | None = None, timestamp: Any = None) -> IdentifyResult:
        """Create or update a person; null attribute values remove attributes."""
        now = self.clock.now()
        cmd = prepare_identify(user_id, attributes, anonymous_id, timestamp, now)
        return await self._write(lambda conn: units.apply_identify(conn, cmd, now), small=True)

    async def track(self, name: str, user_id: str | None = None,
                    anonymous_id: str | None = None, properties: dict[str, Any] | None = None,
                    type: str = "event", timestamp: Any = None,
                    event_id: str | None = None) -> TrackResult:
        """Record an event (type event, page or screen) for a person or an anonymous id."""
        now = self.clock.now()
        cmd = prepare_track(name, user_id, anonymous_id, properties, type, timestamp,
                            event_id, now)
        return await self._write(lambda conn: units.apply_track(conn, cmd, now), small=True)

    async def batch(self, operations: list[dict[str, Any]]) -> BatchResult:
        """Apply many operations in one transaction; each fails on its own."""
        if not isinstance(operations, list):
            raise InvalidInput("operations must be a list of operation objects",
                               field="operations")
        if len(operations) > limits.BATCH_MAX_OPERATIONS:
            raise InvalidInput(
                f"a batch takes at most {limits.BATCH_MAX_OPERATIONS} operations; got "
                f"{len(operations)}. Split it into several batches", field="operations")
        now = self.clock.now()
        return await self._write(lambda conn: apply_batch(conn, operations, now))

    async def delete_person(self, user_id: str) -> DeleteResult:
        """Delete a person and all their data; a later identify recreates them fresh."""
        uid = check_identifier(user_id)
        return await self._write(lambda conn: units.apply_delete(conn, uid))

    async def suppress_person(self, user_id: str) -> SuppressResult:
        """Delete the person and ignore their id from now on (until unsuppressed)."""
        uid = check_identifier(user_id)
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_suppress(conn, uid, now))

    async def unsuppress_person(self, user_id: str) -> UnsuppressResult:
        """Free a suppressed id; nothing deleted is restored."""
        uid = check_identifier(user_id)
        return await self._write(lambda conn: units.apply_unsuppress(conn, uid), small=True)

    async def merge_people(self, primary: str, secondary: str) -> MergeResult:
        """Fold `secondary` into `primary` and delete `secondary`. Irreversible."""
        first = check_identifier(primary, "primary")
        second = check_identifier(secondary, "secondary")
        now = self.clock.now()
        return await self._write(lambda conn: units.apply_merge(conn, first, second, now))

    async def add_device(self, user_id: str, device_id: str, platform: str,
                         attributes: dict[str, Any] | None = None) -> DeviceResult:
        """Add or update a push device (ios, android, web) of a person."""
        cmd = prepare_device(user_id, device_id, platform, attributes, self.clock.now())
        return await self._write(lambda conn: units.apply_add_device(conn, cmd), small=True)

    async def remove_device(self, user_id: str, device_id: str) -> RemoveDeviceResult:
        """Remove a device from a person."""
        uid, did = check_identifier(user_id), check_device_id(device_id)
        return await self._write(lambda conn: units.apply_remove_device(conn, uid, did), small=True)

    # --- Reads -----------------------------------------------------------------------

    async def get_person(self, user_id: str) -> Person:
        """A person's attributes, devices, event counts and most recent events."""
        uid = check_identifier(user_id)
        views = self.person_views
        return await self._read(lambda conn: queries.read_person(conn, uid, views), small=True)

    async def list_people(self, limit: int = 50, cursor: str | None = None,
                          email: str | None = None) -> PeoplePage:
        """People in the order first seen, a page at a time."""
        size = check_limit(limit)
        after = decode_cursor(cursor, (int,))[0] if cursor is not None else None
        address = check_email(email, "email") if email is not None else None
        return await self._read(lambda conn: queries.read_people(conn, address, after, size))

    async def list_events(self, user_id: str | None = None, anonymous_id: str | None = None,
                          name: str | None = None, since: Any = None, until: Any = None,
                          limit: int = 50, cursor: str | None = None) -> EventsPage:
        """Events newest first, filtered by person, anonymous id, name and time."""
        now = self.clock.now()
        size = check_limit(limit)
        after = None
        if cursor is not None:
            stamp, seq = decode_cursor(cursor, (float, int))
            after = (float(stamp), seq)
        where = EventFilter(
            anonymous_id=(check_identifier(anonymous_id, "anonymous_id")
                          if anonymous_id is not None else None),
            name=check_text(name, "name", 2048, "event name") if name is not None else None,
            since=parse_timestamp(since, "since", now) if since is not None else None,
            # until may lie in the future: it only bounds the query
            until=parse_timestamp(until, "until", float("inf")) if until is not None else None,
        )
        uid = check_identifier(user_id) if user_id is not None else None
        return await self._read(lambda conn: queries.read_events(conn, uid, where, after, size))

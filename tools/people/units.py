"""Units of work for people: sync functions run inside one transaction on the agent's
connection thread (see store.database.AgentDatabase.write)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from store import people_repo as repo
from tools.changes import (
    AnonymousEventsClaimed,
    AttributesChanged,
    Change,
    DeviceAdded,
    DeviceRemoved,
    EventStored,
    PeopleMerged,
    PersonCreated,
    PersonDeleted,
)
from tools.core import limits
from tools.core.attributes import changed_attributes, copy_missing, merge_attributes
from tools.core.errors import InvalidInput, LimitExceeded, NotFound
from tools.core.people import DeviceCommand, IdentifyCommand, TrackCommand, person_not_found
from tools.core.validate import to_json
from tools.people.models import (
    DeleteResult,
    DeviceResult,
    IdentifyResult,
    MergeResult,
    RemoveDeviceResult,
    SuppressResult,
    TrackResult,
    UnsuppressResult,
)
from tools.writes import publish

_TOTAL_BYTES = limits.ATTRIBUTES_PER_PERSON * (limits.ATTRIBUTE_VALUE_MAX_BYTES + 160)


def require_person(conn: sqlite3.Connection, user_id: str) -> repo.PersonRow:
    person = repo.find_person(conn, user_id)
    if person is None:
        raise person_not_found(user_id)
    return person


def apply_identify(conn: sqlite3.Connection, cmd: IdentifyCommand, now: float) -> IdentifyResult:
    """Upsert the person, merge attributes, claim anonymous events."""
    uid = cmd.user_id
    if repo.is_suppressed(conn, uid):
        return IdentifyResult(
            user_id=uid, status="ignored_suppressed", created=False,
            note="this user_id is suppressed; unsuppress_person frees it",
        )
    person = repo.find_person(conn, uid)
    if person is None and cmd.changes.update_only:
        return IdentifyResult(
            user_id=uid, status="skipped_update_only", created=False,
            note="_update is true and no such person exists, so nothing was created",
        )
    attributes = merge_attributes(person.attributes if person else {}, cmd.changes)
    if person is None:
        attributes.setdefault("created_at", int(cmd.timestamp))
    created_at = float(attributes.get("created_at", person.created_at if person else now))
    email = attributes.get("email")
    attributes_json = to_json(attributes, "attributes", _TOTAL_BYTES)
    if person is None:
        pk = repo.insert_person(conn, uid, attributes_json, email, created_at, now)
    else:
        pk = person.pk
        repo.update_person(conn, pk, attributes_json, email, created_at, now)
    merged = 0
    if cmd.changes.anonymous_id is not None:
        since = now - limits.ANONYMOUS_MERGE_WINDOW_SECONDS
        merged = repo.claim_anonymous_events(conn, cmd.changes.anonymous_id, pk, since)
        repo.link_anonymous(conn, cmd.changes.anonymous_id, pk, now)
    changes: list[Change] = []
    if person is None:
        changes += [PersonCreated(pk, uid, "identify"),
                    AttributesChanged(pk, None, attributes, "identify")]
    elif changed_attributes(person.attributes, attributes):
        changes.append(AttributesChanged(pk, person.attributes, attributes, "identify"))
    if merged:
        changes.append(AnonymousEventsClaimed(pk, cmd.changes.anonymous_id or "", merged))
    if changes:
        publish(conn, changes)
    return IdentifyResult(
        user_id=uid, status="updated" if person else "created", created=person is None,
        merged_anonymous_events=merged,
    )


@dataclass
class TrackOutcome:
    """What storing one event did, before it is shaped into a result."""

    status: str
    person_pk: int | None
    user_id: str | None
    person_created: bool


def resolve_track(conn: sqlite3.Connection, cmd: TrackCommand, now: float) -> TrackOutcome:
    """Find (or create) the person an event belongs to, or decide to drop it."""
    if cmd.user_id is not None:
        pk = repo.person_pk(conn, cmd.user_id)
        if pk is not None:  # suppressed ids never have a profile
            return TrackOutcome("stored", pk, cmd.user_id, False)
        if repo.is_suppressed(conn, cmd.user_id):
            return TrackOutcome("ignored_suppressed", None, cmd.user_id, False)
        attributes = to_json({"created_at": int(now)}, "attributes", 100)
        pk = repo.insert_person(conn, cmd.user_id, attributes, None, float(int(now)), now)
        return TrackOutcome("stored", pk, cmd.user_id, True)
    assert cmd.anonymous_id is not None
    pk = repo.linked_person(conn, cmd.anonymous_id)
    return TrackOutcome("stored", pk, None, False)


def event_values(cmd: TrackCommand, pk: int | None, now: float) -> repo.EventValues:
    return (cmd.event_id, pk, cmd.anonymous_id, cmd.type, cmd.name, cmd.data_json,
            cmd.timestamp, now)


def event_stored(values: repo.EventValues, event_pk: int, cause: str) -> EventStored:
    """The change event of a stored event row."""
    event_id, person_pk, anonymous_id, kind, name, data_json, timestamp, _ = values
    return EventStored(person_pk, anonymous_id, event_pk, event_id, kind, name, data_json,
                       timestamp, cause)


def apply_track(conn: sqlite3.Connection, cmd: TrackCommand, now: float) -> TrackResult:
    """Store one event for a person (created if new) or an anonymous visitor."""
    outcome = resolve_track(conn, cmd, now)
    status = outcome.status
    changes: list[Change] = []
    if outcome.person_created:
        assert outcome.person_pk is not None and cmd.user_id is not None
        changes.append(PersonCreated(outcome.person_pk, cmd.user_id, "track"))
    if status == "stored":
        values = event_values(cmd, outcome.person_pk, now)
        event_pk = repo.insert_event(conn, values)
        if event_pk is None:
            status = "duplicate"
        else:
            changes.append(event_stored(values, event_pk, "track"))
    if changes:
        publish(conn, changes)
    user_id = outcome.user_id
    if user_id is None and outcome.person_pk is not None:
        user_id = conn.execute(
            "SELECT user_id FROM people WHERE pk = ?", (outcome.person_pk,)
        ).fetchone()[0]
    return TrackResult(
        status=status,  # type: ignore[arg-type]
        user_id=user_id, anonymous_id=cmd.anonymous_id, event_id=cmd.event_id,
        person_created=outcome.person_created,
    )


def _count_events(conn: sqlite3.Connection, pk: int) -> int:
    return conn.execute("SELECT count(*) FROM events WHERE person_pk = ?", (pk,)).fetchone()[0]


def apply_delete(conn: sqlite3.Connection, user_id: str) -> DeleteResult:
    person = require_person(conn, user_id)
    events = _count_events(conn, person.pk)
    publish(conn, [PersonDeleted(person.pk, user_id, "delete")])
    repo.delete_person(conn, person.pk)
    return DeleteResult(user_id=user_id, deleted=True, events_deleted=events)


def apply_suppress(conn: sqlite3.Connection, user_id: str, now: float) -> SuppressResult:
    pk = repo.person_pk(conn, user_id)
    events = 0
    if pk is not None:
        events = _count_events(conn, pk)
        publish(conn, [PersonDeleted(pk, user_id, "suppress")])
        repo.delete_person(conn, pk)
    repo.suppress(conn, user_id, now)
    return SuppressResult(
        user_id=user_id, suppressed=True, profile_deleted=pk is not None, events_deleted=events
    )


def apply_unsuppress(conn: sqlite3.Connection, user_id: str) -> UnsuppressResult:
    return UnsuppressResult(user_id=user_id, was_suppressed=repo.unsuppress(conn, user_id))


def apply_merge(
    conn: sqlite3.Connection, primary: str, secondary: str, now: float
) -> MergeResult:
    """Fold the secondary into the primary and delete the secondary (irreversible)."""
    if primary == secondary:
        raise InvalidInput("primary and secondary are the same person; name two different ids",
                           field="secondary")
    keep = require_person(conn, primary)
    gone = require_person(conn, secondary)
    attributes = copy_missing(keep.attributes, gone.attributes)
    copied = [name for name in attributes if name not in keep.attributes]
    devices = repo.device_count(conn, gone.pk)
    if repo.device_count(conn, keep.pk) + devices > limits.DEVICES_PER_PERSON:
        raise LimitExceeded(
            f"the merged person would have more than {limits.DEVICES_PER_PERSON} devices; "
            "remove some with remove_device first",
            field="secondary",
        )
    moved = repo.move_person_data(conn, gone.pk, keep.pk)
    changes: list[Change] = [PeopleMerged(keep.pk, gone.pk)]
    if copied:
        changes.append(AttributesChanged(keep.pk, keep.attributes, attributes, "merge"))
    changes.append(PersonDeleted(gone.pk, secondary, "merge"))
    publish(conn, changes)
    repo.delete_person(conn, gone.pk)
    email = attributes.get("email")
    repo.update_person(conn, keep.pk, to_json(attributes, "attributes", _TOTAL_BYTES), email,
                       keep.created_at, now)
    return MergeResult(primary=primary, secondary=secondary, events_moved=moved,
                       devices_moved=devices, attributes_copied=copied)


def apply_add_device(conn: sqlite3.Connection, cmd: DeviceCommand) -> DeviceResult:
    if repo.is_suppressed(conn, cmd.user_id):
        return DeviceResult(user_id=cmd.user_id, device_id=cmd.device_id,
                            status="ignored_suppressed")
    person = require_person(conn, cmd.user_id)
    if repo.device_count(conn, person.pk) >= limits.DEVICES_PER_PERSON:
        owned = conn.execute(
            "SELECT 1 FROM devices WHERE device_id = ? AND person_pk = ?",
            (cmd.device_id, person.pk),
        ).fetchone()
        if owned is None:
            raise LimitExceeded(
                f"a person may have at most {limits.DEVICES_PER_PERSON} devices; remove one "
                "with remove_device first",
                field="device_id",
            )
    previous_owner = repo.device_owner(conn, cmd.device_id)
    added = repo.upsert_device(conn, person.pk, cmd.device_id, cmd.platform,
                               cmd.attributes_json, cmd.last_used)
    publish(conn, [DeviceAdded(person.pk, cmd.device_id, cmd.platform,
                               previous_owner if previous_owner != person.pk else None)])
    return DeviceResult(user_id=cmd.user_id, device_id=cmd.device_id,
                        status="added" if added else "updated")


def apply_remove_device(conn: sqlite3.Connection, user_id: str, device_id: str) -> RemoveDeviceResult:
    person = require_person(conn, user_id)
    if not repo.delete_device(conn, person.pk, device_id):
        raise NotFound(
            f"person {user_id!r} has no device {device_id!r}; get_person lists their devices",
            field="device_id",
        )
    publish(conn, [DeviceRemoved(person.pk, device_id)])
    return RemoveDeviceResult(user_id=user_id, device_id=device_id, removed=True)

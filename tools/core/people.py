"""Validated commands for the Track API: each input checked once, before any I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.core import limits
from tools.core.attributes import AttributeChanges, prepare_attributes
from tools.core.errors import InvalidInput, NotFound
from tools.core.validate import (
    check_event_name,
    check_identifier,
    check_object,
    check_text,
    parse_timestamp,
    to_json,
)

EVENT_TYPES = ("event", "page", "screen")
PLATFORMS = ("ios", "android", "web")


@dataclass(frozen=True)
class IdentifyCommand:
    user_id: str
    changes: AttributeChanges
    timestamp: float


@dataclass(frozen=True)
class TrackCommand:
    user_id: str | None
    anonymous_id: str | None
    type: str
    name: str
    data_json: str
    timestamp: float
    event_id: str | None


@dataclass(frozen=True)
class DeviceCommand:
    user_id: str
    device_id: str
    platform: str
    attributes_json: str
    last_used: float


def prepare_identify(
    user_id: Any, attributes: Any, anonymous_id: Any, timestamp: Any, now: float
) -> IdentifyCommand:
    """Check an identify call; `anonymous_id` may also come inside the attributes."""
    user_id = check_identifier(user_id, "user_id")
    changes = prepare_attributes({} if attributes is None else attributes, now)
    if anonymous_id is not None:
        anonymous_id = check_identifier(anonymous_id, "anonymous_id")
        if changes.anonymous_id not in (None, anonymous_id):
            raise InvalidInput(
                "anonymous_id is given twice with different values (argument and attribute); "
                "give it once",
                field="anonymous_id",
            )
        changes.anonymous_id = anonymous_id
    when = now if timestamp is None else parse_timestamp(timestamp, "timestamp", now)
    return IdentifyCommand(user_id, changes, when)


def prepare_track(
    name: Any, user_id: Any, anonymous_id: Any, properties: Any, type: Any,
    timestamp: Any, event_id: Any, now: float,
) -> TrackCommand:
    """Check a track call: exactly one of user_id / anonymous_id, sizes, type, time."""
    if (user_id is None) == (anonymous_id is None):
        raise InvalidInput(
            "give exactly one of user_id (a known or new person) or anonymous_id "
            "(a visitor not yet identified)",
            field="user_id",
        )
    if user_id is not None:
        user_id = check_identifier(user_id, "user_id")
    else:
        anonymous_id = check_identifier(anonymous_id, "anonymous_id")
    if type not in EVENT_TYPES:
        raise InvalidInput(
            f"type must be one of {', '.join(EVENT_TYPES)}, got {type!r}", field="type"
        )
    if type == "page":
        name = check_text(name, "name", 2048, "page URL")
    else:
        name = check_event_name(name)
    data = {} if properties is None else check_object(properties, "properties")
    data_json = to_json(data, "properties", limits.EVENT_DATA_MAX_BYTES)
    when = now if timestamp is None else parse_timestamp(timestamp, "timestamp", now)
    if event_id is not None:
        event_id = check_identifier(event_id, "event_id")
    return TrackCommand(user_id, anonymous_id, type, name, data_json, when, event_id)


def check_device_id(device_id: Any) -> str:
    """A device id (push token): at most 1000 bytes, no control characters."""
    return check_text(device_id, "device_id", 1000, "device token")


def prepare_device(
    user_id: Any, device_id: Any, platform: Any, attributes: Any, now: float
) -> DeviceCommand:
    """Check an add_device call."""
    user_id = check_identifier(user_id, "user_id")
    device_id = check_device_id(device_id)
    if platform not in PLATFORMS:
        raise InvalidInput(
            f"platform must be one of {', '.join(PLATFORMS)}, got {platform!r}", field="platform"
        )
    attrs = dict(check_object({} if attributes is None else attributes, "attributes"))
    last_used = attrs.pop("last_used", None)
    when = now if last_used is None else parse_timestamp(last_used, "attributes.last_used", now)
    attributes_json = to_json(attrs, "attributes", limits.DEVICE_ATTRIBUTES_MAX_BYTES)
    return DeviceCommand(user_id, device_id, platform, attributes_json, when)


def person_not_found(user_id: str) -> NotFound:
    """The error for a user_id nobody has (every area says it the same way)."""
    return NotFound(
        f"no person with user_id {user_id!r}; identify creates people and list_people "
        "shows who exists",
        field="user_id",
    )

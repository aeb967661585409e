"""Person attributes: validation, reserved names and the merge rule (null removes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tools.core import limits
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.validate import check_identifier, check_object, check_text, parse_timestamp, to_json

_TRUE = (True, 1, "true")
_FALSE = (False, 0, "false")


@dataclass
class AttributeChanges:
    """What one identify asks for, after validation."""

    sets: dict[str, Any] = field(default_factory=dict)
    removes: list[str] = field(default_factory=list)
    update_only: bool = False
    anonymous_id: str | None = None


def prepare_attributes(raw: Any, now: float, field_name: str = "attributes") -> AttributeChanges:
    """Validate identify attributes and split off the reserved ones."""
    check_object(raw, field_name)
    changes = AttributeChanges()
    for name, value in raw.items():
        where = f"{field_name}.{name}"
        check_text(name, f"{field_name} key {name[:40]!r}", limits.ATTRIBUTE_NAME_MAX_BYTES, "name")
        if name == "_update":
            changes.update_only = _flag(value, where)
        elif name == "anonymous_id":
            if value is not None:
                changes.anonymous_id = check_identifier(value, where)
        elif value is None:
            if name == "created_at":
                raise InvalidInput(f"{where} cannot be removed; omit it to keep it", field=where)
            changes.removes.append(name)
        else:
            to_json(value, where, limits.ATTRIBUTE_VALUE_MAX_BYTES)
            changes.sets[name] = _reserved_value(name, value, where, now)
    return changes


def _flag(value: Any, where: str) -> bool:
    if value in _TRUE and not isinstance(value, float):
        return True
    if value in _FALSE or value is None:
        return False
    raise InvalidInput(f"{where} must be true or false, got {value!r}", field=where)


def _reserved_value(name: str, value: Any, where: str, now: float) -> Any:
    if name == "created_at":
        seconds = parse_timestamp(value, where, now)
        return int(seconds) if seconds == int(seconds) else seconds
    if name == "email":
        return check_email(value, where)
    if name == "unsubscribed":
        return _flag(value, where)
    if name == "timezone":
        return check_timezone(value, where)
    return value


def check_email(value: Any, where: str = "email") -> str:
    """A plausible email address: one '@' with text on both sides, no spaces."""
    text = check_text(value, where, 254, "email address")
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or " " in text or domain.startswith("."):
        raise InvalidInput(f"{where} {text!r} is not an email address", field=where)
    return text


def check_timezone(value: Any, where: str = "timezone") -> str:
    """An IANA timezone name such as 'Europe/Paris'."""
    text = check_text(value, where, 64, "IANA timezone name")
    try:
        ZoneInfo(text)
    except (ValueError, OSError, KeyError):
        raise InvalidInput(
            f"{where} {text!r} is not an IANA timezone; use a name like 'America/New_York'",
            field=where,
        ) from None
    return text


def merge_attributes(current: dict[str, Any], changes: AttributeChanges) -> dict[str, Any]:
    """The profile after applying `changes`; refuses more than 300 attributes."""
    merged = dict(current)
    merged.update(changes.sets)
    for name in changes.removes:
        merged.pop(name, None)
    if len(merged) > limits.ATTRIBUTES_PER_PERSON:
        raise LimitExceeded(
            f"a person may have at most {limits.ATTRIBUTES_PER_PERSON} attributes; this would "
            f"make {len(merged)}. Remove some by setting them to null",
            field="attributes",
        )
    return merged


def copy_missing(primary: dict[str, Any], secondary: dict[str, Any]) -> dict[str, Any]:
    """Merge rule: attributes missing on the primary are copied from the secondary."""
    merged = dict(primary)
    for name, value in secondary.items():
        if name not in merged and len(merged) < limits.ATTRIBUTES_PER_PERSON:
            merged[name] = value
    return merged


def changed_attributes(before: dict[str, Any] | Any, after: dict[str, Any] | Any) -> list[str]:
    """Names whose value differs between two profiles (1, 1.0 and true all differ)."""
    missing = object()
    return [name for name in before.keys() | after.keys()
            if _differs(before.get(name, missing), after.get(name, missing))]


def _differs(a: Any, b: Any) -> bool:
    return type(a) is not type(b) or a != b

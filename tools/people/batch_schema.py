"""The JSON schema advertised for batch operations (validation happens per operation)."""

from __future__ import annotations

from typing import Any

from tools.people.batch import FIELDS

_FIELD_SCHEMAS: dict[str, dict[str, Any]] = {
    "user_id": {"type": "string"},
    "anonymous_id": {"type": "string"},
    "attributes": {"type": "object"},
    "timestamp": {"type": ["integer", "number", "string"]},
    "name": {"type": "string"},
    "properties": {"type": "object"},
    "event_id": {"type": "string"},
    "primary": {"type": "string"},
    "secondary": {"type": "string"},
    "device_id": {"type": "string"},
    "platform": {"enum": ["ios", "android", "web"]},
}


def _operation(action: str) -> dict[str, Any]:
    required, optional = FIELDS[action]
    properties = {"action": {"const": action}}
    properties |= {name: _FIELD_SCHEMAS[name] for name in sorted(required | optional)}
    return {
        "type": "object",
        "properties": properties,
        "required": ["action", *sorted(required)],
        "additionalProperties": False,
    }


OPERATIONS_SCHEMA: dict[str, Any] = {"items": {"anyOf": [_operation(a) for a in FIELDS]}}

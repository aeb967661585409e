"""Opaque pagination cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

from tools.core.errors import InvalidInput


def encode_cursor(position: list[Any]) -> str:
    """Turn a sort position into an opaque cursor string."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# A position outside SQLite's 64-bit integers cannot be bound as a query parameter.
_SQLITE_INTEGERS = range(-(2**63), 2**63)


def decode_cursor(cursor: str, shape: tuple[type, ...]) -> list[Any]:
    """Read back a cursor made by encode_cursor whose items have the given types."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError):
        position = None
    if not isinstance(position, list):
        position = None
    ok = position is not None and len(position) == len(shape)
    if ok:
        ok = all(
            isinstance(item, kind) and not isinstance(item, bool)
            and (not isinstance(item, int) or item in _SQLITE_INTEGERS)
            for item, kind in zip(position, shape, strict=True)
        )
    if not ok:
        raise InvalidInput(
            "cursor is not valid; pass the next_cursor value from the previous page unchanged",
            field="cursor",
        )
    return position

"""Segment ids: a slug of the segment's name ("Active Pro Users" -> "active-pro-users")."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from tools.core.errors import InvalidInput

MAX_SLUG_LENGTH = 64
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugify(name: str) -> str:
    """Lower-case ASCII letters and digits joined by '-': accents are dropped from their
    letters ("Café Fans" -> "cafe-fans"), anything else separates words. Raises
    InvalidInput when no letter or digit remains."""
    decomposed = unicodedata.normalize("NFKD", name.lower())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))  # é -> e
    slug = re.sub(r"[^a-z0-9]+", "-", letters).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    if not slug:
        raise InvalidInput(
            f"name {name[:40]!r} has no latin letters or digits to make a segment id from; "
            "include some (e.g. 'VIP 2026')",
            field="name",
        )
    return slug


def check_segment_id(value: Any, field: str = "segment_id") -> str:
    """A segment id as segments_create makes them (lower-case slug, at most 64 chars)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string, got {type(value).__name__}", field=field)
    if len(value) > MAX_SLUG_LENGTH or not SLUG_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"{field} {value[:80]!r} is not a segment id (lower-case letters, digits and "
            "'-', like 'active-pro-users'); segments_list shows the ids",
            field=field,
        )
    return value

"""Validated, parsed commands for the template operations (pure; the store comes after)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.core.errors import InvalidInput
from tools.core.templates import limits
from tools.core.templates.cache import Parsed
from tools.core.templates.channels import (
    Sources,
    check_channel,
    check_fields,
    check_required,
    check_source,
    is_blank,
)
from tools.core.templates.compile import UsedVariables, parse
from tools.core.templates.environment import HTML, TEXT
from tools.core.templates.render import RESERVED_VARIABLES, CompiledMessage, compile_message
from tools.core.validate import check_object, to_json

_ID = re.compile(limits.ID_PATTERN)
KNOWN_ROOTS = ("customer", "event", "trigger", "now", "today")


def check_id(value: Any, field: str) -> str:
    """A template, snippet or layout id: 1-64 letters, digits, '_' or '-'."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(
            f"{field} must be 1-64 letters, digits, '_' or '-' (starting with a letter or "
            f"digit); got {str(value)[:70]!r}", field=field)
    return value


@dataclass(frozen=True)
class TemplateCommand:
    template_id: str
    channel: str
    fields: Sources
    message: CompiledMessage


def prepare_template(template_id: Any, channel: Any, fields: Any) -> TemplateCommand:
    """Check the id, the channel and every field, and parse each field."""
    tid = check_id(template_id, "template_id")
    name = check_channel(channel)
    sources = check_fields(name, fields)
    check_required(name, sources)
    return TemplateCommand(tid, name, sources, compile_message(name, sources))


def merge_fields(channel: str, stored: Sources, changes: Any) -> Sources:
    """The fields of an update: given fields replace, None / "" / {} remove, others stay."""
    if changes is None:
        return dict(stored)
    if not isinstance(changes, Mapping):
        raise InvalidInput("fields must be an object of field name -> Liquid template",
                           field="fields")
    merged = {**stored, **check_fields(channel, changes)}
    for name, value in changes.items():
        if is_blank(value):
            merged.pop(name, None)
    check_required(channel, merged)
    return merged


@dataclass(frozen=True)
class PieceCommand:
    kind: str  # "snippet" or "layout"
    piece_id: str
    body: str
    parsed: Parsed


def prepare_piece(kind: str, piece_id: Any, body: Any) -> PieceCommand:
    """Check and parse a snippet (text grammar) or a layout (HTML, must hold {{ content }})."""
    field = f"{kind}_id"
    pid = check_id(piece_id, field)
    max_bytes = limits.SNIPPET_MAX_BYTES if kind == "snippet" else limits.LAYOUT_MAX_BYTES
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput(f"body must be the {kind}'s Liquid source (a non-empty string)",
                           field="body")
    check_source(body, "body", max_bytes, single_line=False)
    parsed = parse(TEXT if kind == "snippet" else HTML, "body", body)
    if kind == "layout" and "content" not in parsed.analysis().globals:
        raise InvalidInput("a layout must place the message with {{ content }}", field="body")
    return PieceCommand(kind, pid, body, parsed)


def variable_warnings(used: UsedVariables, attribute_known: Callable[[str], bool]) -> list[str]:
    """Warnings for customer attributes nobody has and for variables nobody provides."""
    warnings = [
        f"customer.{name}: no person in this agent has this attribute yet, so it renders "
        "empty (give a fallback with | default: '...')"
        for name in used.customer_attributes
        if name != "id" and not attribute_known(name)
    ]
    roots = sorted({path.split(".", 1)[0].split("[", 1)[0] for path in used.paths})
    warnings += [
        f"{root}: not a variable the engine provides ({', '.join(KNOWN_ROOTS)}); it renders "
        "empty unless passed in templates_preview's context"
        for root in roots if root not in KNOWN_ROOTS
    ]
    return warnings


def check_preview_context(context: Any) -> dict[str, Any]:
    """Extra render data: an object of at most 100,000 bytes as JSON, no reserved names."""
    if context is None:
        return {}
    data = check_object(context, "context")
    to_json(data, "context", limits.PREVIEW_CONTEXT_MAX_BYTES)
    for name in RESERVED_VARIABLES:
        if name in data:
            raise InvalidInput(f"context may not set {name!r}: the engine provides it",
                               field="context")
    if "customer" in data and not isinstance(data["customer"], dict):
        raise InvalidInput("context.customer must be an object of attributes", field="context")
    return dict(data)


def missing_variables(message: CompiledMessage, data: Mapping[str, Any],
                      roots: Iterable[str] = ("customer", "event", "trigger")) -> list[str]:
    """Paths under `roots` the message's own fields read that `data` does not have."""
    wanted = set(roots)
    missing: list[str] = []
    for part in message.parts:
        for root, variables in part.parsed.analysis().globals.items():
            if root not in wanted:
                continue
            for variable in variables:
                path = str(variable)
                if path not in missing and not _resolves(data, variable.segments):
                    missing.append(path)
    return missing[:50]


def _resolves(data: Any, segments: list[Any]) -> bool:
    value = data
    for segment in segments:
        if isinstance(segment, list):
            return True  # an index computed at render time: cannot tell statically
        if isinstance(value, list) and segment in ("size", "first", "last"):
            return True
        if segment == "size" and (isinstance(value, str) or
                                  isinstance(value, dict) and "size" not in value):
            return True  # an object has no first or last: those fall through to nil
        try:
            value = value[segment]
        except (KeyError, IndexError, TypeError):
            return False
    return value is not None

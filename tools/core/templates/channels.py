"""The fields of each channel's message, and their validation.

Every field is a Liquid template except webhook `method` (one of the HTTP methods). Push
`data` and webhook `headers` are objects whose values are templates. HTML fields (email
`body`, in-app `body`, layouts) auto-escape inserted values; the others are plain text.
Single-line fields (subjects, addresses, URLs, titles) may not contain line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.templates import limits
from tools.core.validate import utf8_len

FieldKind = Literal["template", "map", "method"]
Sources = dict[str, Any]  # field name -> source (str) or {key: source} for map fields
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    max_bytes: int
    required: bool = False
    html: bool = False
    single_line: bool = False
    kind: FieldKind = "template"


CHANNELS: dict[str, tuple[FieldSpec, ...]] = {
    "email": (
        FieldSpec("subject", 2_000, required=True, single_line=True),
        FieldSpec("body", 100_000, required=True, html=True),
        FieldSpec("text_body", 100_000),
        FieldSpec("from", 1_000, single_line=True),
        FieldSpec("reply_to", 1_000, single_line=True),
        FieldSpec("preheader", 2_000, single_line=True),
    ),
    "sms": (FieldSpec("body", 10_000, required=True),),
    "push": (
        FieldSpec("title", 2_000, single_line=True),
        FieldSpec("body", 10_000, required=True),
        FieldSpec("link", 4_000, single_line=True),
        FieldSpec("image_url", 4_000, single_line=True),
        FieldSpec("data", 10_000, kind="map"),
    ),
    "in_app": (
        FieldSpec("title", 2_000, single_line=True),
        FieldSpec("body", 100_000, required=True, html=True),
        FieldSpec("link", 4_000, single_line=True),
    ),
    "webhook": (
        FieldSpec("url", 4_000, required=True, single_line=True),
        FieldSpec("method", 10, kind="method"),
        FieldSpec("headers", 10_000, single_line=True, kind="map"),
        FieldSpec("body", 100_000),
    ),
}


def check_channel(channel: Any) -> str:
    """One of the channel names."""
    if channel not in CHANNELS:
        raise InvalidInput(
            f"channel must be one of {', '.join(CHANNELS)}; got {str(channel)[:40]!r}",
            field="channel",
        )
    return str(channel)


def spec_of(channel: str, name: str) -> FieldSpec:
    """The spec of field `name`, or an error listing the channel's fields."""
    for spec in CHANNELS[channel]:
        if spec.name == name:
            return spec
    names = ", ".join(spec.name for spec in CHANNELS[channel])
    raise InvalidInput(f"{channel} templates have no field {name[:40]!r}; their fields are "
                       f"{names}", field=name)


def check_source(value: Any, field: str, max_bytes: int, single_line: bool) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string (a Liquid template), got "
                           f"{type(value).__name__}", field=field)
    size = utf8_len(value)
    if size > max_bytes:
        raise LimitExceeded(f"{field} is {size:,} bytes; the limit is {max_bytes:,}",
                            field=field)
    if "\x00" in value:
        raise InvalidInput(f"{field} contains a NUL character; remove it", field=field)
    if single_line and _LINE_BREAK.search(value):
        raise InvalidInput(f"{field} must be a single line; remove the line breaks",
                           field=field)
    return value


def _check_map(value: Any, spec: FieldSpec) -> dict[str, str]:
    field = spec.name
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be an object of name -> Liquid template, got "
                           f"{type(value).__name__}", field=field)
    if len(value) > limits.MAP_FIELD_MAX_ENTRIES:
        raise LimitExceeded(f"{field} has {len(value)} entries; the limit is "
                            f"{limits.MAP_FIELD_MAX_ENTRIES}", field=field)
    total = 0
    for key, source in value.items():
        if not isinstance(key, str) or not key or utf8_len(key) > limits.MAP_KEY_MAX_BYTES \
                or not key.isprintable():
            raise InvalidInput(f"{field} keys must be printable strings of 1 to "
                               f"{limits.MAP_KEY_MAX_BYTES} bytes; got {str(key)[:40]!r}",
                               field=field)
        if field == "headers" and not _HEADER_NAME.fullmatch(key):
            raise InvalidInput(f"header name {key[:40]!r} is not a valid HTTP header name",
                               field=field)
        check_source(source, f"{field}.{key}", spec.max_bytes, spec.single_line)
        total += utf8_len(key) + utf8_len(source)
    if total > spec.max_bytes:
        raise LimitExceeded(f"{field} is {total:,} bytes in all; the limit is "
                            f"{spec.max_bytes:,}", field=field)
    return dict(value)


def check_field(channel: str, name: Any, value: Any) -> Any:
    """A validated field value (source string, map of sources, or HTTP method)."""
    if not isinstance(name, str):
        raise InvalidInput(f"field names must be strings; got {name!r}", field="fields")
    spec = spec_of(channel, name)
    if spec.kind == "map":
        return _check_map(value, spec)
    if spec.kind == "method":
        method = value.upper() if isinstance(value, str) else value
        if method not in METHODS:
            raise InvalidInput(f"method must be one of {', '.join(METHODS)}; got "
                               f"{str(value)[:20]!r}", field=name)
        return method
    return check_source(value, name, spec.max_bytes, spec.single_line)


def check_fields(channel: str, fields: Any) -> Sources:
    """Validated fields; None, "" and {} mean "no such field" and are dropped. Required
    fields are checked separately (check_required), after an update's merge."""
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise InvalidInput("fields must be an object of field name -> Liquid template",
                           field="fields")
    return {name: check_field(channel, name, value)
            for name, value in fields.items() if not is_blank(value)}


def is_blank(value: Any) -> bool:
    """None, "" or {}: a field left out (or, in an update, removed)."""
    return value is None or (isinstance(value, (str, dict)) and not value)


def check_required(channel: str, fields: Sources) -> None:
    """Every required field of the channel is present and not blank."""
    for spec in CHANNELS[channel]:
        if spec.required and (not fields.get(spec.name) or not str(fields[spec.name]).strip()):
            raise InvalidInput(f"{channel} templates need a {spec.name}; give one",
                               field=spec.name)


def template_sources(channel: str, fields: Sources) -> Iterator[tuple[str, str, FieldSpec]]:
    """(path, source, spec) of every Liquid source: 'subject', 'headers.Authorization', ..."""
    for spec in CHANNELS[channel]:
        value = fields.get(spec.name)
        if value is None or spec.kind == "method":
            continue
        if spec.kind == "map":
            for key, source in value.items():
                yield f"{spec.name}.{key}", source, spec
        else:
            yield spec.name, value, spec

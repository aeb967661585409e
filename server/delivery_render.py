"""The render side of delivery, run in a render process: a batch of claimed messages
rendered (and each email's MIME bytes built) in one hand-over, so neither the templates
nor the MIME encoding take the event loop's time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.core.errors import EngineError


@dataclass(frozen=True)
class RenderItem:
    channel: str
    fields: Mapping[str, Any]
    layout: str | None
    snippets: Mapping[str, str]
    context: Mapping[str, Any]
    now: float
    email: Mapping[str, Any] | None = None  # the Outgoing fields of an email, but content


@dataclass(frozen=True)
class Rendered:
    fields: dict[str, Any] | None  # None: the render failed (error says why)
    mime: bytes | None = None
    error: str | None = None  # a render error (failed) or an unbuildable email (permanent)


def render_batch(items: list[RenderItem]) -> list[Rendered]:
    """Each item rendered on its own (one failing does not stop the others)."""
    from tools.core.templates.preview import render_send

    done = []
    for item in items:
        try:
            fields = render_send(item.channel, dict(item.fields), item.layout,
                                 item.snippets, item.context, item.now)
        except EngineError as exc:
            done.append(Rendered(None, error=f"render failed: {exc.message}"))
            continue
        done.append(_with_mime(item, fields) if item.email is not None else Rendered(fields))
    return done


def _with_mime(item: RenderItem, fields: dict[str, Any]) -> Rendered:
    from server.channels.base import Outgoing
    from server.channels.mime import InvalidMessage, build_email

    assert item.email is not None
    try:
        return Rendered(fields, build_email(Outgoing(content=fields, **item.email)))
    except InvalidMessage as exc:
        return Rendered(fields, error=str(exc))

"""Compile a channel's fields once (cached), render them for one recipient.

Rendering does no I/O: snippets arrive as a mapping of id to source, "now" as a unix
time from the caller's Clock. Every render is bounded (see sandbox, guards and limits),
deriving an email's text_body included, and every failure is a TemplateRenderError or
TemplateLimitError naming the field (and the line and column when they are known). It is
CPU work: async callers run it off the event loop (previews and sends in a render process,
tools/render_pool.py; parses on a worker thread, tools.templates.offload).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from liquid import Markup
from liquid.exceptions import LiquidError, ResourceLimitError

from tools.core.templates import limits
from tools.core.templates.cache import Parsed
from tools.core.templates.channels import Sources, template_sources
from tools.core.templates.compile import parse
from tools.core.templates.environment import HTML, environment_for
from tools.core.templates.errors import (
    SIMPLIFY,
    TemplateLimitError,
    TemplateRenderError,
    describe,
    liquid_detail,
    log_unexpected,
    render_error,
)
from tools.core.templates.html_text import html_to_text
from tools.core.templates.sandbox import RenderBudget, render_scope, render_to_string

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
RESERVED_VARIABLES = ("now", "today", "content")


class Part(NamedTuple):
    path: str  # "subject", "headers.Authorization"
    field: str  # "subject", "headers"
    key: str | None  # the map key for map fields
    parsed: Parsed
    single_line: bool


class CompiledMessage(NamedTuple):
    channel: str
    parts: tuple[Part, ...]
    literals: Mapping[str, str]  # fields that are not templates (webhook method)
    layout: Parsed | None


def compile_message(channel: str, fields: Sources, layout: str | None = None) -> CompiledMessage:
    """Parse every field (and the layout) of a validated message; syntax errors say where."""
    parts = []
    for path, source, spec in template_sources(channel, fields):
        field, _, key = path.partition(".")
        parsed = parse(environment_for(spec.html), path, source)
        parts.append(Part(path, field, key or None, parsed, spec.single_line))
    literals = {"method": fields.get("method", "POST")} if channel == "webhook" else {}
    parsed_layout = parse(HTML, "layout", layout) if layout is not None else None
    return CompiledMessage(channel, tuple(parts), literals, parsed_layout)


def render_message(message: CompiledMessage, data: Mapping[str, Any], *, now: float,
                   snippets: Mapping[str, str] | None = None, derive_text: bool = True,
                   time_limit: float = limits.RENDER_TIME_LIMIT_S) -> dict[str, Any]:
    """Every field rendered: {"subject": "...", "headers": {"X": "..."}, ...}."""
    moment = datetime.fromtimestamp(now, UTC)
    scope = {**data, "now": moment, "today": moment.date()}
    known = snippets or {}
    out: dict[str, Any] = dict(message.literals)
    with render_scope(known, moment, time_limit) as budget:
        for part in message.parts:
            text = _render(part.path, part.parsed, scope, budget)
            if part.single_line:
                text = (text if text.isprintable() else _CONTROL.sub(" ", text)).strip()
            if part.key is None:
                out[part.field] = text
            else:
                out.setdefault(part.field, {})[part.key] = text
        if message.layout is not None and "body" in out:
            wrapped = {**scope, "content": Markup(out["body"])}
            out["body"] = _render("layout", message.layout, wrapped, budget)
        if derive_text and message.channel == "email" and "text_body" not in out \
                and "body" in out:
            out["text_body"] = _derive_text(out["body"], budget)
    return out


def _derive_text(html: str, budget: RenderBudget) -> str:
    try:
        return html_to_text(html, budget.check_time)
    except ResourceLimitError as exc:
        detail = f"render limit: {liquid_detail(exc)} (deriving text_body from the HTML body)"
        raise TemplateLimitError(describe("text_body", detail, None, SIMPLIFY),
                                 field="text_body", position=None) from None


def _render(path: str, parsed: Parsed, scope: Mapping[str, Any], budget: RenderBudget) -> str:
    try:
        return render_to_string(parsed.template, scope)
    except LiquidError as exc:
        raise render_error(path, parsed.source, exc, budget.snippets) from None
    except (RecursionError, MemoryError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else "out of memory"
        raise TemplateLimitError(describe(path, f"render limit: {detail}", None, SIMPLIFY),
                                 field=path, position=None) from None
    except Exception as exc:  # a bug (filters and output already name what failed)
        log_unexpected(f"field {path}", exc)
        detail = f"render failed: {str(exc)[:200] or type(exc).__name__}"
        raise TemplateRenderError(describe(path, detail, None), field=path,
                                  position=None) from None

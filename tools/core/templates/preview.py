"""A preview render as one plain function of plain data, so it can run in a render
process (tools/render_pool.py): compile (cached per process), render, warn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.core.templates.channels import Sources
from tools.core.templates.commands import missing_variables
from tools.core.templates.render import compile_message, render_message


def build_context(customer: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The render data: customer (stored profile, overlaid by context.customer), event,
    trigger, and whatever else the context holds."""
    data: dict[str, Any] = {"event": {}, "trigger": {}, **extra}
    data["customer"] = {**(customer or {}), **extra.get("customer", {})}
    return data


def render_preview(channel: str, fields: Sources, layout: str | None,
                   snippets: Mapping[str, str], customer: Mapping[str, Any] | None,
                   extra: Mapping[str, Any], now: float) -> tuple[dict[str, Any], list[str]]:
    """The rendered fields and the warnings of a preview."""
    message = compile_message(channel, fields, layout)
    data = build_context(customer, extra)
    rendered = render_message(message, data, now=now, snippets=snippets)
    warnings = [f"{path} is not set for this preview, so it rendered empty"
                for path in missing_variables(message, data)]
    return rendered, warnings


def render_send(channel: str, fields: Sources, layout: str | None,
                snippets: Mapping[str, str], data: Mapping[str, Any],
                now: float) -> dict[str, Any]:
    """The fields of a message being sent, rendered for its recipient (a render process
    runs it; a TemplateRenderError or TemplateLimitError means nothing is sent)."""
    return render_message(compile_message(channel, fields, layout), data, now=now,
                          snippets=snippets)

"""The two Liquid environments every message is parsed in: HTML (auto-escaping) and text.

Both have Liquid's standard tags and filters (strict: an unknown filter is an error), our
extra filters, our versions of a few standard ones (standard.py), tags that write Liquid
text rather than Python reprs (output.py), python-liquid's resource limits, every filter
guarded (guards.py), and a snippet loader that never does I/O. `{% include %}` is not
available (it shares the caller's scope); `{% render %}` is.
"""

from __future__ import annotations

from liquid import Environment

from tools.core.templates import filters, limits, standard
from tools.core.templates.guards import guard_filters
from tools.core.templates.output import TAGS
from tools.core.templates.sandbox import MessageTemplate, SnippetLoader


class MessageEnvironment(Environment):
    """python-liquid's Environment with our limits and template class."""

    loop_iteration_limit = limits.LOOP_ITERATIONS
    output_stream_limit = limits.OUTPUT_MAX_CHARS
    context_depth_limit = limits.CONTEXT_DEPTH
    local_namespace_limit = limits.LOCAL_NAMESPACE_BYTES
    template_class = MessageTemplate


def build_environment(*, html: bool) -> MessageEnvironment:
    """A new environment; `html` turns on auto-escaping of every inserted value."""
    env = MessageEnvironment(autoescape=html, loader=SnippetLoader(), strict_filters=True)
    env.tags.pop("include", None)
    for tag in TAGS:
        env.add_tag(tag)
    env.add_filter("date", filters.date_filter)
    env.add_filter("timezone", filters.timezone_filter)
    env.add_filter("format_number", filters.format_number)
    env.add_filter("currency", filters.currency)
    env.add_filter("pluralize", filters.pluralize)
    env.add_filter("json", standard.json_filter)
    for name in ("join", "uniq", "first", "concat", "strip_html", "sort", "sort_natural"):
        env.add_filter(name, getattr(standard, name))
    guard_filters(env.filters)
    return env


HTML = build_environment(html=True)
TEXT = build_environment(html=False)


def environment_for(html: bool) -> MessageEnvironment:
    """The shared HTML or text environment."""
    return HTML if html else TEXT

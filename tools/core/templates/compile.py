"""Parsing with error positions, checks made at save time, and static analysis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from liquid import BoundTemplate, RenderContext
from liquid.exceptions import LiquidError
from liquid.token import TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG, Token

from tools.core.templates.cache import CACHE, Parsed
from tools.core.templates.environment import MessageEnvironment
from tools.core.templates.errors import TemplateSyntaxError, describe, position_in, syntax_error
from tools.core.templates.sandbox import render_scope

_FIX = "Fix the template and save it again."


def _hint(exc: LiquidError) -> str:
    detail = str(exc.message)
    if "'include'" in detail:
        return "{% include %} is not available; use {% render 'snippet_id' %}. " + _FIX
    return _FIX


def parse(env: MessageEnvironment, field: str, source: str) -> Parsed:
    """The parsed source (cached), or TemplateSyntaxError naming field, line and column."""
    try:
        parsed = CACHE.parse(env, field, source)
    except LiquidError as exc:
        if exc.token is None or exc.token.start_index < 0:
            exc.token = locate(env, source, str(exc.message))
        raise syntax_error(field, source, exc, _hint(exc)) from None
    if not parsed.checked:
        check_filters(env, field, parsed)
        parsed.checked = True
    return parsed


def locate(env: MessageEnvironment, source: str, message: str) -> Token | None:
    """The tag or output statement that fails alone with `message`.

    python-liquid reports errors found at the end of an expression or of the template
    ("expected tag endif") without a position; parsing each markup on its own finds it
    (for an unclosed block, the opening tag)."""
    tokens = list(env.tokenizer()(source))
    for index, token in enumerate(tokens):
        if token.kind == TOKEN_OUTPUT:
            alone = token.value
        elif token.kind == TOKEN_TAG:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            expression = following.value if following and following.kind == TOKEN_EXPRESSION \
                else ""
            alone = f"{{% {token.value} {expression} %}}"
        else:
            continue
        try:
            env.from_string(alone)
        except LiquidError as exc:
            if str(exc.message) == message:
                return token
    return None


def check_filters(env: MessageEnvironment, field: str, parsed: Parsed) -> None:
    """Every filter the source uses exists (found at save time, not at send time)."""
    for name, spans in parsed.analysis().filters.items():
        if name not in env.filters:
            position = position_in(parsed.source, spans[0].index)
            raise TemplateSyntaxError(
                describe(field, f"unknown filter {name!r}", position,
                         "templates_create's description lists the filters. " + _FIX),
                field=field, position=position)


@dataclass(frozen=True)
class SnippetReference:
    name: str
    index: int  # where the {% render %} tag is in the source


def snippet_references(template: BoundTemplate) -> list[SnippetReference]:
    """The snippets `template` renders directly, in source order."""
    found: list[SnippetReference] = []
    static_context = RenderContext(template)
    stack = list(reversed(template.nodes))
    while stack:
        node = stack.pop()
        partial = node.partial_scope()
        if partial is not None:
            name = partial.name if isinstance(partial.name, str) else ""
            found.append(SnippetReference(name, node.token.start_index))
        stack.extend(reversed(list(node.children(static_context, include_partials=False))))
    return found


def check_references(field: str, parsed: Parsed, known: Iterable[str]) -> list[str]:
    """The snippet names `parsed` renders; each must be quoted and in `known`."""
    names = set(known)
    used: list[str] = []
    for ref in snippet_references(parsed.template):
        if not ref.name or ref.name not in names:
            position = position_in(parsed.source, ref.index)
            detail = (f"snippet {ref.name!r} does not exist" if ref.name
                      else "render needs a quoted snippet id, e.g. {% render 'footer' %}")
            hint = "templates_snippet_put creates snippets; templates_snippet_list shows them."
            raise TemplateSyntaxError(describe(field, detail, position, hint),
                                      field=field, position=position)
        if ref.name not in used:
            used.append(ref.name)
    return used


@dataclass(frozen=True)
class UsedVariables:
    paths: list[str]  # e.g. "customer.first_name", "event.items", sorted
    customer_attributes: list[str]  # the attribute names read as customer.<name>


def variables_of(templates: Iterable[BoundTemplate], snippets: Mapping[str, str],
                 exclude: Iterable[str] = ()) -> UsedVariables:
    """The global variables the templates and the snippets they render use."""
    skip = set(exclude)
    paths: set[str] = set()
    attributes: list[str] = []
    with render_scope(snippets, datetime.fromtimestamp(0, UTC), time_limit=60.0):
        for template in templates:
            analysis = template.analyze(include_partials=True)
            for root, variables in analysis.globals.items():
                if root in skip:
                    continue
                for variable in variables:
                    paths.add(str(variable))
                    segments = variable.segments
                    if root == "customer" and len(segments) > 1 and isinstance(segments[1], str) \
                            and segments[1] not in attributes:
                        attributes.append(segments[1])
    return UsedVariables(sorted(paths), attributes)

"""Template errors that say where: the field, the snippet (if any), line, column and the line."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from liquid.exceptions import LiquidError, ResourceLimitError

from tools.core.errors import InvalidInput, LimitExceeded

_SHOWN = 160  # characters of the offending line shown around the column
SIMPLIFY = "Simplify the template (fewer or shorter loops, less output)."
log = logging.getLogger("tools.core.templates")
_LOGGED: set[tuple[str, str]] = set()
_LOGGED_MAX = 200


def log_unexpected(where: str, exc: BaseException) -> None:
    """Log an exception the render did not expect (a bug to fix) at WARNING with its
    traceback, once per place and exception type, so hostile input cannot flood the log."""
    key = (where, type(exc).__name__)
    if key in _LOGGED or len(_LOGGED) >= _LOGGED_MAX:
        return
    _LOGGED.add(key)
    log.warning("template render: unexpected %s in %s: %s", type(exc).__name__, where,
                str(exc)[:200], exc_info=exc)


@dataclass(frozen=True)
class SourcePosition:
    """Where a problem is: 1-based line and column, the source line, the snippet if any."""

    line: int
    column: int
    source_line: str
    snippet: str | None = None


def position_in(source: str, index: int, snippet: str | None = None) -> SourcePosition | None:
    """The position of character `index` of `source`."""
    if index < 0 or index >= max(len(source), 1):
        return None
    start = source.rfind("\n", 0, index) + 1
    end = source.find("\n", index)
    line_text = source[start:end if end >= 0 else len(source)].rstrip("\r")
    return SourcePosition(source.count("\n", 0, index) + 1, index - start + 1, line_text,
                          snippet)


def position_of(exc: LiquidError, source: str,
                snippets: Mapping[str, str] | None = None) -> SourcePosition | None:
    """Where python-liquid says `exc` happened; names the snippet when it is not `source`."""
    token = exc.token
    if token is None or token.start_index < 0:
        return None
    snippet = None
    if token.source != source:
        snippet = next((name for name, text in (snippets or {}).items()
                        if text == token.source), str(exc.template_name or "snippet"))
    return position_in(token.source, token.start_index, snippet)


def _excerpt(position: SourcePosition) -> str:
    text, column = position.source_line, position.column
    offset = 0
    if len(text) > _SHOWN:
        offset = max(0, min(column - _SHOWN // 2, len(text) - _SHOWN))
        text = text[offset:offset + _SHOWN]
    number = str(position.line)
    pad = " " * len(number)
    return f"\n  {number} | {text}\n  {pad} | {' ' * (column - 1 - offset)}^"


def describe(field: str, detail: str, position: SourcePosition | None, hint: str = "") -> str:
    """'field (in snippet 'x'): line L, column C: detail' plus the source line and a caret."""
    where = field if position is None or position.snippet is None \
        else f"{field} (in snippet {position.snippet!r})"
    if position is None:
        text = f"{where}: {detail}"
    else:
        text = f"{where}: line {position.line}, column {position.column}: {detail}"
        text += _excerpt(position)
    return f"{text}\n{hint}" if hint else text


class TemplateSyntaxError(InvalidInput):
    """A field does not parse (or uses an unknown filter or snippet); nothing was stored."""

    def __init__(self, message: str, *, field: str, position: SourcePosition | None) -> None:
        super().__init__(message, field=field)
        self.position = position


class TemplateRenderError(InvalidInput):
    """A field failed while rendering (a filter error, a bad argument)."""

    def __init__(self, message: str, *, field: str, position: SourcePosition | None) -> None:
        super().__init__(message, field=field)
        self.position = position


class TemplateLimitError(LimitExceeded):
    """A render hit a limit (loop iterations, output size, depth or time)."""

    def __init__(self, message: str, *, field: str, position: SourcePosition | None) -> None:
        super().__init__(message, field=field)
        self.position = position


def liquid_detail(exc: LiquidError) -> str:
    """python-liquid's message without its own source excerpt."""
    message = exc.message
    return str(message if message is not None else type(exc).__name__)


def syntax_error(field: str, source: str, exc: LiquidError, hint: str) -> TemplateSyntaxError:
    """A TemplateSyntaxError for a parse failure of `source`."""
    position = position_of(exc, source)
    return TemplateSyntaxError(describe(field, liquid_detail(exc), position, hint),
                               field=field, position=position)


def render_error(field: str, source: str, exc: LiquidError,
                 snippets: Mapping[str, str]) -> TemplateRenderError | TemplateLimitError:
    """The engine error for a render failure (limits become TemplateLimitError)."""
    position = position_of(exc, source, snippets)
    if isinstance(exc, ResourceLimitError):
        message = describe(field, f"render limit: {liquid_detail(exc)}", position, SIMPLIFY)
        return TemplateLimitError(message, field=field, position=position)
    return TemplateRenderError(describe(field, liquid_detail(exc), position),
                               field=field, position=position)

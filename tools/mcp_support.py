"""Shared pieces for registering operations as MCP tools."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator

from tools.core.errors import EngineError, NotFound
from tools.engine import EngineBase

T = TypeVar("T")
E = TypeVar("E", bound=EngineBase)
# Decides which agent's engine serves a request (fixed on stdio, the token's over HTTP).
# Each area's tools ask for an engine with that area's operations (EngineResolver[PeopleOps]).
EngineResolver = Callable[[Context[Any, Any]], E]


def _text_or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return None if value is None else handler(value)


# An optional free-text argument (a template field, a name, an id, a cursor) that must
# arrive exactly as the client sent it. The SDK json-decodes a string argument whose
# annotation is not exactly `str` when it looks like a JSON object or array (Claude Desktop
# sends objects as JSON text), which turned a webhook body '{"user": ...}' into a dict and
# refused it. So the annotation here is `str` (no decoding), null still validates (the
# wrap validator), and the JSON schema is exactly the one `str | None` gets. Arguments that
# are objects or lists keep plain `dict[...] | None` annotations and the SDK's decoding.
if TYPE_CHECKING:
    OptionalText = str | None
else:
    OptionalText = Annotated[
        str, WrapValidator(_text_or_none),
        WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "null"}]})]

# The paging arguments of every list tool.
Limit = Annotated[int, Field(description="Page size, 1-500")]
Cursor = Annotated[OptionalText, Field(description="next_cursor from the previous page")]


async def guarded(call: Awaitable[T]) -> T:
    """Await an operation, turning engine errors into tool errors the model can act on."""
    try:
        return await call
    except EngineError as exc:
        raise ToolError(f"{exc.kind}: {exc.message}") from None


async def guarded_resource(call: Awaitable[T]) -> T:
    """Await an operation for a resource read; unknown things are ResourceNotFoundError."""
    try:
        return await call
    except NotFound as exc:
        raise ResourceNotFoundError(exc.message) from None
    except EngineError as exc:
        raise ResourceError(f"{exc.kind}: {exc.message}") from None


def tool_hints(*, read_only: bool = False, destructive: bool = False,
                idempotent: bool = False, title: str | None = None,
                open_world: bool = False) -> ToolAnnotations:
    """Tool annotations; tools work on the local agent database (closed world), except
    those that reach the outside world (send)."""
    return ToolAnnotations(
        title=title, read_only_hint=read_only, destructive_hint=destructive,
        idempotent_hint=idempotent, open_world_hint=open_world,
    )

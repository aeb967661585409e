"""Shared pieces for registering operations as MCP tools."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations

from tools.core.errors import EngineError, NotFound
from tools.engine import EngineBase

T = TypeVar("T")
E = TypeVar("E", bound=EngineBase)
# Decides which agent's engine serves a request (fixed on stdio, the token's over HTTP).
# Each area's tools ask for an engine with that area's operations (EngineResolver[PeopleOps]).
EngineResolver = Callable[[Context[Any, Any]], E]


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
                idempotent: bool = False, title: str | None = None) -> ToolAnnotations:
    """Tool annotations; every tool works on the local agent database (closed world)."""
    return ToolAnnotations(
        title=title, read_only_hint=read_only, destructive_hint=destructive,
        idempotent_hint=idempotent, open_world_hint=False,
    )

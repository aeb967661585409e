"""Refuse tool calls that carry arguments the tool does not take.

The SDK drops unknown keys silently, so `identify(attribute=...)` (a typo) would succeed
and change nothing. This middleware answers such a call with a tool error naming the
unknown keys and the accepted ones, so the model can correct itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent


def reject_unknown_arguments(server: MCPServer[Any]) -> Any:
    """A ServerMiddleware that checks tools/call arguments against each tool's parameters."""
    accepted: dict[str, frozenset[str]] = {}

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params
        if ctx.method == "tools/call" and isinstance(params, Mapping):
            name, arguments = params.get("name"), params.get("arguments")
            if isinstance(name, str) and isinstance(arguments, Mapping):
                if not accepted:
                    for tool in await server.list_tools():
                        accepted[tool.name] = frozenset(tool.input_schema.get("properties", {}))
                allowed = accepted.get(name)
                unknown = sorted(map(str, arguments.keys() - allowed)) if allowed is not None else []
                if unknown:
                    # Worded like the SDK's own tool errors ("Error executing tool X: ...").
                    text = (f"Error executing tool {name}: invalid_input: {name} does not take "
                            f"{', '.join(repr(key[:60]) for key in unknown)}; it takes "
                            f"{', '.join(sorted(allowed or ())) or 'no arguments'}")
                    return CallToolResult(content=[TextContent(type="text", text=text)],
                                          is_error=True)
        return await call_next(ctx)

    return middleware

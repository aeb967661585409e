"""Builds the MCP server: every tool and resource, bound to an engine resolver."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer
from mcp.shared.inbound import find_invalid_x_mcp_header, x_mcp_header_map

from server import __version__
from server.fast_tools import HOT_TOOLS, FastToolCalls
from server.strict_arguments import reject_unknown_arguments
from tools import status_tool
from tools.api import CustomerIO
from tools.delivery import mcp_tools as delivery_tools
from tools.journeys import mcp_tools as journey_tools
from tools.mcp_support import EngineResolver
from tools.people import mcp_tools as people_tools
from tools.segments import mcp_tools as segment_tools
from tools.templates import mcp_tools as template_tools

INSTRUCTIONS = """\
customerio-mcp is your own Customer.io: a marketing-automation engine whose data (people,
events, devices) belongs to you alone. Identify people with `identify` (attributes merge;
null removes one), record what they do with `track` (type page for page views), and send
many operations at once with `batch`. Read with `get_person`, `list_people` and
`list_events`. Reach people with `send` (email, sms, push, in_app, webhook; it queues and
returns, `messages_get` shows what happened) within their `preferences_*`. Automate with
journeys: `workflows_create`, try it with `workflows_simulate`, then `workflows_activate`.
Errors say what was wrong and how to fix it; nothing is stored by a call that fails."""


class EngineServer(MCPServer[Any]):
    """MCPServer, minus a per-request cost: before every streamable HTTP tools/call the SDK
    walks the tool's input schema twice looking for `x-mcp-header` declarations to check
    `Mcp-Param-*` headers against (~40 µs for `track`). A tool that declares none has
    nothing to check, so its schema is not handed over (the SDK then skips the walk).

    It also keeps each tool function as registered (`tool_functions`), so the fast path
    builds its argument models from the functions themselves, not from SDK internals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._checked: dict[str, tuple[dict[str, Any], bool]] = {}  # name -> (schema, declares)
        # every tool function as registered, by tool name (the fast path is built from them)
        self.tool_functions: dict[str, Callable[..., Any]] = {}
        super().__init__(*args, **kwargs)

    def add_tool(self, fn: Callable[..., Any], name: str | None = None,
                 *args: Any, **kwargs: Any) -> None:
        super().add_tool(fn, name, *args, **kwargs)
        self.tool_functions[name or fn.__name__] = fn

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        schema = super()._tool_input_schema(name)
        if schema is None:
            return None
        checked = self._checked.get(name)
        if checked is None or checked[0] is not schema:
            # exactly when validate_mcp_param_headers would check anything
            declares = find_invalid_x_mcp_header(schema) is None and bool(x_mcp_header_map(schema))
            checked = self._checked[name] = (schema, declares)
        return schema if checked[1] else None


def build_server(engine_for: EngineResolver[CustomerIO], *, otel: bool = False,
                 fast_path: bool = True, **options: Any) -> MCPServer[Any]:
    """An MCP server whose tools act on the engine `engine_for` picks for each request.

    `otel` keeps the SDK's OpenTelemetry middleware (a span per message; off by default:
    without an exporter it only costs time). `fast_path` answers the hot tools through
    server/fast_tools.py (same replies; off only to compare with the SDK's path).
    `options` go to MCPServer (the HTTP transport passes its token verifier and auth).
    """
    server = EngineServer(
        name="customerio-mcp", title="Customer.io for agents", version=__version__,
        instructions=INSTRUCTIONS, **options,
    )
    people_tools.register(server, engine_for)
    template_tools.register(server, engine_for)
    segment_tools.register(server, engine_for)
    delivery_tools.register(server, engine_for)
    journey_tools.register(server, engine_for)
    status_tool.register(server, engine_for)
    if not otel:  # the SDK's documented opt-out ("drop it from this list"); the class is
        # importable only from its private module, so a move fails loudly at startup
        server.middleware[:] = [middleware for middleware in server.middleware
                                if not isinstance(middleware, OpenTelemetryMiddleware)]
    server.middleware.append(reject_unknown_arguments(server))
    if fast_path:
        hot: dict[str, Callable[..., Awaitable[Any]]] = {
            name: server.tool_functions[name] for name in HOT_TOOLS}
        server.middleware.append(FastToolCalls(server, hot))
    return server

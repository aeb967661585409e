"""Builds the MCP server: every tool and resource, bound to an engine resolver."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.shared.inbound import find_invalid_x_mcp_header, x_mcp_header_map

from server import __version__
from server.strict_arguments import reject_unknown_arguments
from tools import status_tool
from tools.api import CustomerIO
from tools.mcp_support import EngineResolver
from tools.people import mcp_tools as people_tools
from tools.segments import mcp_tools as segment_tools
from tools.templates import mcp_tools as template_tools

INSTRUCTIONS = """\
customerio-mcp is your own Customer.io: a marketing-automation engine whose data (people,
events, devices) belongs to you alone. Identify people with `identify` (attributes merge;
null removes one), record what they do with `track` (type page for page views), and send
many operations at once with `batch`. Read with `get_person`, `list_people` and
`list_events`. Errors say what was wrong and how to fix it; nothing is stored by a call
that fails."""


class EngineServer(MCPServer[Any]):
    """MCPServer, minus a per-request cost: before every streamable HTTP tools/call the SDK
    walks the tool's input schema twice looking for `x-mcp-header` declarations to check
    `Mcp-Param-*` headers against (~40 µs for `track`). A tool that declares none has
    nothing to check, so its schema is not handed over (the SDK then skips the walk)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._checked: dict[str, tuple[dict[str, Any], bool]] = {}  # name -> (schema, declares)
        super().__init__(*args, **kwargs)

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


def build_server(engine_for: EngineResolver[CustomerIO], **options: Any) -> MCPServer[Any]:
    """An MCP server whose tools act on the engine `engine_for` picks for each request.

    `options` go to MCPServer (the HTTP transport passes its token verifier and auth).
    """
    server = EngineServer(
        name="customerio-mcp", title="Customer.io for agents", version=__version__,
        instructions=INSTRUCTIONS, **options,
    )
    people_tools.register(server, engine_for)
    template_tools.register(server, engine_for)
    segment_tools.register(server, engine_for)
    status_tool.register(server, engine_for)
    server.middleware.append(reject_unknown_arguments(server))
    return server

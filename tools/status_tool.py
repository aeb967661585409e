"""The agent_status MCP tool (tools/status.py reads the status)."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context, MCPServer

from tools.mcp_support import EngineResolver, guarded, tool_hints
from tools.status import AgentStatus, StatusOps


def register(server: MCPServer[Any], engine_for: EngineResolver[StatusOps]) -> None:
    """Add the agent_status tool to `server`."""

    @server.tool(annotations=tool_hints(read_only=True, idempotent=True, title="Agent status"))
    async def agent_status(ctx: Context[Any, Any]) -> AgentStatus:
        """Your data at a glance: how many people, events, segments and templates, the
        database size, the next scheduled work of each area and how late the last run
        of due work was."""
        return await guarded(engine_for(ctx).agent_status())

"""The Mcp-Param header check is skipped only for tools that declare no such header."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.shared.inbound import validate_mcp_param_headers
from pydantic import Field

from server.app import build_server


def test_our_tools_declare_no_headers_so_the_check_has_nothing_to_walk() -> None:
    server = build_server(lambda ctx: None)
    tools = server._tool_manager.list_tools()
    assert len(tools) > 30
    for tool in tools:
        assert server._tool_input_schema(tool.name) is None, tool.name
        # what the SDK would have concluded from the schema: nothing to reject
        stray = {"mcp-param-user-id": "someone-else"}
        assert validate_mcp_param_headers(tool.parameters, {"user_id": "u1"}, stray) is None


def test_a_tool_declaring_a_header_keeps_the_check() -> None:
    server = build_server(lambda ctx: None)

    def regional(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})]
                 ) -> str:
        return region

    server.add_tool(regional)
    schema: Any = server._tool_input_schema("regional")
    assert schema is not None and schema["properties"]["region"]["x-mcp-header"] == "Region"
    rejection = validate_mcp_param_headers(schema, {"region": "eu"}, {"mcp-param-region": "us"})
    assert rejection is not None and "does not match" in rejection.message
    assert server._tool_input_schema("missing") is None

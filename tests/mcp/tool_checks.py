"""Helpers shared by the MCP tool tests: tool names and reading results."""

from __future__ import annotations

from mcp.types import CallToolResult, TextContent

# The 12 tools of issue 2 (other areas add more tools to the same server).
TRACK_TOOLS = (
    "identify", "track", "batch", "get_person", "list_people", "list_events", "delete_person",
    "suppress_person", "unsuppress_person", "merge_people", "add_device", "remove_device",
)


def text_of(result: CallToolResult) -> str:
    """The text content of a tool result, joined."""
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def tool_error_message(result: CallToolResult, tool: str) -> str:
    """The message of a deliberate tool error; fails on success or on a crash.

    A crash (an unexpected exception in the tool, i.e. a bug) reaches the client as the bare
    "Error executing tool X"; a deliberate error carries its message after that prefix.
    """
    prefix = f"Error executing tool {tool}"
    text = text_of(result)
    assert result.is_error, f"{tool} succeeded: {result.structured_content}"
    assert text.startswith(prefix + ": "), f"{tool} gave a generic error (a crash?): {text!r}"
    message = text[len(prefix) + 2:]
    assert not message.startswith("Error executing tool"), f"nested crash: {text!r}"
    assert len(message) >= 20, f"{tool} error message too short to help: {text!r}"
    return message



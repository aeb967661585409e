"""Helpers for the segment tool tests: tool error messages."""

from __future__ import annotations

from mcp.types import CallToolResult, TextContent


def text_of(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def tool_error(result: CallToolResult, tool: str) -> str:
    """The message of a deliberate tool error; fails on success and on a bare crash."""
    text = text_of(result)
    assert result.is_error, f"{tool} succeeded: {result.structured_content}"
    prefix = f"Error executing tool {tool}"
    message = text[len(prefix) + 2:] if text.startswith(prefix + ": ") else text
    assert message and not message.startswith("Error executing tool"), text
    assert len(message) >= 20, f"too short to help: {text!r}"
    return message

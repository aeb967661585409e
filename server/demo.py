"""`customerio-mcp demo`: the real server over stdio, driven by the real MCP client.

This module is a client, not server code: it prints to its own terminal.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("A visitor browses before signing up", "track",
     {"name": "https://shop.example/pricing", "type": "page", "anonymous_id": "anon-7f3"}),
    ("They sign up: identify links their anonymous history", "identify",
     {"user_id": "ada", "anonymous_id": "anon-7f3",
      "attributes": {"email": "ada@example.com", "plan": "pro", "first_name": "Ada"}}),
    ("An event with an id", "track",
     {"name": "purchase", "user_id": "ada", "event_id": "01JDEMO0000000000000000001",
      "properties": {"sku": "BOOK-42", "price": 29.5}}),
    ("The same event again is reported as a duplicate", "track",
     {"name": "purchase", "user_id": "ada", "event_id": "01JDEMO0000000000000000001"}),
    ("A batch with one bad operation: the rest are stored", "batch",
     {"operations": [
         {"action": "identify", "user_id": "grace", "attributes": {"plan": "free"}},
         {"action": "track", "user_id": "grace", "name": "login"},
         {"action": "track", "name": "login"},
         {"action": "add_device", "user_id": "ada", "device_id": "apns-token-1",
          "platform": "ios"},
     ]}),
    ("Bad input gets an error that says how to fix it", "track",
     {"name": "login", "user_id": "ada", "anonymous_id": "anon-7f3"}),
    ("Null removes an attribute", "identify",
     {"user_id": "ada", "attributes": {"first_name": None}}),
    ("The whole profile", "get_person", {"user_id": "ada"}),
    ("Everyone so far", "list_people", {"limit": 10}),
    ("A reusable snippet for email footers", "templates_snippet_put",
     {"snippet_id": "footer", "body": "<p>Sent to {{ customer.email }}</p>"}),
    ("A template with a typo is refused with its line and column", "templates_create",
     {"template_id": "welcome", "channel": "email", "subject": "Hi {{ customer.plan ",
      "body": "<p>Welcome</p>"}),
    ("The corrected email template", "templates_create",
     {"template_id": "welcome", "channel": "email",
      "subject": "Welcome, {{ customer.first_name | default: 'friend' }}",
      "body": "<h1>Your {{ customer.plan | upcase }} plan is ready</h1>{% render 'footer' %}"}),
    ("Preview it with Ada's stored profile (first_name was removed in step 7)", "templates_preview",
     {"template_id": "welcome", "user_id": "ada"}),
    ("Send it: queued at once, delivered in the background", "send",
     {"user_id": "ada", "channel": "email", "template_id": "welcome",
      "idempotency_key": "welcome-ada"}),
    ("The same key again sends nothing twice", "send",
     {"user_id": "ada", "channel": "email", "template_id": "welcome",
      "idempotency_key": "welcome-ada"}),
    ("Ada opts out of email", "preferences_update",
     {"user_id": "ada", "channels": {"email": False}}),
    ("A marketing email to her now is dropped", "send",
     {"user_id": "ada", "channel": "email", "template_id": "welcome"}),
    ("Her messages: with no provider configured the first was captured, not sent "
     "(messages_get shows the bytes)", "messages_list", {"user_id": "ada"}),
]
SETTLE_SECONDS = 10.0  # how long the demo waits for queued messages before listing them


async def _settled(client: Client, arguments: dict[str, Any], result: Any) -> Any:
    """The list again until no message is queued or sending (delivery runs in the
    background; the first render starts the render processes)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while not result.is_error and time.monotonic() < deadline and any(
            m["status"] in ("queued", "sending") for m in result.structured_content["messages"]):
        await anyio.sleep(0.1)
        result = await client.call_tool("messages_list", arguments)
    return result


def _show(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


async def run_demo() -> int:
    """Run every step against a fresh agent and print what happens."""
    with tempfile.TemporaryDirectory(prefix="customerio-mcp-demo-") as data_dir:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "server.cli", "--log-level", "WARNING", "serve", "--agent", "demo",
                  "--data-dir", data_dir],
        )
        async with Client(params) as client:
            tools = await client.list_tools()
            print(f"customerio-mcp over stdio, data in {data_dir}")
            print(f"{len(tools.tools)} tools: {', '.join(t.name for t in tools.tools)}\n")
            for number, (title, tool, arguments) in enumerate(STEPS, 1):
                print(f"{number}. {title}")
                print(f"   -> {tool}({json.dumps(arguments, ensure_ascii=False)})")
                result = await client.call_tool(tool, arguments)
                if tool == "messages_list":
                    result = await _settled(client, arguments, result)
                if result.is_error:
                    text = " ".join(getattr(c, "text", "") for c in result.content)
                    print(f"   <- tool error: {text}\n")
                else:
                    body = _show(result.structured_content).replace("\n", "\n      ")
                    print(f"   <- {body}\n")
    return 0

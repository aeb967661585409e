"""`customerio-mcp demo`: the real server over stdio, driven by the real MCP client.

This module is a client, not server code: it prints to its own terminal.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

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
]


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
                if result.is_error:
                    text = " ".join(getattr(c, "text", "") for c in result.content)
                    print(f"   <- tool error: {text}\n")
                else:
                    body = _show(result.structured_content).replace("\n", "\n      ")
                    print(f"   <- {body}\n")
    return 0

"""A first end-to-end check through the in-memory MCP client."""

import pytest
from mcp import Client

pytestmark = pytest.mark.anyio


async def test_identify_then_get_person_round_trips_attributes(client: Client) -> None:
    created = await client.call_tool("identify", {"user_id": "ada", "attributes": {"plan": "pro"}})
    assert created.structured_content["status"] == "created"
    person = await client.call_tool("get_person", {"user_id": "ada"})
    assert person.structured_content["attributes"]["plan"] == "pro"

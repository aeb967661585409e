"""Remote agents over streamable HTTP and SSE: the token decides the agent."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from server.runtime import Runtime
from tests.remote.support import http_client, raw_http, sse_mcp_client, structured

pytestmark = pytest.mark.anyio


async def _identify_and_list(open_client, url: str, token: str, user_id: str) -> list[str]:
    async with open_client(url, token) as client:
        structured(await client.call_tool("identify", {"user_id": user_id}))
        page = structured(await client.call_tool("list_people", {}))
        return [p["user_id"] for p in page["people"]]


@pytest.mark.parametrize("open_client", [http_client, sse_mcp_client], ids=["http", "sse"])
async def test_two_agents_at_once_each_see_only_their_own_people(
    base_url: str, tokens: dict[str, str], open_client
) -> None:
    seen: dict[str, list[str]] = {}

    async def run(agent: str) -> None:
        seen[agent] = await _identify_and_list(open_client, base_url, tokens[agent], f"{agent}-1")

    async with anyio.create_task_group() as group:
        group.start_soon(run, "alice")
        group.start_soon(run, "bob")
    assert seen == {"alice": ["alice-1"], "bob": ["bob-1"]}


async def test_missing_or_unknown_token_gets_401_with_www_authenticate(base_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with raw_http() as http:
        for headers in ({}, {"Authorization": "Bearer cio_000000000000_nope"},
                        {"Authorization": "Basic YTpi"}):
            response = await http.post(f"{base_url}/mcp", json=body, headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
        sse = await http.get(f"{base_url}/sse")
        assert sse.status_code == 401


@pytest.mark.parametrize("open_client", [http_client, sse_mcp_client], ids=["http", "sse"])
async def test_revoked_token_fails_and_rotated_token_replaces_the_old(
    base_url: str, tokens: dict[str, str], runtime: Runtime, open_client
) -> None:
    await runtime.registry.revoke("alice")
    with pytest.raises(Exception):  # noqa: B017 - the client surfaces the 401 as an error
        await _identify_and_list(open_client, base_url, tokens["alice"], "a")
    fresh = await runtime.registry.rotate("alice")
    assert await _identify_and_list(open_client, base_url, fresh, "a") == ["a"]
    async with raw_http() as http:
        old = await http.post(f"{base_url}/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                        "method": "tools/list"},
                              headers={"Authorization": f"Bearer {tokens['alice']}"})
    assert old.status_code == 401


async def test_sse_session_refuses_messages_sent_with_another_agents_token(
    base_url: str, tokens: dict[str, str]
) -> None:
    alice = {"Authorization": f"Bearer {tokens['alice']}"}
    bob = {"Authorization": f"Bearer {tokens['bob']}"}
    message = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    async with raw_http() as http, http.stream("GET", f"{base_url}/sse", headers=alice) as stream:
        endpoint = None
        with anyio.fail_after(5):
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    endpoint = line.removeprefix("data:").strip()
                    break
        assert endpoint and "session_id=" in endpoint
        refused = await http.post(f"{base_url}{endpoint}", json=message, headers=bob)
        assert refused.status_code == 404
        accepted = await http.post(f"{base_url}{endpoint}", json=message, headers=alice)
        assert accepted.status_code == 202


async def test_streamable_http_session_refuses_another_agents_token(
    base_url: str, tokens: dict[str, str]
) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    async with raw_http() as http:
        opened = await http.post(f"{base_url}/mcp", json=initialize, headers={
            **accept, "Authorization": f"Bearer {tokens['alice']}"})
        assert opened.status_code == 200
        session = opened.headers["mcp-session-id"]
        call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "list_people", "arguments": {}}}
        stolen = await http.post(f"{base_url}/mcp", json=call, headers={
            **accept, "Authorization": f"Bearer {tokens['bob']}", "mcp-session-id": session,
            "mcp-protocol-version": "2025-06-18"})
        assert stolen.status_code == 404


async def test_healthz_answers_without_a_token(base_url: str) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

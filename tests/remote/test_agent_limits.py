"""One agent cannot starve the others: per-agent caps on open streamable-HTTP sessions and
SSE streams, session opens counted against the rate limit, and ended sessions free their
slots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from server.http import HttpOptions
from server.runtime import Runtime
from tests.remote.support import http_client, raw_http, serving, structured

pytestmark = pytest.mark.anyio
LEGACY = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}


def _headers(token: str, session: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    if session is not None:
        headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY})
    return headers


async def _open(http: httpx2.AsyncClient, url: str, token: str) -> httpx2.Response:
    """POST a legacy initialize: the request that opens a streamable-HTTP session."""
    return await http.post(f"{url}/mcp", json=INITIALIZE, headers=_headers(token))


async def _open_sessions(http: httpx2.AsyncClient, url: str, token: str, n: int) -> list[str]:
    sessions = []
    for _ in range(n):
        opened = await _open(http, url, token)
        assert opened.status_code == 200, opened.text
        sessions.append(opened.headers["mcp-session-id"])
    return sessions


def _refusal(response: httpx2.Response, status: int = 429) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"].startswith(error["data"]["error"] + ": ")
    return error


@asynccontextmanager
async def _legacy_client(url: str, token: str) -> AsyncIterator[Client]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http),
                            mode="legacy") as client:
        yield client


async def test_an_agent_at_its_session_cap_is_refused_while_other_agents_open_sessions(
    runtime: Runtime, tokens: dict[str, str]
) -> None:
    async with serving(runtime, HttpOptions(max_sessions_per_agent=3)) as url, \
            raw_http() as http:
        alice = await _open_sessions(http, url, tokens["alice"], 3)
        error = _refusal(await _open(http, url, tokens["alice"]))
        assert error["data"] == {"error": "too_many_sessions", "limit": "max_sessions_per_agent",
                                 "max": 3, "open": 3}
        assert "--max-sessions-per-agent" in error["message"]
        assert "DELETE" in error["message"]
        await _open_sessions(http, url, tokens["bob"], 3)
        # alice's open sessions, and her session-less (2026) calls, are unaffected
        listed = await http.post(f"{url}/mcp", headers=_headers(tokens["alice"], alice[0]),
                                 json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        assert listed.status_code == 200 and listed.json()["result"]["tools"]
        async with http_client(url, tokens["alice"]) as modern:
            structured(await modern.call_tool("identify", {"user_id": "ada"}))


async def test_the_sdk_client_shows_the_refusal_message(runtime: Runtime,
                                                        tokens: dict[str, str]) -> None:
    async with serving(runtime, HttpOptions(max_sessions_per_agent=1)) as url, \
            _legacy_client(url, tokens["alice"]) as first:
        structured(await first.call_tool("identify", {"user_id": "ada"}))
        with pytest.raises(BaseExceptionGroup) as refused:
            async with _legacy_client(url, tokens["alice"]):
                pass
        assert refused.group_contains(MCPError, match="^too_many_sessions: .*DELETE")


async def test_deleting_a_session_frees_its_slot(runtime: Runtime,
                                                 tokens: dict[str, str]) -> None:
    async with serving(runtime, HttpOptions(max_sessions_per_agent=2)) as url, \
            raw_http() as http:
        first, _ = await _open_sessions(http, url, tokens["alice"], 2)
        _refusal(await _open(http, url, tokens["alice"]))
        deleted = await http.delete(f"{url}/mcp", headers=_headers(tokens["alice"], first))
        assert deleted.status_code == 200
        assert (await _open(http, url, tokens["alice"])).status_code == 200


async def test_a_closed_legacy_client_frees_its_slot(runtime: Runtime,
                                                     tokens: dict[str, str]) -> None:
    async with serving(runtime, HttpOptions(max_sessions_per_agent=1)) as url:
        for n in range(3):
            async with _legacy_client(url, tokens["alice"]) as client:
                structured(await client.call_tool("identify", {"user_id": f"p{n}"}))


async def test_a_session_that_times_out_idle_frees_its_slot(runtime: Runtime,
                                                            tokens: dict[str, str]) -> None:
    options = HttpOptions(max_sessions_per_agent=1, session_idle_timeout=0.5)
    async with serving(runtime, options) as url, raw_http() as http:
        [abandoned] = await _open_sessions(http, url, tokens["alice"], 1)
        with anyio.fail_after(15):  # the client went away: only the idle timeout ends it
            while (again := await _open(http, url, tokens["alice"])).status_code != 200:
                assert _refusal(again)["data"]["error"] == "too_many_sessions"
                await anyio.sleep(0.05)
        gone = await http.post(f"{url}/mcp", headers=_headers(tokens["alice"], abandoned),
                               json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        assert gone.status_code == 404


async def _endpoint(lines: AsyncIterator[str]) -> str:
    """The endpoint event of an SSE stream (`lines` stays open: closing it ends the stream)."""
    with anyio.fail_after(10):
        while not (line := await anext(lines)).startswith("data:"):
            pass
    return line.removeprefix("data:").strip()


async def test_sse_streams_are_capped_per_agent_and_a_closed_stream_frees_its_slot(
    runtime: Runtime, tokens: dict[str, str]
) -> None:
    alice, bob = _headers(tokens["alice"]), _headers(tokens["bob"])
    async with serving(runtime, HttpOptions(max_streams_per_agent=2)) as url, \
            raw_http() as http:
        async with http.stream("GET", f"{url}/sse", headers=alice) as one, \
                http.stream("GET", f"{url}/sse", headers=alice) as two:
            open_lines = [one.aiter_lines(), two.aiter_lines()]
            for lines in open_lines:
                await _endpoint(lines)
            error = _refusal(await http.get(f"{url}/sse", headers=alice))
            assert error["data"]["limit"] == "max_streams_per_agent"
            async with http.stream("GET", f"{url}/sse", headers=bob) as bobs:
                assert "session_id=" in await _endpoint(bobs.aiter_lines())
        with anyio.fail_after(10):  # the server notices the disconnects
            while True:
                async with http.stream("GET", f"{url}/sse", headers=alice) as again:
                    if again.status_code == 200:
                        assert "session_id=" in await _endpoint(again.aiter_lines())
                        break
                    await again.aread()
                    assert _refusal(again)["data"]["limit"] == "max_streams_per_agent"
                await anyio.sleep(0.05)


async def test_opening_sessions_and_streams_counts_against_the_rate_limit(
    runtime: Runtime, tokens: dict[str, str], clock
) -> None:
    options = HttpOptions(rate_limit=1.0, rate_burst=2)
    async with serving(runtime, options) as url, raw_http() as http:
        await _open_sessions(http, url, tokens["alice"], 2)
        limited = await _open(http, url, tokens["alice"])
        error = _refusal(limited)
        assert error["data"]["limit"] == "rate_limit"
        assert int(limited.headers["retry-after"]) >= 1
        assert _refusal(await http.get(f"{url}/sse", headers=_headers(tokens["alice"])))
        await _open_sessions(http, url, tokens["bob"], 2)  # bob's own bucket
        clock.advance(1.0)
        await _open_sessions(http, url, tokens["alice"], 1)

"""Malformed, oversized, mistyped and slow requests get clear errors; others keep being served."""

from __future__ import annotations

import anyio
import pytest

from server.http import HttpOptions
from server.runtime import Runtime
from tests.remote.support import http_client, raw_http, serving, structured

pytestmark = pytest.mark.anyio
ACCEPT = "application/json, text/event-stream"


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": ACCEPT, **extra}


async def test_malformed_json_rpc_gets_a_parse_error(base_url: str,
                                                     tokens: dict[str, str]) -> None:
    async with raw_http() as http:
        response = await http.post(f"{base_url}/mcp", content=b"{not json",
                                   headers=_auth(tokens["alice"], **{
                                       "Content-Type": "application/json"}))
        assert response.status_code == 400
        assert response.json()["error"]["code"] == -32700
        wrong_shape = await http.post(f"{base_url}/mcp", json={"hello": "world"},
                                      headers=_auth(tokens["alice"]))
        assert wrong_shape.status_code == 400


async def test_wrong_content_type_is_refused(base_url: str, tokens: dict[str, str]) -> None:
    async with raw_http() as http:
        response = await http.post(f"{base_url}/mcp", content=b"identify please",
                                   headers=_auth(tokens["alice"],
                                                 **{"Content-Type": "text/plain"}))
    assert response.status_code == 415


async def test_oversized_body_is_refused_and_stores_nothing(
    base_url: str, tokens: dict[str, str], runtime: Runtime
) -> None:
    huge = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "identify", "arguments": {"user_id": "big", "attributes": {"x": "y" * 2_000_000}}}}
    async with raw_http() as http:
        response = await http.post(f"{base_url}/mcp", json=huge, headers=_auth(tokens["alice"]))
    assert response.status_code == 413
    page = await runtime.engine("alice").list_people()
    assert page.total == 0


async def test_a_slow_client_does_not_hold_up_others(base_url: str,
                                                     tokens: dict[str, str]) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    async with await anyio.connect_tcp("127.0.0.1", port) as slow:
        await slow.send(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                        b"Content-Type: application/json\r\n\r\n{\"jsonrpc\"")
        with anyio.fail_after(10):
            async with http_client(base_url, tokens["bob"]) as client:
                for n in range(5):
                    structured(await client.call_tool("track", {"name": "tick",
                                                                "user_id": f"b{n}"}))


async def test_foreign_host_and_origin_are_refused_on_a_loopback_bind(
    base_url: str, tokens: dict[str, str]
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with raw_http() as http:
        bad_host = await http.post(f"{base_url}/mcp", json=body,
                                   headers=_auth(tokens["alice"], Host="evil.example"))
        bad_origin = await http.post(f"{base_url}/mcp", json=body,
                                     headers=_auth(tokens["alice"],
                                                   Origin="http://evil.example"))
    assert bad_host.status_code == 421
    assert bad_origin.status_code == 403


async def test_rate_limit_answers_with_a_clear_tool_error(runtime: Runtime, clock) -> None:
    token = await runtime.registry.create("carol")
    async with serving(runtime, HttpOptions(rate_limit=1.0, rate_burst=2)) as url:
        async with http_client(url, token) as client:
            for _ in range(2):
                structured(await client.call_tool("list_people", {}))
            limited = await client.call_tool("list_people", {})
            assert limited.is_error
            assert "rate_limited" in limited.content[0].text
            assert "retry in" in limited.content[0].text
            clock.advance(1.0)
            structured(await client.call_tool("list_people", {}))


async def test_a_stray_mcp_param_header_on_a_modern_post_is_ignored(
    base_url: str, tokens: dict[str, str], runtime: Runtime
) -> None:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": "track", "arguments": {"name": "tick", "user_id": "p1"}, "_meta": meta}}
    async with raw_http() as http:
        response = await http.post(f"{base_url}/mcp", json=body, headers=_auth(
            tokens["alice"], **{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call",
                                "Mcp-Name": "track", "Mcp-Param-User-Id": "someone-else"}))
    assert response.status_code == 200, response.text
    assert response.json()["result"]["structuredContent"]["status"] == "stored"
    assert (await runtime.engine("alice").get_person("p1")).user_id == "p1"

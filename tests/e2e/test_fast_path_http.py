"""Over real HTTP (uvicorn on loopback), the fast path answers byte for byte as the SDK's
path does, in both protocol eras, rate-limited replies included."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx2
import pytest

from server.http import HttpOptions
from server.runtime import Runtime
from tests.e2e.support import HANDSHAKE, INITIALIZED, MODERN_META
from tests.mcp.fast_path_cases import CASES, call_params
from tests.remote.support import raw_http, serving

pytestmark = pytest.mark.anyio
ACCEPT = "application/json, text/event-stream"
T = TypeVar("T")


class Session:
    """Raw JSON-RPC POSTs to one server as one agent, in one protocol era."""

    def __init__(self, http: httpx2.AsyncClient, url: str, token: str, modern: bool) -> None:
        self.http, self.url, self.modern = http, f"{url}/mcp", modern
        self.headers = {"Authorization": f"Bearer {token}", "Accept": ACCEPT,
                        "Content-Type": "application/json"}
        self.next_id = 0

    async def open(self) -> None:
        if self.modern:
            self.headers["MCP-Protocol-Version"] = MODERN_META[
                "io.modelcontextprotocol/protocolVersion"]
            return
        opened = await self.http.post(self.url, json=HANDSHAKE, headers=self.headers)
        assert opened.status_code == 200, opened.text
        self.headers["Mcp-Session-Id"] = opened.headers["mcp-session-id"]
        self.headers["MCP-Protocol-Version"] = HANDSHAKE["params"]["protocolVersion"]
        assert (await self.http.post(self.url, json=INITIALIZED,
                                     headers=self.headers)).status_code == 202

    async def call(self, tool: str, arguments: dict[str, Any] | None) -> tuple[int, bytes]:
        """Status and body of one tools/call."""
        self.next_id += 1
        params = call_params(tool, arguments)
        headers = self.headers
        if self.modern:
            params["_meta"] = MODERN_META
            headers = headers | {"Mcp-Method": "tools/call", "Mcp-Name": tool}
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}
        reply = await self.http.post(self.url, content=json.dumps(body), headers=headers)
        return reply.status_code, reply.content


async def both(first: Callable[..., Awaitable[T]], second: Callable[..., Awaitable[T]],
               *args: Any) -> tuple[T, T]:
    """first(*args) and second(*args), side by side."""
    results: dict[int, T] = {}

    async def run(index: int, call: Callable[..., Awaitable[T]]) -> None:
        results[index] = await call(*args)

    async with anyio.create_task_group() as group:
        group.start_soon(run, 0, first)
        group.start_soon(run, 1, second)
    return results[0], results[1]


async def test_http_replies_are_the_sdk_paths_rate_limits_included(
    runtime: Runtime, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="server.fast_tools")
    tokens = {name: await runtime.registry.create(name) for name in ("fast", "sdk")}
    limit = HttpOptions(rate_limit=1.0, rate_burst=45)  # the clock stands still: 45 calls
    with anyio.fail_after(60):
        async with (serving(runtime, limit) as fast_url,
                    serving(runtime, HttpOptions(rate_limit=1.0, rate_burst=45,
                                                 fast_path=False)) as sdk_url,
                    raw_http() as http):
            for modern in (False, True):
                fast = Session(http, fast_url, tokens["fast"], modern)
                sdk = Session(http, sdk_url, tokens["sdk"], modern)
                await fast.open()
                await sdk.open()
                for tool, arguments in CASES:
                    ours, theirs = await both(fast.call, sdk.call, tool, arguments)
                    assert ours == theirs, (modern, tool, arguments)
            limited = False
            for _ in range(100):  # until the burst is spent: the rate_limited reply too
                # takes a token, then fails before any write
                ours, theirs = await both(fast.call, sdk.call, "track", {"name": "tick"})
                assert ours == theirs
                if b"rate_limited" in ours[1]:
                    limited = True
                    break
    assert limited
    # the fast server's refusals were logged by the fast path, not by the SDK
    assert any(record.name == "server.fast_tools" for record in caplog.records)

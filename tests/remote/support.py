"""A real HTTP server (uvicorn on a loopback port) in the test's event loop."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from server.http import HttpOptions, build_http_app, uvicorn_config
from server.runtime import Runtime


@asynccontextmanager
async def serving(runtime: Runtime, options: HttpOptions) -> AsyncIterator[str]:
    """Serve the HTTP app on a free loopback port; yields the base URL."""
    async with serving_uvicorn(runtime, options) as (url, _):
        yield url


@asynccontextmanager
async def serving_uvicorn(runtime: Runtime,
                          options: HttpOptions) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """Like `serving`, and the uvicorn server too (its `server_state.connections`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    options.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(build_http_app(runtime, options), options))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [sock])
        await wait_until(lambda: server.started)
        try:
            yield f"http://127.0.0.1:{options.port}", server
        finally:
            server.should_exit = True


async def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Poll `condition` (cheap, in this process) until true; fail after `seconds`."""
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.005)


async def closed_by_server(stream: anyio.abc.SocketStream) -> None:
    """Return once the server closes `stream` (whatever it sent before)."""
    try:
        while await stream.receive():
            pass
    except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
        return


@pytest.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serving(runtime, HttpOptions()) as url:
        yield url


@pytest.fixture
async def tokens(runtime: Runtime) -> dict[str, str]:
    """Bearer tokens of two registered agents, alice and bob."""
    return {name: await runtime.registry.create(name) for name in ("alice", "bob")}


ClientFactory = Callable[[str], AbstractAsyncContextManager[Client]]


@asynccontextmanager
async def http_client(url: str, token: str) -> AsyncIterator[Client]:
    """The real MCP client over streamable HTTP with a bearer token."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
        yield client


@asynccontextmanager
async def sse_mcp_client(url: str, token: str) -> AsyncIterator[Client]:
    """The real MCP client over SSE with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"}
    async with Client(sse_client(f"{url}/sse", headers=headers)) as client:
        yield client


def raw_http() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(timeout=10)


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    return result.structured_content

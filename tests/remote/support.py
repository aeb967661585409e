"""A real HTTP server (uvicorn on a loopback port) in the test's event loop."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from server.http import HttpOptions, build_http_app
from server.runtime import Runtime


@asynccontextmanager
async def serving(runtime: Runtime, options: HttpOptions) -> AsyncIterator[str]:
    """Serve the HTTP app on a free loopback port; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    options.port = sock.getsockname()[1]
    config = uvicorn.Config(build_http_app(runtime, options), log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.005)
        try:
            yield f"http://127.0.0.1:{options.port}"
        finally:
            server.should_exit = True


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

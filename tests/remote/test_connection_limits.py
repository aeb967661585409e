"""Raw sockets cannot take the HTTP server down: a connection cap, and deadlines for
unfinished headers, unfinished bodies and idle keep-alive connections."""

from __future__ import annotations

import anyio
import anyio.abc
import pytest

from server.http import HttpOptions
from server.runtime import Runtime
from tests.remote.support import (
    closed_by_server,
    http_client,
    raw_http,
    serving,
    serving_uvicorn,
    structured,
    wait_until,
)

pytestmark = pytest.mark.anyio
CAP = 10
FLOOD = 30
PARTIAL_HEADERS = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


async def _connect(url: str) -> anyio.abc.SocketStream:
    return await anyio.connect_tcp("127.0.0.1", _port(url))


async def test_at_the_cap_new_connections_replace_idle_ones_and_open_clients_keep_answering(
    runtime: Runtime, tokens: dict[str, str]
) -> None:
    options = HttpOptions(max_connections=CAP, header_timeout=60, keep_alive_timeout=60)
    async with serving_uvicorn(runtime, options) as (url, server), raw_http() as health, \
            http_client(url, tokens["bob"]) as bob:
        assert (await health.get(f"{url}/healthz")).status_code == 200
        structured(await bob.call_tool("identify", {"user_id": "before"}))
        held = len(server.server_state.connections)
        sockets = [await _connect(url) for _ in range(FLOOD)]
        closed: list[int] = []

        async def watch(n: int) -> None:
            await closed_by_server(sockets[n])
            closed.append(n)

        async with anyio.create_task_group() as group:
            for n in range(FLOOD):
                group.start_soon(watch, n)
            # the header timeout is a minute away: whatever closes now is the cap's doing
            await wait_until(lambda: len(closed) == FLOOD - (CAP - held))
            assert sorted(closed) == list(range(FLOOD - (CAP - held)))  # oldest first
            assert len(server.server_state.connections) == CAP
            # clients that made requests before keep their connections and answers
            assert (await health.get(f"{url}/healthz")).status_code == 200
            structured(await bob.call_tool("identify", {"user_id": "during"}))
            # and a new client gets in, in place of the socket idle longest
            async with raw_http() as fresh:
                assert (await fresh.get(f"{url}/healthz")).status_code == 200
            await wait_until(lambda: len(closed) == FLOOD - (CAP - held) + 1)
            group.cancel_scope.cancel()
        for stream in sockets:
            await stream.aclose()
    assert (await runtime.engine("bob").get_person("during")).user_id == "during"


async def test_when_every_connection_has_a_request_in_progress_a_new_one_is_closed_at_once(
    runtime: Runtime, tokens: dict[str, str]
) -> None:
    head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\n"
            f"Authorization: Bearer {tokens['alice']}\r\nContent-Length: 2\r\n\r\n").encode()
    options = HttpOptions(max_connections=3, header_timeout=60, body_timeout=60)
    async with serving_uvicorn(runtime, options) as (url, server):
        busy = [await _connect(url) for _ in range(3)]
        for stream in busy:
            await stream.send(head + b"{")  # headers complete, the body never ends
        await wait_until(lambda: len(server.server_state.connections) == 3)
        newcomer = await _connect(url)
        with anyio.fail_after(10):
            await closed_by_server(newcomer)
        await busy[0].send(b"}")  # one request completes: its connection is idle now
        with anyio.fail_after(10):
            assert (await busy[0].receive()).startswith(b"HTTP/1.1 ")
        async with raw_http() as http:  # so a new connection takes its place
            assert (await http.get(f"{url}/healthz")).status_code == 200
        with anyio.fail_after(10):
            await closed_by_server(busy[0])
        for stream in busy:
            await stream.aclose()


async def test_a_connection_that_never_finishes_its_headers_is_closed_after_the_timeout(
    runtime: Runtime,
) -> None:
    async with serving_uvicorn(runtime, HttpOptions(header_timeout=0.5)) as (url, server):
        silent = await _connect(url)
        partial = await _connect(url)
        await partial.send(PARTIAL_HEADERS)
        with anyio.fail_after(10):
            await closed_by_server(silent)
            await closed_by_server(partial)
        await wait_until(lambda: not server.server_state.connections)
        async with raw_http() as http:
            assert (await http.get(f"{url}/healthz")).status_code == 200


async def test_a_request_body_that_never_completes_is_closed_after_the_timeout_storing_nothing(
    runtime: Runtime, tokens: dict[str, str]
) -> None:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "identify"'
    head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\n"
            f"Authorization: Bearer {tokens['alice']}\r\nContent-Length: {len(body) + 100}"
            "\r\n\r\n").encode()
    options = HttpOptions(header_timeout=60, body_timeout=0.5)
    async with serving(runtime, options) as url:
        slow = await _connect(url)
        await slow.send(head + body)
        with anyio.fail_after(10):
            await closed_by_server(slow)
        async with http_client(url, tokens["alice"]) as alice:
            page = structured(await alice.call_tool("list_people", {}))
    assert page["total"] == 0


async def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(
    runtime: Runtime,
) -> None:
    async with serving(runtime, HttpOptions(keep_alive_timeout=0.5)) as url:
        stream = await _connect(url)
        await stream.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        with anyio.fail_after(10):
            reply = await stream.receive()
            await closed_by_server(stream)
    assert reply.startswith(b"HTTP/1.1 200")

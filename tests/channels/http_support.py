"""A real HTTP/1.1 server (asyncio streams + h11) on loopback, recording the raw requests."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import h11


@dataclass
class Seen:
    """One request as it arrived."""

    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the server stops)


Handler = Callable[[Seen], Answer | Awaitable[Answer]]


@dataclass
class Server:
    port: int
    scheme: str
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


@asynccontextmanager
async def http_server(handler: Handler, *,
                      tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    """Listens on 127.0.0.1 (a free port) and answers each request with `handler`."""
    tasks: set[asyncio.Task[None]] = set()
    server = Server(port=0, scheme="https" if tls else "http")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        server.connections += 1
        try:
            await _connection(reader, writer, handler, server)
        except (ConnectionError, h11.RemoteProtocolError, ssl.SSLError,
                asyncio.CancelledError):
            pass  # a client gone, a failed handshake, or the server stopping
        finally:
            writer.close()
            tasks.discard(task)

    listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for task in list(tasks):
            task.cancel()
        for task in list(tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      handler: Handler, server: Server) -> None:
    conn = h11.Connection(h11.SERVER)
    while True:
        seen = await _request(conn, reader)
        if seen is None:
            return
        server.requests.append(seen)
        answer = handler(seen)
        if inspect.isawaitable(answer):
            answer = await answer
        if answer.hang:
            await asyncio.Event().wait()
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(
            answer.body).encode()
        headers = {"content-length": str(len(body)), **answer.headers}
        if isinstance(answer.body, dict):
            headers.setdefault("content-type", "application/json")
        writer.write(conn.send(h11.Response(status_code=answer.status,
                                            headers=list(headers.items()))) or b"")
        writer.write(conn.send(h11.Data(data=body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
            return
        conn.start_next_cycle()


async def _request(conn: h11.Connection, reader: asyncio.StreamReader) -> Seen | None:
    head: h11.Request | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data and head is None:
                return None
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            headers = {k.decode().lower(): v.decode() for k, v in head.headers}
            return Seen(head.method.decode(), head.target.decode(), headers, body)
        else:
            return None

"""MCP over stdin/stdout pipes, read and written on the event loop: no threads.

The SDK's stdio transport reads and writes through worker threads (a dozen thread hops per
call), and a read blocked in a thread keeps the process alive after Ctrl-C until stdin
closes. Here stdin and stdout are non-blocking pipes served by the event loop (asyncio's
or uvloop's pipe transports). Lines are capped at MAX_LINE_BYTES without buffering an
over-long line, and every line that is not a JSON-RPC message is answered
(server/stdio_framing.py). A regular file or a terminal as stdin or stdout is served
through a pipe a copying thread keeps filled or drained (server/stdio_pumps.py), so the
same limits hold there.

While serving, the protocol travels on private duplicates of fd 0 and fd 1; fd 0 reads
/dev/null and fd 1 writes to stderr, so a stray print or a child process cannot corrupt
the wire (the SDK's stdio transport does the same). Both are restored on exit.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any

import anyio
from mcp.server.lowlevel import Server
from mcp.shared.message import SessionMessage

from server.stdio_framing import decode_line, oversize_reply
from server.stdio_lines import LineReader
from server.stdio_pumps import pumped

log = logging.getLogger(__name__)
FLUSH_TIMEOUT = 5.0  # seconds to deliver the last replies on the way out


async def serve_pipes(server: Server[Any]) -> None:
    """Run the low-level `server` over stdin/stdout until stdin closes."""
    async with pipe_streams() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


@asynccontextmanager
async def pipe_streams() -> AsyncIterator[tuple[PipeReadStream, PipeWriteStream]]:
    """The (read, write) message streams over stdin/stdout, fd 0 and 1 diverted meanwhile."""
    wire_in, wire_out = _private_dup(0), _private_dup(1)
    _divert_std_fds()
    try:
        with pumped(wire_in, wire_out) as (read_fd, write_fd):
            async with streams_over(_private_dup(read_fd), _private_dup(write_fd)) as streams:
                yield streams
    finally:
        _restore_std_fds(wire_in, wire_out)


@asynccontextmanager
async def streams_over(read_fd: int, write_fd: int
                       ) -> AsyncIterator[tuple[PipeReadStream, PipeWriteStream]]:
    """Message streams over a readable and a writable pipe or socket (closed on exit)."""
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    try:
        read_transport, lines = await loop.connect_read_pipe(
            LineReader, os.fdopen(read_fd, "rb", buffering=0))
        transports.append(read_transport)
        write_transport, flow = await loop.connect_write_pipe(
            FlowControl, os.fdopen(write_fd, "wb", buffering=0))
        transports.append(write_transport)
        writer = PipeWriteStream(write_transport, flow)
        try:
            yield PipeReadStream(lines, writer), writer
        finally:
            await writer.flush(FLUSH_TIMEOUT)
    finally:
        for transport in transports:
            transport.close()


def _private_dup(fd: int) -> int:
    """A close-on-exec duplicate of `fd` outside the standard range."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _divert_std_fds() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    os.dup2(2, 1)


def _restore_std_fds(wire_in: int, wire_out: int) -> None:
    with suppress(Exception):  # stray output still buffered belongs on stderr, not the wire
        sys.stdout.flush()
    for wire, fd in ((wire_in, 0), (wire_out, 1)):
        try:
            os.set_blocking(wire, True)  # the open file is shared with whoever started us
            os.dup2(wire, fd)
        except OSError:
            log.warning("could not restore fd %d after serving stdio", fd)
        finally:
            os.close(wire)


class FlowControl(asyncio.Protocol):
    """Write-side flow control: `drain` waits while the pipe's buffer is over its limit."""

    def __init__(self) -> None:
        self._resumed: asyncio.Future[None] | None = None
        self.lost = False

    def pause_writing(self) -> None:
        self._resumed = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._release()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._release()

    async def drain(self) -> None:
        if self._resumed is not None:
            await self._resumed

    def _release(self) -> None:
        if self._resumed is not None and not self._resumed.done():
            self._resumed.set_result(None)
        self._resumed = None


class PipeWriteStream:
    """The write side the SDK's server writes messages to: one JSON line per message."""

    def __init__(self, transport: asyncio.WriteTransport, flow: FlowControl) -> None:
        self._transport = transport
        self._flow = flow

    async def send(self, item: SessionMessage, /) -> None:
        if self._flow.lost or self._transport.is_closing():
            raise anyio.BrokenResourceError("stdout is closed")
        message = item.message
        # the bytes the SDK's stdio transport writes (model_dump_json, UTF-8, newline)
        data = message.__pydantic_serializer__.to_json(message, by_alias=True,
                                                       exclude_unset=True)
        self._transport.write(data + b"\n")
        await self._flow.drain()

    async def flush(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until every reply has left the buffer."""
        if self._flow.lost or self._transport.is_closing():
            return
        self._transport.set_write_buffer_limits(high=0)
        with anyio.move_on_after(timeout, shield=True):
            await self._flow.drain()

    async def aclose(self) -> None:
        return None  # the transport is closed by pipe_streams, after the last flush

    async def __aenter__(self) -> PipeWriteStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


class PipeReadStream:
    """The read side the SDK's server iterates: parsed messages; lines that are not
    messages are answered here and never reach it."""

    def __init__(self, lines: LineReader, writer: PipeWriteStream) -> None:
        self._lines = lines
        self._writer = writer

    async def receive(self) -> SessionMessage:
        while True:
            line = await self._lines.next_line()
            if line is None:
                raise anyio.EndOfStream
            decoded = decode_line(line) if isinstance(line, bytes) else oversize_reply(*line)
            if isinstance(decoded, SessionMessage):
                return decoded
            log.info("stdio: refused a line: %s", decoded.error.message)
            with suppress(anyio.BrokenResourceError):  # the client is gone: read on to EOF
                await self._writer.send(SessionMessage(decoded))

    def __aiter__(self) -> PipeReadStream:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        return None  # the transport is closed by pipe_streams

    async def __aenter__(self) -> PipeReadStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

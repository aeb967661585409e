"""MCP over stdin/stdout pipes, read and written on the event loop: no threads.

The SDK's stdio transport reads and writes through worker threads (a dozen thread hops per
call), and a read blocked in a thread keeps the process alive after Ctrl-C until stdin
closes. Here stdin and stdout are non-blocking pipes served by the event loop (asyncio's
or uvloop's pipe transports). Lines are capped at MAX_LINE_BYTES without buffering an
over-long line, and every line that is not a JSON-RPC message is answered
(server/stdio_framing.py).

While serving, the protocol travels on private duplicates of fd 0 and fd 1; fd 0 reads
/dev/null and fd 1 writes to stderr, so a stray print or a child process cannot corrupt
the wire (the SDK's stdio transport does the same). Both are restored on exit.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import stat
import sys
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, cast

import anyio
from mcp.server.lowlevel import Server
from mcp.shared.message import SessionMessage

from server.stdio_framing import EDGE_BYTES, MAX_LINE_BYTES, decode_line, oversize_reply

log = logging.getLogger(__name__)
QUEUE_HIGH = 4 * MAX_LINE_BYTES  # stop reading stdin while this much waits to be parsed
QUEUE_LOW = MAX_LINE_BYTES
FLUSH_TIMEOUT = 5.0  # seconds to deliver the last replies on the way out

Oversize = tuple[bytes, bytes]  # the first and last bytes of a line over the cap


def pipes_usable() -> bool:
    """Whether stdin and stdout are pipes, FIFOs or sockets (what the loop can poll).

    A terminal or a regular file is left to the SDK's threaded transport: a regular file
    cannot be polled, and a terminal must not be left non-blocking for the shell.
    """
    if sys.platform == "win32":  # pragma: no cover
        return False
    try:
        modes = [os.fstat(fd).st_mode for fd in (0, 1)]
    except OSError:
        return False
    return all(stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) for mode in modes)


async def serve_pipes(server: Server[Any]) -> None:
    """Run the low-level `server` over stdin/stdout until stdin closes."""
    async with pipe_streams() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


@asynccontextmanager
async def pipe_streams() -> AsyncIterator[tuple[PipeReadStream, PipeWriteStream]]:
    """The (read, write) message streams over stdin/stdout, fd 0 and 1 diverted meanwhile."""
    loop = asyncio.get_running_loop()
    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    transports: list[asyncio.BaseTransport] = []
    _divert_std_fds()
    try:
        read_transport, lines = await loop.connect_read_pipe(
            _LineReader, os.fdopen(wire_in, "rb", buffering=0, closefd=True))
        transports.append(read_transport)
        write_transport, flow = await loop.connect_write_pipe(
            _FlowControl, os.fdopen(wire_out, "wb", buffering=0, closefd=True))
        transports.append(write_transport)
        writer = PipeWriteStream(write_transport, flow)
        try:
            yield PipeReadStream(lines, writer), writer
        finally:
            await writer.flush(FLUSH_TIMEOUT)
    finally:
        _restore_std_fds(wire_in, wire_out)
        for transport in transports:
            transport.close()


def _divert_std_fds() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    os.dup2(2, 1)


def _restore_std_fds(wire_in: int, wire_out: int) -> None:
    for wire, fd in ((wire_in, 0), (wire_out, 1)):
        try:
            os.set_blocking(wire, True)  # the open file is shared with whoever started us
            os.dup2(wire, fd)
        except OSError:  # already closed by its transport: leave fd as diverted
            log.debug("could not restore fd %d", fd)


class _LineReader(asyncio.Protocol):
    """Splits stdin into lines of at most MAX_LINE_BYTES; an over-long line is dropped as
    it arrives (only its first and last bytes are kept, to answer it)."""

    def __init__(self) -> None:
        self._lines: deque[bytes | Oversize] = deque()
        self._queued = 0  # bytes in _lines
        self._partial = bytearray()  # the line being received
        self._skipping: tuple[bytearray, bytearray] | None = None  # head, tail of an over-long one
        self._eof = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.ReadTransport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if not self._partial and self._skipping is None:
                if end - start <= MAX_LINE_BYTES:  # the usual case: a whole line in one read
                    self._queue(data[start:end])
                    start = end + 1
                    continue
            self._extend(data, start, end)
            self._end_line()
            start = end + 1
        if start < len(data):
            self._extend(data, start, len(data))
        self._wake()
        if self._queued > QUEUE_HIGH and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool | None:
        self._finish()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    async def next_line(self) -> bytes | Oversize | None:
        """The next line (or over-long line), None at end of input."""
        while not self._lines:
            if self._eof:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._lines.popleft()
        self._queued -= len(item) if isinstance(item, bytes) else 0
        if self._paused and self._queued <= QUEUE_LOW and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return item

    def _extend(self, data: bytes, start: int, end: int) -> None:
        if self._skipping is not None:
            tail = self._skipping[1]
            tail += data[max(start, end - EDGE_BYTES):end]
            del tail[:-EDGE_BYTES]
        elif len(self._partial) + end - start > MAX_LINE_BYTES:
            whole = self._partial + data[start:start + EDGE_BYTES]
            tail = (self._partial[-EDGE_BYTES:] + data[max(start, end - EDGE_BYTES):end])
            self._skipping = (whole[:EDGE_BYTES], tail[-EDGE_BYTES:])
            self._partial = bytearray()  # frees the buffered part of the line
        else:
            self._partial += data[start:end]

    def _end_line(self) -> None:
        if self._skipping is not None:
            head, tail = self._skipping
            self._skipping = None
            self._lines.append((bytes(head), bytes(tail)))
        elif self._partial:
            line, self._partial = bytes(self._partial), bytearray()
            self._queue(line)

    def _queue(self, line: bytes) -> None:
        if line.strip():  # blank lines carry nothing and get no answer
            self._lines.append(line)
            self._queued += len(line)

    def _finish(self) -> None:
        if not self._eof:
            self._end_line()  # a last line without a newline still counts
            self._eof = True
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _FlowControl(asyncio.Protocol):
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

    def __init__(self, transport: asyncio.WriteTransport, flow: _FlowControl) -> None:
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

    def __init__(self, lines: _LineReader, writer: PipeWriteStream) -> None:
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

"""stdin split into lines, on the event loop: capped, with backpressure.

A line longer than MAX_LINE_BYTES is dropped as it arrives (only its first and last
EDGE_BYTES are kept, to answer it), so memory does not grow with the line. When parsed
lines wait unread (QUEUE_HIGH bytes), reading pauses until the server catches up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

from server.stdio_framing import EDGE_BYTES, MAX_LINE_BYTES

QUEUE_HIGH = 4 * MAX_LINE_BYTES  # stop reading stdin while this much waits to be parsed
QUEUE_LOW = MAX_LINE_BYTES

Oversize = tuple[bytes, bytes]  # the first and last bytes of a line over the cap


class LineReader(asyncio.Protocol):
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
            head = self._partial[:EDGE_BYTES] + data[start:start + EDGE_BYTES]
            tail = self._partial[-EDGE_BYTES:] + data[max(start, end - EDGE_BYTES):end]
            self._skipping = (head[:EDGE_BYTES], tail[-EDGE_BYTES:])
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
        if line and not line.isspace():  # blank lines carry nothing and get no answer
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

"""stdio lines: split, capped and answered (server/stdio_lines.py, server/stdio_framing.py),
on a real pipe in this process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCError, JSONRPCRequest

from server.stdio_framing import (
    EDGE_BYTES,
    MAX_LINE_BYTES,
    NOT_A_MESSAGE_TEXT,
    TOO_LARGE_TEXT,
    decode_line,
    oversize_reply,
    recover_id,
)
from server.stdio_lines import QUEUE_HIGH, QUEUE_LOW, LineReader

pytestmark = pytest.mark.anyio


@pytest.fixture
async def reader() -> AsyncIterator[tuple[LineReader, asyncio.ReadTransport, int]]:
    """A LineReader on the read end of a real pipe, and the write end."""
    read_fd, write_fd = os.pipe()
    transport, lines = await asyncio.get_running_loop().connect_read_pipe(
        LineReader, os.fdopen(read_fd, "rb", buffering=0))
    yield lines, transport, write_fd
    transport.close()
    os.close(write_fd)


async def drain(lines: LineReader) -> list[bytes | tuple[bytes, bytes]]:
    items = []
    while (item := await lines.next_line()) is not None:
        items.append(item)
    return items


async def test_lines_are_split_whatever_the_reads_and_the_last_needs_no_newline(
    reader: tuple[LineReader, asyncio.ReadTransport, int],
) -> None:
    lines, _, write_fd = reader
    lines.data_received(b'{"a": 1}\n{"b"')
    lines.data_received(b': 2}\r\n\n   \n{"c": 3}\n{"d"')
    lines.eof_received()
    assert await drain(lines) == [b'{"a": 1}', b'{"b": 2}\r', b'{"c": 3}', b'{"d"']


async def test_an_over_long_line_is_dropped_as_it_comes_keeping_only_its_edges(
    reader: tuple[LineReader, asyncio.ReadTransport, int],
) -> None:
    lines, _, _ = reader
    head = b'{"jsonrpc":"2.0","id":5,"method":"x","params":"'
    lines.data_received(head)
    for _ in range(3):
        lines.data_received(b"y" * (MAX_LINE_BYTES // 2))
    lines.data_received(b'end"}\n{"next": true}\n')
    at_the_cap = b"z" * MAX_LINE_BYTES
    lines.data_received(at_the_cap[:1000])
    lines.data_received(at_the_cap[1000:] + b"\n")
    lines.eof_received()
    (first_head, first_tail), following, last = await drain(lines)
    assert first_head == (head + b"y" * EDGE_BYTES)[:EDGE_BYTES]
    assert first_tail == (b"y" * EDGE_BYTES + b'end"}')[-EDGE_BYTES:]
    assert following == b'{"next": true}'
    assert last == at_the_cap  # a line of exactly the cap is still a line


async def test_reading_pauses_while_parsed_lines_pile_up_and_resumes_as_they_are_read(
    reader: tuple[LineReader, asyncio.ReadTransport, int],
) -> None:
    lines, transport, _ = reader
    line = b"x" * 1000 + b"\n"
    lines.data_received(line * (QUEUE_HIGH // 1000 + 1))
    assert not transport.is_reading()
    while transport.is_reading() is False:
        assert await lines.next_line() == b"x" * 1000
    remaining = 0
    lines.eof_received()
    while await lines.next_line() is not None:
        remaining += 1
    assert remaining * 1000 <= QUEUE_LOW


REQUEST = b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"track"}}'


@pytest.mark.parametrize(("line", "code", "request_id"), [
    (b"", -32700, None),
    (b'{"jsonrpc":"2.0","id":3,"method":"ping"} trailing', -32700, 3),
    (b'{"jsonrpc":"2.0","id":"s-1","method":"ping","params":{"x":"\\ud800"}}', -32700, "s-1"),
    (b'{"id": 4, "jsonrpc": "2.0", "method": "ping", "params": {"x": 1e5 "oops"}}', -32700, 4),
    (b'{"jsonrpc":"2.0","result":{},"id":5,"x":[}', -32700, None),  # no method: not a request
    (b'{"method":"ping","params":{"id":6}', -32700, None),  # nested id, line never closed
    (b'{"jsonrpc":"2.0","id":' + b"1" * 4400 + b',"method":"ping"}', -32700, None),
    (b'{"jsonrpc":"1.0","id":7,"method":"ping"}', -32600, 7),
    (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, None),
    (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, None),
    (b'{"jsonrpc":"2.0","id":8,"result":"not an object"}', -32600, None),
])
def test_a_line_that_is_no_message_gets_the_error_and_the_id_it_shows(
    line: bytes, code: int, request_id: int | str | None,
) -> None:
    reply = decode_line(line)
    assert isinstance(reply, JSONRPCError)
    assert (reply.error.code, reply.id) == (code, request_id)
    if code == -32600:
        assert reply.error.message == NOT_A_MESSAGE_TEXT


def test_messages_pass_as_the_sdk_reads_them_invalid_utf8_replaced() -> None:
    decoded = decode_line(REQUEST)
    assert isinstance(decoded, SessionMessage)
    assert isinstance(decoded.message, JSONRPCRequest) and decoded.message.id == 3
    replaced = decode_line(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xff"}}')
    assert isinstance(replaced, SessionMessage)
    assert replaced.message.params == {"x": "\ufffd"}  # type: ignore[union-attr]
    notification = decode_line(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    assert isinstance(notification, SessionMessage)


def test_an_over_long_line_is_answered_with_the_id_its_edges_show() -> None:
    python_order = REQUEST[:50], b'"}}'
    typescript_order = b'{"method":"tools/call","params":{"x":"', b'yy"},"jsonrpc":"2.0","id":"t9"}'
    reply = oversize_reply(*python_order)
    assert (reply.id, reply.error.code, reply.error.message) == (3, -32600, TOO_LARGE_TEXT)
    assert oversize_reply(*typescript_order).id == "t9"
    assert recover_id(b'{"params":{"id":1,"method":"x"', b"}}") is None
    assert recover_id(b'{"method":"x","params":{"a":', b'{"id":2}}') is None

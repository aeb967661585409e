"""A real SMTP server (aiosmtpd) on loopback that counts what arrives by Message-ID.

Used by the delivery crash test (on the test's event loop) and by tests/bench/bench_send.py
(in a process of its own, so the server's CPU is not the client's). Each DATA is recorded
as soon as it arrived, then the handler waits `delay` seconds before answering 250: a
client killed in that window never learns the message arrived, as with a real provider.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


def message_id_of(data: bytes) -> str | None:
    """The Message-ID header of a raw message (in its header block), or None."""
    head = data.split(b"\r\n\r\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


@dataclass
class CountingHandler:
    """Records each message's Message-ID (a repeat counts again) and its size."""

    delay: float = 0.0
    ids: Counter[str] = field(default_factory=Counter)
    arrived: int = 0  # messages received, repeats included
    bytes_received: int = 0
    without_id: int = 0
    connections: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = bytes(envelope.original_content or b"")
        mid = message_id_of(data)
        if mid is None:
            self.without_id += 1
        else:
            self.ids[mid] += 1
        self.arrived += 1
        self.bytes_received += len(data)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued"

    def duplicates(self) -> int:
        """Arrivals beyond the first of each Message-ID."""
        return sum(count - 1 for count in self.ids.values())


@asynccontextmanager
async def counting_smtp_server(delay: float = 0.0, port: int = 0
                               ) -> AsyncIterator[tuple[int, CountingHandler]]:
    """Listens on 127.0.0.1 (`port`, default a free one), plain SMTP, no auth."""
    loop = asyncio.get_running_loop()
    handler = CountingHandler(delay)

    def factory() -> SMTP:
        handler.connections += 1
        # data_size_limit off: a message is never refused for its size
        return SMTP(handler, hostname="mail.test", loop=loop, data_size_limit=None)

    server = await loop.create_server(factory, "127.0.0.1", port)
    try:
        yield server.sockets[0].getsockname()[1], handler
    finally:
        server.close()
        await server.wait_closed()


def serve_in_process(ready: Any, stop: Any, counts: Any, delay: float = 0.0) -> None:
    """Target of a multiprocessing.Process: serve until `stop` (an Event) is set; sends
    the port on `ready` (a Connection), keeps counts[0] = arrivals, counts[1] = bytes,
    counts[2] = distinct Message-IDs (a shared Array) up to date."""

    async def main() -> None:
        async with counting_smtp_server(delay) as (port, handler):
            ready.send(port)
            while not stop.is_set():
                counts[0], counts[1], counts[2] = (handler.arrived, handler.bytes_received,
                                                   len(handler.ids))
                await asyncio.sleep(0.005)
            counts[0], counts[1], counts[2] = (handler.arrived, handler.bytes_received,
                                               len(handler.ids))

    asyncio.run(main())

"""uvicorn's httptools protocol, guarded: a cap on open connections and deadlines for slow
request headers and bodies.

uvicorn (0.54) closes idle keep-alive connections, but has no deadline for a connection
that never finishes its request headers or body, and `limit_concurrency` answers 503 only
after it has read and parsed a request. Here a connection over the cap is closed the moment
it is accepted, and a deadline runs from a connection's (or a request's) first byte to the
end of its headers, then from there to the end of its body. Everything hangs on the
asyncio.Protocol methods and the parser callbacks of httptools, which uvicorn's protocol
implements.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
REFUSAL_LOG_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout: float = 10.0  # seconds from a request's first byte to its last header
    body_timeout: float = 30.0  # seconds from the end of the headers to the end of the body
    keep_alive_timeout: float = 5.0  # seconds an idle keep-alive connection stays open


class _RefusalLog:
    """One warning per interval while connections are being refused, with the count."""

    def __init__(self) -> None:
        self.refused = 0
        self.logged_at = float("-inf")

    def note(self, limits: ConnectionLimits) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self.logged_at >= REFUSAL_LOG_INTERVAL_S:
            log.warning("connection cap reached: %d connections open (--max-connections); "
                        "closing new connections at once (%d since the last warning)",
                        limits.max_connections, self.refused)
            self.logged_at, self.refused = now, 0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with `limits` (set on the subclass `guarded_protocol` makes)."""

    limits: ClassVar[ConnectionLimits]
    refusals: ClassVar[_RefusalLog]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            # before uvicorn sees it: no parser work, and the descriptor is freed now
            self._refused = True
            transport.abort()
            self.refusals.note(self.limits)
            return
        super().connection_made(transport)
        self._arm(self.limits.header_timeout, "request headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if not self._refused:
            super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the first request's deadline runs from the connection
            self._arm(self.limits.header_timeout, "request headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._arm(self.limits.body_timeout, "request body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, what)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, what: str) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.debug("closed a connection from %s: %s not complete in time", self.client, what)
            # abort, not close: close would wait for a client that does not read
            self.transport.abort()


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class for `uvicorn.Config(http=...)` that enforces `limits`."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,),
                {"limits": limits, "refusals": _RefusalLog()})

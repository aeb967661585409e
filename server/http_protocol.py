"""uvicorn's httptools protocol, guarded: a cap on open connections and deadlines for slow
request headers and bodies.

uvicorn (0.54) closes idle keep-alive connections, but has no deadline for a connection
that never finishes its request headers or body, and `limit_concurrency` answers 503 only
after it has read and parsed a request. Here, at the cap, a new connection takes the place
of the connection idle longest (one that has not completed a request's headers yet first,
then one idle between requests) and is closed at once, before anything is read, when every
connection has a request in progress. Connections that only hold a slot therefore cannot
lock new clients out. A deadline runs from a connection's (or a request's) first byte to the end of
its headers, then from there to the end of its body. Everything hangs on the
asyncio.Protocol methods and the parser callbacks of httptools, which uvicorn's protocol
implements.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
CAP_LOG_INTERVAL_S = 10.0


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    header_timeout: float = 10.0  # seconds from a request's first byte to its last header
    body_timeout: float = 30.0  # seconds from the end of the headers to the end of the body
    keep_alive_timeout: float = 5.0  # seconds an idle keep-alive connection stays open


class _Idle:
    """The server's connections without a request in progress, longest idle first, and a
    warning at most every CAP_LOG_INTERVAL_S while the cap is reached."""

    def __init__(self) -> None:
        self.fresh: OrderedDict[GuardedHttpToolsProtocol, None] = OrderedDict()  # no request yet
        self.between: OrderedDict[GuardedHttpToolsProtocol, None] = OrderedDict()  # keep-alive
        self.closed = {"replaced": 0, "refused": 0}
        self.logged_at = float("-inf")

    def busy(self, connection: GuardedHttpToolsProtocol) -> None:
        self.fresh.pop(connection, None)
        self.between.pop(connection, None)

    def longest_idle(self) -> GuardedHttpToolsProtocol | None:
        for idle in (self.fresh, self.between):
            if idle:
                return idle.popitem(last=False)[0]
        return None

    def note(self, how: str, limits: ConnectionLimits) -> None:
        self.closed[how] += 1
        now = time.monotonic()
        if now - self.logged_at >= CAP_LOG_INTERVAL_S:
            log.warning("connection cap reached: %d connections open (--max-connections); "
                        "since the last warning %d idle connection(s) closed for new ones, "
                        "%d new one(s) closed at once", limits.max_connections,
                        self.closed["replaced"], self.closed["refused"])
            self.logged_at, self.closed = now, {"replaced": 0, "refused": 0}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with `limits` (set on the subclass `guarded_protocol` makes)."""

    limits: ClassVar[ConnectionLimits]
    idle: ClassVar[_Idle]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not self._make_room():
            # before uvicorn sees it: no parser work, and the descriptor is freed now
            self._refused = True
            transport.abort()
            self.idle.note("refused", self.limits)
            return
        super().connection_made(transport)
        self.idle.fresh[self] = None
        self._arm(self.limits.header_timeout, "request headers")

    def _make_room(self) -> bool:
        """Close the connection idle longest, if there is one."""
        victim = self.idle.longest_idle()
        if victim is None:
            return False
        self.connections.discard(victim)  # its slot is this one's (its fd closes this pass)
        victim.transport.abort()
        self.idle.note("replaced", self.limits)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.idle.busy(self)
        if not self._refused:
            super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # the first request's deadline runs from the connection
            self._arm(self.limits.header_timeout, "request headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        self.idle.busy(self)  # a request is in progress; a partial one does not count
        super().on_headers_complete()
        self._arm(self.limits.body_timeout, "request body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # idle until the next request begins
            self.idle.between[self] = None

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
                {"limits": limits, "idle": _Idle()})

"""Reused SMTP connections: a few per server and account, closed after a minute idle."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import aiosmtplib
import certifi

from server.channels.net_guard import Destinations, open_socket

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to connect; equal servers share connections."""

    host: str
    port: int
    security: Security
    username: str | None
    password: str | None = field(repr=False)
    timeout: float
    tls_verify: bool
    ca_file: str | None
    helo_name: str
    checked: bool  # the host passes the private-destination check

    def key(self) -> tuple[object, ...]:
        # The password's digest is part of the key: a connection authenticated with one
        # password is never lent to a sender that gave another (or none).
        secret = hashlib.sha256((self.password or "").encode("utf-8", "replace")).hexdigest()
        return (self.host.lower(), self.port, self.security, self.username, secret,
                self.timeout, self.tls_verify, self.ca_file, self.helo_name, self.checked)


@dataclass
class Lease:
    """A connection lent for one message; `reused` when it carried one before."""

    smtp: aiosmtplib.SMTP
    reused: bool
    server: SmtpServer
    pool: _Pool = field(repr=False)


class _Pool:
    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        self.busy = 0
        self.idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self.tls: ssl.SSLContext | None = None


class SmtpPools:
    """The pools of every SMTP server in use, keyed by SmtpServer.key()."""

    def __init__(self, destinations: Destinations, *, size: int = 4, idle_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._destinations = destinations
        self._size = size
        self._idle_s = idle_s
        self._monotonic = monotonic
        self._pools: dict[tuple[object, ...], _Pool] = {}
        self._reaper: asyncio.Task[None] | None = None

    async def lease(self, server: SmtpServer) -> Lease:
        """A connected (and, with a username, authenticated) connection to `server`."""
        key = server.key()
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._size)
        await pool.slots.acquire()
        pool.busy += 1
        try:
            while pool.idle:
                smtp, since = pool.idle.pop()
                if smtp.is_connected and self._monotonic() - since < self._idle_s:
                    return Lease(smtp, True, server, pool)
                smtp.close()
            return Lease(await self._connect(server, pool), False, server, pool)
        except BaseException:
            pool.busy -= 1
            pool.slots.release()
            raise

    def release(self, lease: Lease, *, healthy: bool) -> None:
        """Give `lease` back: kept for reuse when healthy and connected, else closed."""
        pool = lease.pool
        current = self._pools.get(lease.server.key()) is pool
        if healthy and current and lease.smtp.is_connected:
            pool.idle.append((lease.smtp, self._monotonic()))
            self._start_reaper()
        else:
            lease.smtp.close()
        pool.busy -= 1
        pool.slots.release()

    async def prune(self) -> None:
        """Close the connections idle for longer than idle_s."""
        now = self._monotonic()
        stale: list[aiosmtplib.SMTP] = []
        for key, pool in list(self._pools.items()):
            keep: list[tuple[aiosmtplib.SMTP, float]] = []
            for smtp, since in pool.idle:
                if now - since < self._idle_s and smtp.is_connected:
                    keep.append((smtp, since))
                else:
                    stale.append(smtp)
            pool.idle = keep
            if not keep and pool.busy == 0:
                del self._pools[key]
        await asyncio.gather(*(_quit(smtp) for smtp in stale))

    def idle_count(self) -> int:
        return sum(len(pool.idle) for pool in self._pools.values())

    async def aclose(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        idle = [smtp for pool in self._pools.values() for smtp, _ in pool.idle]
        self._pools.clear()
        await asyncio.gather(*(_quit(smtp) for smtp in idle))

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        while self.idle_count():
            await asyncio.sleep(max(self._idle_s / 4, 0.05))
            await self.prune()

    async def _connect(self, server: SmtpServer, pool: _Pool) -> aiosmtplib.SMTP:
        tls = None
        if server.security != "none":
            if pool.tls is None:
                pool.tls = await asyncio.to_thread(_tls_context, server)
            tls = pool.tls
        sock = await open_socket(self._destinations, server.host, server.port,
                                 trusted=not server.checked, timeout=server.timeout)
        smtp = aiosmtplib.SMTP(
            hostname=server.host, sock=sock, use_tls=server.security == "tls",
            start_tls=server.security == "starttls", tls_context=tls,
            local_hostname=server.helo_name, timeout=server.timeout,
            username=server.username, password=server.password)
        try:
            await smtp.connect()
        except BaseException:
            smtp.close()
            sock.close()
            raise
        log.debug("smtp: connected to %s:%d (%s)", server.host, server.port, server.security)
        return smtp


def _tls_context(server: SmtpServer) -> ssl.SSLContext:
    """Verifies the server's certificate against its host name (unless tls_verify is off)."""
    context = ssl.create_default_context(cafile=server.ca_file or certifi.where())
    if not server.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit(timeout=2.0)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
    finally:
        smtp.close()

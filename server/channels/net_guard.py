"""The private-destination policy: hosts an agent names must not reach the operator's network.

A host is resolved once, every address is checked, and the connection is made to a checked
address (never to the name again, so DNS rebinding between the check and the connect is
moot). For HTTP this is a network backend under httpx: each new connection resolves, checks
and connects to the IP, while the URL keeps the host name, so TLS verifies the name and the
connection pool is keyed by the name (a pool keyed by IP would reuse a TLS connection
verified for one name for another name on the same IP, as on a CDN).
"""

from __future__ import annotations

import asyncio
import ipaddress
import select
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_FLAGS = ("unspecified", "loopback", "link_local", "multicast", "reserved", "private")


class RefusedDestination(Exception):
    """A host resolved to a private (or otherwise non-public) address."""


class InvalidUrl(ValueError):
    """A URL that is not an absolute http(s) URL with a host and no userinfo."""


def refusal_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public destination ("loopback", ...), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal_reason(embedded)
            return f"embeds {embedded}, {inner}" if inner else None
    for flag in _FLAGS:
        if getattr(ip, f"is_{flag}"):
            return flag.replace("_", "-")
    return None if ip.is_global else "not globally routable"


class Destinations:
    """Resolves hosts and refuses non-public addresses unless allowed."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def resolve(self, host: str, port: int, *, trusted: bool = False) -> list[IPAddress]:
        """The addresses of `host`, in resolver order. Raises RefusedDestination when any
        is not public (unless allow_private or trusted), OSError when it does not resolve."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (UnicodeError, ValueError) as exc:  # an unencodable name, a NUL in it
            raise OSError(f"{host[:80]!r} is not a valid host name: {exc}") from None
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise OSError(f"{host} has no address")
        if not (self.allow_private or trusted):
            for ip in addresses:
                reason = refusal_reason(ip)
                if reason:
                    raise RefusedDestination(
                        f"refused {host!r}: it resolves to {ip} ({reason}); private "
                        "destinations are not allowed for agent-configured providers")
        return addresses


def check_url(url: str) -> httpx.URL:
    """`url` parsed, when it is an absolute http(s) URL with a host and no userinfo."""
    if not isinstance(url, str) or not url:
        raise InvalidUrl("the url is empty; write an absolute http(s) URL")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidUrl(f"the url {url[:80]!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise InvalidUrl(f"the url {url[:80]!r} is not http or https")
    if not parsed.host:
        raise InvalidUrl(f"the url {url[:80]!r} has no host")
    if parsed.userinfo:
        raise InvalidUrl(f"the url {url[:80]!r} has a user name or password in it; "
                         "put credentials in headers")
    return parsed


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses Destinations checked."""

    def __init__(self, destinations: Destinations, *, trusted: bool) -> None:
        self._destinations = destinations
        self._trusted = trusted
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._destinations.resolve(host, port, trusted=self._trusted)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for ip in addresses:
            try:
                return _CheapReadable(await self._inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not destinations")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


QUIET_S = 0.01


class _CheapReadable(httpcore.AsyncNetworkStream):
    """An AnyIO stream whose "is_readable" is one poll of its socket. httpcore asks it of
    every idle pooled connection on every request and response; through anyio's typed
    attributes each ask also cost a getpeername() and a dict of every attribute: a third
    of the event loop's time while sending webhooks."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")
        self._quiet_until = 0.0  # not readable when last polled: trusted until then

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        return _CheapReadable(await self._inner.start_tls(ssl_context, server_hostname,
                                                          timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            # Asked of every idle connection whenever the pool assigns a request, hundreds
            # of times a second under load: a poll that found nothing is trusted for
            # QUIET_S (a server closing in that instant fails one request, retried later).
            now = time.monotonic()
            if now < self._quiet_until:
                return False
            readable = _readable(self._socket)
            if not readable:
                self._quiet_until = now + QUIET_S
            return readable
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket) -> bool:
    """Whether the socket has data (or EOF) to read now; a closed one counts as readable."""
    if sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def checked_transport(
    destinations: Destinations, *, trusted: bool, verify: ssl.SSLContext | bool = True,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through CheckedBackend."""
    limits = limits or httpx.Limits()
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
    # httpx takes no network backend; its pool is replaced by one built the same way.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=CheckedBackend(destinations, trusted=trusted),
    )
    return transport


async def open_socket(
    destinations: Destinations, host: str, port: int, *, trusted: bool, timeout: float,
) -> socket.socket:
    """A connected non-blocking TCP socket to a checked address of `host` (for SMTP)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        addresses = await destinations.resolve(host, port, trusted=trusted)
        failure: OSError = OSError(f"cannot connect to {host} on port {port}")
        for ip in addresses:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, (str(ip), port))
                return sock
            except OSError as exc:
                sock.close()
                failure = OSError(f"cannot connect to {host} ({ip}) on port {port}: {exc}")
            except BaseException:
                sock.close()
                raise
        raise failure

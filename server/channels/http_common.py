"""HTTP plumbing the senders share: the clients, one bounded exchange, answers as Outcomes."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from server.channels.base import Outcome
from server.channels.net_guard import Destinations, RefusedDestination, checked_transport
from tools.core.delivery.retry import classify_http

MAX_BODY_BYTES = 16_384  # of a provider's answer kept for the detail (the rest is dropped)
USER_AGENT = "customerio-mcp/0.1"
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


class HttpClients:
    """The process's HTTP clients: one for operator-trusted hosts, one whose every connection
    passes the private-destination check (the same client when private ones are allowed)."""

    def __init__(self, allow_private: bool, *, verify: ssl.SSLContext | bool = True,
                 max_connections: int = 100) -> None:
        self.destinations = Destinations(allow_private)
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections // 4,
                              keepalive_expiry=30.0)
        self._trusted = self._client(trusted=True, verify=verify, limits=limits)
        self._checked = (self._trusted if allow_private
                         else self._client(trusted=False, verify=verify, limits=limits))

    def _client(self, *, trusted: bool, verify: ssl.SSLContext | bool,
                limits: httpx.Limits) -> httpx.AsyncClient:
        transport = checked_transport(self.destinations, trusted=trusted, verify=verify,
                                      limits=limits)
        return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False,
                                 headers={"User-Agent": USER_AGENT,
                                          "Accept-Encoding": "identity"})

    def client(self, trusted: bool) -> httpx.AsyncClient:
        """The client for a destination the operator wrote (trusted) or anyone else did."""
        return self._trusted if trusted else self._checked

    async def aclose(self) -> None:
        await self._trusted.aclose()
        if self._checked is not self._trusted:
            await self._checked.aclose()


@dataclass(frozen=True)
class Reply:
    """A provider's HTTP answer, its body cut at MAX_BODY_BYTES."""

    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def exchange(client: httpx.AsyncClient, request: httpx.Request,
                   timeout: float) -> Reply | Outcome:
    """Send `request` and read (a bounded part of) the answer within `timeout` seconds in
    all; a network failure or a refused destination is an Outcome, never an exception."""
    try:
        async with asyncio.timeout(timeout):
            response = await client.send(request, stream=True)
            try:
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) >= MAX_BODY_BYTES:
                        break
            finally:
                await response.aclose()
    except RefusedDestination as exc:
        return Outcome("permanent", one_line(str(exc)))
    except (TimeoutError, httpx.TimeoutException):
        return Outcome("transient", f"no answer from {request.url.host} within {timeout:g} s")
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
        return Outcome("permanent", one_line(f"request refused by the client: {exc}"))
    except httpx.HTTPError as exc:
        return Outcome("transient", one_line(f"{type(exc).__name__}: {exc}"))
    return Reply(response.status_code, response.headers, bytes(body[:MAX_BODY_BYTES]))


def reply_outcome(reply: Reply, what: str | None, now: float, *,
                  provider_message_id: str | None = None) -> Outcome:
    """`reply` as an Outcome: its status classified, `what` (the provider's words) in the
    detail, a Retry-After honoured on 429 and 503."""
    kind = classify_http(reply.status)
    detail = f"HTTP {reply.status}"
    if what:
        detail += f": {what}"
    retry_after = None
    if reply.status in (429, 503):
        retry_after = parse_retry_after(reply.headers.get("retry-after"), now)
    return Outcome(kind, one_line(detail), provider_message_id=provider_message_id,
                   retry_after=retry_after)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header (delay-seconds, or an HTTP date against `now`)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now) if when.tzinfo else None


def one_line(text: str, limit: int = 300) -> str:
    """`text` on one line, at most `limit` characters."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def setting(settings: Mapping[str, Any], name: str) -> str | None:
    """A non-empty string setting, or None."""
    value = settings.get(name)
    return value if isinstance(value, str) and value else None


def lacking(settings: Mapping[str, Any], provider: str, *names: str) -> Outcome | None:
    """A permanent Outcome naming the required settings that are missing, or None."""
    absent = [name for name in names if setting(settings, name) is None]
    if not absent:
        return None
    return Outcome("permanent", f"{provider} settings lack {', '.join(absent)}")


def timeout_setting(settings: Mapping[str, Any], default: float) -> float:
    """The `timeout` setting (seconds, up to 300), or `default`."""
    value = settings.get("timeout")
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 300:
        return float(value)
    return default


def render_request(request: httpx.Request) -> bytes:
    """`request` as HTTP/1.1 text, without its Authorization header (for capture)."""
    lines = [f"{request.method} {request.url.raw_path.decode('ascii')} HTTP/1.1"]
    lines += [f"{name.decode('latin-1')}: {value.decode('latin-1')}"
              for name, value in request.headers.raw if name.lower() != b"authorization"]
    head = "\r\n".join(lines).encode("utf-8") + b"\r\n\r\n"
    return head + request.read()

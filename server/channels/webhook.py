"""Webhooks: the agent's request to the agent's URL, signed, with a stable Idempotency-Key.

Content: url, method (default POST), headers (a map), body (a string). Settings:
signing_secret. The URL comes from the agent's content, so it always passes the
private-destination check (allow_private lifts it for the whole process).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from server.channels.base import Outcome, Outgoing
from server.channels.http_common import (
    HttpClients,
    exchange,
    one_line,
    reply_outcome,
    setting,
)
from server.channels.net_guard import InvalidUrl, check_url

TIMEOUT_S = 4.0  # the whole exchange: connect, send, answer
METHODS = ("POST", "PUT", "PATCH", "DELETE", "GET")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
_FORBIDDEN = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te",
              "trailer", "keep-alive", "proxy-connection"}
_OURS = {"x-cio-timestamp", "x-cio-signature", "idempotency-key"}


class InvalidWebhook(ValueError):
    """Webhook content that cannot become a request."""


def idempotency_key(message_id: str) -> str:
    """The same on every attempt at one message, and only a function of its id."""
    digest = hashlib.sha256(b"customerio-mcp webhook\x00" + message_id.encode("utf-8"))
    return digest.hexdigest()[:32]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `v0:<timestamp>:<body>` under `secret`."""
    signed = b"v0:" + timestamp.encode("ascii") + b":" + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def webhook_headers(outgoing: Outgoing, body: bytes) -> dict[str, str]:
    """The agent's headers (checked), a Content-Type, the signature and Idempotency-Key."""
    given = outgoing.content.get("headers") or {}
    if not isinstance(given, Mapping):
        raise InvalidWebhook("headers must be a map of names to values")
    headers: dict[str, str] = {}
    for name, value in given.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise InvalidWebhook(f"the header name {str(name)[:40]!r} is not a valid token")
        if name.lower() in _FORBIDDEN:
            raise InvalidWebhook(f"the header {name!r} is set by the client; remove it")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidWebhook(f"the header {name!r} must be a string")
        text = str(value)
        if any(c in text for c in "\r\n\x00"):
            raise InvalidWebhook(f"the header {name!r} contains a line break")
        if name.lower() not in _OURS:
            headers[name] = text
    if not any(name.lower() == "content-type" for name in headers):
        json_body = _is_json(body)
        headers["Content-Type"] = "application/json" if json_body else "text/plain; charset=utf-8"
    timestamp = str(int(outgoing.sent_at))
    headers["X-CIO-Timestamp"] = timestamp
    secret = setting(outgoing.settings, "signing_secret")
    if secret:
        headers["X-CIO-Signature"] = signature(secret, timestamp, body)
    headers["Idempotency-Key"] = idempotency_key(outgoing.message_id)
    return headers


class WebhookSender:
    """One request per attempt; redirects are not followed."""

    def __init__(self, http: HttpClients, *, timeout: float = TIMEOUT_S) -> None:
        self._http = http
        self._timeout = timeout

    async def send(self, outgoing: Outgoing) -> Outcome:
        content = outgoing.content
        try:
            url = check_url(str(content.get("url") or ""))
            method = str(content.get("method") or "POST").upper()
            if method not in METHODS:
                raise InvalidWebhook(f"the method {method[:10]!r} is not one of "
                                     f"{', '.join(METHODS)}")
            body = _body(content.get("body"))
            headers = webhook_headers(outgoing, body)
        except (InvalidUrl, InvalidWebhook) as exc:
            return Outcome("permanent", one_line(f"webhook: {exc}"))
        client = self._http.client(trusted=False)
        request = client.build_request(method, url, content=body, headers=headers,
                                       timeout=self._timeout)
        reply = await exchange(client, request, self._timeout)
        if isinstance(reply, Outcome):
            return reply
        if 300 <= reply.status < 400:
            where = reply.headers.get("location", "")
            return Outcome("permanent", one_line(
                f"HTTP {reply.status} redirect to {where[:200]} (redirects are not followed)"))
        return reply_outcome(reply, reply.text()[:200] if reply.status >= 300 else None,
                             outgoing.sent_at)

    async def aclose(self) -> None:
        return None


def _body(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True

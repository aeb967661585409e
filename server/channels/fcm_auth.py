"""OAuth access tokens for FCM from a service account: a signed JWT exchanged at token_uri,
kept until shortly before it expires."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from typing import Any

import jwt

from server.channels.base import Outcome
from server.channels.http_common import (
    HttpClients,
    exchange,
    one_line,
    reply_outcome,
    setting,
    timeout_setting,
)
from server.channels.net_guard import InvalidUrl, check_url

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
TOKEN_URI = "https://oauth2.googleapis.com/token"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
EARLY_S = 300.0  # a token is renewed this long before it expires
MAX_CACHED = 1024


class AccessTokens:
    """The access tokens of the service accounts in use, by (token_uri, account, key)."""

    def __init__(self, http: HttpClients) -> None:
        self._http = http
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def get(self, settings: Mapping[str, Any], *, trusted: bool, now: float) -> str | Outcome:
        """A valid access token (now is the engine clock's Unix time), or the Outcome of the
        token endpoint's refusal."""
        key = _key(settings)
        cached = self._tokens.get(key)
        if cached and cached[1] > now:
            return cached[0]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > now:
                return cached[0]
            answer = await self._fetch(settings, key[0], trusted=trusted, now=now)
            if isinstance(answer, Outcome):
                return answer
            if len(self._tokens) >= MAX_CACHED:
                self._tokens.clear()
                self._locks = {key: lock}
            self._tokens[key] = answer
            return answer[0]

    def drop(self, settings: Mapping[str, Any]) -> None:
        """Forget the token of these settings (the provider refused it)."""
        self._tokens.pop(_key(settings), None)

    async def _fetch(self, settings: Mapping[str, Any], token_uri: str, *, trusted: bool,
                     now: float) -> tuple[str, float] | Outcome:
        try:
            check_url(token_uri)
            assertion = service_account_jwt(settings, token_uri, now)
        except InvalidUrl as exc:
            return Outcome("permanent", one_line(f"fcm token_uri: {exc}"))
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            return Outcome("permanent", one_line(f"fcm private_key cannot sign: {exc}"))
        timeout = timeout_setting(settings, 10.0)
        client = self._http.client(trusted)
        request = client.build_request(
            "POST", token_uri, data={"grant_type": GRANT, "assertion": assertion},
            timeout=timeout, headers={"Accept": "application/json"})
        reply = await exchange(client, request, timeout)
        if isinstance(reply, Outcome):
            return Outcome(reply.kind, f"fcm token endpoint: {reply.detail}")
        body = reply.json()
        body = body if isinstance(body, dict) else {}
        token, expires_in = body.get("access_token"), body.get("expires_in", 3600)
        if 200 <= reply.status < 300 and isinstance(token, str) and token:
            seconds = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
            return token, now + seconds - min(EARLY_S, seconds / 2)
        words = " ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
        refused = reply_outcome(reply, words or reply.text()[:200], now)
        if 200 <= reply.status < 300:
            return Outcome("transient", "fcm token endpoint answered without an access_token")
        return Outcome(refused.kind, f"fcm token endpoint: {refused.detail}",
                       retry_after=refused.retry_after)


def service_account_jwt(settings: Mapping[str, Any], token_uri: str, now: float) -> str:
    """The RS256 assertion of the service account for the FCM scope, valid one hour."""
    issued = int(now)
    claims = {"iss": settings.get("client_email"), "scope": SCOPE, "aud": token_uri,
              "iat": issued, "exp": issued + 3600}
    kid = setting(settings, "private_key_id")
    return jwt.encode(claims, str(settings.get("private_key")), algorithm="RS256",
                      headers={"kid": kid} if kid else None)


def _key(settings: Mapping[str, Any]) -> tuple[str, str, str]:
    secret = str(settings.get("private_key", "")).encode("utf-8", "replace")
    return (setting(settings, "token_uri") or TOKEN_URI, str(settings.get("client_email")),
            hashlib.sha256(secret).hexdigest())

"""Push to Android and iOS devices through FCM HTTP v1.

Settings: project_id, client_email, private_key (PEM), private_key_id (optional), token_uri
(default https://oauth2.googleapis.com/token), base_url (default https://fcm.googleapis.com),
timeout (s, default 10).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Mapping
from typing import Any, Literal

from server.channels.base import Device, Outcome, Outgoing
from server.channels.fcm_auth import AccessTokens
from server.channels.http_common import (
    HttpClients,
    Reply,
    exchange,
    lacking,
    one_line,
    reply_outcome,
    setting,
    timeout_setting,
)
from server.channels.net_guard import InvalidUrl, check_url
from server.channels.push_common import DeviceResult, combine, string_data, text

BASE_URL = "https://fcm.googleapis.com"
PLATFORMS = ("android", "ios")


def fcm_message(device: Device, content: Mapping[str, Any]) -> dict[str, Any]:
    """The v1 request body for one device: notification, string data (the link in it)."""
    notification = {name: value for name, key in (
        ("title", "title"), ("body", "body"), ("image", "image_url"))
        if (value := text(content, key))}
    data = string_data(content)
    link = text(content, "link")
    if link:
        data.setdefault("link", link)
    message: dict[str, Any] = {"token": device.device_id}
    if notification:
        message["notification"] = notification
    if data:
        message["data"] = data
    return {"message": message}


class FcmSender:
    """One v1 send per Android/iOS device, with a cached service-account access token."""

    def __init__(self, http: HttpClients) -> None:
        self._http = http
        self._tokens = AccessTokens(http)

    async def send(self, outgoing: Outgoing) -> Outcome:
        devices = [d for d in outgoing.devices if d.platform in PLATFORMS]
        settings = outgoing.settings
        missing = lacking(settings, "fcm", "project_id", "client_email", "private_key")
        if missing or not devices:
            return missing or combine([], "android or ios")
        try:
            base = str(check_url(setting(settings, "base_url") or BASE_URL)).rstrip("/")
        except InvalidUrl as exc:
            return Outcome("permanent", f"fcm base_url: {exc}")
        token = await self._tokens.get(settings, trusted=outgoing.trusted,
                                       now=outgoing.sent_at)
        if isinstance(token, Outcome):
            return token
        project = urllib.parse.quote(str(settings["project_id"]), safe="")
        url = f"{base}/v1/projects/{project}/messages:send"
        results = await asyncio.gather(
            *(self._one(outgoing, device, url, token) for device in devices))
        return combine(results, "android or ios")

    async def _one(self, outgoing: Outgoing, device: Device, url: str,
                   token: str) -> DeviceResult:
        timeout = timeout_setting(outgoing.settings, 10.0)
        client = self._http.client(outgoing.trusted)
        request = client.build_request(
            "POST", url, json=fcm_message(device, outgoing.content), timeout=timeout,
            headers={"Authorization": f"Bearer {token}"})
        reply = await exchange(client, request, timeout)
        if isinstance(reply, Outcome):
            return DeviceResult(device, _kind(reply), reply.detail)
        if reply.status == 401:
            self._tokens.drop(outgoing.settings)
        return _result(device, reply, outgoing.sent_at)

    async def aclose(self) -> None:
        return None


def _result(device: Device, reply: Reply, now: float) -> DeviceResult:
    body = reply.json()
    body = body if isinstance(body, dict) else {}
    if 200 <= reply.status < 300:
        name = body.get("name")
        name = name if isinstance(name, str) else None
        return DeviceResult(device, "sent", "sent", provider_message_id=name)
    error = body.get("error")
    error = error if isinstance(error, dict) else {}
    codes = [d.get("errorCode") for d in error.get("details") or [] if isinstance(d, dict)]
    code = next((c for c in codes if isinstance(c, str)), None) or error.get("status")
    message = str(error.get("message") or "")
    gone = reply.status == 404 or "UNREGISTERED" in codes or (
        reply.status == 400 and error.get("status") == "INVALID_ARGUMENT"
        and _names_token(error, message))
    outcome = reply_outcome(reply, one_line(f"{code or ''} {message}") or reply.text()[:200],
                            now)
    kind = "transient" if reply.status == 401 else _kind(outcome)
    detail = outcome.detail + (" (gone)" if gone else "")
    return DeviceResult(device, "permanent" if gone else kind, detail, gone=gone,
                        retry_after=outcome.retry_after)


def _names_token(error: dict[str, Any], message: str) -> bool:
    """A 400 INVALID_ARGUMENT about the registration token (not about the payload)."""
    for detail in error.get("details") or []:
        for violation in (detail.get("fieldViolations") or []) if isinstance(detail, dict) else []:
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                return True
    return "registration token" in message.lower()


def _kind(outcome: Outcome) -> Literal["transient", "permanent"]:
    return "transient" if outcome.kind in ("transient", "sent", "captured") else "permanent"


"""Web Push (RFC 8030) to browsers: the payload encrypted with aes128gcm (RFC 8291) by
pywebpush, a VAPID (RFC 8292) Authorization header by py_vapid, sent with httpx.

Settings: vapid_private_key (PEM, or the raw key base64url), vapid_subject (mailto: or
https:), ttl (s, default 86400), timeout (s, default 10). A device's attributes are the
browser's subscription: {"endpoint": url, "keys": {"p256dh": ..., "auth": ...}}.
"""

from __future__ import annotations

import asyncio
import hashlib
import urllib.parse
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, VapidException  # type: ignore[import-untyped]
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]

from server.channels.base import Device, Outcome, Outgoing
from server.channels.http_common import (
    HttpClients,
    exchange,
    lacking,
    one_line,
    reply_outcome,
    timeout_setting,
)
from server.channels.net_guard import InvalidUrl, check_url
from server.channels.push_common import DeviceResult, combine, compact, string_data, text
from tools.core.delivery.retry import Verdict

MAX_PLAINTEXT = 3993  # 4096 bytes of aes128gcm body, less its header, padding and tag
VAPID_LIFETIME_S = 12 * 3600


def webpush_payload(content: Mapping[str, Any]) -> bytes:
    """The plaintext the service worker receives: compact JSON of the present fields."""
    fields: dict[str, Any] = {key: value for key in ("title", "body", "link", "image_url")
                              if (value := text(content, key))}
    data = string_data(content)
    if data:
        fields["data"] = data
    return compact(fields).encode("utf-8")


class WebPushSender:
    """One encrypted POST per web device, to the endpoint of its subscription."""

    def __init__(self, http: HttpClients) -> None:
        self._http = http
        self._keys: dict[str, Any] = {}

    async def send(self, outgoing: Outgoing) -> Outcome:
        devices = [d for d in outgoing.devices if d.platform == "web"]
        settings = outgoing.settings
        missing = lacking(settings, "webpush", "vapid_private_key", "vapid_subject")
        if missing or not devices:
            return missing or combine([], "web")
        try:
            vapid = self._vapid(str(settings["vapid_private_key"]))
        except (ValueError, TypeError, VapidException) as exc:
            return Outcome("permanent", one_line(f"webpush vapid_private_key: {exc}"))
        payload = webpush_payload(outgoing.content)
        if len(payload) > MAX_PLAINTEXT:
            return Outcome("permanent", f"the push payload is {len(payload)} bytes; "
                                        f"Web Push carries at most {MAX_PLAINTEXT}")
        results = await asyncio.gather(
            *(self._one(outgoing, device, vapid, payload) for device in devices))
        return combine(results, "web")

    async def _one(self, outgoing: Outgoing, device: Device, vapid: Any,
                   payload: bytes) -> DeviceResult:
        settings = outgoing.settings
        try:
            endpoint, body = _encrypt(device, payload)
            parts = urllib.parse.urlsplit(endpoint)
            claims = {"sub": str(settings["vapid_subject"]),
                      "aud": f"{parts.scheme}://{parts.netloc}",
                      "exp": int(outgoing.sent_at) + VAPID_LIFETIME_S}
            authorization = vapid.sign(claims)["Authorization"]
        except (InvalidUrl, WebPushException, VapidException, ValueError, TypeError,
                KeyError) as exc:
            return DeviceResult(device, "permanent", one_line(f"invalid subscription: {exc}"))
        timeout = timeout_setting(settings, 10.0)
        ttl = settings.get("ttl", 86_400)
        ttl = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0 else 86_400
        # The endpoint is the browser's (through the app), never the operator's: checked.
        client = self._http.client(trusted=False)
        request = client.build_request("POST", endpoint, content=body, timeout=timeout, headers={
            "Authorization": authorization, "TTL": str(ttl), "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream", "Urgency": "normal"})
        reply = await exchange(client, request, timeout)
        if isinstance(reply, Outcome):
            failed: Verdict = "permanent" if reply.kind == "permanent" else "transient"
            return DeviceResult(device, failed, reply.detail)
        if 200 <= reply.status < 300:
            return DeviceResult(device, "sent", "sent",
                                provider_message_id=reply.headers.get("location"))
        outcome = reply_outcome(reply, reply.text()[:200], outgoing.sent_at)
        gone = reply.status in (404, 410)
        kind: Verdict = "transient" if outcome.kind == "transient" else "permanent"
        return DeviceResult(device, kind, outcome.detail + (" (gone)" if gone else ""),
                            gone=gone, retry_after=outcome.retry_after)

    def _vapid(self, key: str) -> Any:
        """The VAPID signer of `key` (PEM or raw base64url), kept for reuse."""
        digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
        signer = self._keys.get(digest)
        if signer is None:
            if "-----BEGIN" in key:
                private = serialization.load_pem_private_key(key.encode(), password=None)
                if not (isinstance(private, ec.EllipticCurvePrivateKey)
                        and private.curve.name == "secp256r1"):
                    raise ValueError("the PEM key is not a P-256 (prime256v1) EC key")
                signer = Vapid(private_key=private)
            else:
                signer = Vapid.from_string(private_key=key.strip())
            if len(self._keys) >= 256:
                self._keys.clear()
            self._keys[digest] = signer
        return signer

    async def aclose(self) -> None:
        return None


def _encrypt(device: Device, payload: bytes) -> tuple[str, bytes]:
    """The checked endpoint of `device` and `payload` encrypted for its keys."""
    endpoint = device.attributes.get("endpoint")
    keys = device.attributes.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, Mapping):
        raise ValueError("the device has no endpoint and keys")
    check_url(endpoint)
    subscription = {"endpoint": endpoint,
                    "keys": {"p256dh": str(keys["p256dh"]), "auth": str(keys["auth"])}}
    body = WebPusher(subscription).encode(payload, content_encoding="aes128gcm")["body"]
    return endpoint, bytes(body)

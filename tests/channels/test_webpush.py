"""Web Push against a loopback push service: the test holds the browser's keys, decrypts the
aes128gcm body it received, and verifies the VAPID JWT."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import anyio
import http_ece  # type: ignore[import-untyped]
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.channels.base import Device, Outgoing
from server.channels.http_common import HttpClients
from server.channels.webpush import WebPushSender
from tests.channels.http_support import Answer, Seen, Server, http_server

pytestmark = pytest.mark.anyio

START = 1_780_000_000.0
SUBJECT = "mailto:ops@example.com"
BROWSER = ec.generate_private_key(ec.SECP256R1())
AUTH = os.urandom(16)
VAPID = ec.generate_private_key(ec.SECP256R1())
VAPID_PEM = VAPID.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


VAPID_RAW = b64(VAPID.private_numbers().private_value.to_bytes(32, "big"))
POINT = serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint


def browser(endpoint: str, device_id: str = "ep-1") -> Device:
    return Device(device_id, "web", {"endpoint": endpoint, "keys": {
        "p256dh": b64(BROWSER.public_key().public_bytes(*POINT)), "auth": b64(AUTH)}})


def push(*devices: Device, key: str = VAPID_PEM) -> Outgoing:
    return Outgoing(
        agent_id="tom", message_id="01HXWP", attempt=1, channel="push", provider="webpush",
        settings={"vapid_private_key": key, "vapid_subject": SUBJECT, "ttl": 3600},
        content={"title": "Hi", "body": "Back in stock", "link": "https://shop.example/p/9",
                 "data": {"sku": 9}},
        devices=(Device("tok-android", "android", {}), *devices), sent_at=START)


def decrypt(seen: Seen) -> Any:
    return json.loads(http_ece.decrypt(seen.body, private_key=BROWSER, auth_secret=AUTH,
                                       version="aes128gcm"))


def vapid_claims(seen: Seen) -> dict[str, Any]:
    scheme, params = seen.headers["authorization"].split(" ", 1)
    assert scheme == "vapid"
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert unb64(fields["k"]) == VAPID.public_key().public_bytes(*POINT)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
    return jwt.decode(fields["t"], public, algorithms=["ES256"],
                      options={"verify_exp": False, "verify_aud": False})


def service(seen: Seen) -> Answer:
    if seen.target.startswith("/gone"):
        return Answer(410, b"push subscription has unsubscribed or expired")
    return Answer(201, headers={"Location": f"{seen.target}/msg-1"})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with http_server(service) as running:
        yield running


@pytest.fixture
async def sender() -> AsyncIterator[WebPushSender]:
    http = HttpClients(allow_private=True)
    yield WebPushSender(http)
    await http.aclose()


@pytest.mark.parametrize("key", [VAPID_PEM, VAPID_RAW], ids=["pem", "raw"])
async def test_the_browser_decrypts_the_payload_and_the_vapid_jwt_verifies(
    server: Server, sender: WebPushSender, key: str,
) -> None:
    with anyio.fail_after(5):
        outcome = await sender.send(push(browser(server.url("/push/abc")), key=key))
    assert outcome.kind == "sent", outcome.per_device
    assert outcome.provider_message_id == "/push/abc/msg-1"
    [seen] = server.requests
    assert seen.headers["content-encoding"] == "aes128gcm"
    assert seen.headers["ttl"] == "3600"
    assert decrypt(seen) == {"title": "Hi", "body": "Back in stock",
                             "link": "https://shop.example/p/9", "data": {"sku": "9"}}
    assert vapid_claims(seen) == {"sub": SUBJECT, "aud": f"http://127.0.0.1:{server.port}",
                                  "exp": 1_780_000_000 + 12 * 3600}


async def test_a_410_subscription_is_a_gone_device(
    server: Server, sender: WebPushSender,
) -> None:
    with anyio.fail_after(5):
        outcome = await sender.send(push(browser(server.url("/gone/1"), "ep-gone"),
                                         browser(server.url("/push/ok"), "ep-ok")))
    assert outcome.kind == "sent"
    assert outcome.gone_devices == ("ep-gone",)
    assert outcome.per_device == (
        "web ep-gone: HTTP 410: push subscription has unsubscribed or expired (gone)",
        "web ep-ok: sent")
    only_gone = await sender.send(push(browser(server.url("/gone/2"), "ep-gone")))
    assert (only_gone.kind, only_gone.gone_devices) == ("permanent", ("ep-gone",))


async def test_a_subscription_without_keys_is_permanent_without_a_request(
    server: Server, sender: WebPushSender,
) -> None:
    outcome = await sender.send(push(Device("ep-x", "web", {"endpoint": server.url("/p")})))
    assert outcome.kind == "permanent"
    assert outcome.per_device == ("web ep-x: invalid subscription: the device has no endpoint "
                                  "and keys",)
    assert server.requests == []


async def test_an_endpoint_on_loopback_is_refused_unless_private_is_allowed(
    server: Server,
) -> None:
    guarded = HttpClients(allow_private=False)
    with anyio.fail_after(5):
        outcome = await WebPushSender(guarded).send(push(browser(server.url("/push/abc"))))
    await guarded.aclose()
    assert outcome.kind == "permanent" and "loopback" in outcome.detail
    assert server.connections == 0

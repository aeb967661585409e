"""FCM HTTP v1 against a loopback server speaking Google's token endpoint and FCM's send:
the service-account JWT verified with the test's public key, the bearer, the message."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import anyio
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.channels.base import Device, Outgoing
from server.channels.fcm import FcmSender
from server.channels.http_common import HttpClients
from tests.channels.http_support import Answer, Seen, Server, http_server

pytestmark = pytest.mark.anyio

START = 1_780_000_000.0
EMAIL = "push@proj-1.iam.gserviceaccount.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
PUBLIC_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
UNREGISTERED = {"error": {"code": 404, "message": "Requested entity was not found.",
                          "status": "NOT_FOUND", "details": [{
                              "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                              "errorCode": "UNREGISTERED"}]}}
BAD_TOKEN = {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                       "message": "The registration token is not a valid FCM registration token"}}


class Fcm:
    """Google's token endpoint and FCM's send endpoint, in one loopback server."""

    def __init__(self) -> None:
        self.claims: list[dict[str, Any]] = []
        self.server: Server | None = None

    def token_uri(self) -> str:
        assert self.server is not None
        return self.server.url("/token")

    def __call__(self, seen: Seen) -> Answer:
        if seen.target == "/token":
            form = urllib.parse.parse_qs(seen.body.decode())
            assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
            claims = jwt.decode(form["assertion"][0], PUBLIC_PEM, algorithms=["RS256"],
                                audience=self.token_uri(),
                                options={"verify_exp": False, "verify_iat": False})
            self.claims.append(claims)
            return Answer(200, {"access_token": f"ya29.t{len(self.claims)}",
                                "expires_in": 3599, "token_type": "Bearer"})
        assert seen.target == "/v1/projects/proj-1/messages:send"
        if seen.headers.get("authorization") != f"Bearer ya29.t{len(self.claims)}":
            return Answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        token = seen.json()["message"]["token"]
        if token == "tok-gone":
            return Answer(404, UNREGISTERED)
        if token == "tok-bad":
            return Answer(400, BAD_TOKEN)
        if token == "tok-busy":
            return Answer(503, {"error": {"status": "UNAVAILABLE"}}, {"Retry-After": "9"})
        return Answer(200, {"name": f"projects/proj-1/messages/{token}-1"})


def push(fcm: Fcm, *tokens: str, sent_at: float = START) -> Outgoing:
    devices = [Device(t, "ios" if t.endswith("ios") else "android", {}) for t in tokens]
    devices.append(Device("web-1", "web", {"endpoint": "https://push.example/x"}))
    assert fcm.server is not None
    return Outgoing(
        agent_id="tom", message_id="01HXP", attempt=1, channel="push", provider="fcm",
        settings={"project_id": "proj-1", "client_email": EMAIL, "private_key": PRIVATE_PEM,
                  "token_uri": fcm.token_uri(), "base_url": fcm.server.url("")},
        content={"title": "Hi", "body": "Your order shipped", "link": "https://shop.example/o/1",
                 "image_url": "https://shop.example/i.png", "data": {"order": 17, "k": "v"}},
        devices=devices, sent_at=sent_at, trusted=True)


@pytest.fixture
async def fcm() -> AsyncIterator[Fcm]:
    handler = Fcm()
    async with http_server(handler) as server:
        handler.server = server
        yield handler


@pytest.fixture
async def sender() -> AsyncIterator[FcmSender]:
    http = HttpClients(allow_private=True)
    yield FcmSender(http)
    await http.aclose()


async def test_the_message_goes_with_a_bearer_from_a_signed_service_account_jwt(
    fcm: Fcm, sender: FcmSender,
) -> None:
    with anyio.fail_after(5):
        outcome = await sender.send(push(fcm, "tok-a"))
    assert outcome.kind == "sent", outcome.per_device
    assert outcome.provider_message_id == "projects/proj-1/messages/tok-a-1"
    assert fcm.claims == [{"iss": EMAIL, "scope": "https://www.googleapis.com/auth/firebase.messaging",
                           "aud": fcm.token_uri(), "iat": 1_780_000_000, "exp": 1_780_003_600}]
    assert fcm.server is not None
    send = fcm.server.requests[-1]
    assert send.json() == {"message": {
        "token": "tok-a",
        "notification": {"title": "Hi", "body": "Your order shipped",
                         "image": "https://shop.example/i.png"},
        "data": {"order": "17", "k": "v", "link": "https://shop.example/o/1"}}}


async def test_the_access_token_is_reused_until_shortly_before_it_expires(
    fcm: Fcm, sender: FcmSender,
) -> None:
    with anyio.fail_after(5):
        await sender.send(push(fcm, "tok-a"))
        await sender.send(push(fcm, "tok-b", sent_at=START + 3000))
        assert len(fcm.claims) == 1
        outcome = await sender.send(push(fcm, "tok-c", sent_at=START + 3400))
    assert outcome.kind == "sent"
    assert len(fcm.claims) == 2 and fcm.claims[1]["iat"] == 1_780_003_400


async def test_an_unregistered_token_is_a_gone_device_and_the_others_still_count(
    fcm: Fcm, sender: FcmSender,
) -> None:
    with anyio.fail_after(5):
        outcome = await sender.send(push(fcm, "tok-a", "tok-gone", "tok-bad"))
    assert outcome.kind == "sent"
    assert outcome.gone_devices == ("tok-gone", "tok-bad")
    assert outcome.detail == "sent to 1 of 3 devices; 2 gone"
    assert outcome.per_device == (
        "android tok-a: sent",
        "android tok-gone: HTTP 404: UNREGISTERED Requested entity was not found. (gone)",
        "android tok-bad: HTTP 400: INVALID_ARGUMENT The registration token is not a valid "
        "FCM registration token (gone)")


async def test_only_gone_devices_is_permanent_and_an_unavailable_service_transient(
    fcm: Fcm, sender: FcmSender,
) -> None:
    with anyio.fail_after(5):
        gone = await sender.send(push(fcm, "tok-gone"))
        busy = await sender.send(push(fcm, "tok-gone", "tok-busy"))
    assert (gone.kind, gone.gone_devices) == ("permanent", ("tok-gone",))
    assert (busy.kind, busy.retry_after, busy.gone_devices) == ("transient", 9.0, ("tok-gone",))


async def test_a_refused_service_account_is_permanent_with_the_endpoint_words(
    sender: FcmSender,
) -> None:
    def refuse(seen: Seen) -> Answer:
        return Answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT"})

    async with http_server(refuse) as server:
        fcm = Fcm()
        fcm.server = server
        with anyio.fail_after(5):
            outcome = await sender.send(push(fcm, "tok-a"))
    assert outcome.kind == "permanent"
    assert outcome.detail == "fcm token endpoint: HTTP 400: invalid_grant Invalid JWT"
    assert len(server.requests) == 1


async def test_a_person_without_android_or_ios_devices_is_permanent(
    fcm: Fcm, sender: FcmSender,
) -> None:
    outcome = await sender.send(push(fcm))
    assert (outcome.kind, outcome.detail) == ("permanent",
                                              "the person has no android or ios device")
    assert fcm.server is not None and fcm.server.requests == []


async def test_an_agent_set_fcm_endpoint_on_loopback_is_refused(fcm: Fcm) -> None:
    http = HttpClients(allow_private=False)
    outgoing = push(fcm, "tok-a")
    with anyio.fail_after(5):
        outcome = await FcmSender(http).send(Outgoing(**{**outgoing.__dict__, "trusted": False}))
    await http.aclose()
    assert outcome.kind == "permanent"
    assert outcome.detail.startswith("fcm token endpoint: refused '127.0.0.1'")
    assert fcm.server is not None and fcm.server.connections == 0

"""SMS through a Twilio-shaped HTTP server on loopback: path, Basic auth, form fields."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from server.channels.base import Outgoing
from server.channels.http_common import HttpClients
from server.channels.twilio import TwilioSender
from tests.channels.http_support import Answer, Seen, http_server

pytestmark = pytest.mark.anyio

SID, TOKEN = "AC0123456789abcdef", "tw-auth-token"


def sms(base_url: str, *, trusted: bool = True, **settings: Any) -> Outgoing:
    return Outgoing(
        agent_id="tom", message_id="01HXS", attempt=1, channel="sms", provider="twilio",
        settings={"account_sid": SID, "auth_token": TOKEN, "from": "+15550000000",
                  "base_url": base_url, **settings},
        content={"body": "Your code is 123 & more"}, to="+15551234567",
        sent_at=1_780_000_000.0, trusted=trusted)


def created(seen: Seen) -> Answer:
    return Answer(201, {"sid": "SM42", "status": "queued"})


def form(seen: Seen) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(seen.body.decode(), strict_parsing=True)


@pytest.fixture
async def http() -> AsyncIterator[HttpClients]:
    clients = HttpClients(allow_private=True)
    yield clients
    await clients.aclose()


async def test_a_message_is_posted_with_basic_auth_and_form_fields(http: HttpClients) -> None:
    async with http_server(created) as server:
        with anyio.fail_after(5):
            outcome = await TwilioSender(http).send(sms(server.url("")))
    assert outcome.kind == "sent"
    assert outcome.provider_message_id == "SM42"
    [seen] = server.requests
    assert (seen.method, seen.target) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    scheme, credentials = seen.headers["authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{SID}:{TOKEN}"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(seen) == {"To": ["+15551234567"], "From": ["+15550000000"],
                          "Body": ["Your code is 123 & more"]}


async def test_a_messaging_service_replaces_the_from_number(http: HttpClients) -> None:
    async with http_server(created) as server:
        with anyio.fail_after(5):
            await TwilioSender(http).send(sms(server.url(), messaging_service_sid="MG9"))
    fields = form(server.requests[0])
    assert fields["MessagingServiceSid"] == ["MG9"] and "From" not in fields


async def test_twilio_errors_are_permanent_with_its_words_and_429_waits(
    http: HttpClients,
) -> None:
    def answer(seen: Seen) -> Answer:
        if "+15551234567" in seen.body.decode().replace("%2B", "+"):
            return Answer(400, {"code": 21211, "message": "Invalid 'To' Phone Number",
                                "status": 400})
        return Answer(429, {"code": 20429, "message": "Too Many Requests"},
                      headers={"Retry-After": "12"})

    sender = TwilioSender(http)
    async with http_server(answer) as server:
        with anyio.fail_after(5):
            bad = await sender.send(sms(server.url()))
            slow = await sender.send(Outgoing(**{**sms(server.url()).__dict__, "to": "+1555999"}))
    assert (bad.kind, bad.detail) == ("permanent", "HTTP 400: 21211 Invalid 'To' Phone Number")
    assert (slow.kind, slow.retry_after) == ("transient", 12.0)


async def test_missing_settings_are_permanent_without_a_request(http: HttpClients) -> None:
    outcome = await TwilioSender(http).send(
        Outgoing(**{**sms("http://127.0.0.1:9").__dict__, "settings": {"account_sid": SID}}))
    assert (outcome.kind, outcome.detail) == ("permanent", "twilio settings lack auth_token")


async def test_an_agent_set_base_url_on_loopback_is_refused() -> None:
    guarded = HttpClients(allow_private=False)
    async with http_server(created) as server:
        with anyio.fail_after(5):
            refused = await TwilioSender(guarded).send(sms(server.url(), trusted=False))
            operator = await TwilioSender(guarded).send(sms(server.url(), trusted=True))
    await guarded.aclose()
    assert refused.kind == "permanent" and "loopback" in refused.detail
    assert operator.kind == "sent"
    assert len(server.requests) == 1

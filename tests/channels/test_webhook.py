"""Webhooks against a real HTTP server on loopback: the signature over the raw bytes that
arrived, the idempotency key across attempts, timeouts, refusals and Retry-After."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import pytest

from server.channels.base import Outgoing
from server.channels.http_common import HttpClients
from server.channels.webhook import TIMEOUT_S, WebhookSender
from tests.channels.http_support import Answer, Seen, http_server

pytestmark = pytest.mark.anyio

START = 1_780_000_000.25
SECRET = "whsec-test"


def hook(url: str, *, body: Any = '{"event":"signed_up","id":7}', message_id: str = "01HXW",
         attempt: int = 1, headers: Mapping[str, Any] | None = None,
         method: str | None = None) -> Outgoing:
    content: dict[str, Any] = {"url": url, "body": body}
    if headers is not None:
        content["headers"] = headers
    if method:
        content["method"] = method
    return Outgoing(agent_id="tom", message_id=message_id, attempt=attempt, channel="webhook",
                    provider="webhook", settings={"signing_secret": SECRET}, content=content,
                    sent_at=START)


@pytest.fixture
async def http() -> AsyncIterator[HttpClients]:
    clients = HttpClients(allow_private=True)
    yield clients
    await clients.aclose()


async def test_the_signature_is_the_hmac_of_the_raw_body_received(http: HttpClients) -> None:
    async with http_server(lambda seen: Answer(200, b"ok")) as server:
        with anyio.fail_after(5):
            outcome = await WebhookSender(http).send(
                hook(server.url("/hooks/in?x=1"), headers={"X-Extra": "yes"}))
    assert (outcome.kind, outcome.detail) == ("sent", "HTTP 200")
    [seen] = server.requests
    assert (seen.method, seen.target) == ("POST", "/hooks/in?x=1")
    assert seen.body == b'{"event":"signed_up","id":7}'
    assert seen.headers["x-cio-timestamp"] == "1780000000"
    expected = hmac.new(SECRET.encode(), b"v0:1780000000:" + seen.body,
                        hashlib.sha256).hexdigest()
    assert seen.headers["x-cio-signature"] == expected
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-extra"] == "yes"


async def test_the_idempotency_key_is_the_same_on_every_attempt_at_one_message(
    http: HttpClients,
) -> None:
    sender = WebhookSender(http)
    async with http_server(lambda seen: Answer(202)) as server:
        with anyio.fail_after(5):
            await sender.send(hook(server.url(), attempt=1))
            await sender.send(hook(server.url(), attempt=2))
            await sender.send(hook(server.url(), message_id="01HXOTHER"))
    keys = [seen.headers["idempotency-key"] for seen in server.requests]
    assert keys[0] == keys[1] != keys[2]
    assert len(keys[0]) == 32


async def test_a_body_that_is_not_json_is_text_and_a_given_content_type_is_kept(
    http: HttpClients,
) -> None:
    sender = WebhookSender(http)
    async with http_server(lambda seen: Answer(200)) as server:
        with anyio.fail_after(5):
            await sender.send(hook(server.url(), body="plain words"))
            await sender.send(hook(server.url(), body="a=1", method="put",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"}))
    plain, form = server.requests
    assert plain.headers["content-type"] == "text/plain; charset=utf-8"
    assert (form.method, form.headers["content-type"]) == (
        "PUT", "application/x-www-form-urlencoded")


async def test_no_answer_within_the_timeout_is_transient(http: HttpClients) -> None:
    assert TIMEOUT_S == 4.0
    async with http_server(lambda seen: Answer(hang=True)) as server:
        with anyio.fail_after(5):
            outcome = await WebhookSender(http, timeout=0.3).send(hook(server.url()))
    assert outcome.kind == "transient"
    assert outcome.detail == "no answer from 127.0.0.1 within 0.3 s"


async def test_410_is_permanent_and_503_with_retry_after_is_transient(
    http: HttpClients,
) -> None:
    def answer(seen: Seen) -> Answer:
        if seen.target == "/gone":
            return Answer(410, b"gone for good")
        return Answer(503, b"busy", headers={"Retry-After": "7"})

    sender = WebhookSender(http)
    async with http_server(answer) as server:
        with anyio.fail_after(5):
            gone = await sender.send(hook(server.url("/gone")))
            busy = await sender.send(hook(server.url("/busy")))
    assert (gone.kind, gone.detail) == ("permanent", "HTTP 410: gone for good")
    assert (busy.kind, busy.retry_after, busy.detail) == ("transient", 7.0, "HTTP 503: busy")


async def test_a_redirect_is_not_followed_and_is_permanent(http: HttpClients) -> None:
    async with http_server(lambda seen: Answer(302, headers={"Location": "/elsewhere"})) as server:
        with anyio.fail_after(5):
            outcome = await WebhookSender(http).send(hook(server.url("/start")))
    assert outcome.kind == "permanent"
    assert outcome.detail == "HTTP 302 redirect to /elsewhere (redirects are not followed)"
    assert [seen.target for seen in server.requests] == ["/start"]


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nInjected: 1"}, {"Host": "other"},
                                     {"Bad Name": "x"}])
async def test_hostile_headers_are_refused_before_any_request(
    http: HttpClients, headers: dict[str, str],
) -> None:
    async with http_server(lambda seen: Answer(200)) as server:
        with anyio.fail_after(5):
            outcome = await WebhookSender(http).send(hook(server.url(), headers=headers))
    assert outcome.kind == "permanent" and outcome.detail.startswith("webhook: the header")
    assert server.connections == 0


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://user:pw@example.com/",
                                 "/relative", ""])
async def test_a_url_that_is_not_absolute_http_is_refused(http: HttpClients, url: str) -> None:
    outcome = await WebhookSender(http).send(hook(url))
    assert outcome.kind == "permanent" and outcome.detail.startswith("webhook: the url")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_private_destination_is_refused_without_a_request(host: str) -> None:
    guarded, open_ = HttpClients(allow_private=False), HttpClients(allow_private=True)
    async with http_server(lambda seen: Answer(200)) as server:
        with anyio.fail_after(5):
            refused = await WebhookSender(guarded).send(hook(server.url(host=host)))
            assert server.connections == 0
            allowed = await WebhookSender(open_).send(hook(server.url(host=host)))
    await guarded.aclose()
    await open_.aclose()
    assert refused.kind == "permanent"
    assert refused.detail.startswith(f"refused '{host}': it resolves to ")
    assert "loopback" in refused.detail
    assert allowed.kind == "sent"
    assert len(server.requests) == 1

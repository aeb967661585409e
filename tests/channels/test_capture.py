"""The capture provider keeps the exact bytes a message would have gone out as."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from server.channels.base import Device, Outgoing
from server.channels.capture import CaptureSender
from server.channels.mime import build_email

pytestmark = pytest.mark.anyio

START = 1_780_000_000.0


def out(channel: str, **fields: object) -> Outgoing:
    base: dict[str, object] = dict(agent_id="tom", message_id="01HXC", attempt=1,
                                   channel=channel, provider="capture", settings={},
                                   content={}, sent_at=START)
    return Outgoing(**{**base, **fields})  # type: ignore[arg-type]


async def test_an_email_is_captured_as_its_full_mime_bytes_the_same_each_time() -> None:
    outgoing = out("email", to="ada@example.com", settings={"from": "team@example.com"},
                   content={"subject": "Hi", "body": "<p>Hi</p>", "text_body": "Hi"},
                   unsubscribe_url="https://u.example.com/x")
    first = await CaptureSender().send(outgoing)
    second = await CaptureSender().send(outgoing)
    assert first.kind == "captured"
    assert first.captured == second.captured == build_email(outgoing)
    assert first.provider_message_id == "<01HXC@example.com>"
    assert first.captured is not None
    message = email.message_from_bytes(first.captured, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe"] == "<https://u.example.com/x>"


async def test_an_sms_is_captured_as_twilio_request_text_without_authorization() -> None:
    outgoing = out("sms", to="+15551234567", content={"body": "Code: 12 & 34"},
                   settings={"from": "+15550000000", "account_sid": "ACreal",
                             "auth_token": "secret"})
    outcome = await CaptureSender().send(outgoing)
    body = b"To=%2B15551234567&From=%2B15550000000&Body=Code%3A+12+%26+34"
    assert outcome.kind == "captured"
    assert outcome.captured == (
        b"POST /2010-04-01/Accounts/capture/Messages.json HTTP/1.1\r\n"
        b"Host: api.twilio.com\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + body)
    assert b"secret" not in outcome.captured and b"ACreal" not in outcome.captured


async def test_a_push_is_captured_as_one_request_per_device_line() -> None:
    devices = (Device("tok-a", "android", {}), Device("ep-1", "web", {"endpoint": "x"}),
               Device("tok-i", "ios", {}))
    outcome = await CaptureSender().send(out(
        "push", devices=devices, content={"title": "T", "body": "B", "link": "https://l"}))
    assert outcome.kind == "captured" and outcome.captured is not None
    android, web, ios = (json.loads(line) for line in outcome.captured.split(b"\n"))
    assert android == {"message": {"token": "tok-a", "notification": {"title": "T", "body": "B"},
                                   "data": {"link": "https://l"}}}
    assert web == {"title": "T", "body": "B", "link": "https://l"}
    assert ios["message"]["token"] == "tok-i"
    assert outcome.per_device == ("android tok-a: captured", "web ep-1: captured",
                                  "ios tok-i: captured")


async def test_a_webhook_is_not_a_capture_channel() -> None:
    outcome = await CaptureSender().send(out("webhook", content={"url": "https://x"}))
    assert outcome.kind == "permanent"

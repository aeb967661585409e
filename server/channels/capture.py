"""The capture provider: the exact bytes a message would have gone out as, kept, not sent."""

from __future__ import annotations

import httpx

from server.channels.base import Outcome, Outgoing
from server.channels.fcm import PLATFORMS, fcm_message
from server.channels.http_common import one_line, render_request
from server.channels.mime import InvalidMessage, build_email, message_id
from server.channels.push_common import compact, short_id
from server.channels.twilio import BASE_URL, message_form, messages_url, sms_body
from server.channels.webpush import webpush_payload

CAPTURE_ACCOUNT = "capture"


def sms_request(outgoing: Outgoing) -> bytes:
    """The Twilio request (without Authorization) as HTTP/1.1 text."""
    request = httpx.Request(
        "POST", messages_url(BASE_URL, CAPTURE_ACCOUNT),
        data=message_form(outgoing.settings, outgoing.to or "", sms_body(outgoing)))
    return render_request(request)


def push_requests(outgoing: Outgoing) -> tuple[bytes, tuple[str, ...]]:
    """One line per device: the FCM v1 body (android, ios) or the Web Push plaintext."""
    lines: list[bytes] = []
    per_device: list[str] = []
    for device in outgoing.devices:
        if device.platform in PLATFORMS:
            lines.append(compact(fcm_message(device, outgoing.content)).encode("utf-8"))
        elif device.platform == "web":
            lines.append(webpush_payload(outgoing.content))
        else:
            continue
        per_device.append(f"{device.platform} {short_id(device.device_id)}: captured")
    return b"\n".join(lines), tuple(per_device)


class CaptureSender:
    """Email, SMS and push captured; deterministic for a given Outgoing."""

    async def send(self, outgoing: Outgoing) -> Outcome:
        if outgoing.channel == "email":
            try:
                data = outgoing.prebuilt or build_email(outgoing)
                mid = message_id(outgoing)
            except InvalidMessage as exc:
                return Outcome("permanent", one_line(str(exc)))
            return Outcome("captured", f"captured email, {len(data)} bytes",
                           provider_message_id=mid, captured=data)
        if outgoing.channel == "sms":
            data = sms_request(outgoing)
            return Outcome("captured", f"captured sms request, {len(data)} bytes", captured=data)
        if outgoing.channel == "push":
            data, per_device = push_requests(outgoing)
            if not per_device:
                return Outcome("permanent", "the person has no push device")
            return Outcome("captured", f"captured push to {len(per_device)} devices",
                           captured=data, per_device=per_device)
        return Outcome("permanent", f"capture does not serve the {outgoing.channel} channel")

    async def aclose(self) -> None:
        return None

"""SMS through Twilio's Messages API.

Settings: account_sid, auth_token, from (a number or alphanumeric sender id) or
messaging_service_sid, base_url (default https://api.twilio.com), timeout (s, default 10).
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping
from typing import Any

from server.channels.base import Outcome, Outgoing
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

BASE_URL = "https://api.twilio.com"


def messages_url(base_url: str, account_sid: str) -> str:
    """The Messages resource of `account_sid` under `base_url`."""
    sid = urllib.parse.quote(account_sid, safe="")
    return f"{base_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"


def message_form(settings: Mapping[str, Any], to: str, body: str) -> dict[str, str]:
    """The form fields of one message: To, From or MessagingServiceSid, Body."""
    form = {"To": to}
    service = setting(settings, "messaging_service_sid")
    if service:
        form["MessagingServiceSid"] = service
    elif setting(settings, "from"):
        form["From"] = str(settings["from"])
    form["Body"] = body
    return form


def sms_body(outgoing: Outgoing) -> str:
    value = outgoing.content.get("body")
    return value if isinstance(value, str) else ""


class TwilioSender:
    """POSTs each message to Twilio with HTTP Basic auth (account_sid:auth_token)."""

    def __init__(self, http: HttpClients) -> None:
        self._http = http

    async def send(self, outgoing: Outgoing) -> Outcome:
        settings = outgoing.settings
        missing = lacking(settings, "twilio", "account_sid", "auth_token")
        if missing:
            return missing
        if not (setting(settings, "from") or setting(settings, "messaging_service_sid")):
            return Outcome("permanent", "twilio settings lack from or messaging_service_sid")
        if not outgoing.to:
            return Outcome("permanent", "no phone number to send to")
        try:
            base = str(check_url(setting(settings, "base_url") or BASE_URL))
        except InvalidUrl as exc:
            return Outcome("permanent", f"twilio base_url: {exc}")
        sid, token = str(settings["account_sid"]), str(settings["auth_token"])
        basic = base64.b64encode(f"{sid}:{token}".encode()).decode("ascii")
        timeout = timeout_setting(settings, 10.0)
        client = self._http.client(outgoing.trusted)
        request = client.build_request(
            "POST", messages_url(base, sid), timeout=timeout,
            data=message_form(settings, outgoing.to, sms_body(outgoing)),
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"})
        reply = await exchange(client, request, timeout)
        if isinstance(reply, Outcome):
            return reply
        return _outcome(reply, outgoing.sent_at)

    async def aclose(self) -> None:
        return None


def _outcome(reply: Reply, now: float) -> Outcome:
    answer = reply.json()
    answer = answer if isinstance(answer, dict) else {}
    if 200 <= reply.status < 300:
        sid = answer.get("sid")
        status = answer.get("status") or "accepted"
        return Outcome("sent", one_line(f"HTTP {reply.status}: {status} {sid or ''}"),
                       provider_message_id=sid if isinstance(sid, str) else None)
    words = " ".join(str(answer[k]) for k in ("code", "message") if answer.get(k))
    return reply_outcome(reply, words or reply.text()[:200], now)

"""The process's senders, one per provider, sharing the HTTP clients and SMTP pools."""

from __future__ import annotations

import asyncio
import ssl

from server.channels.base import Outcome, Outgoing, Sender
from server.channels.capture import CaptureSender
from server.channels.fcm import FcmSender
from server.channels.http_common import HttpClients
from server.channels.smtp import SmtpSender
from server.channels.twilio import TwilioSender
from server.channels.webhook import WebhookSender
from server.channels.webpush import WebPushSender

PROVIDERS: dict[str, tuple[str, ...]] = {
    "email": ("smtp", "capture"),
    "sms": ("twilio", "capture"),
    "push": ("fcm", "webpush", "capture"),
    "webhook": ("webhook",),
}
CONCURRENCY = 16  # sends in flight per provider


class UnknownProvider(ValueError):
    """A channel/provider pair no sender serves."""


class _Bounded:
    """A sender with at most `limit` sends in flight."""

    def __init__(self, sender: Sender, limit: int) -> None:
        self._sender = sender
        self._slots = asyncio.Semaphore(limit)

    async def send(self, outgoing: Outgoing) -> Outcome:
        async with self._slots:
            return await self._sender.send(outgoing)

    async def aclose(self) -> None:
        return None  # the inner sender belongs to Senders


class Senders:
    """Owns one sender per provider; `allow_private` lifts the private-destination check."""

    def __init__(self, allow_private: bool, *, verify: ssl.SSLContext | bool = True,
                 concurrency: int = CONCURRENCY) -> None:
        self.http = HttpClients(allow_private, verify=verify)
        capture = CaptureSender()
        self._senders: dict[str, Sender] = {
            "smtp": SmtpSender(self.http.destinations), "twilio": TwilioSender(self.http),
            "fcm": FcmSender(self.http), "webpush": WebPushSender(self.http),
            "webhook": WebhookSender(self.http), "capture": capture}
        self._bounded = {
            (channel, provider): _Bounded(self._senders[provider], concurrency)
            for channel, providers in PROVIDERS.items() for provider in providers}

    def for_provider(self, channel: str, provider: str) -> Sender:
        """The sender of `provider` on `channel`. Raises UnknownProvider."""
        sender = self._bounded.get((channel, provider))
        if sender is None:
            known = PROVIDERS.get(channel)
            if known is None:
                raise UnknownProvider(f"no channel {channel[:20]!r}; channels are "
                                      f"{', '.join(PROVIDERS)}")
            raise UnknownProvider(f"no provider {provider[:20]!r} for {channel}; write one "
                                  f"of {', '.join(known)}")
        return sender

    async def aclose(self) -> None:
        for sender in self._senders.values():
            await sender.aclose()
        await self.http.aclose()

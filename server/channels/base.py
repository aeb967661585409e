"""What the delivery dispatcher hands a channel sender, and what it gets back.

A sender does the I/O of one message attempt outside any database transaction; the
dispatcher (server/delivery.py) records the Outcome in a unit of its own. Senders never
raise for a provider's answer or a network failure: they return an Outcome (a bug may
still raise, and is then recorded as a transient failure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

OutcomeKind = Literal["sent", "captured", "transient", "permanent"]


@dataclass(frozen=True)
class Device:
    device_id: str  # the push token (FCM registration token) or, for web, the endpoint id
    platform: str  # ios | android | web
    attributes: Mapping[str, Any]  # for web: {"endpoint": ..., "keys": {"p256dh":..., "auth":...}}


@dataclass(frozen=True)
class Outgoing:
    """One attempt at one message on one channel."""

    agent_id: str
    message_id: str  # stable across attempts: Message-ID, Idempotency-Key derive from it
    attempt: int  # 1, 2, ...
    channel: Literal["email", "sms", "push", "webhook"]
    provider: str  # smtp | twilio | fcm | webpush | webhook | capture
    settings: Mapping[str, Any]  # the provider's settings, secrets resolved
    content: Mapping[str, Any]  # the rendered template fields of the channel
    to: str | None = None  # email: the address; sms: E.164 number; webhook: None (url in content)
    devices: Sequence[Device] = ()  # push: the person's devices this provider serves
    unsubscribe_url: str | None = None  # marketing email: List-Unsubscribe (+ One-Click)
    transactional: bool = False
    sent_at: float = 0.0  # the engine clock's now (webhook timestamps, Date headers)
    # The provider's settings came from the operator's config file (trusted as written);
    # False: the agent set them, so their hosts pass the private-destination check.
    trusted: bool = False
    # email: the MIME bytes, built with the render in the render process (off the loop);
    # None: the sender builds them
    prebuilt: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    detail: str  # the provider's answer in one line ("250 2.0.0 Ok: queued as ABC", "HTTP 503")
    provider_message_id: str | None = None
    retry_after: float | None = None  # seconds, from a 429/503 Retry-After
    captured: bytes | None = None  # capture provider: the exact bytes that would have gone
    gone_devices: tuple[str, ...] = ()  # push tokens the provider said are gone (remove them)
    # Push: one line per device ("android tok123: sent", "web ab12: HTTP 410 gone").
    per_device: tuple[str, ...] = field(default=())


class Sender(Protocol):
    """One provider's sender, owned by the process Runtime (connection pools live here)."""

    async def send(self, outgoing: Outgoing) -> Outcome: ...

    async def aclose(self) -> None: ...

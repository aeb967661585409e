"""Senders: one sender per provider, bounded concurrency, unknown providers refused."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from server.channels.base import Outgoing
from server.channels.senders import PROVIDERS, Senders, UnknownProvider
from tests.channels.http_support import Answer, Seen, http_server

pytestmark = pytest.mark.anyio


async def test_every_channel_and_provider_has_a_sender_and_others_are_refused() -> None:
    senders = Senders(allow_private=False)
    for channel, providers in PROVIDERS.items():
        for provider in providers:
            assert senders.for_provider(channel, provider) is senders.for_provider(
                channel, provider)
    with pytest.raises(UnknownProvider, match="no provider 'twilio' for email; write one of "
                                              "smtp, capture"):
        senders.for_provider("email", "twilio")
    with pytest.raises(UnknownProvider, match="no channel 'fax'"):
        senders.for_provider("fax", "capture")
    await senders.aclose()


async def test_sends_in_flight_per_provider_are_bounded() -> None:
    release, three = asyncio.Event(), asyncio.Event()
    in_flight = [0, 0]  # now, most

    async def slow(seen: Seen) -> Answer:
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        if in_flight[0] == 3:
            three.set()
        await release.wait()
        in_flight[0] -= 1
        return Answer(200)

    senders = Senders(allow_private=True, concurrency=3)
    sender = senders.for_provider("webhook", "webhook")
    async with http_server(slow) as server:
        with anyio.fail_after(5):
            sends = [asyncio.ensure_future(sender.send(Outgoing(
                agent_id="tom", message_id=f"m{n}", attempt=1, channel="webhook",
                provider="webhook", settings={}, content={"url": server.url()})))
                for n in range(8)]
            await three.wait()
            for _ in range(50):  # let any fourth request (there must be none) arrive
                await asyncio.sleep(0)
            assert len(server.requests) == 3
            release.set()
            outcomes = await asyncio.gather(*sends)
    await senders.aclose()
    assert [o.kind for o in outcomes] == ["sent"] * 8
    assert in_flight[1] == 3

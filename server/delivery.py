"""The delivery dispatcher: renders and sends claimed messages, outside any transaction.

Engines hand it the jobs a claim made (after the claiming unit committed). Each job is
rendered in a render process (a large send never stalls the event loop), sent through the
channel's sender, and its outcome recorded by a unit of the outbox (tools/delivery/outbox.py),
which schedules a retry or the fallback channel as timed work. Jobs are rendered RENDER_BATCH
at a time in one hand-over (each email's MIME bytes built there too), and the outcomes that
finished meanwhile are recorded in one transaction. At most PER_AGENT messages of one agent
are in flight; as an agent's drain below half of that, the dispatcher has the scheduler run
the agent's due work again at once, so a long queue flows without waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from server.channels.base import Device, Outgoing
from server.channels.base import Outcome as SenderOutcome
from server.channels.net_guard import Destinations, RefusedDestination
from server.channels.senders import Senders
from server.delivery_render import Rendered, RenderItem, render_batch
from tools.api import CustomerIO
from tools.core.delivery.providers import PLATFORMS, Provider
from tools.core.errors import EngineError, InvalidInput
from tools.delivery.outbox import DeliveryJob, Outcome
from tools.render_pool import RENDERS

log = logging.getLogger(__name__)
PER_AGENT = 128  # messages of one agent in flight at once
RENDER_BATCH = 32  # messages rendered in one hand-over to a render process


class Dispatcher:
    """Delivers claimed messages for every agent of this process."""

    def __init__(self, engine_for: Callable[[str], CustomerIO], senders: Senders,
                 more_due: Callable[[str], Awaitable[None]], per_agent: int = PER_AGENT) -> None:
        self._engine_for = engine_for
        self._senders = senders
        self._more_due = more_due  # have the scheduler run the agent's due work again now
        self._per_agent = per_agent
        self._in_flight: dict[str, int] = {}
        self._saturated: set[str] = set()
        self._finished: dict[str, list[tuple[DeliveryJob, Outcome, tuple[str, ...]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def capacity(self, agent_id: str) -> int:
        room = self._per_agent - self._in_flight.get(agent_id, 0)
        if room <= 0:
            self._saturated.add(agent_id)
        return max(room, 0)

    def submit(self, agent_id: str, jobs: list[Any]) -> None:
        self._in_flight[agent_id] = self._in_flight.get(agent_id, 0) + len(jobs)
        if self._in_flight[agent_id] >= self._per_agent:
            self._saturated.add(agent_id)
        for start in range(0, len(jobs), RENDER_BATCH):
            self._spawn(self._render(agent_id, jobs[start:start + RENDER_BATCH]))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for the messages in flight (at shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=deadline - loop.time())

    async def _render(self, agent_id: str, jobs: list[DeliveryJob]) -> None:
        """Render a batch in one hand-over to a render process, then send each."""
        try:
            rendered = await RENDERS.run(agent_id, render_batch,
                                         [_render_item(agent_id, job) for job in jobs])
        except Exception as exc:  # the render process died or a bug: retried later
            log.exception("agent %s: rendering %d messages failed", agent_id, len(jobs))
            outcome = Outcome("transient", f"internal error while rendering: "
                                           f"{type(exc).__name__}")
            for job in jobs:
                self._finish(agent_id, job, outcome, ())
            return
        for job, result in zip(jobs, rendered, strict=True):
            self._spawn(self._deliver(agent_id, job, result))

    async def _deliver(self, agent_id: str, job: DeliveryJob, rendered: Rendered) -> None:
        try:
            outcome, gone = await self._attempt(agent_id, job, rendered)
        except Exception as exc:  # a bug: recorded as transient, so it is retried
            log.exception("agent %s: sending message %s failed", agent_id, job.message_id)
            outcome, gone = Outcome("transient", f"internal error: {type(exc).__name__}"), ()
        self._finish(agent_id, job, outcome, gone)

    def _finish(self, agent_id: str, job: DeliveryJob, outcome: Outcome,
                gone: tuple[str, ...]) -> None:
        """Queue the outcome; one task per agent records what has finished, many at once."""
        pending = self._finished.setdefault(agent_id, [])
        pending.append((job, outcome, gone))
        if len(pending) == 1:
            self._spawn(self._record(agent_id))

    async def _record(self, agent_id: str) -> None:
        engine = self._engine_for(agent_id)
        while pending := self._finished.get(agent_id):
            batch = list(pending)  # outcomes finishing meanwhile wait for the next round
            try:
                await engine.delivery_record_many([(job, outcome) for job, outcome, _ in batch])
                for job, _, gone in batch:
                    for device_id in gone:
                        await _remove_device(engine, job.user_id, device_id)
            except Exception:
                log.exception("agent %s: recording %d messages failed; their leases lapse and "
                              "they are sent again", agent_id, len(batch))
            finally:
                del self._finished[agent_id][:len(batch)]
                self._done(agent_id, len(batch))
        self._finished.pop(agent_id, None)

    def _done(self, agent_id: str, count: int) -> None:
        left = self._in_flight.get(agent_id, count) - count
        if left <= 0:
            self._in_flight.pop(agent_id, None)
        else:
            self._in_flight[agent_id] = left
        if agent_id in self._saturated and left <= self._per_agent // 2:
            self._saturated.discard(agent_id)
            self._spawn(self._more(agent_id))

    async def _more(self, agent_id: str) -> None:
        try:
            await self._more_due(agent_id)
        except Exception:
            log.exception("agent %s: asking for its due deliveries failed", agent_id)

    async def _attempt(self, agent_id: str, job: DeliveryJob,
                       rendered: Rendered) -> tuple[Outcome, tuple[str, ...]]:
        if rendered.fields is None:
            return Outcome("failed", rendered.error or "render failed"), ()
        fields = rendered.fields
        if rendered.error is not None:  # rendered, but no email can be built from it
            return Outcome("permanent", rendered.error, rendered=fields), ()
        if job.channel == "in_app":
            return Outcome("delivered", "in the person's inbox", provider="inbox",
                           rendered=fields), ()
        if job.channel == "push":
            return await self._push(agent_id, job, fields)
        provider = job.providers[0]
        answer = await self._send(agent_id, job, provider, fields, (), rendered.mime)
        return _outcome(answer, provider.name, fields), answer.gone_devices
    async def _push(self, agent_id: str, job: DeliveryJob,
                    rendered: dict[str, Any]) -> tuple[Outcome, tuple[str, ...]]:
        """Each push provider sends to the devices it serves; the message is sent when any
        device got it."""
        answers: list[tuple[Provider, SenderOutcome]] = []
        for provider in job.providers:
            platforms = PLATFORMS.get(provider.name, frozenset())
            devices = tuple(Device(d, p, a) for d, p, a in job.devices if p in platforms)
            if devices:
                answers.append((provider, await self._send(agent_id, job, provider, rendered,
                                                           devices)))
        gone = tuple(d for _, a in answers for d in a.gone_devices)
        for wanted in ("captured", "sent", "transient"):
            for provider, answer in answers:
                if answer.kind == wanted:
                    lines = "; ".join(line for _, a in answers for line in a.per_device)
                    merged = SenderOutcome(answer.kind, lines or answer.detail,
                                           answer.provider_message_id, answer.retry_after,
                                           answer.captured)
                    return _outcome(merged, provider.name, rendered), gone
        if not answers:
            return Outcome("permanent", "no device the providers serve"), gone
        provider, answer = answers[0]
        return _outcome(answer, provider.name, rendered), gone

    async def _send(self, agent_id: str, job: DeliveryJob, provider: Provider,
                    rendered: dict[str, Any], devices: tuple[Device, ...],
                    prebuilt: bytes | None = None) -> SenderOutcome:
        outgoing = Outgoing(
            agent_id=agent_id, message_id=job.message_id, attempt=job.attempt,
            channel=job.channel,  # type: ignore[arg-type]
            provider=provider.name, settings=provider.settings, content=rendered, to=job.to,
            devices=devices, unsubscribe_url=job.unsubscribe_url,
            transactional=job.transactional, sent_at=job.now,
            trusted=provider.source == "operator", prebuilt=prebuilt)
        return await self._senders.for_provider(job.channel, provider.name).send(outgoing)


def _render_item(agent_id: str, job: DeliveryJob) -> RenderItem:
    """What the render process needs for one job (no secrets: an email's From only)."""
    email = None
    if job.channel == "email":
        sender = job.providers[0].settings.get("from")
        email = {"agent_id": agent_id, "message_id": job.message_id, "attempt": job.attempt,
                 "channel": "email", "provider": job.providers[0].name,
                 "settings": {"from": sender} if sender else {}, "to": job.to,
                 "unsubscribe_url": job.unsubscribe_url, "transactional": job.transactional,
                 "sent_at": job.now}
    return RenderItem(job.channel, job.fields, job.layout, job.snippets, job.context, job.now,
                      email)


def _outcome(answer: SenderOutcome, provider: str, rendered: dict[str, Any]) -> Outcome:
    return Outcome(answer.kind, answer.detail, provider, answer.provider_message_id,
                   answer.retry_after, answer.captured, rendered)


async def _remove_device(engine: CustomerIO, user_id: str, device_id: str) -> None:
    try:
        await engine.remove_device(user_id, device_id)
        log.info("removed device %s of %s: the provider said it is gone", device_id, user_id)
    except EngineError as exc:
        log.info("could not remove gone device %s of %s: %s", device_id, user_id, exc.message)


def destination_checker(destinations: Destinations) -> Callable[[str, str], Awaitable[None]]:
    """Services.check_destination: refuses a host or URL an agent gives (channels_configure)
    that does not resolve, or resolves to a private, loopback or link-local address."""

    async def check(value: str, field: str) -> None:
        parsed = urlsplit(value if "://" in value else f"//{value}")
        host = parsed.hostname
        if not host:
            raise InvalidInput(f"{field}: {value[:80]!r} names no host", field=field)
        try:
            await destinations.resolve(host, parsed.port or 443)
        except RefusedDestination as exc:
            raise InvalidInput(f"{field}: {exc}; the operator can allow them with "
                               "--allow-private-destinations", field=field) from None
        except (OSError, UnicodeError, ValueError):
            raise InvalidInput(f"{field}: cannot resolve {host!r}; give a host name that "
                               "resolves", field=field) from None

    return check

"""Delivery: emails and webhooks through our whole path vs the bare client library; send latency.

1. Email: `--emails` (2,000) emails, one per person, to a loopback aiosmtpd server (a
   process of its own). Ours: a Runtime whose operator config points email at the server
   (security "none"); `await cio.send(...)` for each through the Python API while the
   Runtime's scheduler and dispatcher deliver (render in the render processes, SMTP on the
   pooled connections, outcome recorded); timed from the first send until every message is
   `sent` in the agent's database. After a warm-up of 20 (render processes started, SMTP
   connections open). Bare: one aiosmtplib connection, `sendmail` of the same messages (the
   same MIME bytes, built beforehand with our renderer and MIME builder) one after another.
   Target: ours >= 70% of bare throughput.
2. Webhooks: `--webhooks` (2,000) webhooks (a template's POST of a small JSON body) to a
   loopback uvicorn server (its own process) answering 200 at once. Ours: a Runtime with
   allow_private=True, same timing as 1. Bare: one httpx.AsyncClient, the same requests
   (body and headers built beforehand), CONCURRENCY (server/channels/senders.py) in flight,
   as our webhook sender. Target: ours >= 60%.
3. Send latency: `await cio.send(user, "in_app", template_id=...)` through
   `CustomerIO.for_agent` (a plain program: it queues), `--calls` (2,000) calls alternated one
   by one with `await cio.track(...)` for scale. Target: send p50 < 1 ms.

Rounds alternate bare and ours on fresh data directories; medians are compared.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiosmtplib
import anyio
import httpx
from common import Report, alternate, median, now_ns, parser, percentile, summarize_rates
from http_support_send import serve_in_process as serve_http

from server.channels.base import Outgoing
from server.channels.mime import build_email, envelope_sender, recipient
from server.channels.senders import CONCURRENCY
from server.channels.webhook import webhook_headers
from server.config import load_config
from server.delivery import PER_AGENT
from server.runtime import Runtime
from tests.e2e.mail_support_send import serve_in_process as serve_smtp
from tools.api import CustomerIO
from tools.core.delivery.tokens import make_unsubscribe_token, unsubscribe_url
from tools.core.templates.preview import render_send
from tools.delivery.outbox import DEFAULT_PUBLIC_URL

EMAIL_TARGET = 0.70
WEBHOOK_TARGET = 0.60
SEND_P50_TARGET_MS = 1.0
AGENT = "bench"
SENDER = "shop@example.com"
WARM = 20
SUBJECT = "Welcome to the shop, {{ customer.name }}"
BODY = ("<html><body><h1>Hello {{ customer.name }}</h1>"
        "<p>Thanks for signing up on {{ customer.plan }}. Here is what you can do next:</p>"
        "<ul>{% for item in customer.items %}<li>{{ item | capitalize }}</li>{% endfor %}</ul>"
        + "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
          "incididunt ut labore et dolore magna aliqua.</p>" * 8
        + "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>")
HOOK_BODY = '{"id": "{{ customer.id }}", "name": "{{ customer.name }}", "event": "signed_up"}'


def person(i: int) -> dict[str, Any]:
    return {"name": f"Person {i}", "email": f"p{i}@example.net", "plan": "pro",
            "items": ["orders", "wishlists", "reviews"]}


# --- loopback servers, each in a process of its own -------------------------------------


@contextmanager
def server_process(target: Callable[..., None]) -> Iterator[tuple[int, Any]]:
    """Start `target(ready, stop, counts)` in a spawned process; yields (port, counts)."""
    context = multiprocessing.get_context("spawn")
    ready, child_end = context.Pipe(duplex=False)
    stop = context.Event()
    counts = context.Array("q", 3, lock=False)
    process = context.Process(target=target, args=(child_end, stop, counts), daemon=True)
    process.start()
    try:
        if not ready.poll(30):
            raise RuntimeError(f"{target.__module__} did not start")
        yield ready.recv(), counts
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()


async def settled(counts: Any) -> tuple[int, int, int]:
    """The server's counts once the last arrivals are in them (it publishes every 5 ms)."""
    await asyncio.sleep(0.03)
    return counts[0], counts[1], counts[2]


async def wait_sent(path: Path, total: int, counts: Any, seconds: float = 120) -> None:
    """Poll the agent's database (read-only) until `total` messages are sent."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        with anyio.fail_after(seconds):
            while True:
                found = dict(conn.execute(
                    "SELECT status, count(*) FROM messages GROUP BY status").fetchall())
                if found.get("sent", 0) >= total:
                    return
                bad = {s: n for s, n in found.items() if s not in ("queued", "sending", "sent")}
                if bad:
                    raise RuntimeError(f"messages ended {bad}")
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise RuntimeError(f"not all sent within {seconds} s: {found}; server saw "
                           f"{counts[0]}") from None
    finally:
        conn.close()


async def ours(directory: Path, channel: str, template: dict[str, Any], total: int,
               counts: Any, config: Path | None = None) -> tuple[float, float]:
    """(messages/s, bytes per message at the server) through a Runtime: WARM messages,
    then `total` sends timed until every one is sent."""
    options: dict[str, Any] = {"config": load_config(config)} if config else {}
    async with Runtime(directory, allow_private=True, **options) as runtime:
        cio = runtime.engine(AGENT)
        await cio.templates_create("t", channel, template)
        people = [{"action": "identify", "user_id": f"p{i}", "attributes": person(i)}
                  for i in range(total + WARM)]
        for first in range(0, len(people), 1_000):
            assert (await cio.batch(people[first:first + 1_000])).failed == 0
        path = directory / f"{AGENT}.sqlite3"
        for i in range(total, total + WARM):
            await cio.send(f"p{i}", channel, template_id="t")
        await wait_sent(path, WARM, counts)
        before, size_before, distinct_before = await settled(counts)
        send = cio.send
        start = now_ns()
        for i in range(total):
            await send(f"p{i}", channel, template_id="t")
        await wait_sent(path, WARM + total, counts)
        elapsed = (now_ns() - start) / 1e9
        after, size_after, distinct_after = await settled(counts)
        arrived, distinct = after - before, distinct_after - distinct_before
        assert arrived == distinct == total, \
            f"the server got {arrived} of {total} ({distinct} distinct)"
    return total / elapsed, (size_after - size_before) / arrived


# --- 1. email ------------------------------------------------------------------------------


def bare_emails(total: int) -> list[tuple[str, str, bytes]]:
    """The bytes our path sends, built beforehand: rendered by our renderer, built by our
    MIME builder, with an unsubscribe link as long as ours."""
    secret, now = secrets.token_bytes(32), time.time()
    fields = {"subject": SUBJECT, "body": BODY}
    messages = []
    for i in range(total):
        message_id = "msg_" + secrets.token_hex(10)
        link = unsubscribe_url(DEFAULT_PUBLIC_URL,
                               make_unsubscribe_token(secret, AGENT, message_id, None))
        data = {"customer": {**person(i), "id": f"p{i}"}, "trigger": {}, "event": {},
                "message": {"id": message_id, "channel": "email"}, "unsubscribe_url": link}
        outgoing = Outgoing(
            agent_id=AGENT, message_id=message_id, attempt=1, channel="email",
            provider="smtp", settings={"from": SENDER},
            content=render_send("email", fields, None, {}, data, now),
            to=f"p{i}@example.net", unsubscribe_url=link, sent_at=now, trusted=True)
        messages.append((envelope_sender(outgoing), recipient(outgoing), build_email(outgoing)))
    return messages


async def bare_email_round(port: int, messages: list[tuple[str, str, bytes]],
                           counts: Any) -> float:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, use_tls=False, start_tls=False,
                           local_hostname="example.com")
    await smtp.connect()
    before = (await settled(counts))[0]
    start = now_ns()
    for sender, rcpt, data in messages:
        await smtp.sendmail(sender, [rcpt], data)
    elapsed = (now_ns() - start) / 1e9
    await smtp.quit()
    assert (await settled(counts))[0] - before == len(messages), "the server lost some"
    return len(messages) / elapsed


def email_bench(report: Report, rounds: int, total: int) -> None:
    report.line(f"1. email: {total:,} emails to a loopback aiosmtpd server (own process), "
                f"{rounds} rounds")
    messages = bare_emails(total)
    bare_size = sum(len(m[2]) for m in messages) / total
    sizes: list[float] = []
    with server_process(serve_smtp) as (port, counts), \
            tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        config = Path(tmp) / "operator.toml"
        config.write_text(f'[channels.email.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                          f'security = "none"\nfrom = "{SENDER}"\n', encoding="utf-8")

        def raw(index: int) -> float:
            return anyio.run(bare_email_round, port, messages, counts)

        def our(index: int) -> float:
            directory = Path(tmp) / f"email-{index}"
            directory.mkdir(mode=0o700)
            rate, size = anyio.run(ours, directory, "email", {"subject": SUBJECT,
                                                              "body": BODY},
                                   total, counts, config)
            sizes.append(size)
            return rate

        raw_rates, our_rates = alternate(rounds, raw, our, report, "emails/s")
    report.line(f"message size at the server: bare {bare_size:,.0f} B, ours "
                f"{median(sizes):,.0f} B (median over rounds)")
    summarize_rates(report, raw_rates, our_rates, "emails/s", EMAIL_TARGET,
                    "email throughput")


# --- 2. webhooks ---------------------------------------------------------------------------


def bare_requests(total: int, url: str) -> list[tuple[bytes, dict[str, str]]]:
    """The bodies and headers our webhook sender sends, built beforehand."""
    now = time.time()
    fields = {"url": url, "method": "POST", "body": HOOK_BODY}
    built = []
    for i in range(total):
        message_id = "msg_" + secrets.token_hex(10)
        data = {"customer": {**person(i), "id": f"p{i}"}, "trigger": {}, "event": {},
                "message": {"id": message_id, "channel": "webhook"}, "unsubscribe_url": ""}
        content = render_send("webhook", fields, None, {}, data, now)
        body = content["body"].encode()
        outgoing = Outgoing(agent_id=AGENT, message_id=message_id, attempt=1,
                            channel="webhook", provider="webhook",
                            settings={"signing_secret": secrets.token_hex(32)},
                            content=content, sent_at=now)
        built.append((body, webhook_headers(outgoing, body)))
    return built


async def bare_webhook_round(url: str, requests: list[tuple[bytes, dict[str, str]]],
                             counts: Any) -> float:
    async with httpx.AsyncClient(trust_env=False) as client:
        await client.get(url)  # the first connection opened before timing
        before = (await settled(counts))[0]
        pending = iter(requests)

        async def worker() -> None:
            for body, headers in pending:
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 200

        start = now_ns()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = (now_ns() - start) / 1e9
    assert (await settled(counts))[0] - before == len(requests), "the server lost some"
    return len(requests) / elapsed


def webhook_bench(report: Report, rounds: int, total: int) -> None:
    report.line(f"2. webhooks: {total:,} POSTs to a loopback uvicorn server (own process), "
                f"bare httpx with {CONCURRENCY} in flight (our webhook sender's CONCURRENCY; "
                f"dispatcher PER_AGENT {PER_AGENT}), {rounds} rounds")
    with server_process(serve_http) as (port, counts), \
            tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        url = f"http://127.0.0.1:{port}/hook"
        requests = bare_requests(total, url)

        def raw(index: int) -> float:
            return anyio.run(bare_webhook_round, url, requests, counts)

        def our(index: int) -> float:
            directory = Path(tmp) / f"hook-{index}"
            directory.mkdir(mode=0o700)
            return anyio.run(ours, directory, "webhook",
                             {"url": url, "method": "POST", "body": HOOK_BODY},
                             total, counts)[0]

        raw_rates, our_rates = alternate(rounds, raw, our, report, "webhooks/s")
    summarize_rates(report, raw_rates, our_rates, "webhooks/s", WEBHOOK_TARGET,
                    "webhook throughput")


# --- 3. send latency -------------------------------------------------------------------------


async def send_latency(directory: Path, calls: int) -> tuple[list[float], list[float]]:
    """(send µs, track µs), alternated call by call."""
    sends: list[float] = []
    tracks: list[float] = []
    async with CustomerIO.for_agent(AGENT, data_dir=directory) as cio:
        await cio.templates_create("note", "in_app", {"title": "Hi {{ customer.name }}",
                                                      "body": "<p>Your order shipped</p>"})
        assert (await cio.batch([{"action": "identify", "user_id": f"p{i}",
                                  "attributes": person(i)} for i in range(200)])).failed == 0
        send, track = cio.send, cio.track
        for i in range(-200, calls):  # the first 200 warm up
            user = f"p{i % 200}"
            start = now_ns()
            queued = await send(user, "in_app", template_id="note")
            middle = now_ns()
            await track("viewed", user_id=user, properties={"sku": i})
            end = now_ns()
            if i >= 0:
                sends.append((middle - start) / 1e3)
                tracks.append((end - middle) / 1e3)
        assert queued.status == "queued", queued
    return sends, tracks


def latency_bench(report: Report, calls: int) -> None:
    report.line(f"3. send latency: {calls:,} `await cio.send(..., 'in_app', ...)` through "
                "CustomerIO.for_agent, alternated with `await cio.track(...)`")
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        directory = Path(tmp) / "latency"
        directory.mkdir(mode=0o700)
        sends, tracks = anyio.run(send_latency, directory, calls)
    report.line(f"send  p50 {median(sends):,.0f} µs, p90 {percentile(sends, 0.9):,.0f} µs, "
                f"p99 {percentile(sends, 0.99):,.0f} µs")
    report.line(f"track p50 {median(tracks):,.0f} µs, p90 {percentile(tracks, 0.9):,.0f} µs, "
                f"p99 {percentile(tracks, 0.99):,.0f} µs (for scale)")
    report.target("send p50 latency", median(sends) < SEND_P50_TARGET_MS * 1000,
                  f"{median(sends) / 1000:.3f} ms (target < {SEND_P50_TARGET_MS:g} ms; "
                  f"{median(sends) / median(tracks):.1f}x a track)")


def main() -> int:
    cli = parser(__doc__.splitlines()[0], rounds=3)
    cli.add_argument("--emails", type=int, default=2_000, help="emails per round")
    cli.add_argument("--webhooks", type=int, default=2_000, help="webhooks per round")
    cli.add_argument("--calls", type=int, default=2_000, help="send calls for the latency")
    cli.add_argument("--only", choices=["email", "webhook", "latency"], default=None,
                     help="run one part")
    args = cli.parse_args()
    report = Report("bench_send")
    started = time.monotonic()
    if args.only in (None, "email"):
        email_bench(report, args.rounds, args.emails)
    if args.only in (None, "webhook"):
        webhook_bench(report, args.rounds, args.webhooks)
    if args.only in (None, "latency"):
        latency_bench(report, args.calls)
    report.line(f"took {time.monotonic() - started:.0f} s")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())

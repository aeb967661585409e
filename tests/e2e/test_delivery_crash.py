"""A worker killed (SIGKILL) in the middle of delivering 1,000 emails loses none of them,
and sends again at most the few that were in flight: each of those went out (or may have)
but its outcome was never recorded, so after its lease lapses another worker sends it
again, with the same Message-ID.

The SMTP server (aiosmtpd, on this test's event loop) counts arrivals per Message-ID and
answers each DATA a few milliseconds after recording it, so the kill lands mid-way.
Everything shares one moving clock (CUSTOMERIO_MCP_CLOCK), as in tests/timed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import anyio
import pytest

from server.delivery import PER_AGENT
from tests.e2e.mail_support_send import counting_smtp_server
from tests.e2e.support import clean_env, descendants, query, still_running, worker_process
from tools.api import CustomerIO
from tools.core.clock import CLOCK_VARIABLE, SharedClock

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
START = 1_780_000_000.0
PEOPLE = 1_000
AGENT = "shop"
SENDER = "shop@example.com"
DATA_DELAY_S = 0.008  # the server's pause after each DATA: ~1 s for 1,000 on 4 connections
KILL_WINDOW = (300, 600)  # arrivals at which the first worker is killed
LEASE_S = "2"  # CUSTOMERIO_MCP_SEND_LEASE and _CLAIM_LEASE: a dead worker's work lapses fast


def config_file(path: Path, port: int) -> Path:
    path.write_text(f'[channels.email.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                    f'security = "none"\nfrom = "{SENDER}"\n', encoding="utf-8")
    return path


def worker(data_dir: Path, config: Path, env: dict[str, str],
           log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`customerio-mcp worker` delivering with `config`; stopped (SIGTERM) at the end."""
    return worker_process(["--data-dir", str(data_dir), "--config", str(config),
                           "--allow-private-destinations"], env, log)


def statuses(path: Path) -> dict[str, int]:
    return dict(query(path, "SELECT status, count(*) FROM messages GROUP BY status"))


async def wait_until(condition: Any, seconds: float, what: str) -> None:
    """Poll until `condition()` holds (bounded; a short sleep lets the SMTP server run)."""
    try:
        with anyio.fail_after(seconds):
            while not condition():
                await anyio.sleep(0.002)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds} s waiting for {what}") from None


async def queue_emails(data_dir: Path, clock: SharedClock) -> set[str]:
    """1,000 people, one template, one email each, through the Python API (no dispatcher
    in this process: they stay queued). Returns the Message-IDs they will carry."""
    async with CustomerIO.for_agent(AGENT, data_dir=data_dir, clock=clock) as cio:
        await cio.templates_create("welcome", "email", subject="Welcome, {{ customer.name }}",
                                   body="<p>Hello {{ customer.name }}</p>")
        result = await cio.batch([{"action": "identify", "user_id": f"p{i}",
                                   "attributes": {"name": f"Person {i}",
                                                  "email": f"p{i}@example.net"}}
                                  for i in range(PEOPLE)])
        assert result.failed == 0
        ids = set()
        for i in range(PEOPLE):
            queued = await cio.send(f"p{i}", "email", template_id="welcome")
            assert queued.status == "queued", queued
            ids.add(f"<{queued.message_id}@example.com>")  # server/channels/mime.message_id
    return ids


async def test_a_worker_killed_mid_delivery_loses_no_email_and_repeats_only_those_in_flight(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    clock = SharedClock(START, time.time(), 1.0)
    env = clean_env(**{CLOCK_VARIABLE: clock.spec(), "CUSTOMERIO_MCP_LOG_LEVEL": "WARNING",
                       "CUSTOMERIO_MCP_SEND_LEASE": LEASE_S,
                       "CUSTOMERIO_MCP_CLAIM_LEASE": LEASE_S})
    path = data_dir / f"{AGENT}.sqlite3"
    orphans: set[int] = set()
    began = time.monotonic()
    try:
        with anyio.fail_after(50):
            expected = await queue_emails(data_dir, clock)
            assert len(expected) == PEOPLE and statuses(path) == {"queued": PEOPLE}
            queued_s = time.monotonic() - began
            async with counting_smtp_server(DATA_DELAY_S) as (port, server):
                config = config_file(tmp_path / "operator.toml", port)
                with worker(data_dir, config, env, tmp_path / "first.log") as first:
                    await wait_until(lambda: server.arrived >= KILL_WINDOW[0], 30,
                                     f"{KILL_WINDOW[0]} arrivals")
                    children = descendants(first.pid)
                    first.send_signal(signal.SIGKILL)
                    first.wait()
                    killed_s = time.monotonic() - began
                    arrived_at_kill = server.arrived
                    at_kill = statuses(path)
                    owners = {owner for (owner,) in query(
                        path, "SELECT DISTINCT lease_owner FROM messages "
                              "WHERE status = 'sending'")}
                orphans = still_running(children)
                in_flight = at_kill.get("sending", 0)
                assert KILL_WINDOW[0] <= arrived_at_kill <= KILL_WINDOW[1], \
                    f"the kill did not land mid-way: {arrived_at_kill} had arrived"
                assert sum(at_kill.get(s, 0) for s in ("sent", "sending", "queued")) == PEOPLE, \
                    at_kill
                assert 0 < in_flight <= PER_AGENT, at_kill
                assert len(owners) == 1 and f"pid {first.pid} " in owners.pop()
                # every message the dead worker recorded `sent` did arrive
                assert at_kill.get("sent", 0) <= arrived_at_kill
                with worker(data_dir, config, env, tmp_path / "second.log") as second:
                    await wait_until(lambda: statuses(path) == {"sent": PEOPLE}, 40,
                                     "every message sent")
                    done_s = time.monotonic() - began
                assert second.returncode == 0, (tmp_path / "second.log").read_text()
            duplicates = server.duplicates()
            print(f"\ndelivery crash: {arrived_at_kill} arrived before the kill, {in_flight} "
                  f"in flight (sending) at the kill, {at_kill.get('sent', 0)} recorded sent; "
                  f"after the restart {server.arrived} arrivals in all, {len(server.ids)} "
                  f"distinct, {duplicates} duplicates. Queued in {queued_s:.1f} s, killed at "
                  f"{killed_s:.1f} s, all sent at {done_s:.1f} s. Processes of the killed worker "
                  f"still running (its render process and resource tracker): {len(orphans)}")
    finally:
        # a SIGKILLed worker's render processes (and multiprocessing's resource tracker)
        # do not notice it died and keep running: they are this test's to stop
        for pid in still_running(orphans):
            os.kill(pid, signal.SIGKILL)
    assert set(server.ids) == expected, "an email never arrived (or a stranger did)"
    assert server.without_id == 0
    assert server.arrived == PEOPLE + duplicates
    assert duplicates <= in_flight
    # and at least one: the message whose arrival triggered the kill was never answered
    # (the server answers DATA_DELAY_S later, on this event loop, after the kill)
    assert duplicates >= 1
    # each repeat is of a message in flight at the kill, sent again once, as attempt 2
    repeated = {mid for mid, count in server.ids.items() if count > 1}
    assert set(server.ids.values()) <= {1, 2}
    rows = query(path, "SELECT message_id, attempts, provider, status, lease_owner, due "
                       "FROM messages")
    assert {(provider, status, owner, due) for _, _, provider, status, owner, due in rows} \
        == {("smtp", "sent", None, None)}
    again = {f"<{mid}@example.com>" for mid, attempts, *_ in rows if attempts == 2}
    assert {attempts for _, attempts, *_ in rows} <= {1, 2}
    assert repeated <= again and len(again) == in_flight
    # the takeover is in each history: a "retry" naming the dead process
    retries = query(path, "SELECT detail FROM message_transitions WHERE status = 'retry'")
    assert len(retries) == in_flight
    assert all(f"pid {first.pid} " in detail for (detail,) in retries)
    log = (tmp_path / "second.log").read_text()
    assert "Traceback" not in log, log

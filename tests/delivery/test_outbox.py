"""The outbox is durable: what a plain Python program queues, a runtime on the same data
directory delivers; a message whose sending process died is sent again once its lease
lapses; a long queue flows past the dispatcher's per-agent limit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.runtime import Runtime
from tests.delivery.support import details, message_count, query, seed, settled, statuses
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio


async def test_a_plain_python_program_queues_and_a_runtime_delivers(
    tmp_path: Path, clock: ManualClock,
) -> None:
    async with CustomerIO.for_agent("tom", data_dir=tmp_path, clock=clock) as cio:
        await seed(cio)
        out = await cio.send("ada", "sms", template_id="hello-sms")
        assert out.status == "queued"
        run = await cio.run_due()  # no dispatcher here: delivery waits
        assert run.ran == 0
        assert (await cio.messages_get(out.message_id)).status == "queued"
    clock.advance(2)  # past the moment the program said to look again
    async with Runtime(tmp_path, clock=clock) as runtime:
        message = await settled(runtime, out.message_id)
    assert message.status == "captured" and message.attempts == 1


async def test_a_message_whose_sending_process_died_is_sent_again_after_its_lease(
    tmp_path: Path, clock: ManualClock,
) -> None:
    async with CustomerIO.for_agent("tom", data_dir=tmp_path, clock=clock) as cio:
        await seed(cio)
        out = await cio.send("ada", "sms", template_id="hello-sms")
    # what a process that claimed it and died before recording the outcome left behind
    conn = sqlite3.connect(tmp_path / "tom.sqlite3")
    with conn:
        conn.execute("UPDATE messages SET status = 'sending', attempts = 1, due = NULL, "
                     "lease_owner = 'server:gone', lease_expires = ?", (clock.now() + 1,))
    conn.close()
    clock.advance(2)
    async with Runtime(tmp_path, clock=clock) as runtime:
        message = await settled(runtime, out.message_id)
    assert (message.status, message.attempts) == ("captured", 2)
    assert statuses(message)[1:] == [("retry", "sms"), ("sending", "sms"), ("captured", "sms")]
    [why] = details(message, "retry")
    assert why is not None and "server:gone" in why


async def test_a_long_queue_flows_past_the_per_agent_limit(runtime: Runtime, db: Path) -> None:
    cio = runtime.engine("tom")
    await seed(cio)
    ids = [(await cio.send("ada", "sms", template_id="hello-sms")).message_id
           for _ in range(70)]
    for message_id in ids:
        await settled(runtime, message_id, timeout=20)
    assert query(db, "SELECT status, count(*) FROM messages GROUP BY status") == [
        ("captured", 70)]
    assert message_count(db) == 70

"""Renders run on worker threads, a bounded number at once, never on the event loop: while
agent A's render is still running, agent B (another engine of the same Runtime, so the same
StoreManager and event loop) is served. Ordering is shown with events: a filter that waits
inside A's render until the test lets it go."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from server.runtime import Runtime
from tools.api import CustomerIO
from tools.core.errors import LimitExceeded
from tools.core.templates import guards, limits
from tools.core.templates.environment import TEXT
from tools.core.templates.sandbox import current_budget
from tools.templates.offload import render_limiter

pytestmark = pytest.mark.anyio


@dataclass
class Hold:
    """The `hold` filter's side: who entered, and the gate that lets them go on."""

    loop: asyncio.AbstractEventLoop
    entered: list[asyncio.Event] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def event(self, index: int) -> asyncio.Event:
        while len(self.entered) <= index:
            self.entered.append(asyncio.Event())
        return self.entered[index]

    def filter(self, value: Any) -> Any:
        """Runs inside a render: note where, tell the test, wait for the gate."""
        self.seen.append({"budget": current_budget() is not None,
                          "loop_thread": threading.current_thread() is threading.main_thread(),
                          "switch_interval": sys.getswitchinterval()})
        index = len(self.seen) - 1
        self.loop.call_soon_threadsafe(lambda: self.event(index).set())
        # (were the render on the event loop, this would block it: the test fails here)
        assert self.release.wait(timeout=10), "the test never released the render"
        return value


@pytest.fixture
async def hold(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hold]:
    gate = Hold(asyncio.get_running_loop())
    monkeypatch.setitem(TEXT.filters, "hold", guards.guard("hold", gate.filter))
    yield gate
    gate.release.set()


@pytest.fixture
async def agents(runtime: Runtime) -> tuple[CustomerIO, CustomerIO]:
    a, b = runtime.engine("a"), runtime.engine("b")
    await a.identify("ada", {"first_name": "Ada"})
    await b.identify("bob", {"first_name": "Bob"})
    await b.templates_create("hi", "sms", body="Hi {{ customer.first_name }}")
    return a, b


async def test_b_is_served_while_a_render_is_still_running(
        agents: tuple[CustomerIO, CustomerIO], hold: Hold) -> None:
    a, b = agents
    await a.templates_create("slow", "sms", body="{{ customer.first_name | hold }}")
    before = sys.getswitchinterval()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            done = anyio.Event()
            result: dict[str, Any] = {}

            async def preview_a() -> None:
                result["fields"] = (await a.templates_preview("slow", user_id="ada")).fields
                done.set()

            tasks.start_soon(preview_a)
            await hold.event(0).wait()  # A's render is inside the hold filter now
            await b.identify("bob", {"plan": "pro"})
            await b.track("login", user_id="bob")
            assert (await b.get_person("bob")).attributes["plan"] == "pro"
            assert (await b.templates_preview("hi", user_id="bob")).fields == {"body": "Hi Bob"}
            assert not done.is_set()  # all of B's calls finished while A's render ran
            hold.release.set()
    assert result["fields"] == {"body": "Ada"}
    assert hold.seen[0]["budget"] and not hold.seen[0]["loop_thread"]
    assert hold.seen[0]["switch_interval"] == pytest.approx(limits.RENDER_SWITCH_INTERVAL_S)
    assert current_budget() is None  # the render's ContextVar stayed in its thread
    assert sys.getswitchinterval() == before  # restored after the last render


async def test_at_most_render_threads_renders_run_at_once(
        agents: tuple[CustomerIO, CustomerIO], hold: Hold) -> None:
    a, _ = agents
    await a.templates_create("slow", "sms", body="{{ 'x' | hold }}")
    threads = limits.RENDER_THREADS
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            for _ in range(threads + 1):
                tasks.start_soon(a.templates_preview, "slow")
            for index in range(threads):
                await hold.event(index).wait()
            limiter = render_limiter()
            while limiter.statistics().tasks_waiting < 1:  # the extra one queues up
                await anyio.lowlevel.checkpoint()
            assert limiter.borrowed_tokens == threads
            assert len(hold.seen) == threads
            hold.release.set()
    assert len(hold.seen) == threads + 1


async def test_a_hostile_preview_fails_while_b_keeps_being_served(
        agents: tuple[CustomerIO, CustomerIO]) -> None:
    a, b = agents
    await a.templates_create("uniq", "sms", body="{% assign a = (1..100000) | join: ',' | "
                             "split: ',' %}{{ a | uniq | size }}")
    await a.templates_create("loop", "sms", body="{% for i in (1..1000) %}{{ (1..100000) | "
                             "join: ',' | split: ',' | uniq | size }}{% endfor %}")
    failures: list[str] = []
    served: list[str] = []

    async def preview_a(template_id: str) -> None:
        with pytest.raises(LimitExceeded) as caught:
            await a.templates_preview(template_id, user_id="ada")
        failures.append(caught.value.kind)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(preview_a, "uniq")
            tasks.start_soon(preview_a, "loop")
            for _ in range(20):
                served.append((await b.get_person("bob")).user_id)
    assert failures == ["limit_exceeded", "limit_exceeded"]
    assert served == ["bob"] * 20

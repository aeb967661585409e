"""Renders run in render processes, one per agent at a time: while agent A's hostile render
runs to its budget, agent B (another engine of the same Runtime, so the same event loop)
keeps being served, and a render process that dies is replaced."""

from __future__ import annotations

import multiprocessing
import os
import signal

import anyio
import pytest

from server.runtime import Runtime
from tools.api import CustomerIO
from tools.core.errors import LimitExceeded
from tools.render_pool import RENDERS

pytestmark = pytest.mark.anyio
# Runs into the 250 ms budget (before every filter was bounded: 52 s, on the event loop).
HOSTILE = "{% assign a = (1..100000) | join: ',' | split: ',' %}{{ a | uniq | size }}"


@pytest.fixture
async def agents(runtime: Runtime) -> tuple[CustomerIO, CustomerIO]:
    a, b = runtime.engine("a"), runtime.engine("b")
    await a.templates_create("hostile", "sms", body=HOSTILE)
    await b.identify("bob", {"first_name": "Bob"})
    await b.templates_create("hi", "sms", body="Hi {{ customer.first_name }}")
    assert (await b.templates_preview("hi", user_id="bob")).fields == {"body": "Hi Bob"}
    return a, b


async def test_b_is_served_while_a_hostile_render_runs(
        agents: tuple[CustomerIO, CustomerIO]) -> None:
    a, b = agents
    done = anyio.Event()
    errors: list[LimitExceeded] = []

    async def preview_a() -> None:
        try:
            await a.templates_preview("hostile")
        except LimitExceeded as exc:
            errors.append(exc)
        done.set()

    served = 0
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(preview_a)
            while not done.is_set():  # B's calls, one after the other, until A's ends
                await b.identify("bob", {"n": served})
                assert (await b.get_person("bob")).attributes["n"] == served
                assert (await b.templates_preview("hi", user_id="bob")).fields == {
                    "body": "Hi Bob"}
                served += 0 if done.is_set() else 3  # finished while A's render still ran
    assert errors and "limit" in errors[0].message.lower()
    assert served >= 3, f"B finished only {served} calls while A's render ran"


async def test_an_agent_renders_one_at_a_time_while_another_agent_renders(
        agents: tuple[CustomerIO, CustomerIO]) -> None:
    a, b = agents
    finished: list[str] = []

    async def preview(engine: CustomerIO, template_id: str, label: str) -> None:
        try:
            await engine.templates_preview(template_id, **(
                {"user_id": "bob"} if template_id == "hi" else {}))
        except LimitExceeded:
            pass
        finished.append(label)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            for index in range(3):
                tasks.start_soon(preview, a, "hostile", f"a{index}")
            await anyio.sleep(0)  # A's three are queued (one renders, two wait for it)
            tasks.start_soon(preview, b, "hi", "b")
    # B used the other render process: it did not wait behind A's renders
    assert finished.index("b") < 2, finished


async def test_a_render_process_that_dies_is_replaced(
        agents: tuple[CustomerIO, CustomerIO]) -> None:
    a, b = agents

    async def kill_the_render_processes() -> None:
        await anyio.sleep(0.05)  # A's render is under way
        for child in multiprocessing.active_children():
            if child.pid is not None:
                os.kill(child.pid, signal.SIGKILL)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(kill_the_render_processes)
            with pytest.raises(LimitExceeded):
                await a.templates_preview("hostile")
    assert (await b.templates_preview("hi", user_id="bob")).fields == {"body": "Hi Bob"}
    assert RENDERS._executor is not None

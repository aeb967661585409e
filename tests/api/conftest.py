"""Fixtures for the Python API tests: the agent's database file and a seeded engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.api import CustomerIO
from tools.core.clock import ManualClock


@pytest.fixture
def db_path(cio: CustomerIO) -> Path:
    """The SQLite file of agent 'tom' (the `cio` fixture)."""
    return cio.manager.path_for(cio.agent_id)


@pytest.fixture
async def seeded(cio: CustomerIO, clock: ManualClock) -> CustomerIO:
    """An engine holding one of everything: people, events, a device, a link, a suppression."""
    await cio.identify("ada", {"email": "ada@example.com", "plan": "pro"}, anonymous_id="a-ada")
    await cio.identify("bob", {"plan": "free"})
    await cio.track("login", user_id="ada", properties={"via": "web"}, event_id="ev-1")
    await cio.track("view", anonymous_id="visitor-1")
    await cio.add_device("ada", "tok-ada", "ios")
    await cio.suppress_person("spammer")
    clock.advance(60)
    return cio

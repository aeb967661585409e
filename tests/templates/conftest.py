"""Fixtures for the template tests: a pure render helper and the agent's database file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.templates import limits
from tools.core.templates.channels import check_fields
from tools.core.templates.render import compile_message, render_message

START = 1_780_000_000.0  # 2026-05-28T20:26:40Z, as the clock fixture
Render = Callable[..., Any]


def render_field(source: str, data: dict[str, Any] | None = None, *, channel: str = "sms",
                 field: str = "body", snippets: dict[str, str] | None = None,
                 now: float = START, layout: str | None = None,
                 time_limit: float = limits.RENDER_TIME_LIMIT_S) -> Any:
    """Render one field of a message through the engine's pure render path."""
    fields = {"sms": {"body": "x"}, "email": {"subject": "s", "body": "b"},
              "push": {"body": "x"}, "in_app": {"body": "x"},
              "webhook": {"url": "https://x.test"}}[channel]
    name, _, key = field.partition(".")
    fields = check_fields(channel, {**fields, name: {key: source} if key else source})
    message = compile_message(channel, fields, layout)
    rendered = render_message(message, data or {}, now=now, snippets=snippets,
                              time_limit=time_limit)
    return rendered[name][key] if key else rendered[name]


@pytest.fixture
def render() -> Render:
    return render_field


@pytest.fixture
def db_path(cio: CustomerIO) -> Path:
    """The SQLite file of agent 'tom' (the `cio` fixture)."""
    return cio.manager.path_for(cio.agent_id)


@pytest.fixture
def keeps_data() -> Callable[[Path], Any]:
    return unchanged

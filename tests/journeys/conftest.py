"""Fixtures of the journey tests: agent 'tom's database file."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Agent 'tom's database file (store/manager.py path_for)."""
    return tmp_path / "tom.sqlite3"

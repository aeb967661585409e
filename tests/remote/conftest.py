"""Fixtures for the HTTP/SSE tests (helpers live in tests/remote/support.py)."""

from tests.remote.support import base_url, tokens  # noqa: F401 - fixtures

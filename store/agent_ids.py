"""Agent ids become file names, so they are checked before any file is touched."""

from __future__ import annotations

import re

AGENT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class InvalidAgentId(ValueError):
    """An agent id that does not match the allowed pattern."""


def check_agent_id(agent_id: object) -> str:
    """Return `agent_id` if it is valid, else raise InvalidAgentId saying why."""
    if not isinstance(agent_id, str) or not AGENT_ID_PATTERN.fullmatch(agent_id):
        raise InvalidAgentId(
            f"invalid agent id {agent_id!r}: use 1-64 characters of letters, digits, '_' "
            "and '-', starting with a letter or digit"
        )
    return agent_id

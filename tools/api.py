"""The Python API: every operation of the engine for one agent, without MCP.

    async with CustomerIO.for_agent("tom", data_dir="/tmp/cio") as cio:
        await cio.identify("u1", {"email": "a@example.com"})
        await cio.track("login", user_id="u1")

Each area contributes its operations as a mixin; the MCP tools are thin wrappers.
"""

from __future__ import annotations

from store.agent_ids import InvalidAgentId
from tools.engine import default_data_dir
from tools.people.api import PeopleOps
from tools.segments.api import SegmentsOps
from tools.templates.api import TemplatesOps


class CustomerIO(PeopleOps, TemplatesOps, SegmentsOps):
    """One agent's whole engine."""


__all__ = ["CustomerIO", "InvalidAgentId", "default_data_dir"]

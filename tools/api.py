"""The Python API: every operation of the engine for one agent, without MCP.

    async with CustomerIO.for_agent("tom", data_dir="/tmp/cio") as cio:
        await cio.identify("u1", {"email": "a@example.com"})
        await cio.track("login", user_id="u1")

Each area contributes its operations as a mixin; the MCP tools are thin wrappers. This is
the composition root: the one place that knows every area and wires how they meet
(change-event subscribers, timed work, what they add to a person's profile).
"""

from __future__ import annotations

from store.agent_ids import InvalidAgentId
from tools.delivery.api import DeliveryOps
from tools.delivery.outbox import DeliveryWork
from tools.delivery.subscriber import on_changes as delivery_on_changes
from tools.engine import default_data_dir
from tools.people.api import PeopleOps
from tools.segments.api import SegmentsOps
from tools.segments.bulk import SegmentComputations
from tools.segments.subscriber import on_changes as segments_on_changes
from tools.segments.units import SegmentWakeups
from tools.segments.units import person_view as segments_person_view
from tools.status import StatusOps
from tools.templates.api import TemplatesOps


class CustomerIO(PeopleOps, TemplatesOps, SegmentsOps, DeliveryOps, StatusOps):
    """One agent's whole engine: every area's operations, and how the areas meet."""

    # Change events reach these in order (a subscriber's own changes reach those after it).
    subscribers = (segments_on_changes, delivery_on_changes)
    timed_work = (SegmentWakeups(), SegmentComputations(), DeliveryWork())
    person_views = (segments_person_view,)


__all__ = ["CustomerIO", "InvalidAgentId", "default_data_dir"]

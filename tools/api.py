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
from tools.journey_ports import PORTS as JOURNEY_PORTS
from tools.journeys.api import JourneysOps
from tools.journeys.dates import DateWork
from tools.journeys.queries import person_view as journeys_person_view
from tools.journeys.subscriber import JourneyWork, make_subscriber
from tools.people.api import PeopleOps
from tools.segments.api import SegmentsOps
from tools.segments.bulk import SegmentComputations
from tools.segments.subscriber import on_changes as segments_on_changes
from tools.segments.units import SegmentWakeups
from tools.segments.units import person_view as segments_person_view
from tools.status import StatusOps
from tools.templates.api import TemplatesOps


class CustomerIO(PeopleOps, TemplatesOps, SegmentsOps, DeliveryOps, JourneysOps, StatusOps):
    """One agent's whole engine: every area's operations, and how the areas meet."""

    # Change events reach these in order (a subscriber's own changes reach those after it).
    subscribers = (segments_on_changes, delivery_on_changes, make_subscriber(JOURNEY_PORTS))
    timed_work = (SegmentWakeups(), SegmentComputations(), DeliveryWork(),
                  JourneyWork(JOURNEY_PORTS), DateWork(JOURNEY_PORTS))
    journey_ports = JOURNEY_PORTS
    person_views = (segments_person_view, journeys_person_view)


__all__ = ["CustomerIO", "InvalidAgentId", "default_data_dir"]

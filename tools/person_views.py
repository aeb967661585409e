"""What other areas add to a person's profile (get_person), composed at the root.

The people area reads the profile; each area that knows more about a person (segments
today, journeys next) contributes fields through a PersonView that the composition root
(tools/api.py) lists. The models of those fields live here, shared, so no area imports
another.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

# (connection, person pk) -> fields of the Person model, read in get_person's transaction
PersonView = Callable[[sqlite3.Connection, int], dict[str, Any]]


class PersonSegment(BaseModel):
    segment_id: str
    name: str
    since: str


class SegmentChange(BaseModel):
    segment_id: str
    change: Literal["entered", "exited"]
    at: str
    cause: str = Field(description="What caused it: identify, track, batch, time, device, "
                       "merge, manual, segment_created, segment_updated")


class PersonJourney(BaseModel):
    workflow_id: str
    status: str
    current_step: str | None = Field(description="journeys_list shows more")

"""Date triggers ("three days before renewal_date, at 09:00 in the person's timezone"):
the moment a person's journey starts, from their attributes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tools.core.journeys.model import Trigger
from tools.core.journeys.windows import valid_zone, zone_info
from tools.core.templates.filters import to_datetime


def trigger_moment(trigger: Trigger, attributes: Mapping[str, Any]) -> float | None:
    """Unix seconds at which `trigger` (type date) fires for a person with `attributes`:
    the attribute's time plus the offset, moved to `at_time` on that day in the person's
    `timezone` attribute (else the trigger's zone). None when the attribute is not a time."""
    assert trigger.attribute is not None
    moment = to_datetime(attributes.get(trigger.attribute))
    if moment is None:
        return None
    moment = moment + timedelta(seconds=trigger.offset)
    if trigger.at_time is None:
        return moment.timestamp()
    person_zone = attributes.get("timezone")
    zone = zone_info(person_zone if isinstance(person_zone, str) and valid_zone(person_zone)
                     else trigger.timezone)
    local = moment.astimezone(zone)
    wall = datetime(local.year, local.month, local.day, trigger.at_time // 60,
                    trigger.at_time % 60)
    # a wall time that does not exist (spring forward) is taken after the jump
    return wall.replace(tzinfo=zone).timestamp()

"""The journey model: a validated workflow definition, a journey's state, and what a step
does (its effects). Pure data, JSON-friendly; tools/core/journeys/definition.py builds a
Workflow from what an agent wrote, interpreter.py advances a JourneyState.

A position in the nested steps is a Path: indexes into step lists and the names of the
branches between them, e.g. (3, "then", 0) is the first step of the `then` branch of the
fourth top-level step; (2, "cohort", 1, 0) the first step of the second cohort of a split;
(4, "timeout", 0) the first step of a wait_until's timeout branch. The empty path is the
end (nothing more to run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Path = tuple[int | str, ...]
Rule = Mapping[str, Any]  # a condition in the segment rule language (tools/core/segments/rules.py)

TriggerType = Literal["api", "event", "segment_entered", "segment_exited", "attribute_changed",
                      "date"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNSET: Any = object()


# --- the definition ---------------------------------------------------------------------

@dataclass(frozen=True)
class Trigger:
    type: TriggerType
    event: str | None = None  # event: its name
    properties: tuple[Mapping[str, Any], ...] = ()  # event: property filters, as in rules
    segment_id: str | None = None  # segment_entered / segment_exited
    attribute: str | None = None  # attribute_changed; date: the timestamp attribute
    from_value: Any = _UNSET  # attribute_changed: only from this value (unset: any)
    to_value: Any = _UNSET  # attribute_changed: only to this value (unset: any)
    offset: float = 0.0  # date: seconds after the attribute's time (negative: before)
    at_time: int | None = None  # date: minute of the day in the person's timezone, or None
    timezone: str = "UTC"  # date: the zone when the person has no `timezone` attribute

    def has_from(self) -> bool:
        return self.from_value is not _UNSET

    def has_to(self) -> bool:
        return self.to_value is not _UNSET


@dataclass(frozen=True)
class SendStep:
    id: str
    channel: str
    template_id: str
    fallback: tuple[tuple[str, str], ...] = ()  # (channel, template_id) in order
    topic: str | None = None
    transactional: bool = False
    type: Literal["send"] = "send"


@dataclass(frozen=True)
class DelayStep:
    id: str
    seconds: float
    type: Literal["delay"] = "delay"


@dataclass(frozen=True)
class WaitUntilStep:
    """Waits until the person performs `event` (with `properties`), or until `condition`
    holds, at most `max_wait` seconds; then `on_timeout`: continue with the next step, exit
    the journey, or run `timeout` (a branch of its own, then the next step)."""

    id: str
    max_wait: float
    event: str | None = None
    properties: tuple[Mapping[str, Any], ...] = ()
    condition: Rule | None = None
    on_timeout: Literal["continue", "exit", "branch"] = "continue"
    timeout: tuple[Step, ...] = ()
    type: Literal["wait_until"] = "wait_until"


@dataclass(frozen=True)
class TimeWindowStep:
    """Waits until the current moment is inside the window: one of `days` (0 = Monday),
    from `start` to `end` (minutes of the day; end > start), in the person's `timezone`
    attribute (falling back to `timezone`) or always in `timezone` when `person_timezone`
    is false."""

    id: str
    days: frozenset[int]
    start: int
    end: int
    timezone: str = "UTC"
    person_timezone: bool = True
    type: Literal["time_window"] = "time_window"


@dataclass(frozen=True)
class BranchStep:
    id: str
    condition: Rule
    then: tuple[Step, ...] = ()
    otherwise: tuple[Step, ...] = ()  # written `else`
    type: Literal["branch"] = "branch"


@dataclass(frozen=True)
class Cohort:
    name: str
    weight: float  # > 0; cohorts are chosen with probability weight / total
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class SplitStep:
    """A/B split: each person lands in one cohort, chosen deterministically from the
    journey key and the step id, and the choice is recorded."""

    id: str
    cohorts: tuple[Cohort, ...]
    type: Literal["split"] = "split"


@dataclass(frozen=True)
class UpdateAttributesStep:
    id: str
    set: Mapping[str, Any] = field(default_factory=dict)  # string values may be Liquid
    unset: tuple[str, ...] = ()
    type: Literal["update_attributes"] = "update_attributes"


@dataclass(frozen=True)
class WebhookStep:
    id: str
    template_id: str  # a webhook template
    type: Literal["webhook"] = "webhook"


@dataclass(frozen=True)
class EmitEventStep:
    id: str
    name: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    type: Literal["emit_event"] = "emit_event"


@dataclass(frozen=True)
class ExitStep:
    id: str
    type: Literal["exit"] = "exit"


Step = (SendStep | DelayStep | WaitUntilStep | TimeWindowStep | BranchStep | SplitStep
        | UpdateAttributesStep | WebhookStep | EmitEventStep | ExitStep)


@dataclass(frozen=True)
class Goal:
    """Reaching it is a conversion (and ends the journey when `exit` is true)."""

    event: str | None = None
    condition: Rule | None = None
    exit: bool = True


@dataclass(frozen=True)
class Settings:
    reentry: Literal["once", "always", "interval"] = "once"
    reentry_interval: float | None = None  # seconds, with reentry "interval"
    exit_on_trigger_exit: bool = False  # segment_entered: leave when leaving the segment
    goal: Goal | None = None


@dataclass(frozen=True)
class Workflow:
    workflow_id: str
    name: str
    trigger: Trigger
    steps: tuple[Step, ...]
    settings: Settings = Settings()


# --- a journey ---------------------------------------------------------------------------

JourneyStatus = Literal["active", "waiting", "completed", "exited", "cancelled", "failed"]


@dataclass(frozen=True)
class Waiting:
    """Where a journey waits: `kind` delay / wait_until / time_window, at step `step_id`,
    until `until` (a wait_until's timeout; a delay's end; a window's next opening)."""

    kind: Literal["delay", "wait_until", "time_window"]
    step_id: str
    until: float
    since: float


@dataclass(frozen=True)
class JourneyState:
    """One person's journey through one version of a workflow."""

    path: Path  # the next step to run (empty: finished)
    status: JourneyStatus = "active"
    waiting: Waiting | None = None
    steps_done: int = 0
    visits: int = 0  # steps entered so far (keys effects, so a retry cannot repeat them)
    cohorts: Mapping[str, str] = field(default_factory=dict)  # split step id -> cohort name
    exit_reason: str | None = None
    converted_at: float | None = None


# --- what a step does --------------------------------------------------------------------

@dataclass(frozen=True)
class Send:
    step_id: str
    key: str  # idempotency key, unique per journey and visit
    channel: str
    template_id: str
    fallback: tuple[tuple[str, str], ...] = ()
    topic: str | None = None
    transactional: bool = False


@dataclass(frozen=True)
class SetAttributes:
    step_id: str
    set: Mapping[str, Any]  # Liquid strings not rendered yet
    unset: tuple[str, ...]


@dataclass(frozen=True)
class Emit:
    step_id: str
    key: str  # the event_id, unique per journey and visit
    name: str
    properties: Mapping[str, Any]


Effect = Send | SetAttributes | Emit  # a webhook step is a Send on channel "webhook"


@dataclass(frozen=True)
class LogEntry:
    """One line of a journey's history (also the simulator's path)."""

    at: float
    step_id: str
    step_type: str
    what: str  # entered, sent, waiting, resumed, branch, split, timeout, exited, completed
    detail: str = ""


@dataclass(frozen=True)
class Advanced:
    state: JourneyState
    effects: tuple[Effect, ...]
    log: tuple[LogEntry, ...]

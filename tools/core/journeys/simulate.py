"""Run one journey for one (real or hypothetical) person on a virtual clock, with events
injected at chosen times: the real interpreter, no side effects.

The clock jumps from one due moment to the next (an injected event, the end of a wait), so
a month-long journey costs a handful of advances. At one instant, injected events come
before the waits that end then; an event counts for a wait_until only when it comes after
the wait began (as in the durable runner).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.core.journeys import interpreter
from tools.core.journeys.facts import RuleFacts
from tools.core.journeys.model import (
    Advanced,
    Emit,
    JourneyState,
    JourneyStatus,
    LogEntry,
    Send,
    SetAttributes,
    Waiting,
    Workflow,
)
from tools.core.segments.evaluate import EventFact, StaticFacts

RenderValue = Callable[[Any, Mapping[str, Any]], Any]  # (value, the profile) -> value to store
RUNNING = ("active", "waiting")


@dataclass(frozen=True)
class Simulation:
    """What happened: the log (steps, injected events and conversions, each at its virtual
    time), the messages in the order sent, and where the journey is at the horizon."""

    path: list[LogEntry]
    messages: list[Send]
    status: JourneyStatus
    waiting: Waiting | None
    attributes: dict[str, Any]
    # Aligned with `messages`: when each was sent and the profile then (to render it).
    message_context: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    state: JourneyState | None = None  # the final state
    wakeups: int = 0  # moments the clock stopped at after the start


def simulate(workflow: Workflow, *, profile: Mapping[str, Any],
             events: Sequence[tuple[float, str, Mapping[str, Any]]],
             segments: Collection[str] = (), devices: Collection[str] = (), start: float,
             horizon: float, journey_key: str = "simulation", split_key: str | None = None,
             render_value: RenderValue | None = None) -> Simulation:
    """Simulate `workflow` from `start` to `start + horizon` for a person with `profile`,
    member of `segments`, with push `devices` ('ios', ...). `events` are (seconds after the
    start, name, properties); a negative time is history the person already has. String
    values of update_attributes pass through `render_value` (Liquid is the caller's)."""
    return _Simulator(workflow, profile, events, segments, devices, start, journey_key, split_key,
                      render_value).run(start + horizon)


class _Simulator:
    def __init__(self, workflow: Workflow, profile: Mapping[str, Any],
                 events: Sequence[tuple[float, str, Mapping[str, Any]]],
                 segments: Collection[str], devices: Collection[str], start: float,
                 journey_key: str, split_key: str | None,
                 render_value: RenderValue | None) -> None:
        self.split = split_key
        self.workflow, self.start, self.key, self.render = (workflow, start, journey_key,
                                                            render_value)
        ordered = sorted(((start + at, index, name, dict(props))
                          for index, (at, name, props) in enumerate(events)),
                         key=lambda item: (item[0], item[1]))
        self.seen = [EventFact("event", name, when, props)
                     for when, _, name, props in ordered if when < start]
        self.pending = [(when, name, props) for when, _, name, props in ordered
                        if when >= start]
        self.attributes = dict(profile)
        person = StaticFacts(self.attributes, self.seen, tuple(devices), frozenset(segments))
        self.facts = RuleFacts(person)
        self.state = interpreter.start(workflow, start)
        self.log: list[LogEntry] = []
        self.messages: list[Send] = []
        self.context: list[tuple[float, dict[str, Any]]] = []
        self.wakeups = 0

    def run(self, end: float) -> Simulation:
        self.apply(interpreter.advance(self.workflow, self.state, self.facts, self.start,
                                       journey_key=self.key, split_key=self.split), self.start)
        next_event = 0
        while self.state.status in RUNNING:
            waiting = self.state.waiting
            due = waiting.until if waiting is not None else self.start
            when = self.pending[next_event][0] if next_event < len(self.pending) else None
            if when is not None and when <= due and when <= end:
                self.wakeups += 1
                self.deliver(*self.pending[next_event])
                next_event += 1
            elif waiting is not None and due <= end:
                self.wakeups += 1
                self.apply(interpreter.advance(self.workflow, self.state, self.facts, due,
                                               journey_key=self.key, split_key=self.split), due)
            else:
                break
        state = self.state
        return Simulation(self.log, self.messages, state.status, state.waiting,
                          self.attributes, self.context, state, self.wakeups)

    def deliver(self, when: float, name: str, properties: dict[str, Any]) -> None:
        """An injected event: the person has it from now on; it may convert, or end a wait."""
        self.seen.append(EventFact("event", name, when, properties))
        shown = json.dumps(properties, sort_keys=True, default=str)[:200]
        self.log.append(LogEntry(when, "", "event", "event",
                                 f"{name!r}" + (f" {shown}" if properties else "")))
        self.goal(when, name)
        self.wake(when, name, properties)

    def wake(self, when: float, name: str | None, properties: Mapping[str, Any]) -> None:
        if self.state.status != "waiting":
            return
        woken = None
        if name is not None:
            woken = interpreter.wake_on_event(self.workflow, self.state, self.facts, name,
                                              properties, when, journey_key=self.key, split_key=self.split)
        if woken is None:
            woken = interpreter.recheck(self.workflow, self.state, self.facts, when,
                                        journey_key=self.key, split_key=self.split)
        if woken is not None:
            self.apply(woken, when)

    def apply(self, advanced: Advanced, when: float) -> None:
        """Take the new state and log, and carry out the effects on the virtual person."""
        self.state = advanced.state
        self.log.extend(advanced.log)
        changed, emitted = False, []
        for effect in advanced.effects:
            if isinstance(effect, Send):
                self.messages.append(effect)
                self.context.append((when, dict(self.attributes)))
            elif isinstance(effect, SetAttributes):
                self.set_attributes(effect)
                changed = True
            elif isinstance(effect, Emit):
                self.seen.append(EventFact("event", effect.name, when, dict(effect.properties)))
                emitted.append(effect.name)
        if changed:
            self.goal(when, None)
        for name in emitted:
            self.goal(when, name)
        if changed and self.render is not None:
            self.wake(when, None, {})  # rendered values may meet a condition the raw ones did not

    def set_attributes(self, effect: SetAttributes) -> None:
        for name, value in effect.set.items():
            if self.render is not None and isinstance(value, str):
                value = self.render(value, self.attributes)
            self.attributes[name] = value
        for name in effect.unset:
            self.attributes.pop(name, None)

    def goal(self, when: float, event: str | None) -> None:
        reason = interpreter.check_goal(self.workflow, self.state, self.facts, when, event)
        goal = self.workflow.settings.goal
        if reason is None or goal is None:
            return
        self.state = interpreter.converted(self.state, when, goal.exit)
        self.log.append(LogEntry(when, "", "goal", "converted", reason))

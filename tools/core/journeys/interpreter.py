"""The journey step interpreter: a pure function of the workflow, a journey's state, the
person's facts and the time, returning the next state, the effects and the log lines.

`advance` runs steps from the journey's position until it must wait (a delay, a wait_until,
a time window) or ends. The durable runner and the simulator both call it, so a simulation
is the real thing. Effects carry keys made from the journey key, the step id and the visit
number, so running the same transition twice gives the same keys (the outbox and the event
store drop the repeat). Waits are timed from `now`: a step resumed late starts its next
wait from the moment it really ran, and the lateness is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tools.core.journeys.facts import JourneyFacts, RuleFacts, event_matches
from tools.core.journeys.model import Advanced, JourneyState, WaitUntilStep, Workflow
from tools.core.journeys.paths import path_of, step_at, steps_on_path
from tools.core.journeys.stepper import Run, cohort_of, effect_key

__all__ = [
    "JourneyFacts", "RuleFacts", "start", "advance", "wake_on_event", "recheck",
    "check_goal", "converted", "cohort_of", "effect_key", "step_at", "path_of",
    "steps_on_path",
]


def start(workflow: Workflow, now: float) -> JourneyState:
    """A new journey, at the first step (or at the end when there are no steps)."""
    return JourneyState(path=(0,) if workflow.steps else ())


def advance(workflow: Workflow, state: JourneyState, facts: JourneyFacts, now: float, *,
            journey_key: str, max_steps: int = 200, split_key: str | None = None) -> Advanced:
    """Run the journey from its position at `now`: a wait that is over (or whose event /
    condition came) resumes, then steps run until the next wait or the end. A journey that
    is still waiting, or has ended, comes back unchanged with no effects. `split_key`
    (default: the journey key) picks split cohorts; the runner gives one per person and
    workflow, so a person who enters again lands in the same cohort."""
    if state.status not in ("active", "waiting"):
        return Advanced(state, (), ())
    run = Run(workflow, state, facts, now, journey_key, split_key)
    if state.status == "waiting" and not run.resume():
        return Advanced(state, (), ())
    run.go(max_steps)
    return run.result()


def wake_on_event(workflow: Workflow, state: JourneyState, facts: JourneyFacts,
                  event_name: str, properties: Mapping[str, Any], now: float, *,
                  journey_key: str, max_steps: int = 200, split_key: str | None = None
                  ) -> Advanced | None:
    """The person just performed `event_name`: a wait_until for it (properties matching,
    after the wait began and by its deadline) resumes now and the journey advances. None
    when the journey does not wait for this event."""
    step = _waiting_on(workflow, state, now, after_start=True)
    if step is None or step.event is None:
        return None
    if not event_matches(step.event, step.properties, event_name, properties, now):
        return None
    run = Run(workflow, state, facts, now, journey_key, split_key)
    run.met(step, f"{event_name!r} happened")
    run.go(max_steps)
    return run.result()


def recheck(workflow: Workflow, state: JourneyState, facts: JourneyFacts, now: float, *,
            journey_key: str, max_steps: int = 200, split_key: str | None = None
                  ) -> Advanced | None:
    """An attribute, segment or event changed: a wait_until on a condition that now holds
    resumes and the journey advances. None when it does not wait on a condition or the
    condition still does not hold."""
    step = _waiting_on(workflow, state, now, after_start=False)
    if step is None or step.condition is None:
        return None
    held, why = facts.judge(step.condition, now)
    if not held:
        return None
    run = Run(workflow, state, facts, now, journey_key, split_key)
    run.met(step, f"condition met: {why}")
    run.go(max_steps)
    return run.result()


def check_goal(workflow: Workflow, state: JourneyState, facts: JourneyFacts, now: float,
               event: str | None = None) -> str | None:
    """Why the journey converts now (the goal event `event` just happened, or the goal
    condition holds), None when it does not (or has ended, or converted before)."""
    goal = workflow.settings.goal
    if goal is None or state.converted_at is not None or state.status not in (
            "active", "waiting"):
        return None
    if event is not None and goal.event is not None and event == goal.event:
        return f"goal event {event!r} happened"
    if goal.condition is not None:
        held, why = facts.judge(goal.condition, now)
        if held:
            return f"goal condition met: {why}"
    return None


def converted(state: JourneyState, now: float, exit: bool) -> JourneyState:
    """The journey after reaching its goal at `now`: ended ("exited", reason "converted")
    when the goal exits, else going on with the conversion recorded."""
    if not exit:
        return replace(state, converted_at=now)
    return replace(state, converted_at=now, status="exited", path=(), waiting=None,
                   exit_reason="converted")


def _waiting_on(workflow: Workflow, state: JourneyState, now: float,
                after_start: bool) -> WaitUntilStep | None:
    """The wait_until the journey waits on at `now`: not past its deadline (the timeout
    handles that), and for an event strictly after the wait began."""
    waiting = state.waiting
    if state.status != "waiting" or waiting is None or waiting.kind != "wait_until":
        return None
    if now > waiting.until or now < waiting.since or (after_start and now == waiting.since):
        return None
    step = step_at(workflow, state.path)
    return step if isinstance(step, WaitUntilStep) and step.id == waiting.step_id else None



"""One advance of a journey: the Run that resumes a wait and runs steps until the next wait
or the end, building the next state, the effects and the log (used by interpreter.py)."""

from __future__ import annotations

import hashlib
from typing import Any

from tools.core.durations import format_duration
from tools.core.errors import EngineError
from tools.core.journeys.facts import JourneyFacts
from tools.core.journeys.model import (
    Advanced,
    BranchStep,
    DelayStep,
    Effect,
    Emit,
    EmitEventStep,
    ExitStep,
    JourneyState,
    JourneyStatus,
    LogEntry,
    Send,
    SendStep,
    SetAttributes,
    SplitStep,
    Step,
    TimeWindowStep,
    UpdateAttributesStep,
    Waiting,
    WaitUntilStep,
    WebhookStep,
    Workflow,
)
from tools.core.journeys.paths import enter, following, step_at
from tools.core.journeys.windows import next_open, zone_of
from tools.core.segments.evaluate import EventFact
from tools.core.timefmt import iso

MAX_KEY_BYTES = 150  # an event_id / idempotency key must fit an identifier


def cohort_of(journey_key: str, step: SplitStep) -> int:
    """The cohort (index) of a split for a journey: a point of sha256(key, step id) in
    [0, 1) laid on the cumulative weights. Deterministic, uniform over keys."""
    digest = hashlib.sha256(f"{journey_key}\x00{step.id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(c.weight for c in step.cohorts)
    reached = 0.0
    for index, cohort in enumerate(step.cohorts):
        reached += cohort.weight
        if point < reached:
            return index
    return len(step.cohorts) - 1


def effect_key(journey_key: str, step_id: str, visit: int) -> str:
    """The idempotency key / event id of a step's effect: `journey:step:visit`, or a hash of
    it when that would be longer than an identifier may be."""
    key = f"{journey_key}:{step_id}:{visit}"
    if len(key.encode()) <= MAX_KEY_BYTES:
        return key
    return "jk_" + hashlib.sha256(key.encode()).hexdigest()[:40]


class Run:
    """One advance: the state being built, the effects and the log."""

    def __init__(self, workflow: Workflow, state: JourneyState, facts: JourneyFacts,
                 now: float, journey_key: str, split_key: str | None = None) -> None:
        self.workflow, self.facts, self.now, self.key = workflow, facts, now, journey_key
        self.split_key = split_key or journey_key  # cohorts: the same for a person's re-entries
        self.state = state
        self.path = state.path
        self.status: JourneyStatus = state.status
        self.waiting = state.waiting
        self.steps_done, self.visits = state.steps_done, state.visits
        self.cohorts = dict(state.cohorts)
        self.exit_reason = state.exit_reason
        self.effects: list[Effect] = []
        self.log: list[LogEntry] = []
        self.entered = 0

    def result(self) -> Advanced:
        cohorts = self.state.cohorts if self.cohorts == self.state.cohorts else self.cohorts
        state = JourneyState(self.path, self.status, self.waiting, self.steps_done,
                             self.visits, cohorts, self.exit_reason, self.state.converted_at)
        return Advanced(state, tuple(self.effects), tuple(self.log))

    # --- resuming a wait ---------------------------------------------------------------

    def resume(self) -> bool:
        """Settle the current wait at `now`; False when it goes on unchanged."""
        waiting, step = self.waiting, step_at(self.workflow, self.path)
        if waiting is None or step is None or step.id != waiting.step_id:
            self.fail(f"waits at {waiting.step_id if waiting else 'no step'!r}, which is not "
                      f"the step at {list(self.path)}")
            return True
        try:
            if isinstance(step, DelayStep):
                return self._resume_delay(step, waiting)
            if isinstance(step, WaitUntilStep):
                return self._settle(step, waiting.since, waiting.until, entering=False)
            if isinstance(step, TimeWindowStep):
                return self.now >= waiting.until and self._window(step, waiting.since, True)
        except (EngineError, ValueError) as exc:
            self.fail(f"step {step.id!r}: {exc}")
            return True
        self.fail(f"step {step.id!r} ({step.type}) cannot wait")
        return True

    def _resume_delay(self, step: DelayStep, waiting: Waiting) -> bool:
        if self.now < waiting.until:
            return False
        late = self.now - waiting.until
        detail = f"after {format_duration(self.now - waiting.since)}"
        self._resumed(step, detail + (f" ({format_duration(late)} late)" if late >= 1 else ""))
        return True

    def met(self, step: WaitUntilStep, why: str) -> None:
        self._resumed(step, why)

    def _resumed(self, step: Step, detail: str) -> None:
        self.note(step, "resumed", detail)
        self.status, self.waiting = "active", None
        self.done()

    def _settle(self, step: WaitUntilStep, since: float, until: float, entering: bool) -> bool:
        why = self._met(step, since, until)
        if why is not None:
            if entering:
                self.note(step, "entered", f"already met: {why}")
                self.done()
            else:
                self._resumed(step, why)
        elif self.now >= until:
            self._timeout(step)
        elif entering:
            self.wait(step, "wait_until", since, until, f"for {_awaited(step)} until {iso(until)}")
        else:
            return False
        return True

    def _met(self, step: WaitUntilStep, since: float, until: float) -> str | None:
        if step.event is not None and self.facts.happened(
                step.event, step.properties, since, min(self.now, until)):
            return f"{step.event!r} happened"
        if step.condition is not None:
            held, why = self.facts.judge(step.condition, self.now)
            if held:
                return f"condition met: {why}"
        return None

    def _timeout(self, step: WaitUntilStep) -> None:
        self.note(step, "timeout", f"no {_awaited(step)} within {format_duration(step.max_wait)}"
                  f"; {step.on_timeout}")
        self.status, self.waiting = "active", None
        self.steps_done += 1
        if step.on_timeout == "exit":
            self.end(step, f"wait_until {step.id!r} timed out")
        elif step.on_timeout == "branch":
            self.path = enter(self.workflow, self.path, ("timeout",))
        else:
            self.path = following(self.workflow, self.path)

    def _window(self, step: TimeWindowStep, since: float, resuming: bool) -> bool:
        zone = zone_of(self.facts.attributes(), step)
        opens = next_open(step.days, step.start, step.end, zone, self.now)
        if opens <= self.now:
            self.note(step, "resumed" if resuming else "entered", f"inside the window ({zone})")
            self.status, self.waiting = "active", None
            self.done()
        else:
            self.wait(step, "time_window", since, opens, f"until {iso(opens)} ({zone})")
        return True

    # --- running steps -----------------------------------------------------------------

    def go(self, max_steps: int) -> None:
        while self.status == "active":
            if not self.path:
                self.status = "completed"
                self.log.append(LogEntry(self.now, "", "journey", "completed",
                                         f"{self.steps_done} steps done"))
                return
            step = step_at(self.workflow, self.path)
            if step is None:
                self.fail(f"the workflow has no step at {list(self.path)}")
            elif self.entered >= max_steps:
                self.fail(f"ran more than {max_steps} steps in one advance")
            else:
                self.entered += 1
                self.visits += 1
                try:
                    _RUN[step.type](self, step)
                except (EngineError, ValueError) as exc:
                    self.fail(f"step {step.id!r}: {exc}")

    def note(self, step: Step, what: str, detail: str = "") -> None:
        self.log.append(LogEntry(self.now, step.id, step.type, what, detail))

    def done(self) -> None:
        self.steps_done += 1
        self.path = following(self.workflow, self.path)

    def wait(self, step: Step, kind: Any, since: float, until: float, detail: str) -> None:
        self.status, self.waiting = "waiting", Waiting(kind, step.id, until, since)
        self.note(step, "waiting", detail)

    def end(self, step: Step, reason: str) -> None:
        self.note(step, "exited", reason)
        self.status, self.waiting, self.path, self.exit_reason = "exited", None, (), reason

    def fail(self, reason: str) -> None:
        step = step_at(self.workflow, self.path)
        self.log.append(LogEntry(self.now, step.id if step else "", "journey", "failed",
                                 reason))
        self.status, self.waiting, self.exit_reason = "failed", None, reason

    def key_of(self, step: Step) -> str:
        return effect_key(self.key, step.id, self.visits)

    def send(self, step: SendStep) -> None:
        self.effects.append(Send(step.id, self.key_of(step), step.channel, step.template_id,
                                 step.fallback, step.topic, step.transactional))
        self.note(step, "sent", f"{step.channel} {step.template_id}")
        self.done()

    def webhook(self, step: WebhookStep) -> None:
        self.effects.append(Send(step.id, self.key_of(step), "webhook", step.template_id))
        self.note(step, "sent", f"webhook {step.template_id}")
        self.done()

    def update_attributes(self, step: UpdateAttributesStep) -> None:
        self.effects.append(SetAttributes(step.id, dict(step.set), tuple(step.unset)))
        self.facts = self.facts.with_changes(step.set, step.unset, ())
        parts = [f"set {', '.join(step.set)}"] if step.set else []
        parts += [f"unset {', '.join(step.unset)}"] if step.unset else []
        self.note(step, "updated", "; ".join(parts))
        self.done()

    def emit_event(self, step: EmitEventStep) -> None:
        self.effects.append(Emit(step.id, self.key_of(step), step.name, dict(step.properties)))
        emitted = EventFact("event", step.name, self.now, dict(step.properties))
        self.facts = self.facts.with_changes({}, (), (emitted,))
        self.note(step, "emitted", f"event {step.name!r}")
        self.done()

    def delay(self, step: DelayStep) -> None:
        until = self.now + step.seconds
        if step.seconds <= 0:
            self.note(step, "entered", "no delay")
            self.done()
        else:
            self.wait(step, "delay", self.now, until,
                      f"{format_duration(step.seconds)}, until {iso(until)}")

    def wait_until(self, step: WaitUntilStep) -> None:
        self._settle(step, self.now, self.now + step.max_wait, entering=True)

    def time_window(self, step: TimeWindowStep) -> None:
        self._window(step, self.now, False)

    def branch(self, step: BranchStep) -> None:
        held, why = self.facts.judge(step.condition, self.now)
        self.note(step, "branch", f"{'then' if held else 'else'}: {why}")
        self.steps_done += 1
        self.path = enter(self.workflow, self.path, ("then",) if held else ("else",))

    def split(self, step: SplitStep) -> None:
        names = [cohort.name for cohort in step.cohorts]
        recorded = self.cohorts.get(step.id)
        index = names.index(recorded) if recorded in names else cohort_of(self.split_key, step)
        self.cohorts[step.id] = names[index]
        self.note(step, "split", f"cohort {names[index]!r}")
        self.steps_done += 1
        self.path = enter(self.workflow, self.path, ("cohort", index))

    def exit(self, step: ExitStep) -> None:
        self.steps_done += 1
        self.end(step, f"exit step {step.id!r}")


def _awaited(step: WaitUntilStep) -> str:
    if step.event is not None:
        return f"{step.event!r}" + (" or the condition" if step.condition is not None else "")
    return "condition"


_RUN: dict[str, Any] = {
    "send": Run.send, "webhook": Run.webhook, "update_attributes": Run.update_attributes,
    "emit_event": Run.emit_event, "delay": Run.delay, "wait_until": Run.wait_until,
    "time_window": Run.time_window, "branch": Run.branch, "split": Run.split,
    "exit": Run.exit,
}

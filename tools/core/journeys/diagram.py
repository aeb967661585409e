"""A workflow as a Mermaid flowchart, with live counts of the people at each step."""

from __future__ import annotations

import re
from collections.abc import Mapping

from tools.core.durations import format_duration
from tools.core.journeys.model import (
    BranchStep,
    DelayStep,
    EmitEventStep,
    SendStep,
    SplitStep,
    Step,
    TimeWindowStep,
    UpdateAttributesStep,
    WaitUntilStep,
    WebhookStep,
    Workflow,
)

_UNSAFE = re.compile(r'["<>{}\[\]|#]')


def _label(text: str) -> str:
    return _UNSAFE.sub("'", text)[:80]


def _node(step: Step) -> str:
    """The node's name and shape."""
    if isinstance(step, SendStep):
        text = f"send {step.channel}: {step.template_id}"
    elif isinstance(step, WebhookStep):
        text = f"webhook: {step.template_id}"
    elif isinstance(step, DelayStep):
        text = f"delay {format_duration(step.seconds)}"
    elif isinstance(step, WaitUntilStep):
        text = f"wait until {step.event or 'condition'} (max {format_duration(step.max_wait)})"
    elif isinstance(step, TimeWindowStep):
        text = f"time window {step.start // 60:02d}:{step.start % 60:02d}-" \
               f"{step.end // 60:02d}:{step.end % 60:02d}"
    elif isinstance(step, UpdateAttributesStep):
        text = "update " + ", ".join([*step.set, *step.unset])
    elif isinstance(step, EmitEventStep):
        text = f"emit {step.name}"
    else:
        text = step.type
    return text


class _Chart:
    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = counts
        self.lines: list[str] = []
        self.ids: dict[str, str] = {}

    def name(self, step: Step) -> str:
        if step.id not in self.ids:
            self.ids[step.id] = f"n{len(self.ids)}"
            here = self.counts.get(step.id, 0)
            label = _label(f"{step.id}: {_node(step)}" + (f" ({here} here)" if here else ""))
            shape = '{"%s"}' if isinstance(step, BranchStep | SplitStep) else '["%s"]'
            self.lines.append(f"    {self.ids[step.id]}{shape % label}")
        return self.ids[step.id]

    def block(self, steps: tuple[Step, ...], entry: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Draw `steps`; `entry` are (node, edge label) pointing into the first one. Returns
        the open ends that continue after the block."""
        ends = entry
        for step in steps:
            node = self.name(step)
            for source, label in ends:
                arrow = f" -->|{_label(label)}| " if label else " --> "
                self.lines.append(f"    {source}{arrow}{node}")
            ends = self._inner(step, node)
        return ends

    def _inner(self, step: Step, node: str) -> list[tuple[str, str]]:
        if isinstance(step, BranchStep):
            return (self.block(step.then, [(node, "yes")])
                    + self.block(step.otherwise, [(node, "no")]))
        if isinstance(step, SplitStep):
            ends: list[tuple[str, str]] = []
            for cohort in step.cohorts:
                ends += self.block(cohort.steps, [(node, f"{cohort.name} {cohort.weight:g}")])
            return ends
        if isinstance(step, WaitUntilStep):
            if step.on_timeout == "exit":
                return [(node, "met")]
            if step.on_timeout == "branch":
                return [(node, "met"), *self.block(step.timeout, [(node, "timeout")])]
            return [(node, "")]
        if step.type == "exit":
            return []
        return [(node, "")]


def mermaid(workflow: Workflow, at_step: Mapping[str, int], totals: Mapping[str, int]) -> str:
    """`flowchart TD` of the workflow: each step with the people on it now; the trigger at
    the top, the end (with completed / exited / converted counts) at the bottom."""
    chart = _Chart(at_step)
    trigger = workflow.trigger
    what = trigger.event or trigger.segment_id or trigger.attribute or ""
    chart.lines.append(f'    start(["{_label(f"trigger: {trigger.type} {what}".strip())}"])')
    ends = chart.block(workflow.steps, [("start", "")])
    done = ", ".join(f"{key} {totals[key]}" for key in ("completed", "exited", "converted",
                                                        "cancelled") if totals.get(key))
    chart.lines.append(f'    finish(["{_label("end" + (f": {done}" if done else ""))}"])')
    for source, label in ends:
        arrow = f" -->|{_label(label)}| " if label else " --> "
        chart.lines.append(f"    {source}{arrow}finish")
    return "flowchart TD\n" + "\n".join(chart.lines) + "\n"

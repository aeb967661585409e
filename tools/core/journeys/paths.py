"""Positions in a workflow's nested steps (see model.Path): the step at a path, the path of
a step id, where a journey goes after a step, and how many steps its path has."""

from __future__ import annotations

from collections.abc import Iterator

from tools.core.journeys.model import (
    BranchStep,
    JourneyState,
    Path,
    SplitStep,
    Step,
    WaitUntilStep,
    Workflow,
)

FINISHED = ("completed", "exited", "cancelled", "failed")


def children(step: Step) -> Iterator[tuple[Path, tuple[Step, ...]]]:
    """The step lists inside `step`, each with the labels that lead into it."""
    if isinstance(step, BranchStep):
        yield ("then",), step.then
        yield ("else",), step.otherwise
    elif isinstance(step, SplitStep):
        for index, cohort in enumerate(step.cohorts):
            yield ("cohort", index), cohort.steps
    elif isinstance(step, WaitUntilStep):
        yield ("timeout",), step.timeout


def list_at(workflow: Workflow, prefix: Path) -> tuple[Step, ...] | None:
    """The step list a path prefix names (() is the top level), None when it names none."""
    steps = workflow.steps
    at = 0
    while at < len(prefix):
        index = prefix[at]
        if not isinstance(index, int) or not 0 <= index < len(steps):
            return None
        labels = _labels(prefix, at + 1)
        if labels is None:
            return None
        found = dict(children(steps[index])).get(labels)
        if found is None:
            return None
        steps, at = found, at + 1 + len(labels)
    return steps


def _labels(prefix: Path, at: int) -> Path | None:
    if at >= len(prefix):
        return None
    if prefix[at] == "cohort":
        return prefix[at:at + 2] if at + 1 < len(prefix) else None
    return prefix[at:at + 1]


def step_at(workflow: Workflow, path: Path) -> Step | None:
    """The step at `path`, None for the empty path (the end) or a path naming no step."""
    if not path or not isinstance(path[-1], int):
        return None
    steps = list_at(workflow, path[:-1])
    index = path[-1]
    if steps is None or not 0 <= index < len(steps):
        return None
    return steps[index]


def path_of(workflow: Workflow, step_id: str) -> Path | None:
    """Where the step with id `step_id` is, None when the workflow has no such step."""
    return _find(workflow.steps, (), step_id)


def _find(steps: tuple[Step, ...], prefix: Path, step_id: str) -> Path | None:
    for index, step in enumerate(steps):
        here = (*prefix, index)
        if step.id == step_id:
            return here
        for labels, inner in children(step):
            found = _find(inner, (*here, *labels), step_id)
            if found is not None:
                return found
    return None


def container(prefix: Path) -> Path | None:
    """The path of the step holding the list `prefix` names (None: the top level)."""
    if not prefix:
        return None
    if len(prefix) >= 2 and prefix[-2] == "cohort":
        return prefix[:-2]
    return prefix[:-1]


def following(workflow: Workflow, path: Path) -> Path:
    """Where a journey goes after the step at `path`: the next step of its list, or after
    the step holding that list, ...; () past the last top-level step."""
    while path:
        steps = list_at(workflow, path[:-1]) or ()
        index = path[-1]
        assert isinstance(index, int)
        if index + 1 < len(steps):
            return (*path[:-1], index + 1)
        holder = container(path[:-1])
        if holder is None:
            return ()
        path = holder
    return ()


def enter(workflow: Workflow, holder: Path, labels: Path) -> Path:
    """The first step of the list `labels` of the step at `holder`; after the holder when
    that list is empty."""
    steps = list_at(workflow, (*holder, *labels))
    if steps:
        return (*holder, *labels, 0)
    return following(workflow, holder)


def steps_on_path(workflow: Workflow, state: JourneyState) -> int:
    """Steps done plus the steps still ahead on the lists the journey is in (the current
    step, the rest of its list and of every list around it; a branch or split ahead counts
    as one, its inner steps unknown yet). Progress reads `steps_done/steps_on_path`."""
    if state.status in FINISHED or not state.path:
        return state.steps_done
    path: Path | None = state.path
    ahead, inclusive = 0, True
    while path:
        steps = list_at(workflow, path[:-1]) or ()
        index = path[-1]
        assert isinstance(index, int)
        ahead += max(0, len(steps) - index - (0 if inclusive else 1))
        path, inclusive = container(path[:-1]), False
    return state.steps_done + ahead

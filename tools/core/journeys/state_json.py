"""A JourneyState as the JSON stored in its row, and back."""

from __future__ import annotations

import json
from typing import Any

from tools.core.journeys.model import JourneyState, Waiting


def dump_state(state: JourneyState) -> str:
    waiting = state.waiting
    return json.dumps({
        "path": list(state.path), "status": state.status, "steps_done": state.steps_done,
        "visits": state.visits, "cohorts": dict(state.cohorts),
        "exit_reason": state.exit_reason, "converted_at": state.converted_at,
        "waiting": None if waiting is None else {
            "kind": waiting.kind, "step_id": waiting.step_id, "until": waiting.until,
            "since": waiting.since},
    }, separators=(",", ":"))


def load_state(text: str) -> JourneyState:
    raw: dict[str, Any] = json.loads(text)
    waiting = raw.get("waiting")
    return JourneyState(
        path=tuple(raw.get("path", ())), status=raw.get("status", "active"),
        waiting=Waiting(**waiting) if waiting else None, steps_done=raw.get("steps_done", 0),
        visits=raw.get("visits", 0), cohorts=raw.get("cohorts", {}),
        exit_reason=raw.get("exit_reason"), converted_at=raw.get("converted_at"))

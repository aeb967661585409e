"""Typed results of the journey operations (also the MCP tools' output schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

WorkflowStatus = Literal["draft", "active", "paused", "archived"]


class WorkflowSaved(BaseModel):
    workflow_id: str
    status: WorkflowStatus
    version: int = Field(description="Edits of an active workflow make a new version; "
                         "people on their way finish on the one they started")
    steps: int = Field(description="Steps in all, nested ones included")
    note: str


class Workflow(BaseModel):
    workflow_id: str
    name: str
    status: WorkflowStatus
    version: int
    definition: dict[str, Any] = Field(description="trigger, steps and settings as stored "
                                       "(every step with its id)")
    journeys: dict[str, int] = Field(description="Journeys by status, and `converted`")
    at_step: dict[str, int] = Field(description="People on their way, per step id")
    created_at: str
    updated_at: str


class WorkflowSummary(BaseModel):
    workflow_id: str
    name: str
    status: WorkflowStatus
    version: int
    trigger: str
    updated_at: str


class WorkflowsPage(BaseModel):
    workflows: list[WorkflowSummary]
    next_cursor: str | None


class Triggered(BaseModel):
    run_id: str = Field(description="workflows_get_status(run_id) follows it")
    recipients: int = Field(description="Journeys started")
    skipped: list[dict[str, str]] = Field(description="Recipients not started, with why "
                                          "(first 100)")


class RecipientStatus(BaseModel):
    user_id: str
    status: str
    current_step: str | None
    progress: str = Field(description="Steps done / steps on the path taken")
    entered_at: str


class RunStatus(BaseModel):
    run_id: str
    workflow_id: str
    status: Literal["running", "completed", "cancelled", "failed"]
    progress: str = Field(description="Journeys ended / journeys started")
    counts: dict[str, int] = Field(description="Journeys by status")
    at_step: dict[str, int] = Field(description="Open journeys of this run per step")
    recipients: list[RecipientStatus]
    next_cursor: str | None


class Cancelled(BaseModel):
    run_id: str
    cancelled: int = Field(description="Journeys stopped; nothing more is sent for them")


class JourneyInfo(BaseModel):
    workflow_id: str
    version: int
    run_id: str
    status: str
    current_step: str | None
    waiting_until: str | None
    entered_at: str
    recent: list[str] = Field(description="The journey's last log lines, oldest first")


class JourneysPage(BaseModel):
    user_id: str
    journeys: list[JourneyInfo]
    next_cursor: str | None


class SimulatedStep(BaseModel):
    at: str
    step_id: str
    step_type: str
    what: str
    detail: str


class SimulatedMessage(BaseModel):
    at: str
    step_id: str
    channel: str
    template_id: str
    rendered: dict[str, Any] | None = Field(description="As it would be sent (null when "
                                            "the template does not render; see error)")
    error: str | None = None


class Simulation(BaseModel):
    status: str = Field(description="Where the journey is at the horizon")
    path: list[SimulatedStep]
    messages: list[SimulatedMessage]
    waiting: str | None = Field(description="What it waits for at the horizon")
    attributes: dict[str, Any] = Field(description="The profile at the horizon")

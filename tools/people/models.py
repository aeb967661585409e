"""Typed results of the people operations (also the MCP tools' output schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from tools.person_views import PersonJourney, PersonSegment, SegmentChange


class IdentifyResult(BaseModel):
    user_id: str
    status: Literal["created", "updated", "skipped_update_only", "ignored_suppressed"]
    created: bool = Field(description="True when this call created the person")
    merged_anonymous_events: int = Field(
        default=0, description="Anonymous events of the last 30 days that became this person's"
    )
    note: str | None = None


class TrackResult(BaseModel):
    status: Literal["stored", "duplicate", "ignored_suppressed"]
    user_id: str | None = Field(description="The person the event belongs to, if any")
    anonymous_id: str | None
    event_id: str | None
    person_created: bool = Field(description="True when the event created a new person")


class Device(BaseModel):
    device_id: str
    platform: Literal["ios", "android", "web"]
    attributes: dict[str, JsonValue]
    last_used: str


class Event(BaseModel):
    seq: int = Field(description="Arrival order of the event in this agent")
    event_id: str | None
    user_id: str | None
    anonymous_id: str | None
    type: Literal["event", "page", "screen"]
    name: str
    properties: dict[str, JsonValue]
    timestamp: str
    received_at: str


class Person(BaseModel):
    user_id: str
    attributes: dict[str, JsonValue]
    created_at: str
    updated_at: str
    devices: list[Device]
    anonymous_ids: list[str]
    event_counts: dict[str, int] = Field(description="Number of events per event name")
    total_events: int
    recent_events: list[Event] = Field(description="The most recent events, newest first")
    segments: list[PersonSegment] = Field(
        default_factory=list, description="The segments the person is in now")
    segment_history: list[SegmentChange] = Field(
        default_factory=list,
        description="The person's most recent segment entries and exits, newest first")
    journeys: list[PersonJourney] = Field(
        default_factory=list, description="The workflows the person is on now")


class PersonSummary(BaseModel):
    user_id: str
    attributes: dict[str, JsonValue]
    created_at: str
    updated_at: str


class PeoplePage(BaseModel):
    people: list[PersonSummary]
    total: int = Field(description="Number of people in this agent")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class EventsPage(BaseModel):
    events: list[Event]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class DeleteResult(BaseModel):
    user_id: str
    deleted: bool
    events_deleted: int


class SuppressResult(BaseModel):
    user_id: str
    suppressed: bool
    profile_deleted: bool
    events_deleted: int


class UnsuppressResult(BaseModel):
    user_id: str
    was_suppressed: bool


class MergeResult(BaseModel):
    primary: str
    secondary: str
    events_moved: int
    devices_moved: int
    attributes_copied: list[str]


class DeviceResult(BaseModel):
    user_id: str
    device_id: str
    status: Literal["added", "updated", "ignored_suppressed"]


class RemoveDeviceResult(BaseModel):
    user_id: str
    device_id: str
    removed: bool


class BatchFailure(BaseModel):
    index: int = Field(description="Position of the failed operation in the batch (0-based)")
    action: str | None
    reason: str = Field(description="invalid_input, not_found, conflict or limit_exceeded")
    field: str | None
    message: str


class BatchResult(BaseModel):
    total: int
    succeeded: int
    failed: int
    duplicates: int = Field(description="Track operations whose event_id was already stored")
    ignored_suppressed: int
    people_created: int
    failures: list[BatchFailure]

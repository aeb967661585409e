"""Typed results of the segment operations (also the MCP tools' output schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Kind = Literal["dynamic", "manual"]


class SegmentCreated(BaseModel):
    segment_id: str = Field(description="The id (a slug of the name) other tools take")
    name: str
    kind: Kind
    member_count: int
    computing: bool = Field(
        default=False, description="Membership is still being computed in the background "
        "(member_count so far); segments_get shows when it is done")
    sentence: str = Field(description="The rule in words (manual: how members are added)")


class SegmentUpdated(BaseModel):
    segment_id: str
    name: str
    member_count: int
    entered: int = Field(description="People who became members through this update")
    exited: int = Field(description="People who stopped being members through this update")
    computing: bool = Field(
        default=False, description="Membership is still being computed in the background "
        "(member_count so far); segments_get shows when it is done")
    sentence: str


class SegmentDeleted(BaseModel):
    segment_id: str
    deleted: bool
    members_removed: int


class SegmentInfo(BaseModel):
    segment_id: str
    name: str
    description: str | None
    kind: Kind
    rules: dict[str, Any] | None = Field(description="The rule as stored (null when manual)")
    sentence: str
    member_count: int
    computing: bool = Field(
        default=False, description="Membership is still being computed in the background "
        "(member_count so far); segments_get shows when it is done")
    created_at: str
    updated_at: str


class SegmentsPage(BaseModel):
    segments: list[SegmentInfo]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class Member(BaseModel):
    user_id: str
    since: str = Field(description="When the person (last) entered the segment")


class MembersPage(BaseModel):
    segment_id: str
    count: int = Field(description="How many members the segment has in all")
    members: list[Member]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end")


class ConditionCheck(BaseModel):
    depth: int = Field(description="Nesting level (0: the top of the rule)")
    condition: str
    result: bool
    seen: str | None = Field(description="What the condition saw (null for and / or / not)")


class CheckResult(BaseModel):
    segment_id: str
    user_id: str
    member: bool
    since: str | None = Field(description="When the person entered (null when not a member)")
    explanation: str = Field(description="Each condition with ✓ or ✗ and the value it saw")
    conditions: list[ConditionCheck]


class PreviewResult(BaseModel):
    count: int = Field(description="How many people would match now")
    total_people: int
    sample: list[str] = Field(description="user_ids of the first few who would match")
    sentence: str



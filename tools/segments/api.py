"""The segment operations of the engine (mixed into tools.api.CustomerIO)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tools.core.cursor import decode_cursor
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.segments.nodes import Rule
from tools.core.segments.rules import parse_rule
from tools.core.segments.slug import check_segment_id, slugify
from tools.core.validate import check_identifier, check_text
from tools.engine import PAUSE_FRACTION, EngineBase, check_limit
from tools.segments import bulk, units
from tools.segments.models import (
    CheckResult,
    MembersPage,
    PreviewResult,
    SegmentCreated,
    SegmentDeleted,
    SegmentInfo,
    SegmentsPage,
    SegmentUpdated,
)

MAX_NAME_BYTES = 200
MAX_DESCRIPTION_BYTES = 1000
MAX_IDS_PER_CALL = 10_000
FOREGROUND_SECONDS = 10.0  # a call follows its segment's computation this long


def _rule(rules: Any) -> Rule:
    if rules is None:
        raise InvalidInput("rules are required for a dynamic segment (or pass manual=true)",
                           field="rules")
    return parse_rule(rules)


def _user_ids(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list of user_ids", field=field)
    if len(value) > MAX_IDS_PER_CALL:
        raise LimitExceeded(f"{field} takes at most {MAX_IDS_PER_CALL} ids a call; split them",
                            field=field)
    ids = [check_identifier(uid, f"{field}[{i}]") for i, uid in enumerate(value)]
    return tuple(dict.fromkeys(ids))


def _description(value: Any) -> str | None:
    if value is None:
        return None
    return check_text(value, "description", MAX_DESCRIPTION_BYTES, "description")


class SegmentsOps(EngineBase):
    """segments_create / update / delete / list / members / check / preview."""

    async def segments_create(self, name: str, rules: Any = None, manual: bool = False,
                              description: str | None = None) -> SegmentCreated:
        """Create a segment (id: a slug of the name) and compute who is in it."""
        name = check_text(name, "name", MAX_NAME_BYTES, "segment name")
        if not isinstance(manual, bool):
            raise InvalidInput("manual must be true or false", field="manual")
        if manual and rules is not None:
            raise InvalidInput("a manual segment has no rules: pass rules or manual=true, not "
                               "both", field="rules")
        rule = None if manual else _rule(rules)
        cmd = units.CreateCommand(slugify(name), name, _description(description), rule)
        now = self.clock.now()
        created = await self._write(lambda conn: units.create(conn, cmd, now))
        if created.computing:
            count, computing, _, _ = await self._follow(created.segment_id)
            created = created.model_copy(update={"member_count": count, "computing": computing})
        return created

    async def segments_update(self, segment_id: str, name: str | None = None,
                              rules: Any = None, add_user_ids: list[str] | None = None,
                              remove_user_ids: list[str] | None = None,
                              description: str | None = None) -> SegmentUpdated:
        """Rename, replace the rules, or add / remove members of a manual segment."""
        sid = check_segment_id(segment_id)
        new_name = None if name is None else check_text(name, "name", MAX_NAME_BYTES,
                                                        "segment name")
        rule = None if rules is None else parse_rule(rules)
        add, remove = _user_ids(add_user_ids, "add_user_ids"), _user_ids(remove_user_ids,
                                                                         "remove_user_ids")
        both = set(add) & set(remove)
        if both:
            raise InvalidInput(f"user_id {sorted(both)[0]!r} is in both add_user_ids and "
                               "remove_user_ids; give it once", field="add_user_ids")
        text = _description(description)
        if new_name is None and rule is None and not add and not remove and text is None:
            raise InvalidInput("nothing to update: give name, rules, description, add_user_ids "
                               "or remove_user_ids", field="segment_id")
        cmd = units.UpdateCommand(sid, new_name, text, rule, add, remove)
        now = self.clock.now()
        updated = await self._write(lambda conn: units.update(conn, cmd, now))
        if updated.computing:
            count, computing, entered, exited = await self._follow(sid)
            updated = updated.model_copy(update={
                "member_count": count, "computing": computing, "entered": entered,
                "exited": exited})
        return updated

    async def _follow(self, segment_id: str) -> tuple[int, bool, int, int]:
        """Advance unfinished computations, one bounded transaction at a time, for up to
        FOREGROUND_SECONDS; then (member count, still computing, entered, exited) of the
        segment. What is left is finished as timed work."""
        deadline = time.monotonic() + FOREGROUND_SECONDS
        steps: list[bulk.Step] = []
        held = 0.0
        while time.monotonic() < deadline:
            # leave the lock free between steps (see tools.engine.PAUSE_FRACTION)
            await asyncio.sleep(held * PAUSE_FRACTION)
            started = time.monotonic()
            done = await self._write(lambda conn: bulk.step(conn, self.clock.now()))
            held = time.monotonic() - started
            if done is None:
                break
            steps.append(done)
        return await self._read(lambda conn: units.computed(conn, segment_id, steps))

    async def segments_delete(self, segment_id: str) -> SegmentDeleted:
        """Delete a segment with its membership history (refused while rules read it)."""
        sid = check_segment_id(segment_id)
        return await self._write(lambda conn: units.delete(conn, sid))

    async def segments_list(self, limit: int = 50, cursor: str | None = None) -> SegmentsPage:
        """Segments in creation order with their member counts."""
        size = check_limit(limit)
        after = decode_cursor(cursor, (int,))[0] if cursor is not None else 0
        return await self._read(lambda conn: units.read_list(conn, after, size))

    async def segments_get(self, segment_id: str) -> SegmentInfo:
        """One segment: its rules, sentence and member count."""
        sid = check_segment_id(segment_id)
        return await self._read(lambda conn: units.read_one(conn, sid), small=True)

    async def segments_members(self, segment_id: str, limit: int = 50,
                               cursor: str | None = None) -> MembersPage:
        """The member count and a page of members (with since when) in person order."""
        sid = check_segment_id(segment_id)
        size = check_limit(limit)
        after = decode_cursor(cursor, (int,))[0] if cursor is not None else 0
        return await self._read(lambda conn: units.read_members(conn, sid, after, size))

    async def segments_check(self, segment_id: str, user_id: str) -> CheckResult:
        """Is the person a member, since when, and why (each condition and what it saw)."""
        sid, uid = check_segment_id(segment_id), check_identifier(user_id)
        now = self.clock.now()
        return await self._read(lambda conn: units.check(conn, sid, uid, now), small=True)

    async def segments_preview(self, rules: Any) -> PreviewResult:
        """How many people (and a sample of who) would match `rules` now; saves nothing."""
        rule = parse_rule(rules)
        now = self.clock.now()
        return await self._read(lambda conn: units.preview(conn, rule, now))

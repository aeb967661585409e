"""Units of work for segments: sync functions run inside one transaction on the agent's
connection (see store.database.AgentDatabase.write / read)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from store import journeys_repo, people_repo
from store import segments_repo as repo
from tools.changes import SegmentEntered, SegmentExited
from tools.core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from tools.core.people import person_not_found
from tools.core.segments.deps import check_no_cycle, dependencies
from tools.core.segments.evaluate import explain, summary
from tools.core.segments.nodes import Rule
from tools.core.segments.sentence import sentence
from tools.core.timefmt import iso
from tools.paging import paged
from tools.person_views import PersonSegment, SegmentChange
from tools.segments import bulk, realtime
from tools.segments.facts import PersonFacts
from tools.segments.index import SegmentIndex, index_for
from tools.segments.models import (
    CheckResult,
    ConditionCheck,
    Member,
    MembersPage,
    PreviewResult,
    SegmentCreated,
    SegmentDeleted,
    SegmentInfo,
    SegmentsPage,
    SegmentUpdated,
)
from tools.segments.subscriber import collector, publish_own
from tools.timed import Ran

MAX_SEGMENTS = 1000
MANUAL_SENTENCE = "manual segment: members are added and removed by user_id"
PERSON_HISTORY = 50


@dataclass(frozen=True)
class CreateCommand:
    segment_id: str
    name: str
    description: str | None
    rule: Rule | None  # None: manual


@dataclass(frozen=True)
class UpdateCommand:
    segment_id: str
    name: str | None
    description: str | None
    rule: Rule | None
    add: tuple[str, ...]
    remove: tuple[str, ...]


def segment_not_found(segment_id: str) -> NotFound:
    return NotFound(f"segment {segment_id!r} not found; segments_list shows the ids",
                    field="segment_id")


def require_segment(conn: sqlite3.Connection, segment_id: str) -> repo.SegmentRow:
    row = repo.find_segment(conn, segment_id)
    if row is None:
        raise segment_not_found(segment_id)
    return row


def _rule_sentence(row: repo.SegmentRow, index: SegmentIndex) -> str:
    rule = index.by_pk[row.pk].rule
    return MANUAL_SENTENCE if rule is None else sentence(rule.root)


def check_references(index: SegmentIndex, segment_id: str, rule: Rule) -> None:
    """Every segment the rule reads exists, and none reads `segment_id` back (no cycle)."""
    reads = {d.row.segment_id: set(d.deps.segments) if d.deps else set()
             for d in index.by_id.values()}
    reads[segment_id] = set(dependencies(rule.root).segments)
    for target in sorted(reads[segment_id]):
        if target not in index.by_id and target != segment_id:
            raise InvalidInput(
                f"rules read segment {target!r}, which does not exist; segments_list shows "
                "the ids", field="rules")
    check_no_cycle(reads, segment_id)


def create(conn: sqlite3.Connection, cmd: CreateCommand, now: float) -> SegmentCreated:
    """Store a segment and compute its full membership."""
    taken = repo.find_segment(conn, cmd.segment_id)
    if taken is not None:
        raise Conflict(
            f"segment id {cmd.segment_id!r} is taken (by the segment named {taken.name!r}); "
            "choose another name, or change that segment with segments_update", field="name")
    if repo.count_segments(conn) >= MAX_SEGMENTS:
        raise LimitExceeded(f"an agent may have at most {MAX_SEGMENTS} segments; delete some "
                            "with segments_delete", field="name")
    if cmd.rule is not None:
        check_references(index_for(conn), cmd.segment_id, cmd.rule)
    rules_json = json.dumps(cmd.rule.canonical) if cmd.rule is not None else None
    pk = repo.insert_segment(conn, cmd.segment_id, cmd.name, cmd.description,
                             "dynamic" if cmd.rule else "manual", rules_json, now)
    repo.bump_version(conn)
    if cmd.rule is not None:
        bulk.start(conn, pk, now, "segment_created")
        bulk.step(conn, now)  # usually the whole computation
    return SegmentCreated(
        segment_id=cmd.segment_id, name=cmd.name, kind="dynamic" if cmd.rule else "manual",
        member_count=repo.member_count(conn, pk), computing=repo.computing(conn, pk),
        sentence=sentence(cmd.rule.root) if cmd.rule is not None else MANUAL_SENTENCE,
    )


def update(conn: sqlite3.Connection, cmd: UpdateCommand, now: float) -> SegmentUpdated:
    """Rename, change the rules (recomputing membership) or add / remove manual members."""
    row = require_segment(conn, cmd.segment_id)
    if cmd.rule is not None and row.kind == "manual":
        raise InvalidInput(f"segment {row.segment_id!r} is manual and has no rules; create a "
                           "dynamic segment instead", field="rules")
    if (cmd.add or cmd.remove) and row.kind == "dynamic":
        raise InvalidInput(f"segment {row.segment_id!r} is dynamic: its rules decide who is "
                           "in it. add_user_ids / remove_user_ids work on manual segments",
                           field="add_user_ids" if cmd.add else "remove_user_ids")
    index = index_for(conn)
    if cmd.rule is not None:
        check_references(index, row.segment_id, cmd.rule)
    rules_json = json.dumps(cmd.rule.canonical) if cmd.rule is not None else (
        json.dumps(row.rules) if row.rules is not None else None)
    description = cmd.description if cmd.description is not None else row.description
    repo.update_segment(conn, row.pk, cmd.name or row.name, description, rules_json, now)
    repo.bump_version(conn)
    index = index_for(conn)
    entered = exited = 0
    if cmd.rule is not None:
        bulk.start(conn, row.pk, now, "segment_updated")
        done = bulk.step(conn, now)
        if done is not None and done.segment_pk == row.pk:
            entered, exited = done.entered, done.exited
    elif cmd.add or cmd.remove:
        entered, exited = _change_members(conn, index, row, cmd, now)
    return SegmentUpdated(
        segment_id=row.segment_id, name=cmd.name or row.name,
        member_count=repo.member_count(conn, row.pk), entered=entered, exited=exited,
        computing=repo.computing(conn, row.pk), sentence=_rule_sentence(row, index),
    )


def _change_members(conn: sqlite3.Connection, index: SegmentIndex, row: repo.SegmentRow,
                    cmd: UpdateCommand, now: float) -> tuple[int, int]:
    pks = repo.people_pks(conn, [*cmd.add, *cmd.remove])
    unknown = [uid for uid in (*cmd.add, *cmd.remove) if uid not in pks]
    if unknown:
        shown = ", ".join(repr(uid) for uid in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise NotFound(f"no person with user_id {shown}{more}; identify creates people (nothing "
                       "was changed)", field="add_user_ids" if unknown[0] in cmd.add
                       else "remove_user_ids")
    members = repo.member_pks(conn, row.pk)
    entering = [pks[uid] for uid in cmd.add if pks[uid] not in members]
    leaving = [pks[uid] for uid in cmd.remove if pks[uid] in members]
    repo.enter(conn, row.pk, entering, now, "manual")
    repo.leave(conn, row.pk, leaving, now, "manual")
    out = collector()
    if out is not None:
        out += [SegmentEntered(pk, row.pk, row.segment_id, now, "manual") for pk in entering]
        out += [SegmentExited(pk, row.pk, row.segment_id, now, "manual") for pk in leaving]
    readers = index.dependents.get(row.pk, ())
    if readers:
        for pk in (*entering, *leaving):
            realtime.refresh(conn, index, pk, set(readers), now, "manual", out=out)
    publish_own(conn, out)
    return len(entering), len(leaving)


def delete(conn: sqlite3.Connection, segment_id: str) -> SegmentDeleted:
    """Delete a segment with its membership and history, unless something uses it."""
    row = require_segment(conn, segment_id)
    index = index_for(conn)
    readers = sorted(index.by_pk[pk].row.segment_id for pk in index.dependents.get(row.pk, ()))
    if readers:
        raise Conflict(
            f"segment {segment_id!r} is read by the rules of segment(s) "
            f"{', '.join(map(repr, readers))}; change or delete those first", field="segment_id")
    workflows = journeys_repo.workflows_using(conn, "segment", segment_id)
    if workflows:
        raise Conflict(
            f"segment {segment_id!r} is used by workflow(s) {', '.join(map(repr, workflows))} "
            "(trigger or conditions); change or archive those first (workflows_delete)",
            field="segment_id")
    count = repo.member_count(conn, row.pk)
    repo.delete_segment(conn, row.pk)
    repo.bump_version(conn)
    return SegmentDeleted(segment_id=segment_id, deleted=True, members_removed=count)


def info(conn: sqlite3.Connection, row: repo.SegmentRow, index: SegmentIndex) -> SegmentInfo:
    return SegmentInfo(
        segment_id=row.segment_id, name=row.name, description=row.description,
        kind=row.kind,  # type: ignore[arg-type]
        rules=row.rules, sentence=_rule_sentence(row, index),
        member_count=repo.member_count(conn, row.pk), computing=repo.computing(conn, row.pk),
        created_at=iso(row.created_at), updated_at=iso(row.updated_at),
    )


def read_one(conn: sqlite3.Connection, segment_id: str) -> SegmentInfo:
    return info(conn, require_segment(conn, segment_id), index_for(conn))


def read_list(conn: sqlite3.Connection, after_pk: int, limit: int) -> SegmentsPage:
    index = index_for(conn)
    rows, cursor = paged(lambda n: repo.list_segments(conn, after_pk, n), limit,
                         lambda row: [row.pk])
    return SegmentsPage(segments=[info(conn, row, index) for row in rows], next_cursor=cursor)


def read_members(conn: sqlite3.Connection, segment_id: str, after_pk: int,
                 limit: int) -> MembersPage:
    row = require_segment(conn, segment_id)
    found, cursor = paged(lambda n: repo.members_page(conn, row.pk, after_pk, n), limit,
                          lambda member: [member[0]])
    return MembersPage(
        segment_id=segment_id, count=repo.member_count(conn, row.pk),
        members=[Member(user_id=uid, since=iso(when)) for _, uid, when in found],
        next_cursor=cursor,
    )


def check(conn: sqlite3.Connection, segment_id: str, user_id: str, now: float) -> CheckResult:
    """Member or not, since when, and why: each condition, its result and what it saw."""
    row = require_segment(conn, segment_id)
    pk = people_repo.person_pk(conn, user_id)
    if pk is None:
        raise person_not_found(user_id)
    index = index_for(conn)
    rule = index.by_pk[row.pk].rule
    memberships = repo.memberships_of(conn, pk)
    since = memberships.get(row.pk)
    if rule is None:
        explanation = (f"manual segment: added on {iso(since)}" if since is not None
                       else "manual segment: not added")
        conditions: list[ConditionCheck] = []
    else:
        checks = explain(rule.root, PersonFacts(conn, pk, index, memberships, exact=True), now)
        explanation = summary(checks)
        conditions = [ConditionCheck(depth=c.depth, condition=c.condition, result=c.result,
                                     seen=c.seen) for c in checks]
    return CheckResult(segment_id=segment_id, user_id=user_id, member=since is not None,
                       since=iso(since) if since is not None else None,
                       explanation=explanation, conditions=conditions)


def preview(conn: sqlite3.Connection, rule: Rule, now: float) -> PreviewResult:
    """Who would match `rule` now, without saving anything."""
    index = index_for(conn)
    check_references(index, "", rule)
    count, sample = bulk.preview(conn, rule, index, now)
    return PreviewResult(count=count, total_people=people_repo.count_people(conn),
                         sample=sample, sentence=sentence(rule.root))


class SegmentWakeups:
    """The segments' timed work: each person's next time-driven change (segment_people.due),
    re-evaluated at its own moment."""

    area = "segments"
    needs_dispatch = False

    def earliest(self, conn: sqlite3.Connection) -> float | None:
        return repo.earliest_wakeup(conn)

    def run_due(self, conn: sqlite3.Connection, until: float, budget: int) -> Ran:
        index = index_for(conn)
        out = collector()
        rows = repo.due_wakeups(conn, until, budget)
        for segment_pk, person_pk, due in rows:
            repo.clear_wakeup(conn, segment_pk, person_pk)
            if segment_pk in index.by_pk:
                realtime.refresh(conn, index, person_pk, {segment_pk}, due, "time", out=out)
        publish_own(conn, out)
        return Ran(len(rows), rows[0][2] if rows else None)


def person_view(conn: sqlite3.Connection, person_pk: int) -> dict[str, Any]:
    """A person's segments and their most recent entries and exits (for get_person)."""
    segments = [PersonSegment(segment_id=sid, name=name, since=iso(when))
                for sid, name, when in repo.segments_of(conn, person_pk)]
    history = [SegmentChange(segment_id=sid, change=change,  # type: ignore[arg-type]
                             at=iso(at), cause=cause)
               for sid, change, at, cause in repo.history_of(conn, person_pk, PERSON_HISTORY)]
    return {"segments": segments, "segment_history": history}


def computed(conn: sqlite3.Connection, segment_id: str,
             steps: list[bulk.Step]) -> tuple[int, bool, int, int]:
    """(member count, still computing, entered, exited) of a segment whose computation a
    call followed through `steps`."""
    row = require_segment(conn, segment_id)
    job = next((c for c in repo.computations(conn) if c.segment_pk == row.pk), None)
    if job is not None:
        return repo.member_count(conn, row.pk), True, job.entered, job.exited
    last = next((s for s in reversed(steps) if s.segment_pk == row.pk and s.finished), None)
    return (repo.member_count(conn, row.pk), False, last.entered if last else 0,
            last.exited if last else 0)

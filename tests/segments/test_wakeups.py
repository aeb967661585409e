"""Time-based membership: each person's next change is a wake-up that the process-wide
scheduler runs at that moment (tests advance a ManualClock and call run_due)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from server.runtime import Runtime
from tests.segments.cases import attr, event
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio
DAY = 86_400.0
SEED = {"and": [attr("plan", "eq", "pro"), event("login", timeframe="7d")]}


@pytest.fixture
def tom(runtime: Runtime) -> CustomerIO:
    return runtime.engine("tom")


async def members(cio: CustomerIO, segment_id: str) -> set[str]:
    return {m.user_id for m in (await cio.segments_members(segment_id, limit=500)).members}


async def changes(cio: CustomerIO, user_id: str) -> list[tuple[str, str, str]]:
    """(change, at, cause) oldest first."""
    return [(h.change, h.at, h.cause)
            for h in reversed((await cio.get_person(user_id)).segment_history)]


async def test_a_person_leaves_at_the_exact_moment_the_window_closes(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.identify("ada", {"plan": "pro"})
    await tom.track("login", user_id="ada")
    await tom.segments_create("Active Pro Users", SEED)
    assert runtime.control.next_due("tom") == start + 7 * DAY
    clock.set(start + 7 * DAY - 1)
    assert await runtime.scheduler.run_due() == 0
    assert await members(tom, "active-pro-users") == {"ada"}
    clock.set(start + 7 * DAY)
    assert await runtime.scheduler.run_due() == 1
    assert await members(tom, "active-pro-users") == set()
    assert (await changes(tom, "ada"))[-1] == ("exited", iso(start + 7 * DAY), "time")
    assert runtime.control.next_due("tom") is None


async def test_a_later_login_moves_the_exit_later(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.identify("ada", {"plan": "pro"})
    await tom.track("login", user_id="ada")
    await tom.segments_create("Active Pro Users", SEED)
    clock.advance(3 * DAY)
    await tom.track("login", user_id="ada")
    await runtime.scheduler.run_due(start + 7 * DAY)  # the old wake-up: no change
    assert await members(tom, "active-pro-users") == {"ada"}
    assert runtime.control.next_due("tom") == start + 10 * DAY
    await runtime.scheduler.run_due(start + 10 * DAY)
    assert await members(tom, "active-pro-users") == set()
    assert (await changes(tom, "ada"))[-1] == ("exited", iso(start + 10 * DAY), "time")


async def test_a_timestamp_attribute_enters_and_leaves_a_within_window_on_time(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.segments_create("Trial ended lately", attr("trial_end", "within", "1d"))
    await tom.identify("ada", {"trial_end": int(start + 2 * DAY)})
    assert await members(tom, "trial-ended-lately") == set()
    await runtime.scheduler.run_due(start + 2 * DAY)
    assert await members(tom, "trial-ended-lately") == {"ada"}
    await runtime.scheduler.run_due(start + 3 * DAY)
    assert await members(tom, "trial-ended-lately") == set()
    assert await changes(tom, "ada") == [("entered", iso(start + 2 * DAY), "time"),
                                         ("exited", iso(start + 3 * DAY), "time")]


async def test_did_not_in_a_window_enters_when_the_last_event_ages_out(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.segments_create("Dormant", event("login", "did_not", timeframe="7d"))
    await tom.track("login", user_id="ada")
    assert await members(tom, "dormant") == set()
    await runtime.scheduler.run_due(start + 7 * DAY)
    assert await members(tom, "dormant") == {"ada"}


async def test_a_late_scheduler_records_each_change_at_its_own_moment(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.segments_create("Trial ended lately", attr("trial_end", "within", "1d"))
    await tom.segments_create("Watched trial", {"segment": "trial-ended-lately"})
    await tom.identify("ada", {"trial_end": int(start + 2 * DAY)})
    clock.set(start + 30 * DAY)  # the server was down for a month
    await runtime.scheduler.run_due()
    assert await changes(tom, "ada") == [
        ("entered", iso(start + 2 * DAY), "time"), ("entered", iso(start + 2 * DAY), "time"),
        ("exited", iso(start + 3 * DAY), "time"), ("exited", iso(start + 3 * DAY), "time")]


async def test_counts_in_a_window_change_as_events_age_out(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.segments_create("Twice this week", event("login", timeframe="7d", at_most=2))
    for offset in (0, 1, 2):
        clock.set(start + offset * DAY)
        await tom.track("login", user_id="ada")
    assert await members(tom, "twice-this-week") == set()  # three in the window
    await runtime.scheduler.run_due(start + 7 * DAY)  # the first one ages out
    assert await members(tom, "twice-this-week") == {"ada"}
    await runtime.scheduler.run_due(start + 9 * DAY)  # all gone
    assert await members(tom, "twice-this-week") == set()


async def test_the_scheduler_opens_only_agents_with_due_work(
        runtime: Runtime, tmp_path: Path, clock: ManualClock) -> None:
    start = clock.now()
    for agent, rule in (("tom", SEED), ("ann", attr("plan", "eq", "pro"))):
        async with CustomerIO.for_agent(agent, data_dir=tmp_path, clock=clock) as cio:
            await cio.identify("ada", {"plan": "pro"})
            await cio.track("login", user_id="ada")
            await cio.segments_create("Segment", rule)
    assert runtime.control.next_due("ann") is None
    assert runtime.store.open_count == 0
    assert await runtime.scheduler.run_due(start + 8 * DAY) == 1
    assert runtime.store.open_count == 1
    assert await members(runtime.engine("tom"), "segment") == set()


async def test_deleting_a_segment_leaves_no_work_behind(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    await tom.identify("ada", {"plan": "pro"})
    await tom.track("login", user_id="ada")
    await tom.segments_create("Active Pro Users", SEED)
    await tom.segments_delete("active-pro-users")
    assert await runtime.scheduler.run_due(clock.now() + 8 * DAY) == 0
    assert runtime.control.next_due("tom") is None


async def test_a_broken_control_row_is_dropped_and_others_still_run(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    await tom.identify("ada", {"plan": "pro"})
    await tom.track("login", user_id="ada")
    await tom.segments_create("Active Pro Users", SEED)
    runtime.control.lower("not a valid id!", clock.now())
    assert await runtime.scheduler.run_due(clock.now() + 8 * DAY) == 1
    assert runtime.control.next_due("not a valid id!") is None


async def test_the_background_loop_runs_work_once_it_is_due(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    await tom.identify("ada", {"plan": "pro"})
    await tom.track("login", user_id="ada")
    await tom.segments_create("Active Pro Users", SEED)
    clock.advance(7 * DAY)
    with anyio.fail_after(5):
        while await members(tom, "active-pro-users"):
            finished = runtime.scheduler.round_finished()
            runtime.scheduler.kick()
            await finished.wait()
    assert runtime.scheduler.rounds >= 1


async def test_activity_that_moves_no_wake_up_earlier_leaves_the_control_database_alone(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    await tom.identify("ada", {"plan": "pro"})
    await tom.identify("bob", {"plan": "pro"})
    await tom.track("login", user_id="ada")
    notified: list[int] = []
    runtime.control.add_listener(lambda: notified.append(1))
    await tom.segments_create("Active Pro Users", SEED)
    assert len(notified) == 1
    await runtime.scheduler.run_due()  # a round: nothing due yet
    for _ in range(10):
        clock.advance(60)
        await tom.track("login", user_id="ada")
        await tom.track("login", user_id="bob")  # bob enters: his exit is later than ada's
    assert len(notified) == 1


async def test_did_not_on_profiles_at_least_n_days_old_enters_when_the_profile_comes_of_age(
        runtime: Runtime, tom: CustomerIO, clock: ManualClock) -> None:
    start = clock.now()
    await tom.segments_create("Dormant", {"and": [
        event("login", "did_not", timeframe="7d"),
        attr("created_at", "not_within", "7d")]})
    await tom.identify("ada")  # new today, never logged in: literally "did not", but young
    await tom.identify("bob")
    await tom.track("login", user_id="bob", timestamp=start)
    assert await members(tom, "dormant") == set()
    await runtime.scheduler.run_due(start + 7 * DAY)
    assert await members(tom, "dormant") == {"ada", "bob"}
    assert (await changes(tom, "ada")) == [("entered", iso(start + 7 * DAY), "time")]

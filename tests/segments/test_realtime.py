"""Real-time membership: every write that changes a person (identify, track, batch,
merge, devices, delete, suppress) updates their segments in the same call."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.segments.cases import attr, event
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio
SEED = {"and": [attr("plan", "eq", "pro"), event("login", timeframe="7d")]}


async def members(cio: CustomerIO, segment_id: str) -> set[str]:
    return {m.user_id for m in (await cio.segments_members(segment_id, limit=500)).members}


async def history(cio: CustomerIO, user_id: str) -> list[tuple[str, str, str]]:
    return [(h.segment_id, h.change, h.cause)
            for h in reversed((await cio.get_person(user_id)).segment_history)]


def rows(cio: CustomerIO, table: str) -> int:
    conn = sqlite3.connect(cio.manager.path_for(cio.agent_id))
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


async def test_track_makes_a_person_enter_inside_the_same_call(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"})
    await cio.segments_create("Active Pro Users", SEED)
    assert await members(cio, "active-pro-users") == set()
    await cio.track("login", user_id="ada")
    assert await members(cio, "active-pro-users") == {"ada"}
    assert await history(cio, "ada") == [("active-pro-users", "entered", "track")]


async def test_identify_makes_a_person_enter_and_exit(cio: CustomerIO) -> None:
    await cio.segments_create("Active Pro Users", SEED)
    await cio.identify("ada", {"plan": "free"})
    await cio.track("login", user_id="ada")
    assert await members(cio, "active-pro-users") == set()
    await cio.identify("ada", {"plan": "pro"})
    assert await members(cio, "active-pro-users") == {"ada"}
    await cio.identify("ada", {"plan": None})
    assert await members(cio, "active-pro-users") == set()
    assert [change for _, change, _ in await history(cio, "ada")] == ["entered", "exited"]


async def test_only_segments_reading_what_changed_are_re_evaluated(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"})
    await cio.segments_create("Pro", attr("plan", "eq", "pro"))
    conn = sqlite3.connect(cio.manager.path_for(cio.agent_id))
    # Make the stored membership disagree with the rule, then change something else:
    # a segment that does not read it must not be looked at (so it stays wrong).
    conn.execute("DELETE FROM segment_people")
    conn.commit()
    conn.close()
    await cio.identify("ada", {"country": "FR"})
    await cio.track("login", user_id="ada")
    assert await members(cio, "pro") == set()
    await cio.identify("ada", {"plan": "pro", "country": "DE"})  # plan unchanged: no read
    assert await members(cio, "pro") == set()
    await cio.identify("ada", {"plan": "team"})
    await cio.identify("ada", {"plan": "pro"})
    assert await members(cio, "pro") == {"ada"}


async def test_a_new_person_is_evaluated_against_every_segment(cio: CustomerIO) -> None:
    await cio.segments_create("Never logged in", event("login", "did_not"))
    await cio.segments_create("No plan", attr("plan", "not_exists"))
    await cio.track("signup", user_id="new-by-track")
    await cio.identify("new-by-identify", {"plan": "pro"})
    assert await members(cio, "never-logged-in") == {"new-by-track", "new-by-identify"}
    assert await members(cio, "no-plan") == {"new-by-track"}


async def test_page_views_match_by_url_part(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.segments_create("Pricing viewers", {"page": "/pricing", "match": "contains"})
    await cio.track("https://shop.test/docs", user_id="ada", type="page")
    assert await members(cio, "pricing-viewers") == set()
    await cio.track("https://shop.test/pricing?x=1", user_id="ada", type="page")
    assert await members(cio, "pricing-viewers") == {"ada"}


async def test_event_property_filters_apply_in_real_time(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.segments_create("Big spenders", event(
        "purchase", properties=[{"property": "price", "operator": "gte", "value": 100}]))
    await cio.track("purchase", user_id="ada", properties={"price": 20})
    assert await members(cio, "big-spenders") == set()
    await cio.track("purchase", user_id="ada", properties={"price": 120})
    assert await members(cio, "big-spenders") == {"ada"}


async def test_exactly_counts_go_out_again_on_the_next_event(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.segments_create("Once", event("login", exactly=1))
    await cio.track("login", user_id="ada")
    assert await members(cio, "once") == {"ada"}
    await cio.track("login", user_id="ada")
    assert await members(cio, "once") == set()


async def test_a_duplicate_event_changes_nothing(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.segments_create("Once", event("login", exactly=1))
    await cio.track("login", user_id="ada", event_id="e1")
    await cio.track("login", user_id="ada", event_id="e1")
    assert await members(cio, "once") == {"ada"}


async def test_batch_updates_membership_for_every_operation(cio: CustomerIO) -> None:
    await cio.segments_create("Active Pro Users", SEED)
    await cio.segments_create("Twice", event("login", at_least=2))
    result = await cio.batch([
        {"action": "identify", "user_id": "ada", "attributes": {"plan": "pro"}},
        {"action": "track", "user_id": "ada", "name": "login"},
        {"action": "track", "user_id": "bob", "name": "login"},
        {"action": "track", "user_id": "bob", "name": "login"},
        {"action": "identify", "user_id": "bob", "attributes": {"plan": "pro"}},
        {"action": "track", "name": "login"},  # fails on its own
    ])
    assert result.failed == 1
    assert await members(cio, "active-pro-users") == {"ada", "bob"}
    assert await members(cio, "twice") == {"bob"}


async def test_a_segment_reading_another_follows_it_in_the_same_call(cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro", "country": "FR"})
    await cio.segments_create("Active Pro Users", SEED)
    await cio.segments_create("French active pro", {"and": [
        {"segment": "active-pro-users"}, attr("country", "eq", "FR")]})
    await cio.segments_create("Not active pro", {"segment": "active-pro-users",
                                                 "operator": "not_in"})
    assert await members(cio, "not-active-pro") == {"ada"}
    await cio.track("login", user_id="ada")
    assert await members(cio, "french-active-pro") == {"ada"}
    assert await members(cio, "not-active-pro") == set()
    await cio.identify("ada", {"plan": "free"})
    assert await members(cio, "french-active-pro") == set()
    assert await members(cio, "not-active-pro") == {"ada"}


async def test_manual_membership_changes_flow_into_segments_reading_it(
        cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"})
    await cio.segments_create("Beta", manual=True)
    await cio.segments_create("Pro beta", {"and": [{"segment": "beta"},
                                                   attr("plan", "eq", "pro")]})
    await cio.segments_update("beta", add_user_ids=["ada"])
    assert await members(cio, "pro-beta") == {"ada"}
    await cio.segments_update("beta", remove_user_ids=["ada"])
    assert await members(cio, "pro-beta") == set()


async def test_devices_added_moved_and_removed_update_device_segments(cio: CustomerIO) -> None:
    await cio.identify("ada")
    await cio.identify("bob")
    await cio.segments_create("iOS users", {"device": "ios"})
    await cio.add_device("ada", "token-1", "ios")
    assert await members(cio, "ios-users") == {"ada"}
    await cio.add_device("bob", "token-1", "ios")  # the token moves to bob
    assert await members(cio, "ios-users") == {"bob"}
    await cio.remove_device("bob", "token-1")
    assert await members(cio, "ios-users") == set()


async def test_merge_moves_manual_memberships_and_re_evaluates_the_primary(
        cio: CustomerIO) -> None:
    await cio.identify("ada", {"email": "ada@example.com"})
    await cio.identify("ada-old", {"plan": "pro"})
    await cio.track("login", user_id="ada-old")
    await cio.segments_create("Beta", manual=True)
    await cio.segments_update("beta", add_user_ids=["ada-old"])
    await cio.segments_create("Active Pro Users", SEED)
    assert await members(cio, "active-pro-users") == {"ada-old"}
    await cio.merge_people("ada", "ada-old")
    assert await members(cio, "beta") == {"ada"}
    assert await members(cio, "active-pro-users") == {"ada"}
    assert {cause for _, _, cause in await history(cio, "ada")} == {"merge"}


async def test_deleting_or_suppressing_a_person_removes_their_memberships_and_history(
        cio: CustomerIO) -> None:
    for uid in ("ada", "bob"):
        await cio.identify(uid, {"plan": "pro"})
        await cio.track("login", user_id=uid)
    await cio.segments_create("Active Pro Users", SEED)
    await cio.delete_person("ada")
    await cio.suppress_person("bob")
    assert (await cio.segments_members("active-pro-users")).count == 0
    assert rows(cio, "segment_people") == 0
    assert rows(cio, "segment_history") == 0


async def test_identify_claiming_anonymous_events_re_evaluates_event_segments(
        cio: CustomerIO) -> None:
    await cio.segments_create("Pricing viewers", {"page": "/pricing", "match": "contains"})
    await cio.track("https://shop.test/pricing", anonymous_id="anon-1", type="page")
    await cio.identify("ada", anonymous_id="anon-1")
    assert await members(cio, "pricing-viewers") == {"ada"}


async def test_an_event_of_another_agent_never_touches_this_agents_segments(
        tmp_path: Path, clock: ManualClock) -> None:
    async with CustomerIO.for_agent("tom", data_dir=tmp_path, clock=clock) as tom, \
            CustomerIO.for_agent("ann", data_dir=tmp_path, clock=clock) as ann:
        await tom.segments_create("Loggers", event("login"))
        await ann.segments_create("Loggers", event("logout"))
        await tom.track("login", user_id="ada")
        await ann.track("login", user_id="ada")
        assert await members(tom, "loggers") == {"ada"}
        assert await members(ann, "loggers") == set()

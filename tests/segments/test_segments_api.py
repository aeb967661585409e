"""segments_create / update / delete / list / members / check / preview through the
Python API, on a real SQLite file with a manual clock."""

from __future__ import annotations

import pytest

from tests.segments.cases import attr, event
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import Conflict, InvalidInput, NotFound
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio
SEED = {"and": [attr("plan", "eq", "pro"), event("login", timeframe="7d")]}


@pytest.fixture
async def shop(cio: CustomerIO) -> CustomerIO:
    """ada (pro, logged in), bob (pro, never logged in), cy (free, logged in)."""
    await cio.identify("ada", {"plan": "pro", "country": "FR"})
    await cio.identify("bob", {"plan": "pro"})
    await cio.identify("cy", {"plan": "free"})
    await cio.track("login", user_id="ada")
    await cio.track("login", user_id="cy")
    return cio


async def members(cio: CustomerIO, segment_id: str) -> set[str]:
    page = await cio.segments_members(segment_id, limit=500)
    return {m.user_id for m in page.members}


async def test_create_slugs_the_name_counts_members_and_says_the_rule(shop: CustomerIO) -> None:
    created = await shop.segments_create("Active Pro Users", SEED, description="for promos")
    assert created.segment_id == "active-pro-users"
    assert created.kind == "dynamic"
    assert created.member_count == 1
    assert created.sentence == 'plan = "pro" and did "login" in the last 7 days'
    assert await members(shop, "active-pro-users") == {"ada"}


async def test_a_taken_slug_is_a_conflict_and_nothing_is_saved(shop: CustomerIO) -> None:
    await shop.segments_create("Active Pro Users", SEED)
    with pytest.raises(Conflict, match="is taken"):
        await shop.segments_create("active  pro users!", attr("plan", "exists"))
    listed = await shop.segments_list()
    assert [s.segment_id for s in listed.segments] == ["active-pro-users"]
    assert listed.segments[0].rules == SEED


async def test_a_manual_segment_holds_the_people_added_by_id(shop: CustomerIO) -> None:
    created = await shop.segments_create("VIP", manual=True)
    assert (created.kind, created.member_count) == ("manual", 0)
    updated = await shop.segments_update("vip", add_user_ids=["ada", "bob", "ada"])
    assert (updated.member_count, updated.entered, updated.exited) == (2, 2, 0)
    updated = await shop.segments_update("vip", add_user_ids=["bob", "cy"],
                                         remove_user_ids=["ada"])
    assert (updated.member_count, updated.entered, updated.exited) == (2, 1, 1)
    assert await members(shop, "vip") == {"bob", "cy"}


async def test_adding_unknown_people_to_a_manual_segment_changes_nothing(
        shop: CustomerIO) -> None:
    await shop.segments_create("VIP", manual=True)
    with pytest.raises(NotFound, match="'nobody'"):
        await shop.segments_update("vip", add_user_ids=["ada", "nobody"])
    assert await members(shop, "vip") == set()


async def test_updating_rules_recomputes_and_reports_entries_and_exits(
        shop: CustomerIO) -> None:
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    updated = await shop.segments_update("pro", rules=event("login"))
    assert (updated.member_count, updated.entered, updated.exited) == (2, 1, 1)
    assert await members(shop, "pro") == {"ada", "cy"}
    assert updated.sentence == 'did "login"'


async def test_renaming_keeps_the_id(shop: CustomerIO) -> None:
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    renamed = await shop.segments_update("pro", name="Paying customers")
    assert (renamed.segment_id, renamed.name, renamed.member_count) == (
        "pro", "Paying customers", 2)
    assert (await shop.segments_list()).segments[0].name == "Paying customers"


async def test_rules_and_member_lists_go_with_their_kind_of_segment(shop: CustomerIO) -> None:
    await shop.segments_create("VIP", manual=True)
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    with pytest.raises(InvalidInput, match="manual and has no rules"):
        await shop.segments_update("vip", rules=attr("plan", "exists"))
    with pytest.raises(InvalidInput, match="is dynamic"):
        await shop.segments_update("pro", add_user_ids=["cy"])
    with pytest.raises(InvalidInput, match="nothing to update"):
        await shop.segments_update("pro")


async def test_list_pages_through_segments_with_their_counts(shop: CustomerIO) -> None:
    for number in range(5):
        await shop.segments_create(f"Seg {number}", attr("plan", "exists"))
    first = await shop.segments_list(limit=3)
    assert [s.segment_id for s in first.segments] == ["seg-0", "seg-1", "seg-2"]
    assert all(s.member_count == 3 for s in first.segments)
    assert first.next_cursor is not None
    second = await shop.segments_list(limit=3, cursor=first.next_cursor)
    assert [s.segment_id for s in second.segments] == ["seg-3", "seg-4"]
    assert second.next_cursor is None


async def test_members_pages_carry_the_count_and_since_when(
        shop: CustomerIO, clock: ManualClock) -> None:
    for number in range(7):
        await shop.identify(f"p{number}", {"plan": "pro"})
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    seen: list[str] = []
    cursor = None
    while True:
        page = await shop.segments_members("pro", limit=4, cursor=cursor)
        assert page.count == 9
        seen += [m.user_id for m in page.members]
        assert all(m.since == iso(clock.now()) for m in page.members)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(["ada", "bob", *[f"p{n}" for n in range(7)]])
    assert len(seen) == len(set(seen))


async def test_check_explains_each_condition_with_the_value_it_saw(
        shop: CustomerIO, clock: ManualClock) -> None:
    await shop.segments_create("Active Pro Users", SEED)
    ada = await shop.segments_check("active-pro-users", "ada")
    assert ada.member and ada.since == iso(clock.now())
    assert ada.explanation == ('plan = "pro" ✓ (saw "pro"); '
                               'did "login" in the last 7 days ✓ (1 time)')
    bob = await shop.segments_check("active-pro-users", "bob")
    assert not bob.member and bob.since is None
    assert bob.explanation.endswith('did "login" in the last 7 days ✗ (0 times)')
    assert [(c.depth, c.condition, c.result) for c in bob.conditions] == [
        (0, "all of", False), (1, 'plan = "pro"', True),
        (1, 'did "login" in the last 7 days', False)]
    cy = await shop.segments_check("active-pro-users", "cy")
    assert cy.conditions[1].seen == 'saw "free"'


async def test_check_of_a_manual_segment_says_when_the_person_was_added(
        shop: CustomerIO) -> None:
    await shop.segments_create("VIP", manual=True)
    await shop.segments_update("vip", add_user_ids=["ada"])
    assert (await shop.segments_check("vip", "ada")).explanation.startswith(
        "manual segment: added on")
    assert not (await shop.segments_check("vip", "bob")).member


async def test_preview_counts_and_samples_without_saving(shop: CustomerIO) -> None:
    preview = await shop.segments_preview(attr("plan", "eq", "pro"))
    assert (preview.count, preview.total_people, sorted(preview.sample)) == (
        2, 3, ["ada", "bob"])
    assert preview.sentence == 'plan = "pro"'
    assert (await shop.segments_list()).segments == []


async def test_delete_removes_the_segment_and_refuses_while_another_reads_it(
        shop: CustomerIO) -> None:
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    await shop.segments_create("French pro", {"and": [{"segment": "pro"},
                                                      attr("country", "eq", "FR")]})
    assert await members(shop, "french-pro") == {"ada"}
    with pytest.raises(Conflict, match="read by the rules of segment"):
        await shop.segments_delete("pro")
    deleted = await shop.segments_delete("french-pro")
    assert (deleted.deleted, deleted.members_removed) == (True, 1)
    assert (await shop.segments_delete("pro")).members_removed == 2
    assert (await shop.segments_list()).segments == []
    assert (await shop.get_person("ada")).segment_history == []


async def test_unknown_segments_and_people_are_not_found(shop: CustomerIO) -> None:
    with pytest.raises(NotFound, match="segments_list shows the ids"):
        await shop.segments_check("nope", "ada")
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    with pytest.raises(NotFound, match="no person"):
        await shop.segments_check("pro", "nobody")
    with pytest.raises(NotFound):
        await shop.segments_delete("nope")
    with pytest.raises(NotFound):
        await shop.segments_members("nope")


async def test_rules_may_read_other_segments_but_not_unknown_ones_or_in_a_cycle(
        shop: CustomerIO) -> None:
    with pytest.raises(InvalidInput, match="rules read segment 'pro', which does not exist"):
        await shop.segments_create("French pro", {"segment": "pro"})
    with pytest.raises(InvalidInput, match="does not exist"):
        await shop.segments_preview({"segment": "pro"})
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    await shop.segments_create("Loyal", {"segment": "pro"})
    with pytest.raises(InvalidInput, match="cycle of segments"):
        await shop.segments_update("pro", rules={"segment": "loyal"})
    with pytest.raises(InvalidInput, match="cycle"):
        await shop.segments_update("pro", rules={"segment": "pro"})
    assert (await shop.segments_list()).segments[0].rules == attr("plan", "eq", "pro")


async def test_get_person_lists_segments_and_their_history(
        shop: CustomerIO, clock: ManualClock) -> None:
    await shop.segments_create("Pro", attr("plan", "eq", "pro"))
    clock.advance(60)
    await shop.identify("ada", {"plan": "free"})
    clock.advance(60)
    await shop.identify("ada", {"plan": "pro"})
    person = await shop.get_person("ada")
    assert [(s.segment_id, s.since) for s in person.segments] == [("pro", iso(clock.now()))]
    assert [(h.change, h.cause) for h in person.segment_history] == [
        ("entered", "identify"), ("exited", "identify"), ("entered", "segment_created")]

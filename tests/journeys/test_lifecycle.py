"""Pause stops new entries while people on their way go on; archiving (workflows_delete)
cancels open journeys and frees the templates and segments the workflow used, which cannot be
deleted while a workflow that is not archived uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.db_dump import unchanged
from tests.journeys.support import DAY, SMS, journey, later, people, sent, started, workflow
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import Conflict

pytestmark = pytest.mark.anyio

TRIGGER = {"type": "segment_entered", "segment_id": "pro"}
STEPS = [{"id": "wait", "type": "delay", "duration": "1d"},
         {"id": "hello", "type": "send", "channel": "sms", "template_id": "hi"}]


@pytest.fixture
async def shop(cio: CustomerIO) -> CustomerIO:
    """ada and bob on the free plan, a dynamic segment 'pro', an sms template 'hi'."""
    await people(cio, "ada", "bob", plan="free", phone="+14155550123")
    await cio.segments_create("Pro", rules={"attribute": "plan", "operator": "eq",
                                            "value": "pro"})
    await cio.templates_create("hi", "sms", SMS)
    return cio


async def test_a_paused_workflow_takes_nobody_new_and_lets_people_on_their_way_finish(
        shop: CustomerIO, clock: ManualClock) -> None:
    await workflow(shop, "w", TRIGGER, STEPS)
    await shop.identify("ada", {"plan": "pro"})
    paused = await shop.workflows_pause("w")
    assert paused.status == "paused" and "continue" in paused.note
    await shop.identify("bob", {"plan": "pro"})
    assert await started(shop, "w") == 1
    await later(shop, clock, DAY)
    assert [t for t, _ in await sent(shop)] == ["hi"]
    assert (await journey(shop, "ada", "w")).status == "completed"
    await shop.workflows_activate("w")  # on again: the trigger starts journeys from now on
    await shop.identify("bob", {"plan": "free"})
    await shop.identify("bob", {"plan": "pro"})
    assert await started(shop, "w") == 2


async def test_archiving_cancels_open_journeys_and_nothing_more_is_sent(
        shop: CustomerIO, clock: ManualClock) -> None:
    await workflow(shop, "w", TRIGGER, STEPS)
    await shop.identify("ada", {"plan": "pro"})
    archived = await shop.workflows_delete("w")
    assert archived.status == "archived"
    found = await journey(shop, "ada", "w")
    assert (found.status, found.current_step) == ("cancelled", None)
    assert (await shop.workflows_get("w")).journeys == {"cancelled": 1, "converted": 0}
    await later(shop, clock, 2 * DAY)
    assert await sent(shop) == []
    await shop.identify("bob", {"plan": "pro"})
    assert await started(shop, "w") == 1
    assert (await shop.workflows_list()).workflows == []
    [listed] = (await shop.workflows_list(include_archived=True)).workflows
    assert listed.status == "archived"


@pytest.mark.parametrize("change", ["workflows_activate", "workflows_pause"])
async def test_an_archived_workflow_cannot_be_switched_on_again(
        shop: CustomerIO, db: Path, change: str) -> None:
    await workflow(shop, "w", TRIGGER, STEPS)
    await shop.workflows_delete("w")
    with unchanged(db), pytest.raises(Conflict, match="archived"):
        await getattr(shop, change)("w")
    with pytest.raises(Conflict, match="archived"):
        await shop.workflows_update("w", name="Again")
    with unchanged(db):  # archiving again is idempotent, as the tool says
        assert (await shop.workflows_delete("w")).status == "archived"


@pytest.mark.parametrize("status", ["draft", "active", "paused"])
async def test_a_template_or_segment_a_workflow_uses_cannot_be_deleted_until_it_is_archived(
        shop: CustomerIO, db: Path, status: str) -> None:
    await workflow(shop, "w", TRIGGER, STEPS, activate=status != "draft")
    if status == "paused":
        await shop.workflows_pause("w")
    with unchanged(db):
        with pytest.raises(Conflict) as template:
            await shop.templates_delete("hi")
        with pytest.raises(Conflict) as segment:
            await shop.segments_delete("pro")
    assert "'w'" in template.value.message and "workflows_delete" in template.value.message
    assert "'w'" in segment.value.message
    await shop.workflows_delete("w")
    assert (await shop.templates_delete("hi")).deleted
    assert (await shop.segments_delete("pro")).deleted


async def test_a_segment_read_by_a_step_condition_is_in_use_too(shop: CustomerIO) -> None:
    await workflow(shop, "w", {"type": "api"}, [
        {"type": "branch", "condition": {"segment": "pro"}, "then": [{"type": "exit"}]}],
        activate=False)
    with pytest.raises(Conflict, match="'w'"):
        await shop.segments_delete("pro")


async def test_a_template_the_old_version_still_sends_cannot_be_deleted(
        shop: CustomerIO) -> None:
    await workflow(shop, "w", {"type": "api"}, STEPS)
    await shop.workflows_trigger("w", ["ada"])
    await shop.workflows_update("w", steps=STEPS[:1])  # version 2 sends nothing
    with pytest.raises(Conflict, match="'w'"):
        await shop.templates_delete("hi")

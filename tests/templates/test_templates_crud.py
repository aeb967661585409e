"""Creating, reading, listing, updating and deleting templates through the Python API."""

from __future__ import annotations

import pytest

from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import Conflict, InvalidInput, NotFound
from tools.core.templates.cache import CACHE

pytestmark = pytest.mark.anyio


async def test_create_returns_the_variables_and_warns_about_unknown_attributes(
        cio: CustomerIO) -> None:
    await cio.identify("ada", {"first_name": "Ada", "email": "ada@x.io"})
    saved = await cio.templates_create(
        "welcome", "email", subject="Hi {{ customer.first_name }}",
        body="<p>{{ customer.nickname | default: customer.first_name }} {{ event.total }}"
             " {{ coupon_code }} {{ customer['favourite colour'] }}</p>"
             "{% for i in event.items %}{{ i.sku }}{% endfor %}")
    assert saved.created and saved.version == 1 and saved.channel == "email"
    assert saved.variables == ["coupon_code", "customer.first_name", "customer.nickname",
                               "customer['favourite colour']", "event.items", "event.total"]
    assert saved.warnings == [
        "customer.nickname: no person in this agent has this attribute yet, so it renders "
        "empty (give a fallback with | default: '...')",
        "customer.favourite colour: no person in this agent has this attribute yet, so it "
        "renders empty (give a fallback with | default: '...')",
        "coupon_code: not a variable the engine provides (customer, event, trigger, now, "
        "today); it renders empty unless passed in templates_preview's context",
    ]


async def test_a_customer_attribute_that_some_person_has_gives_no_warning(
        cio: CustomerIO) -> None:
    await cio.identify("ada", {"plan": "pro"})
    await cio.identify("bob", {"vip": True})
    saved = await cio.templates_create("t", "sms", body="{{ customer.plan }}{{ customer.vip }}"
                                       "{{ customer.id }}{{ customer.created_at }}")
    assert saved.warnings == []


async def test_get_returns_the_sources_and_list_pages_through_templates(
        cio: CustomerIO, clock: ManualClock) -> None:
    await cio.templates_create("b-sms", "sms", body="hi")
    await cio.templates_create("a-mail", "email", fields={"subject": "s", "body": "<p>b</p>",
                                                          "from": "x@y.z"})
    clock.advance(10)
    await cio.templates_create("c-hook", "webhook", url="https://x.test", method="put")
    got = await cio.templates_get("a-mail")
    assert got.fields == {"subject": "s", "body": "<p>b</p>", "from": "x@y.z"}
    assert got.created_at == "2026-05-28T20:26:40Z" and got.version == 1
    assert (await cio.templates_get("c-hook")).fields["method"] == "PUT"
    page = await cio.templates_list(limit=2)
    assert [t.template_id for t in page.templates] == ["a-mail", "b-sms"] and page.total == 3
    assert page.templates[0].fields == ["body", "from", "subject"]
    rest = await cio.templates_list(limit=2, cursor=page.next_cursor)
    assert [t.template_id for t in rest.templates] == ["c-hook"] and rest.next_cursor is None
    emails = await cio.templates_list(channel="email")
    assert [t.template_id for t in emails.templates] == ["a-mail"] and emails.total == 1


async def test_update_merges_fields_removes_blank_ones_and_bumps_the_version(
        cio: CustomerIO) -> None:
    await cio.templates_create("t", "email", subject="Old {{ customer.a }}", body="<p>b</p>",
                               reply_to="r@x.io")
    updated = await cio.templates_update("t", subject="New {{ customer.b }}", reply_to="")
    assert updated.version == 2 and not updated.created
    assert updated.variables == ["customer.b"]
    got = await cio.templates_get("t")
    assert got.fields == {"subject": "New {{ customer.b }}", "body": "<p>b</p>"}
    again = await cio.templates_update("t", fields={"preheader": "P", "reply_to": None})
    assert again.version == 3
    assert (await cio.templates_get("t")).fields == {"subject": "New {{ customer.b }}",
                                                     "body": "<p>b</p>", "preheader": "P"}


async def test_update_cannot_remove_a_required_field_or_leave_nothing_to_do(
        cio: CustomerIO) -> None:
    await cio.templates_create("t", "sms", body="x")
    with pytest.raises(InvalidInput, match="sms templates need a body"):
        await cio.templates_update("t", body="")
    with pytest.raises(InvalidInput, match="nothing to update"):
        await cio.templates_update("t")
    with pytest.raises(InvalidInput, match="sms templates have no field 'subject'"):
        await cio.templates_update("t", subject="s")
    assert (await cio.templates_get("t")).version == 1


async def test_an_update_is_rendered_at_once_and_the_old_parse_leaves_the_cache(
        cio: CustomerIO) -> None:
    await cio.templates_create("t", "sms", body="version one {{ 'x' }}")
    assert (await cio.templates_preview("t")).fields["body"] == "version one x"
    assert any(key[2] == "version one {{ 'x' }}" for key in CACHE._entries)
    await cio.templates_update("t", body="version two")
    assert not any(key[2] == "version one {{ 'x' }}" for key in CACHE._entries)
    assert (await cio.templates_preview("t")).fields["body"] == "version two"


async def test_a_taken_id_is_a_conflict_and_delete_then_get_is_not_found(
        cio: CustomerIO) -> None:
    await cio.templates_create("t", "sms", body="x")
    with pytest.raises(Conflict, match="templates_update changes it"):
        await cio.templates_create("t", "sms", body="y")
    deleted = await cio.templates_delete("t")
    assert deleted.deleted
    with pytest.raises(NotFound, match="templates_list shows the ids"):
        await cio.templates_get("t")
    with pytest.raises(NotFound):
        await cio.templates_delete("t")
    recreated = await cio.templates_create("t", "sms", body="z")
    assert recreated.version == 1

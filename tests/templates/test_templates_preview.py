"""templates_preview renders every field from a stored person and/or a given context."""

from __future__ import annotations

import pytest

from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.core.errors import EngineError, NotFound
from tools.core.templates.errors import TemplateRenderError

pytestmark = pytest.mark.anyio


async def test_a_preview_uses_the_stored_profile_with_id_and_email(cio: CustomerIO) -> None:
    await cio.identify("ada", {"email": "ada@example.com", "first_name": "Ada", "plan": "pro",
                               "address": {"city": "London"}})
    await cio.templates_create(
        "welcome", "email", subject="Welcome {{ customer.first_name }}",
        body="<p>{{ customer.id }} / {{ customer.email }} / {{ customer.address.city }}"
             "{% if customer.plan == 'pro' %} / PRO{% endif %}</p>",
        from_="Team <team@example.com>", reply_to="{{ customer.email }}",
        preheader="For {{ customer.first_name }}")
    preview = await cio.templates_preview("welcome", user_id="ada")
    assert preview.user_id == "ada" and preview.channel == "email"
    assert preview.fields == {
        "subject": "Welcome Ada",
        "body": "<p>ada / ada@example.com / London / PRO</p>",
        "text_body": "ada / ada@example.com / London / PRO",
        "from": "Team <team@example.com>",
        "reply_to": "ada@example.com",
        "preheader": "For Ada",
    }
    assert preview.warnings == []


async def test_context_supplies_event_and_trigger_and_overlays_the_customer(
        cio: CustomerIO) -> None:
    await cio.identify("ada", {"first_name": "Ada", "plan": "free"})
    await cio.templates_create(
        "order", "sms", body="{{ customer.first_name }} ({{ customer.plan }}): order "
                             "{{ event.order_id }} via {{ trigger.source }} {{ coupon }}")
    preview = await cio.templates_preview(
        "order", user_id="ada",
        context={"event": {"order_id": "A-1"}, "trigger": {"source": "api"},
                 "customer": {"plan": "pro"}, "coupon": "SAVE10"})
    assert preview.fields["body"] == "Ada (pro): order A-1 via api SAVE10"


async def test_a_preview_without_a_person_renders_from_the_context_alone(cio: CustomerIO) -> None:
    await cio.templates_create("t", "push", title="Hi {{ customer.first_name | default: 'you' }}",
                               body="{{ event.count | pluralize: 'new message' }}",
                               link="https://app.test/inbox?u={{ customer.id | url_encode }}",
                               data={"thread": "{{ event.thread }}"})
    preview = await cio.templates_preview("t", context={"event": {"count": 3, "thread": "t9"}})
    assert preview.user_id is None
    assert preview.fields == {"title": "Hi you", "body": "3 new messages",
                              "link": "https://app.test/inbox?u=", "data": {"thread": "t9"}}
    assert preview.warnings == [
        "customer.first_name is not set for this preview, so it rendered empty",
        "customer.id is not set for this preview, so it rendered empty",
    ]


async def test_a_webhook_preview_has_its_method_headers_and_json_body(cio: CustomerIO) -> None:
    await cio.identify("ada", {"email": "ada@x.io"})
    await cio.templates_create(
        "hook", "webhook", url="https://hooks.test/{{ customer.id }}",
        headers={"Authorization": "Bearer {{ trigger.token }}"},
        body='{"user": {{ customer.id | json }}, "tags": {{ event.tags | json }}}')
    preview = await cio.templates_preview(
        "hook", user_id="ada", context={"trigger": {"token": "t0k"},
                                        "event": {"tags": ["a", "<b>"]}})
    assert preview.fields == {
        "url": "https://hooks.test/ada", "method": "POST",
        "headers": {"Authorization": "Bearer t0k"},
        "body": '{"user": "ada", "tags": ["a", "<b>"]}',
    }


async def test_an_explicit_text_body_is_used_instead_of_the_derived_one(cio: CustomerIO) -> None:
    await cio.templates_create("t", "email", subject="s", body="<p>HTML</p>",
                               text_body="Plain {{ customer.first_name }}")
    preview = await cio.templates_preview("t", context={"customer": {"first_name": "<A>"}})
    assert preview.fields["text_body"] == "Plain <A>"


async def test_now_in_a_preview_is_the_engine_clock(cio: CustomerIO, clock: ManualClock) -> None:
    await cio.templates_create("t", "sms", body="{{ 'now' | date: '%Y-%m-%d' }}")
    assert (await cio.templates_preview("t")).fields["body"] == "2026-05-28"
    clock.advance(86_400 * 4)
    assert (await cio.templates_preview("t")).fields["body"] == "2026-06-01"


async def test_a_render_error_names_the_field_line_and_column(cio: CustomerIO) -> None:
    await cio.identify("ada", {"price": "a lot"})
    await cio.templates_create("t", "email", subject="ok",
                               body="<p>\n  Total: {{ customer.price | currency }}\n</p>")
    with pytest.raises(TemplateRenderError) as caught:
        await cio.templates_preview("t", user_id="ada")
    error = caught.value
    assert error.field == "body" and error.position is not None
    assert (error.position.line, error.position.column) == (2, 30)  # at the filter
    assert "currency expects a number, got 'a lot'" in error.message
    assert "  2 |   Total: {{ customer.price | currency }}" in error.message


async def test_a_render_error_inside_a_snippet_names_the_snippet(cio: CustomerIO) -> None:
    await cio.templates_snippet_put("price", "line one\n{{ amount | currency }}")
    await cio.templates_create("t", "sms", body="{% render 'price', amount: 'x' %}")
    with pytest.raises(TemplateRenderError) as caught:
        await cio.templates_preview("t")
    assert caught.value.message.startswith("body (in snippet 'price'): line 2, column 13: ")
    assert caught.value.position is not None and caught.value.position.snippet == "price"


async def test_previewing_for_an_unknown_person_or_template_says_what_exists(
        cio: CustomerIO) -> None:
    await cio.templates_create("t", "sms", body="x")
    with pytest.raises(NotFound, match="list_people"):
        await cio.templates_preview("t", user_id="nobody")
    with pytest.raises(NotFound, match="templates_list"):
        await cio.templates_preview("nope")


@pytest.mark.parametrize(("context", "words"), [
    ("not an object", "context must be an object"),
    ({"now": 5}, "may not set 'now'"),
    ({"content": "<b>"}, "may not set 'content'"),
    ({"customer": "ada"}, "context.customer must be an object"),
    ({"event": {"blob": "x" * 100_001}}, "the limit is 100000 bytes"),
    ({"x": float("nan")}, "not JSON-serialisable"),
])
async def test_a_bad_preview_context_is_refused(cio: CustomerIO, context: object,
                                                words: str) -> None:
    await cio.templates_create("t", "sms", body="x")
    with pytest.raises(EngineError) as caught:
        await cio.templates_preview("t", context=context)  # type: ignore[arg-type]
    assert words in caught.value.message

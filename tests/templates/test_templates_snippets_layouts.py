"""Snippets ({% render 'id' %}) and email layouts ({{ content }}), stored and rendered."""

from __future__ import annotations

import pytest

from tools.api import CustomerIO
from tools.core.errors import Conflict, InvalidInput, NotFound
from tools.core.templates.cache import CACHE

pytestmark = pytest.mark.anyio


async def test_a_snippet_renders_with_arguments_and_for_each_item(cio: CustomerIO) -> None:
    await cio.templates_snippet_put("line", "{{ line.sku }} x{{ line.qty }}")
    await cio.templates_snippet_put("greeting", "Hello {{ name | default: 'you' }}")
    await cio.templates_create(
        "receipt", "sms",
        body="{% render 'greeting', name: customer.first_name %}: "
             "{% render 'line' for event.lines as line %}")
    await cio.identify("ada", {"first_name": "Ada"})
    preview = await cio.templates_preview(
        "receipt", user_id="ada",
        context={"event": {"lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}})
    assert preview.fields["body"] == "Hello Ada: A x1B x2"


async def test_snippets_may_render_snippets_and_saves_report_all_of_them(
        cio: CustomerIO) -> None:
    await cio.templates_snippet_put("legal", "(c) {{ 'now' | date: '%Y' }} Example")
    saved = await cio.templates_snippet_put("footer", "{{ customer.email }} {% render 'legal' %}")
    assert saved.created and saved.snippets == ["legal"]
    assert saved.variables == ["customer.email"]
    created = await cio.templates_create("t", "sms", body="Hi {% render 'footer' %}")
    assert created.snippets == ["footer", "legal"]
    assert created.variables == ["customer.email"]
    preview = await cio.templates_preview("t", context={"customer": {"email": "a@x.io"}})
    assert preview.fields["body"] == "Hi a@x.io (c) 2026 Example"
    legal = await cio.templates_snippet_get("legal")
    assert legal.used_by == ["snippet:footer"]
    footer = await cio.templates_snippet_get("footer")
    assert footer.used_by == ["template:t"] and footer.snippets == ["legal"]


async def test_changing_a_snippet_changes_every_message_that_renders_it(cio: CustomerIO) -> None:
    await cio.templates_snippet_put("sig", "-- The team")
    await cio.templates_create("t", "sms", body="Bye {% render 'sig' %}")
    assert (await cio.templates_preview("t")).fields["body"] == "Bye -- The team"
    changed = await cio.templates_snippet_put("sig", "-- Ada, for the team")
    assert not changed.created and changed.version == 2
    assert (await cio.templates_preview("t")).fields["body"] == "Bye -- Ada, for the team"


@pytest.mark.parametrize(("snippets", "last", "cycle"), [
    ([], ("a", "{% render 'a' %}"), "a -> a"),
    ([("a", "A")], ("a", "{% render 'a' %}"), "a -> a"),
    ([("a", "A"), ("b", "{% render 'a' %}")], ("a", "{% render 'b' %}"), "a -> b -> a"),
    ([("a", "A"), ("b", "{% render 'a' %}"), ("c", "{% render 'b' %}")],
     ("a", "x {% render 'c' %}"), "a -> c -> b -> a"),
])
async def test_a_snippet_that_would_render_itself_is_refused(
        cio: CustomerIO, snippets: list[tuple[str, str]], last: tuple[str, str],
        cycle: str) -> None:
    for snippet_id, body in snippets:
        await cio.templates_snippet_put(snippet_id, body)
    before = {s.id: s.version for s in (await cio.templates_snippet_list()).items}
    with pytest.raises(InvalidInput, match=f"would render itself: {cycle};"):
        await cio.templates_snippet_put(*last)
    assert {s.id: s.version for s in (await cio.templates_snippet_list()).items} == before


async def test_a_used_snippet_cannot_be_deleted_until_nobody_renders_it(cio: CustomerIO) -> None:
    await cio.templates_snippet_put("legal", "(c)")
    await cio.templates_snippet_put("footer", "{% render 'legal' %}")
    await cio.templates_layout_put("base", "{{ content }}{% render 'legal' %}")
    await cio.templates_create("t", "sms", body="{% render 'legal' %}")
    with pytest.raises(Conflict) as caught:
        await cio.templates_snippet_delete("legal")
    assert "layout:base, snippet:footer, template:t" in caught.value.message
    await cio.templates_delete("t")
    await cio.templates_layout_delete("base")
    await cio.templates_snippet_put("footer", "no more legal")
    deleted = await cio.templates_snippet_delete("legal")
    assert deleted.deleted and deleted.kind == "snippet"
    with pytest.raises(NotFound, match="templates_snippet_list"):
        await cio.templates_snippet_get("legal")


async def test_a_layout_wraps_the_email_body_and_the_text_is_derived_from_both(
        cio: CustomerIO) -> None:
    await cio.templates_layout_put(
        "base", "<html><head><style>p { color: red }</style></head><body>{{ content }}"
                "<footer><p>Sent to {{ customer.email }}</p></footer></body></html>")
    await cio.identify("ada", {"email": "ada@x.io", "first_name": "<Ada>"})
    saved = await cio.templates_create("welcome", "email", subject="Welcome",
                                       body="<h1>Hi {{ customer.first_name }}</h1>",
                                       layout_id="base")
    assert saved.layout_id == "base"
    assert saved.variables == ["customer.email", "customer.first_name"]
    preview = await cio.templates_preview("welcome", user_id="ada")
    assert preview.fields["body"] == (
        "<html><head><style>p { color: red }</style></head><body><h1>Hi &lt;Ada&gt;</h1>"
        "<footer><p>Sent to ada@x.io</p></footer></body></html>")
    assert preview.fields["text_body"] == "Hi <Ada>\n\nSent to ada@x.io"
    layout = await cio.templates_layout_get("base")
    assert layout.used_by == ["template:welcome"] and layout.variables == ["customer.email"]


async def test_a_layout_is_for_email_templates_and_must_exist(cio: CustomerIO) -> None:
    await cio.templates_layout_put("base", "{{ content }}")
    with pytest.raises(InvalidInput, match="only email templates have a layout"):
        await cio.templates_create("t", "sms", body="x", layout_id="base")
    with pytest.raises(NotFound, match="templates_layout_list"):
        await cio.templates_create("t", "email", subject="s", body="b", layout_id="nope")
    await cio.templates_create("t", "email", subject="s", body="b", layout_id="base")
    with pytest.raises(Conflict, match="used by template:t"):
        await cio.templates_layout_delete("base")
    updated = await cio.templates_update("t", layout_id=None)
    assert updated.layout_id is None
    assert (await cio.templates_layout_delete("base")).deleted


async def test_updating_a_layout_drops_its_old_parse_from_the_cache(cio: CustomerIO) -> None:
    await cio.templates_layout_put("base", "<main>{{ content }}</main><!-- v1 -->")
    await cio.templates_create("t", "email", subject="s", body="<p>b</p>", layout_id="base")
    await cio.templates_preview("t")
    assert any(key[2] == "<main>{{ content }}</main><!-- v1 -->" for key in CACHE._entries)
    await cio.templates_layout_put("base", "<div>{{ content }}</div>")
    assert not any(key[2] == "<main>{{ content }}</main><!-- v1 -->" for key in CACHE._entries)
    assert (await cio.templates_preview("t")).fields["body"] == "<div><p>b</p></div>"


async def test_snippets_and_layouts_are_listed_a_page_at_a_time(cio: CustomerIO) -> None:
    for name in ("c", "a", "b"):
        await cio.templates_snippet_put(name, f"snippet {name}")
    first = await cio.templates_snippet_list(limit=2)
    assert [s.id for s in first.items] == ["a", "b"] and first.total == 3
    assert first.items[0].bytes == len("snippet a")
    second = await cio.templates_snippet_list(limit=2, cursor=first.next_cursor)
    assert [s.id for s in second.items] == ["c"] and second.next_cursor is None
    assert (await cio.templates_layout_list()).items == []

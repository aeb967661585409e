"""Pure pieces: HTML to text, the parse cache, variable extraction, field definitions."""

from __future__ import annotations

import pytest

from tools.core.templates.cache import ParseCache
from tools.core.templates.channels import CHANNELS, template_sources
from tools.core.templates.compile import snippet_references, variables_of
from tools.core.templates.environment import HTML, TEXT
from tools.core.templates.html_text import html_to_text

TEXT_CASES = [
    ("<p>Hello <b>Ada</b>!</p>", "Hello Ada!"),
    ("<h1>Title</h1><p>One</p><p>Two</p>", "Title\n\nOne\n\nTwo"),
    ("a<br>b<br/>c<br><br>d", "a\nb\nc\n\nd"),
    ("<ul><li>One</li><li>Two</li></ul>", "- One\n- Two"),
    ("<div>x</div><div>y</div>", "x\ny"),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
    ('<a href="https://x.io/a">Read more</a>', "Read more (https://x.io/a)"),
    ('<a href="https://x.io">https://x.io</a>', "https://x.io"),
    ('<a href="mailto:help@x.io">write to us</a>', "write to us (help@x.io)"),
    ('<a href="#top">top</a>', "top"),
    ('<a href="https://x.io/?a=1&amp;b=2"><img src="l.png" alt="Logo"></a>',
     "Logo (https://x.io/?a=1&b=2)"),
    ("<head><title>T</title><style>p {}</style></head><p>Body</p>", "Body"),
    ("<script>if (a < b) { x() }</script>after", "after"),
    ("Tom &amp; Jerry &lt;3 &nbsp;&eacute;", "Tom & Jerry <3 é"),
    ("<!-- hidden --><p>shown</p><!-- unclosed", "shown"),
    ("<p>  lots   of\n\n   space </p>", "lots of space"),
    ("<p>broken <b>markup", "broken markup"),
    ("plain text", "plain text"),
]


@pytest.mark.parametrize(("html", "text"), TEXT_CASES, ids=[c[0][:40] for c in TEXT_CASES])
def test_html_becomes_readable_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize("hostile", ["<a" * 50_000, "<!--" * 50_000, "<style>" * 50_000,
                                     "<" * 100_000, "&" * 100_000])
def test_broken_markup_of_any_size_is_handled(hostile: str) -> None:
    assert isinstance(html_to_text(hostile), str)


def test_the_parse_cache_reuses_a_parse_and_forgets_replaced_sources() -> None:
    cache = ParseCache(capacity=2)
    first = cache.parse(TEXT, "body", "Hi {{ a }}")
    assert cache.parse(TEXT, "body", "Hi {{ a }}") is first
    assert cache.parse(HTML, "body", "Hi {{ a }}") is not first  # per environment
    assert (cache.hits, cache.misses) == (1, 2)
    assert cache.discard(["Hi {{ a }}"]) == 2 and len(cache) == 0
    for source in ("a", "b", "c"):
        cache.parse(TEXT, "body", source)
    assert len(cache) == 2  # least recently used went


def test_variables_follow_snippets_and_leave_out_locals_and_loop_names() -> None:
    body = TEXT.from_string(
        "{% assign total = event.total %}{{ total }}{% for i in event.items %}{{ i.sku }}"
        "{% endfor %}{% render 'sig', name: customer.first_name %}{{ forloop.index }}")
    used = variables_of([body], {"sig": "{{ name }} {{ customer.email }} {{ company.name }}"})
    assert used.paths == ["company.name", "customer.email", "customer.first_name",
                          "event.items", "event.total", "forloop.index"]
    assert used.customer_attributes == ["first_name", "email"]


def test_snippet_references_are_found_in_nested_blocks_in_order() -> None:
    template = TEXT.from_string("{% if a %}{% render 'x' %}{% else %}{% for i in b %}"
                                "{% render 'y' %}{% endfor %}{% endif %}{% render z %}")
    assert [r.name for r in snippet_references(template)] == ["x", "y", ""]


def test_every_channel_has_its_documented_fields() -> None:
    assert {name: [spec.name for spec in specs] for name, specs in CHANNELS.items()} == {
        "email": ["subject", "body", "text_body", "from", "reply_to", "preheader"],
        "sms": ["body"],
        "push": ["title", "body", "link", "image_url", "data"],
        "in_app": ["title", "body", "link"],
        "webhook": ["url", "method", "headers", "body"],
    }
    html = [spec.name for specs in CHANNELS.values() for spec in specs if spec.html]
    assert html == ["body", "body"]  # email and in_app


def test_map_fields_are_templates_under_dotted_paths() -> None:
    fields = {"url": "u", "method": "GET", "headers": {"A": "1", "B": "2"}}
    assert [path for path, _, _ in template_sources("webhook", fields)] == \
        ["url", "headers.A", "headers.B"]

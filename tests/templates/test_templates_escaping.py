"""HTML fields escape every inserted value; plain-text fields insert values as they are."""

from __future__ import annotations

import pytest

from tests.templates.conftest import Render

HOSTILE = {"customer": {"name": '<script>alert("x")</script>', "co": "Tom & Jerry's"}}
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Tom &amp; Jerry&#39;s"
RAW = '<script>alert("x")</script> Tom & Jerry\'s'
SOURCE = "{{ customer.name }} {{ customer.co }}"

FIELDS = [
    ("email", "body", ESCAPED),
    ("in_app", "body", ESCAPED),
    ("email", "subject", RAW),
    ("email", "text_body", RAW),
    ("email", "preheader", RAW),
    ("email", "from", RAW),
    ("sms", "body", RAW),
    ("push", "title", RAW),
    ("push", "body", RAW),
    ("push", "data.payload", RAW),
    ("in_app", "title", RAW),
    ("webhook", "body", RAW),
    ("webhook", "headers.X-Name", RAW),
]


@pytest.mark.parametrize(("channel", "field", "expected"), FIELDS,
                         ids=[f"{c}.{f}" for c, f, _ in FIELDS])
def test_a_customer_value_is_escaped_only_in_html_fields(render: Render, channel: str,
                                                         field: str, expected: str) -> None:
    assert render(SOURCE, HOSTILE, channel=channel, field=field) == expected


HTML_CASES = [
    ("<b>{{ customer.name }}</b>", "<b>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</b>"),
    ("{{ '<i>written in the template</i>' }}", "<i>written in the template</i>"),
    ("{{ customer.name | safe }}", '<script>alert("x")</script>'),
    ("{{ customer.name | upcase }}", "&lt;SCRIPT&gt;ALERT(&#34;X&#34;)&lt;/SCRIPT&gt;"),
    ("{{ customer.co | escape }}", "Tom &amp; Jerry&#39;s"),
    ("{{ customer | json }}", "{&#34;name&#34;: &#34;&lt;script&gt;alert(\\&#34;x\\&#34;)"
     "&lt;/script&gt;&#34;, &#34;co&#34;: &#34;Tom &amp; Jerry&#39;s&#34;}"),
    ('<a href="https://x.io/?n={{ customer.co | url_encode }}">x</a>',
     '<a href="https://x.io/?n=Tom+%26+Jerry%27s">x</a>'),
    ("{% assign n = customer.name %}{{ n }}", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"),
    ("{% capture c %}<i>{{ customer.co }}</i>{% endcapture %}{{ c }}",
     "<i>Tom &amp; Jerry&#39;s</i>"),
]


@pytest.mark.parametrize(("source", "expected"), HTML_CASES, ids=[c[0] for c in HTML_CASES])
def test_in_html_the_markup_of_the_template_stays_and_values_are_escaped(
        render: Render, source: str, expected: str) -> None:
    assert render(source, HOSTILE, channel="email", field="body") == expected


def test_a_snippet_escapes_in_an_html_field_and_not_in_a_text_field(render: Render) -> None:
    snippets = {"hello": "<em>{{ customer.co }}</em>"}
    source = "{% render 'hello' %}"
    assert render(source, HOSTILE, channel="email", field="body", snippets=snippets) == \
        "<em>Tom &amp; Jerry&#39;s</em>"
    assert render(source, HOSTILE, channel="sms", snippets=snippets) == "<em>Tom & Jerry's</em>"


def test_a_layout_escapes_its_own_values_but_not_the_body_it_wraps(render: Render) -> None:
    layout = "<html><title>{{ customer.co }}</title><body>{{ content }}</body></html>"
    assert render("<p>{{ customer.co }}</p>", HOSTILE, channel="email", field="body",
                  layout=layout) == \
        "<html><title>Tom &amp; Jerry&#39;s</title><body><p>Tom &amp; Jerry&#39;s</p></body></html>"


def test_single_line_fields_lose_line_breaks_that_come_from_data(render: Render) -> None:
    data = {"customer": {"name": "Ada\r\nBcc: victim@x.io"}}
    assert render("Hi {{ customer.name }}", data, channel="email", field="subject") == \
        "Hi Ada Bcc: victim@x.io"
    assert render("{{ customer.name }}", data, channel="webhook", field="headers.X-User") == \
        "Ada Bcc: victim@x.io"
    assert render("{{ customer.name }}", data, channel="sms") == "Ada\r\nBcc: victim@x.io"

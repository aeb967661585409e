"""No Python internals in output: every value renders as its Liquid text. An object renders
as its JSON (as `| json`), nil as nothing, booleans as true / false, an array as its items,
and `first` / `last` of an object are nil, never a Python (key, value) tuple."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templates.conftest import Render
from tools.api import CustomerIO

ADA = {"customer": {"first_name": "Ada", "vip": True, "tags": ["a", None, True, 1.5, ["x", "y"],
                                                               {"k": "v"}],
                    "nested": {"a": [1, 2]}, "none": None, "items": [{"k": "v"}, {"j": 1}]}}

CASES: list[tuple[str, str]] = [
    ("{{ customer.nested }}", '{"a": [1, 2]}'),
    ("{{ customer.nested | json }}", '{"a": [1, 2]}'),
    ("{{ customer.first }}|{{ customer.last }}", "|"),
    ("{{ customer | first }}|{{ customer | last }}", "|"),
    ("{{ customer.nested.first }}", ""),
    ("{{ customer.tags }}", 'atrue1.5xy{"k": "v"}'),
    ("{{ customer.tags | join: ',' }}", 'a,,true,1.5,x,y,{"k": "v"}'),
    ("{{ customer.tags.first }}{{ customer.tags.last }}", 'a{"k": "v"}'),
    ("{{ customer.vip }}{{ customer.none }}!", "true!"),
    ("{{ customer.vip | append: '!' }}", "true!"),
    ("{{ customer.none | append: '!' }}", "!"),
    ("{{ 'a' | append: customer.nested }}", 'a{"a": [1, 2]}'),
    ("{{ 'a' | replace: 'a', nil }}", ""),
    ("{{ customer.nested | slice: 0, 4 }}", '{"a"'),
    ("{{ customer.nested | upcase }}", '{"A": [1, 2]}'),
    ("{{ (1..3) | append: 'x' }}", "1..3x"),
    ("{{ customer.nested | date: '%Y' }}", '{"a": [1, 2]}'),
    ("{{ 2 | pluralize: customer.nested }}", '2 {"a": [1, 2]}s'),
    ("{% cycle customer.nested, 'b' %}{% cycle customer.nested, 'b' %}", '{"a": [1, 2]}b'),
    ("{% echo customer.vip %}", "true"),
    ("{% liquid echo customer.tags | size %}", "6"),
    ("{% for i in (1..1) %}[{{ forloop }}]{{ forloop | json }}{% endfor %}", "[]null"),
    ("{% tablerow i in (1..1) %}{{ tablerowloop }}{% endtablerow %}",
     '<tr class="row1">\n<td class="col1"></td></tr>\n'),
    ("{{ customer.items | map: 'k' | json }}{{ customer.items | map: 'k' }}", '["v", null]v'),
]


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_values_render_as_liquid_text(render: Render, source: str, expected: str) -> None:
    assert render(source, ADA) == expected


def test_a_real_attribute_called_first_or_last_is_still_read(render: Render) -> None:
    data = {"customer": {"first": "F", "last": "L"}}
    assert render("{{ customer.first }}{{ customer.last }}", data) == "FL"


def test_an_object_in_an_html_field_is_escaped_json(render: Render) -> None:
    html = render("<p>{{ customer.nested }}</p>{{ customer.tags }}", ADA, channel="email")
    assert html == ('<p>{&#34;a&#34;: [1, 2]}</p>atrue1.5xy{&#34;k&#34;: &#34;v&#34;}')


def test_nothing_rendered_shows_a_python_repr(render: Render) -> None:
    sources = [source for source, _ in CASES] + ["{{ customer }}", "{{ customer | sort }}",
                                                  "{{ customer | reverse }}"]
    for source in sources:
        text = render(source, ADA)
        for python in ("None", "True", "False", "{'", "('", "range(", "ForLoop", "TableRow"):
            assert python not in text, (source, text)


@pytest.mark.anyio
async def test_preview_warns_that_customer_first_of_an_object_renders_empty(
        cio: CustomerIO) -> None:
    await cio.identify("ada", {"first_name": "Ada"})
    await cio.templates_create("t", "sms", body="{{ customer.first }}{{ customer }}")
    preview = await cio.templates_preview("t", user_id="ada")
    assert preview.fields["body"] == '{"first_name": "Ada", "created_at": 1780000000, "id": "ada"}'
    assert preview.warnings == ["customer.first is not set for this preview, so it rendered "
                                "empty"]


def test_a_big_array_is_refused_before_its_text_is_built(render: Render) -> None:
    data: dict[str, Any] = {"event": {"s": "x" * 90_000}}
    source = ("{% assign one = event.s | split: '#' %}{% assign a = one %}{% for i in (1..12) %}"
              "{% assign a = a | concat: one %}{% endfor %}{{ a }}")
    with pytest.raises(Exception, match="the text of an array is over the limit"):
        render(source, data)

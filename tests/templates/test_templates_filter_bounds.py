"""No single filter call can outlast the render's time bound by much: every filter is in an
audited cost class, inputs are bounded before a filter runs, and the quadratic or unbounded
library filters are replaced. Hostile templates fail with limit_exceeded (they do not
succeed slowly); timings are in tests/bench/bench_hostile_templates.py, not here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.templates.conftest import Render
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.templates import guards, limits
from tools.core.templates.environment import HTML, TEXT

M1 = "{% capture big %}{% for i in (1..9900) %}" + "a" * 99 + "\n{% endfor %}{% endcapture %}"
K200 = "{% capture big %}{% for i in (1..2000) %}" + "a" * 100 + "{% endfor %}{% endcapture %}"
LIST = "(1..100000) | join: ',' | split: ','"
K400 = "{% capture big %}{% for i in (1..4000) %}" + "a" * 100 + "{% endfor %}{% endcapture %}"
# 13 references to one string of 400,000 characters: little memory, a big text
REFS = K400 + ("{% assign one = big | split: '#' %}{% assign big = '' %}{% assign refs = one %}"
               "{% for i in (1..12) %}{% assign refs = refs | concat: one %}{% endfor %}")

# (source, words in the error); each renders an sms body with no data
HOSTILE: list[tuple[str, str]] = [
    # the cases: the quadratic uniq and a replace over a large string
    ("{% assign a = (1..100000) | join: ',' | split: ',' %}{{ a | uniq | size }}",
     "local namespace limit"),
    (f"{{% for i in (1..1000) %}}{{{{ {LIST} | uniq | size }}}}{{% endfor %}}",
     "longer than 250 ms"),
    (M1 + "{% for i in (1..1000) %}{{ big | replace: 'a', 'b' | size }}{% endfor %}",
     "longer than 250 ms"),
    (M1 + "{{ big | replace: 'a', 'bb' }}", "replace would make 1,970,100 characters"),
    # sequences: at most 100,000 items in and out, walked with the deadline checked
    (M1 + "{{ big | split: '' | size }}", "split: 990,000 items are over the limit of 100,000"),
    (M1 + "{{ big | split: 'a' | size }}", "split: 980,101 items are over the limit"),
    ("{{ (1..100001) | sort | size }}", "sort: 100,001 items are over the limit of 100,000"),
    (f"{{% for i in (1..1000) %}}{{{{ {LIST} | map: 'x' | size }}}}{{% endfor %}}",
     "longer than 250 ms"),
    (f"{{% for i in (1..1000) %}}{{{{ {LIST} | where: 'x' | size }}}}{{% endfor %}}",
     "longer than 250 ms"),
    ("{% for i in (1..1000) %}{{ (1..100000) | sum }}{% endfor %}", "longer than 250 ms"),
    ("{% assign a = '1,2' | split: ',' %}{% for i in (1..20) %}{% assign a = a | concat: a %}"
     "{% endfor %}", "concat would make 131,072 items, over the limit of 100,000"),
    # one big string referenced many times weighs what its text would
    (REFS + "{{ refs | join: '' | size }}", "join would make more than 1,000,000"),
    (REFS + "{{ refs | sort_natural | size }}", "more than 1,000,000 characters"),
    (REFS + "{{ refs | json }}", "json would make more than 1,000,000 characters"),
    (REFS + "{{ refs }}", "the text of an array is over the limit"),
    (REFS + "{{ refs | append: '!' }}", "the text of an array is over the limit"),
    (REFS + "{{ '1,2' | split: ',' | map: refs }}", "map: an argument holds more than"),
    (REFS + "{{ refs | concat: refs }}", "concat: an argument holds more than"),
    (REFS + "{{ '1,2' | split: ',' | sort_natural: refs }}", "an argument holds more than"),
    # arrays of distinct big strings count in the assign limit (python-liquid counts none)
    (K200 + "{% assign all = '' | split: ',' %}{% for i in (1..10) %}{% assign s = big | "
     "append: i | split: '#' %}{% assign all = all | concat: s %}{% endfor %}",
     "local namespace limit"),
    # text filters doing heavy work per character take at most 100,000 characters
    (K200 + "{{ big | upcase }}", "upcase takes at most 100,000 characters; got 200,000"),
    (K200 + "{{ big | url_encode }}", "url_encode takes at most 100,000 characters"),
    (K200 + "{{ big | escapejs }}", "escapejs takes at most 100,000"),
    (K200 + "{{ big | strip_html }}", "strip_html takes at most 100,000"),
    (K200 + "{{ big | newline_to_br }}", "newline_to_br takes at most 100,000"),
    (M1 + "{{ big | replace: 'a', '&' | escape }}", "escape would make 4,910,400 characters"),
    (M1 + "{{ big | base64_encode }}", "base64_encode would make"),
    (M1 + "{{ big | replace: 'a', 'é' | json }}", "json would make 5,900,402 characters"),
    ("{{ (1..1000000000) | slice: 0, 1000000000 | size }}", "slice: 1,000,000,000 items"),
]


def _fields_error(render: Render, source: str, data: dict[str, Any] | None = None,
                  **kwargs: Any) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as caught:
        render(source, data, **kwargs)
    return caught.value


@pytest.mark.parametrize(("source", "words"), HOSTILE, ids=[h[0][-70:] for h in HOSTILE])
def test_a_hostile_filter_use_fails_with_limit_exceeded_naming_field_and_position(
        render: Render, source: str, words: str) -> None:
    error = _fields_error(render, source)
    assert error.kind == "limit_exceeded"
    assert words in error.message
    assert error.field == "body"
    assert error.message.startswith("body: line ")


def test_deriving_text_body_is_under_the_render_time_bound(render: Render) -> None:
    html = "<" * 999_000  # a million tokens for the HTML-to-text scan
    error = _fields_error(render, "{{ event.html | safe }}", data={"event": {"html": html}},
                          channel="email", time_limit=0.05)
    assert error.field == "text_body"
    assert "deriving text_body from the HTML body" in error.message


def test_a_limit_inside_a_filter_points_at_that_filter(render: Render) -> None:
    line = "  {{ 'ab' | append: 'c' | size }}{{ (1..100001) | sort }}"
    error = _fields_error(render, "x\n" + line)
    column = line.index("sort") + 1
    assert f"line 2, column {column}: render limit: sort: 100,001 items" in error.message


MISUSE: list[tuple[str, str]] = [
    ("{{ (1..5) | concat: (1..3) }}", "concat expects an array argument, got a range"),
    ("{{ 'now' | date: '" + "%c" * 150 + "' }}", "date format is 300 characters long"),
    ("{{ 'a,b' | split: ',' | uniq: 'k' }}", "uniq: can't read property 'k' of a string"),
]


@pytest.mark.parametrize(("source", "words"), MISUSE, ids=[m[0] for m in MISUSE])
def test_misusing_a_bounded_filter_is_an_invalid_input_error(
        render: Render, source: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        render(source)
    assert caught.value.kind == "invalid_input"
    assert words in caught.value.message
    assert caught.value.message.startswith("body: line 1, column ")


def test_every_registered_filter_has_an_audited_cost_class() -> None:
    for env in (HTML, TEXT):
        assert set(env.filters) == guards.AUDITED
        for name, func in env.filters.items():
            assert hasattr(func, "__wrapped__"), name  # went through guards.guard
    assert not guards.CHEAP & (guards.TEXT | guards.SEQUENCE | guards.SELF_BOUNDED)
    assert guards.HEAVY_TEXT <= guards.TEXT


def test_an_unaudited_filter_is_refused_when_the_environment_is_built() -> None:
    with pytest.raises(RuntimeError, match="without an audited cost class: shiny"):
        guards.guard_filters({"upcase": str.upper, "shiny": str.upper})


CASES: list[tuple[str, dict[str, Any], str]] = [
    # uniq: one pass, first occurrences in order, objects and arrays compared by value
    ("{{ 'b,a,b,c,a' | split: ',' | uniq | join: ',' }}", {}, "b,a,c"),
    ("{{ event.xs | uniq | json }}",
     {"event": {"xs": [{"a": [1]}, {"a": [1]}, {"a": [2]}, [1, [2]], 2, 1.0, True]}},
     '[{"a": [1]}, {"a": [2]}, 1, 2]'),  # arrays are flattened; 1 == 1.0 == true, as in Python
    ("{{ event.xs | uniq: 'k' | map: 'n' | join: ',' }}",
     {"event": {"xs": [{"k": 1, "n": "x"}, {"k": 1, "n": "y"}, {"n": "z"}, {"n": "w"}]}},
     "x,z"),
    (f"{{{{ {LIST} | uniq | size }}}}", {}, "100000"),
    # join: Liquid text of each item
    ("{{ event.xs | join: ',' }}", {"event": {"xs": ["a", None, True, 1.5, ["b"], {"k": 1}]}},
     'a,,true,1.5,b,{"k": 1}'),
    # strip_html: Shopify's rules, linear, never raises
    ("{{ '<![>' | strip_html }}", {}, ""),
    ("{{ 'Have <em>you</em> read <strong>Ulysses</strong> &amp; &#20;?' | strip_html }}", {},
     "Have you read Ulysses &amp; &#20;?"),
    ("{{ '<!-- Have --><em>you</em> read' | strip_html }}", {}, "you read"),
    ("{{ 'a<script>x</script>b<STYLE>y</Style>c<!-- z -->d' | strip_html }}", {}, "abcd"),
    ("{{ 'a<script x' | strip_html }}", {}, "a<script x"),
    ("{{ 'a <br\n/> b < c' | strip_html }}", {}, "a  b < c"),
    ("{{ 5 | strip_html }}", {}, "5"),
    # concat, json, first
    ("{{ event.xs | concat: event.ys | join: ',' }}", {"event": {"xs": [1], "ys": [2, 3]}},
     "1,2,3"),
    ("{{ event | json: 2 }}", {"event": {"a": [1]}}, '{\n  "a": [\n    1\n  ]\n}'),
    ("{{ event.xs | first }}{{ event.xs | last }}", {"event": {"xs": [1, 2]}}, "12"),
    # sort, sort_natural: keys computed with the deadline checked, same order as before
    ("{{ 'b,A,c,a' | split: ',' | sort | join }}", {}, "A a b c"),
    ("{{ 'b,A,c,a' | split: ',' | sort_natural | join }}", {}, "A a b c"),
    ("{{ event.xs | sort: 'k' | map: 'n' | join }}",
     {"event": {"xs": [{"k": "b", "n": 1}, {"n": 2}, {"k": "a", "n": 3}]}}, "3 1 2"),
    ("{{ event.xs | sort_natural: 'k' | map: 'n' | join }}",
     {"event": {"xs": [{"k": "b", "n": 1}, {"n": 2}, {"k": "A", "n": 3}]}}, "3 1 2"),
    # a separator of words is counted after splitting; limits leave room for big lists
    ("{{ 'a b  c' | split: ' ' | size }}", {}, "3"),
    ("{{ (1..100000) | reverse | first }}", {}, "100000"),
]


@pytest.mark.parametrize(("source", "data", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_our_versions_of_standard_filters_keep_their_meaning(
        render: Render, source: str, data: dict[str, Any], expected: str) -> None:
    assert render(source, data) == expected


def test_the_readme_limits_table_states_these_values() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n### Limits\n", 1)[1].split("\n### ", 1)[0]
    assert f"at most {limits.RENDER_THREADS} at once per process" in section
    assert f"{limits.RENDER_SWITCH_INTERVAL_S * 1000:.1f} ms instead of 5 ms" in section
    assert f"(heavy work per character) | {limits.HEAVY_TEXT_MAX_CHARS:,} characters |" in section
    assert f"`split`) | {limits.SEQUENCE_ITEMS:,} |" in section
    assert f"| {int(limits.RENDER_TIME_LIMIT_S * 1000)} ms |" in section
    for name in sorted(guards.HEAVY_TEXT):
        assert f"`{name}`" in section, name

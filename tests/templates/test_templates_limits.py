"""Rendering is bounded: a hostile template fails fast with a clear error and the engine
goes on working."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templates.conftest import Render
from tools.api import CustomerIO
from tools.core.errors import LimitExceeded
from tools.core.templates import limits
from tools.core.templates.errors import TemplateLimitError

pytestmark = pytest.mark.anyio
BIG = "x" * 50_000

HOSTILE: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("{% for i in (1..10001) %}{% endfor %}", {}, {}, "loop iteration limit"),
    ("{% for i in (1..101) %}{% for j in (1..101) %}{% endfor %}{% endfor %}", {}, {},
     "loop iteration limit"),
    ("{% for i in (1..200) %}{% render 'inner' %}{% endfor %}", {},
     {"inner": "{% for j in (1..100) %}{% endfor %}"}, "loop iteration limit"),
    ("{% for i in (1..100000000000) reversed %}{% endfor %}", {}, {}, "over the limit"),
    ("{{ (1..100000000000) | join: ',' }}", {}, {}, "over the limit of 100,000"),
    ("{{ (1..100000000000) | reverse | first }}", {}, {}, "over the limit of 100,000"),
    ("{% for i in (1..100) %}{{ customer.big }}{% endfor %}", {"customer": {"big": BIG}}, {},
     "over the limit of 1,000,000 characters"),
    ("{% capture c %}{% for i in (1..100) %}{{ customer.big }}{% endfor %}{% endcapture %}",
     {"customer": {"big": BIG}}, {}, "over the limit"),
    ("{% assign s = customer.big %}{% for i in (1..30) %}{% assign s = s | append: s %}"
     "{% endfor %}", {"customer": {"big": BIG}}, {}, "limit"),
    ("{{ customer.big | replace: 'x', customer.big }}", {"customer": {"big": BIG}}, {},
     "replace would make"),
    ("{{ customer.big | split: '' | join: customer.big }}", {"customer": {"big": BIG}}, {},
     "join would make"),
    ("{{ customer.big | base64_encode | base64_encode | base64_encode | base64_encode | "
     "base64_encode | base64_encode | base64_encode | base64_encode | base64_encode | "
     "base64_encode | base64_encode | base64_encode }}", {"customer": {"big": BIG * 2}}, {},
     "base64_encode would make"),
    ("{% assign n = 3 %}{% for i in (1..40) %}{% assign n = n | times: n %}{% endfor %}", {},
     {}, "too large"),
    ("{% render 'a' %}", {}, {"a": "{% render 'b' %}", "b": "{% render 'a' %}"},
     "maximum context depth"),
    ("{% for i in (1..600) %}{% render 'x' %}{% endfor %}", {}, {"x": "."},
     "more than 500 snippet renders"),
]


@pytest.mark.parametrize(("source", "data", "snippets", "words"), HOSTILE,
                         ids=[h[0][:60] for h in HOSTILE])
def test_a_hostile_template_stops_at_a_limit_with_a_clear_error(
        render: Render, source: str, data: dict[str, Any], snippets: dict[str, str],
        words: str) -> None:
    with pytest.raises(LimitExceeded) as caught:
        render(source, data, snippets=snippets)
    assert words in caught.value.message
    assert caught.value.field == "body"
    assert caught.value.message.startswith("body")


def test_a_render_past_its_time_bound_is_stopped(render: Render) -> None:
    with pytest.raises(TemplateLimitError) as caught:
        render("{% for i in (1..5000) %}{{ i }}{% endfor %}", time_limit=0.0)
    assert "rendering took longer than 0 ms" in caught.value.message
    assert caught.value.position is not None and caught.value.position.line == 1


def test_the_time_bound_also_covers_work_without_output(render: Render) -> None:
    with pytest.raises(TemplateLimitError, match="longer than"):
        render("{% for i in (1..10) %}{% assign x = 'y' | upcase %}{% endfor %}",
               time_limit=0.0)


def test_the_limits_leave_room_for_real_messages(render: Render) -> None:
    rows = [{"name": f"item {i}", "price": i} for i in range(500)]
    source = "{% for r in event.rows %}<tr><td>{{ r.name }}</td><td>{{ r.price | currency }}" \
             "</td></tr>{% endfor %}"
    html = render(source, {"event": {"rows": rows}}, channel="email")
    assert html.count("<tr>") == 500
    assert limits.LOOP_ITERATIONS == 10_000 and limits.OUTPUT_MAX_CHARS == 1_000_000


async def test_a_hostile_preview_fails_and_the_engine_keeps_serving(cio: CustomerIO) -> None:
    await cio.identify("ada", {"first_name": "Ada"})
    await cio.templates_create("bomb", "sms", body="{% for i in (1..10) %}{% for j in "
                               "(1..10) %}{% for k in (1..10) %}{% for l in (1..11) %}"
                               "{% endfor %}{% endfor %}{% endfor %}{% endfor %}")
    await cio.templates_create("fine", "sms", body="Hi {{ customer.first_name }}")
    with pytest.raises(TemplateLimitError, match="loop iteration limit"):
        await cio.templates_preview("bomb", user_id="ada")
    assert (await cio.templates_preview("fine", user_id="ada")).fields == {"body": "Hi Ada"}

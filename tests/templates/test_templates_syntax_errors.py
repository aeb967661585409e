"""Mistakes are caught when a template is saved, with the field, line, column and line."""

from __future__ import annotations

from typing import Any

import pytest

from tools.api import CustomerIO
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.templates.commands import prepare_template
from tools.core.templates.errors import TemplateSyntaxError

pytestmark = pytest.mark.anyio

# channel, fields, field named, line, column, source line, words in the message
SYNTAX: list[tuple[str, dict[str, Any], str, int, int, str, str]] = [
    ("email", {"subject": "Hi {{ customer.name", "body": "<p>x</p>"},
     "subject", 1, 4, "Hi {{ customer.name", "expected '}}'"),
    ("email", {"subject": "Hi", "body": "<p>\n  {% if customer.vip %}\n  VIP\n</p>"},
     "body", 2, 6, "  {% if customer.vip %}", "expected tag endif"),
    ("sms", {"body": "{% for x in event.items %}{% if x %}{% endif %}"},
     "body", 1, 4, "{% for x in event.items %}{% if x %}{% endif %}", "expected tag endfor"),
    ("sms", {"body": "line one\nline two {{ customer.x | nope }}"},
     "body", 2, 26, "line two {{ customer.x | nope }}", "unknown filter 'nope'"),
    ("sms", {"body": "{% frobnicate %}"}, "body", 1, 4, "{% frobnicate %}",
     "unexpected tag 'frobnicate'"),
    ("sms", {"body": "a\n{% include 'footer' %}"}, "body", 2, 4, "{% include 'footer' %}",
     "use {% render 'snippet_id' %}"),
    ("push", {"body": "ok", "title": "A {{ 'x' | }}"}, "title", 1, 3, "A {{ 'x' | }}",
     "expected word"),
    ("sms", {"body": "{% assign = 5 %}"}, "body", 1, 11, "{% assign = 5 %}", ""),
    ("webhook", {"url": "https://x.test", "headers": {"X-Token": "{{ trigger.token }"}},
     "headers.X-Token", 1, 1, "{{ trigger.token }", "expected '}}'"),
    ("in_app", {"body": "<p>{% for x in %}</p>"}, "body", 1, 7, "<p>{% for x in %}</p>",
     "expected a primitive expression"),
    ("sms", {"body": "{% endif %}"}, "body", 1, 4, "{% endif %}", "unexpected tag 'endif'"),
]


@pytest.mark.parametrize(("channel", "fields", "field", "line", "column", "source_line",
                          "words"), SYNTAX, ids=[str(s[1]) for s in SYNTAX])
def test_a_syntax_error_names_field_line_column_and_the_offending_line(
        channel: str, fields: dict[str, Any], field: str, line: int, column: int,
        source_line: str, words: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        prepare_template("t", channel, fields)
    error = caught.value
    assert error.field == field
    assert error.position is not None
    assert (error.position.line, error.position.column) == (line, column), error.message
    assert error.position.source_line == source_line
    assert error.message.startswith(f"{field}: line {line}, column {column}: ")
    assert f"  {line} | {source_line}\n" in error.message
    assert "^" in error.message.splitlines()[2]
    assert words in error.message


def test_the_caret_points_at_the_column_of_a_long_line() -> None:
    long_line = "x" * 500 + " {{ customer.name | nope }} " + "y" * 500
    with pytest.raises(TemplateSyntaxError) as caught:
        prepare_template("t", "sms", {"body": long_line})
    lines = caught.value.message.splitlines()
    shown, caret = lines[1], lines[2]
    assert len(shown) < 200
    assert shown[caret.index("^"):].startswith("nope")


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("sms", {"body": "x", "subject": "y"}, "subject", "sms templates have no field 'subject'"),
    ("email", {"body": "<p>x</p>"}, "subject", "email templates need a subject"),
    ("email", {"subject": "   ", "body": "<p>x</p>"}, "subject", "need a subject"),
    ("email", {"subject": "a\nb", "body": "x"}, "subject", "must be a single line"),
    ("sms", {"body": 42}, "body", "must be a string"),
    ("webhook", {"url": "https://x.test", "method": "BREW"}, "method", "method must be one of"),
    ("webhook", {"url": "https://x.test", "headers": {"Bad Header": "x"}}, "headers",
     "not a valid HTTP header name"),
    ("push", {"body": "x", "data": ["not", "an", "object"]}, "data", "must be an object"),
    ("sms", {"body": "x\x00"}, "body", "NUL"),
]


@pytest.mark.parametrize(("channel", "fields", "field", "words"), INVALID,
                         ids=[str(i[1]) for i in INVALID])
def test_a_malformed_field_is_refused_with_what_to_change(
        channel: str, fields: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        prepare_template("t", channel, fields)
    assert caught.value.field == field
    assert words in caught.value.message


def test_an_oversized_field_is_a_limit_error() -> None:
    with pytest.raises(LimitExceeded) as caught:
        prepare_template("t", "sms", {"body": "x" * 10_001})
    assert caught.value.field == "body" and "10,001 bytes" in caught.value.message


async def test_saving_a_template_that_renders_an_unknown_snippet_says_where(
        cio: CustomerIO) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        await cio.templates_create("t", "email", subject="s",
                                   body="<p>hi</p>\n<footer>{% render 'footer' %}</footer>")
    error = caught.value
    assert error.field == "body" and error.position is not None
    assert (error.position.line, error.position.column) == (2, 12)
    assert "snippet 'footer' does not exist" in error.message
    assert "templates_snippet_put" in error.message


async def test_a_snippet_with_a_syntax_error_is_refused_when_saved(cio: CustomerIO) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        await cio.templates_snippet_put("footer", "ok\n{% if x %}no end")
    assert caught.value.field == "body"
    assert caught.value.position is not None and caught.value.position.line == 2


async def test_a_layout_without_content_is_refused(cio: CustomerIO) -> None:
    with pytest.raises(InvalidInput, match=r"\{\{ content \}\}"):
        await cio.templates_layout_put("base", "<html><body>no slot</body></html>")

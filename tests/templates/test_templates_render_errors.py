"""Every exception raised while rendering becomes a render error naming the field, and the
line and column when they are known; unexpected ones are logged once at WARNING. Over MCP
the model reads that message, never a bare "Error executing tool"."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from mcp import Client

from tests.mcp.tool_checks import text_of
from tests.templates.conftest import Render
from tools.core.errors import InvalidInput
from tools.core.templates import guards
from tools.core.templates.environment import TEXT
from tools.core.templates.errors import TemplateRenderError

ERRORS: list[tuple[str, str]] = [
    ("x\n{{ '/w==' | base64_decode }}", "line 2, column 13: base64_decode: the result is not "
                                       "UTF-8 text"),
    ("x\n{{ 'a,b' | split: ',' | sum }}", "line 2, column 25: sum: a value is not a number"),
    ("{% assign n = 10 %}{% for i in (1..13) %}{% assign n = n | times: n %}{% endfor %}\n"
     "{{ n }}", "line 2, column 1: can't write this value as text"),
    ("x\n{{ 'not base64!' | base64_decode }}", "line 2, column 20: base64_decode: invalid "
                                               "base64-encoded string"),
    ("x\n{{ 'b,a' | split: ',' | concat: event.x | sort }}", "line 2, column 43: sort: can't "
                                                            "sort sequence"),
    ("{{ '<![>' | strip_html | append: 1 }}", ""),  # python-liquid's html.parser raised here
]


@pytest.mark.parametrize(("source", "words"), ERRORS, ids=[e[0][-40:] for e in ERRORS])
def test_a_failing_filter_or_value_is_a_render_error_with_field_and_position(
        render: Render, source: str, words: str) -> None:
    data = {"event": {"x": [1]}}
    if not words:
        assert render(source, data) == "1"
        return
    with pytest.raises(TemplateRenderError) as caught:
        render(source, data)
    assert caught.value.kind == "invalid_input"
    assert caught.value.field == "body"
    assert caught.value.message.startswith(f"body: {words}")
    assert "Traceback" not in caught.value.message and "<class" not in caught.value.message


@pytest.fixture
def failing_filter(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A guarded filter `explode` that raises an AssertionError, as a library bug would."""

    def explode(value: Any) -> Any:
        raise AssertionError(f"expected name token at {value!r}")

    monkeypatch.setitem(TEXT.filters, "explode", guards.guard("explode", explode))
    yield "explode"


def test_any_exception_from_a_filter_names_the_filter_and_is_logged_once(
        render: Render, failing_filter: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "tools.core.templates")
    for _ in range(3):
        with pytest.raises(TemplateRenderError) as caught:
            render("hi\n  {{ 'a' | upcase | explode }}")
        assert caught.value.message.startswith(
            "body: line 2, column 21: explode: expected name token at 'A'")
    warnings = [r for r in caplog.records if "filter explode" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is not None


class Exploding(Mapping[str, Any]):
    """Data whose lookup fails with an exception python-liquid does not expect."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError(f"lookup of {key} failed")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def test_an_unexpected_exception_elsewhere_names_the_field_and_is_logged_once(
        render: Render, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "tools.core.templates")
    for _ in range(2):
        with pytest.raises(InvalidInput) as caught:
            render("{{ event.boom }}", {"event": Exploding()}, channel="push")
        assert caught.value.message == "body: render failed: lookup of boom failed"
    records = [r for r in caplog.records if "field body" in r.getMessage()]
    assert len(records) == 1 and records[0].levelno == logging.WARNING


@pytest.mark.anyio
async def test_over_mcp_a_render_error_is_a_tool_error_the_model_can_read(
        client: Client) -> None:
    created = await client.call_tool("templates_create", {
        "template_id": "sums", "channel": "sms",
        "body": "Total:\n{{ event.prices | sum }}"})
    assert not created.is_error, text_of(created)
    result = await client.call_tool("templates_preview", {
        "template_id": "sums", "context": {"event": {"prices": ["1", "x"]}}})
    assert result.is_error
    assert "invalid_input: body: line 2, column 19: sum: a value is not a number" \
        in text_of(result)

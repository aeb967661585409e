"""Malformed, oversized and hostile arguments give a clear engine error and store nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.db_dump import unchanged
from tools.api import CustomerIO
from tools.core.errors import EngineError

pytestmark = pytest.mark.anyio
Call = Callable[[CustomerIO], Awaitable[Any]]

CALLS: list[tuple[str, Call, str]] = [
    ("id with a slash", lambda c: c.templates_create("../etc", "sms", body="x"), "template_id"),
    ("id too long", lambda c: c.templates_create("t" * 65, "sms", body="x"), "template_id"),
    ("id not a string", lambda c: c.templates_create(7, "sms", body="x"), "template_id"),
    ("unknown channel", lambda c: c.templates_create("t", "fax", body="x"), "channel"),
    ("fields not an object", lambda c: c.templates_create("t", "sms", ["body"]), "fields"),
    ("syntax error", lambda c: c.templates_create("t", "sms", body="{{ x"), "body"),
    ("unknown filter", lambda c: c.templates_create("t", "sms", body="{{ x | rm_rf }}"), "body"),
    ("unknown snippet", lambda c: c.templates_create("t", "sms", body="{% render 'n' %}"),
     "body"),
    ("render of a variable", lambda c: c.templates_create("t", "sms", body="{% render n %}"),
     "body"),
    ("oversized body", lambda c: c.templates_create("t", "email", subject="s",
                                                    body="<p>" * 40_000), "body"),
    ("too many headers", lambda c: c.templates_create(
        "t", "webhook", url="https://x.test", headers={f"X-{i}": "v" for i in range(51)}),
     "headers"),
    ("header value with a newline", lambda c: c.templates_create(
        "t", "webhook", url="https://x.test", headers={"X-A": "a\r\nInjected: 1"}),
     "headers.X-A"),
    ("layout on sms", lambda c: c.templates_create("t", "sms", body="x", layout_id="base"),
     "layout_id"),
    ("missing layout", lambda c: c.templates_create("t", "email", subject="s", body="b",
                                                    layout_id="ghost"), "layout_id"),
    ("taken id", lambda c: c.templates_create("kept", "sms", body="y"), "template_id"),
    ("update unknown", lambda c: c.templates_update("ghost", body="x"), "template_id"),
    ("update bad syntax", lambda c: c.templates_update("kept", body="{% if %}"), "body"),
    ("update drops required", lambda c: c.templates_update("kept", body=None), "body"),
    ("update to missing layout", lambda c: c.templates_update("mail", layout_id="ghost"),
     "layout_id"),
    ("delete unknown", lambda c: c.templates_delete("ghost"), "template_id"),
    ("list bad channel", lambda c: c.templates_list(channel="fax"), "channel"),
    ("list bad limit", lambda c: c.templates_list(limit=0), "limit"),
    ("list bad cursor", lambda c: c.templates_list(cursor="!!"), "cursor"),
    ("preview bad user id", lambda c: c.templates_preview("kept", user_id=""), "user_id"),
    ("preview bad context", lambda c: c.templates_preview("kept", context=[1]), "context"),
    ("snippet empty", lambda c: c.templates_snippet_put("s", "  "), "body"),
    ("snippet not text", lambda c: c.templates_snippet_put("s", {"a": 1}), "body"),
    ("snippet oversized", lambda c: c.templates_snippet_put("s", "x" * 50_001), "body"),
    ("snippet bad id", lambda c: c.templates_snippet_put("a b", "x"), "snippet_id"),
    ("snippet renders itself", lambda c: c.templates_snippet_put("s", "{% render 's' %}"),
     "body"),
    ("snippet in use", lambda c: c.templates_snippet_delete("sig"), "snippet_id"),
    ("layout without content", lambda c: c.templates_layout_put("l", "<html></html>"), "body"),
    ("layout in use", lambda c: c.templates_layout_delete("base"), "layout_id"),
    ("layout unknown", lambda c: c.templates_layout_get("ghost"), "layout_id"),
]


@pytest.fixture
async def stocked(cio: CustomerIO) -> CustomerIO:
    await cio.identify("ada", {"first_name": "Ada"})
    await cio.templates_snippet_put("sig", "-- us")
    await cio.templates_layout_put("base", "{{ content }}")
    await cio.templates_create("kept", "sms", body="Hi {% render 'sig' %}")
    await cio.templates_create("mail", "email", subject="s", body="b", layout_id="base")
    return cio


@pytest.mark.parametrize(("name", "call", "field"), CALLS, ids=[c[0] for c in CALLS])
async def test_a_bad_call_is_refused_and_changes_nothing(
        stocked: CustomerIO, db_path: Path, name: str, call: Call, field: str) -> None:
    with unchanged(db_path):
        with pytest.raises(EngineError) as caught:
            await call(stocked)
    assert caught.value.field == field, caught.value.message
    assert len(caught.value.message) > 20
    assert (await stocked.templates_preview("kept")).fields["body"] == "Hi -- us"

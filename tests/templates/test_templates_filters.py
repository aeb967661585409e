"""Table tests for the filters marketers use: ours (date, timezone, format_number, currency,
pluralize, json) and the standard ones the issue names (default, url_encode)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templates.conftest import START, Render
from tools.core.errors import InvalidInput

CREATED = 1_700_000_000  # 2023-11-14T22:13:20Z

CASES: list[tuple[str, dict[str, Any], str]] = [
    # default
    ("{{ customer.name | default: 'friend' }}", {}, "friend"),
    ("{{ customer.name | default: 'friend' }}", {"customer": {"name": ""}}, "friend"),
    ("{{ customer.name | default: 'friend' }}", {"customer": {"name": None}}, "friend"),
    ("{{ customer.name | default: 'friend' }}", {"customer": {"name": "Ada"}}, "Ada"),
    ("{{ customer.n | default: 5 }}", {"customer": {"n": 0}}, "0"),
    ("{{ customer.ok | default: true }}", {"customer": {"ok": False}}, "true"),
    ("{{ customer.ok | default: true, allow_false: true }}", {"customer": {"ok": False}},
     "false"),
    # date: unix seconds, strings, ISO, now (the injected clock), zones, %s
    ("{{ customer.created_at | date: '%Y-%m-%d %H:%M' }}", {"customer": {"created_at": CREATED}},
     "2023-11-14 22:13"),
    ("{{ customer.created_at | date: '%B %-d, %Y' }}",
     {"customer": {"created_at": str(CREATED)}}, "November 14, 2023"),
    ("{{ '2026-01-31T12:00:00Z' | date: '%d/%m/%Y %H:%M' }}", {}, "31/01/2026 12:00"),
    ("{{ '2026-01-31 12:00' | date: '%H:%M %Z' }}", {}, "12:00 UTC"),
    ("{{ 'now' | date: '%Y-%m-%dT%H:%M:%S' }}", {}, "2026-05-28T20:26:40"),
    ("{{ 'today' | date: '%A' }}", {}, "Thursday"),
    ("{{ now | date: '%H:%M' }}", {}, "20:26"),
    ("{{ 'now' | date: '%H:%M %Z', 'America/New_York' }}", {}, "16:26 EDT"),
    ("{{ 'now' | date: '%H:%M', 'Asia/Kolkata' }}", {}, "01:56"),
    ("{{ 'now' | date: '%s' }}", {}, str(int(START))),
    ("{{ 'now' | date: '100%% at %s' }}", {}, f"100% at {int(START)}"),
    ("{{ 'now' | date }}", {}, "2026-05-28T20:26:40Z"),
    ("{{ 'not a date' | date: '%Y' }}", {}, "not a date"),
    ("{{ customer.missing | date: '%Y' }}", {}, ""),
    # timezone
    ("{{ 'now' | timezone: 'Asia/Tokyo' | date: '%Y-%m-%d %H:%M %Z' }}", {},
     "2026-05-29 05:26 JST"),
    ("{{ customer.created_at | timezone: 'Europe/Paris' | date: '%H:%M' }}",
     {"customer": {"created_at": CREATED}}, "23:13"),
    ("{{ 'now' | timezone: 'UTC' | date: '%H:%M' }}", {}, "20:26"),
    # format_number
    ("{{ 1234567.891 | format_number }}", {}, "1,234,567.891"),
    ("{{ 1234567.891 | format_number: 'en-US', decimals: 2 }}", {}, "1,234,567.89"),
    ("{{ 1234.5 | format_number: 'de-DE', decimals: 2 }}", {}, "1.234,50"),
    ("{{ '1234' | format_number: 'fr-FR' }}", {}, "1\u202f234"),
    ("{{ 12345678 | format_number: 'en-IN' }}", {}, "1,23,45,678"),
    ("{{ 42 | format_number: 'en-US', decimals: 0 }}", {}, "42"),
    # currency
    ("{{ 10 | currency }}", {}, "$10.00"),
    ("{{ 1234.5 | currency: 'en-us' }}", {}, "$1,234.50"),
    ("{{ 10 | currency: 'de-DE' }}", {}, "10,00\u00a0€"),
    ("{{ 10 | currency: 'EUR' }}", {}, "€10.00"),
    ("{{ 10 | currency: 'en-GB', code: 'USD' }}", {}, "US$10.00"),
    ("{{ 1234 | currency: 'ja-JP' }}", {}, "￥1,234"),
    ("{{ customer.price | currency }}", {"customer": {"price": "19.99"}}, "$19.99"),
    ("{{ customer.price | currency }}", {}, ""),
    # url_encode
    ("{{ 'tom & jerry@x.io/?a=1' | url_encode }}", {}, "tom+%26+jerry%40x.io%2F%3Fa%3D1"),
    ("https://x.io/?q={{ customer.q | url_encode }}", {"customer": {"q": "é ü"}},
     "https://x.io/?q=%C3%A9+%C3%BC"),
    # json
    ("{{ event.items | json }}", {"event": {"items": [{"sku": "A", "n": 2}]}},
     '[{"sku": "A", "n": 2}]'),
    ("{{ customer | json }}", {"customer": {"name": "Ada", "vip": True, "x": None}},
     '{"name": "Ada", "vip": true, "x": null}'),
    ("{{ now | json }}", {}, '"2026-05-28T20:26:40+00:00"'),
    # pluralize
    ("{{ 1 | pluralize: 'item' }}", {}, "1 item"),
    ("{{ 3 | pluralize: 'item' }}", {}, "3 items"),
    ("{{ 0 | pluralize: 'item' }}", {}, "0 items"),
    ("{{ customer.kids | pluralize: 'child', 'children' }}", {"customer": {"kids": 2}},
     "2 children"),
    ("{{ customer.kids | pluralize: 'child', 'children' }}", {"customer": {"kids": "1"}},
     "1 child"),
    ("{{ 1.5 | pluralize: 'hour' }}", {}, "1.5 hours"),
    # a few standard filters, to show they are all there
    ("{{ 'ada' | upcase | append: '!' }}", {}, "ADA!"),
    ("{{ event.items | map: 'sku' | join: ', ' }}",
     {"event": {"items": [{"sku": "A"}, {"sku": "B"}]}}, "A, B"),
    ("{{ 'Hello world' | truncate: 8 }}", {}, "Hello..."),
    ("{{ 3 | times: 4 | plus: 1 }}", {}, "13"),
]


@pytest.mark.parametrize(("source", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filter_renders_as_documented(render: Render, source: str, data: dict[str, Any],
                                      expected: str) -> None:
    assert render(source, data) == expected


ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("{{ 'now' | date: '%H', 'Mars/Olympus' }}", {}, "unknown time zone 'Mars/Olympus'"),
    ("{{ 'now' | timezone: '../../etc/passwd' }}", {}, "unknown time zone"),
    ("{{ 'now' | timezone }}", {}, "timezone needs a zone name"),
    ("{{ 'abc' | currency }}", {}, "currency expects a number, got 'abc'"),
    ("{{ 10 | currency: 'xx-YY' }}", {}, "unknown locale 'xx-YY'"),
    ("{{ 10 | currency: 'en-US', code: 'ZZZ' }}", {}, "unknown currency code 'ZZZ'"),
    ("{{ '1e99' | format_number }}", {}, "too large"),
    ("{{ customer.n | format_number }}", {"customer": {"n": True}}, "expects a number"),
    ("{{ 5 | format_number: 'en-US', decimals: 42 }}", {}, "decimals must be 0 to 10"),
    ("{{ 'many' | pluralize: 'item' }}", {}, "pluralize expects a number"),
]


@pytest.mark.parametrize(("source", "data", "fragment"), ERRORS, ids=[e[0] for e in ERRORS])
def test_filter_misuse_is_a_render_error_naming_the_field_and_position(
        render: Render, source: str, data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        render(source, data)
    message = caught.value.message
    assert fragment in message
    assert message.startswith("body: line 1, column ")
    assert caught.value.field == "body"


def test_now_comes_from_the_injected_clock_not_the_wall_clock(render: Render) -> None:
    assert render("{{ 'now' | date: '%Y' }}/{{ now | date: '%Y' }}", now=0.0) == "1970/1970"
    assert render("{{ today | date: '%Y-%m-%d' }}", now=86_400 * 365) == "1971-01-01"

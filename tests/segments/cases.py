"""The rule agreement table: each case is a rule and who in the world (tests/segments/
world.py) matches it at NOW. The Python evaluator, the SQL compiler and the per-person
database loader must all give exactly this answer."""

from __future__ import annotations

from typing import Any

from tests.segments.world import EVERYONE, NOW, D

Case = tuple[str, dict[str, Any], frozenset[str]]


def attr(name: str, op: str, value: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"attribute": name, "operator": op}
    if value is not None:
        rule["value"] = value
    return rule


def event(name: str, op: str = "did", **options: Any) -> dict[str, Any]:
    return {"event": name, "operator": op, **options}


def prop(name: str, op: str, value: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"property": name, "operator": op}
    if value is not None:
        rule["value"] = value
    return rule


def who(*names: str) -> frozenset[str]:
    return frozenset(names)


def but(*names: str) -> frozenset[str]:
    return EVERYONE - set(names)


def nested(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    rule = leaf
    for _ in range(depth):
        rule = {"and": [rule]}
    return rule


CASES: list[Case] = [
    # eq / neq: type-correct, case-sensitive
    ("eq string", attr("plan", "eq", "pro"), who("ada")),
    ("eq is case-sensitive", attr("plan", "eq", "Pro"), who("cy")),
    ("neq includes missing and other types", attr("plan", "neq", "pro"), but("ada")),
    ("eq number matches int and float, not a numeric string", attr("age", "eq", 36),
     who("ada", "eve")),
    ("eq numeric string matches only the string", attr("age", "eq", "36"), who("bob")),
    ("eq true is not the number 1", attr("vip", "eq", True), who("ada")),
    ("eq false", attr("vip", "eq", False), who("bob")),
    ("eq 1 is not true", attr("vip", "eq", 1), who("cy")),
    ("neq number", attr("age", "neq", 36), but("ada", "eve")),
    ("eq on an object never matches", attr("nested", "eq", 1), who()),
    ("eq string on a list attribute never matches", attr("tags", "eq", "vip"), who("bob")),
    # ordering
    ("gt number skips strings and booleans", attr("age", "gt", 20), who("ada", "eve")),
    ("gte number", attr("age", "gte", 36), who("ada", "eve")),
    ("lt number", attr("age", "lt", 18), who("cy")),
    ("lte number boundary", attr("age", "lte", 17), who("cy")),
    ("lt negative", attr("score", "lt", 0), who("eve")),
    ("lt number excludes strings and booleans", attr("age", "lt", 100), who("ada", "cy", "eve")),
    ("gt string compares by code point", attr("plan", "gt", "p"), who("ada", "eve")),
    ("lte string: upper case sorts first", attr("email", "lte", "b"), who("ada", "cy")),
    ("gt string on a numeric string", attr("age", "gt", "30"), who("bob")),
    ("gt at the boundary is out", attr("age", "gt", 36), who()),
    ("lt at the boundary is out", attr("age", "lt", 17), who()),
    ("gte at the boundary is in", attr("age", "gte", 17), who("ada", "cy", "eve")),
    ("lte a float boundary", attr("score", "lte", 4.5), who("ada", "eve")),
    ("gt string boundary", attr("plan", "gt", "pro"), who("eve")),
    # contains and friends
    ("contains substring is case-sensitive", attr("email", "contains", "example"), who("ada")),
    ("contains: list element or substring", attr("tags", "contains", "vip"), who("ada", "bob")),
    ("contains number element", attr("tags", "contains", 3), who("ada")),
    ("contains in a list attribute", attr("plan", "contains", "pro"), who("ada", "fay")),
    ("not_contains includes missing", attr("tags", "not_contains", "vip"),
     but("ada", "bob")),
    ("contains unicode", attr("note", "contains", "☕"), who("ada")),
    ("starts_with", attr("email", "starts_with", "ada"), who("ada")),
    ("starts_with is case-sensitive", attr("plan", "starts_with", "pr"), who("ada")),
    ("ends_with", attr("email", "ends_with", ".COM"), who("cy")),
    ("ends_with longer than the value", attr("plan", "ends_with", "xpro"), who()),
    # in / not_in
    ("in strings", attr("plan", "in", ["pro", "team"]), who("ada", "eve")),
    ("in mixed types stays type-correct", attr("age", "in", [17, "36"]), who("bob", "cy")),
    ("in with booleans", attr("vip", "in", [True, 1]), who("ada", "cy")),
    ("not_in includes missing", attr("plan", "not_in", ["pro", "team"]), but("ada", "eve")),
    # exists
    ("exists", attr("plan", "exists"), but("dee")),
    ("not_exists", attr("plan", "not_exists"), who("dee")),
    ("exists: an empty string is set", attr("nickname", "exists"), who("ada")),
    ("exists on an object", attr("nested", "exists"), who("eve")),
    # absolute and relative time
    ("within 30d: exactly 30 days ago is out", attr("created_at", "within", "30d"),
     who("bob", "cy", "fay")),
    ("not_within 30d", attr("created_at", "not_within", "30d"), who("ada", "dee", "eve")),
    ("within: now itself is in, the future and strings are out",
     attr("trial_end", "within", "1d"), who("eve")),
    ("within hours", attr("last_seen", "within", "12h"), who("ada")),
    ("after absolute", attr("trial_end", "after", NOW), who("ada")),
    ("before ISO time: the boundary is out",
     attr("created_at", "before", "2026-04-28T20:26:40Z"), who("ada", "dee")),
    ("after unix seconds", attr("created_at", "after", NOW - 7 * D), who("bob", "cy")),
    ("before skips string timestamps", attr("trial_end", "before", NOW + D), who("eve")),
    # events
    ("did ever", event("login"), but("cy")),
    ("did_not ever", event("login", "did_not"), who("cy")),
    ("did in 7d: the 7-day boundary is out, the skewed future is in",
     event("login", timeframe="7d"), who("ada", "dee", "eve", "fay")),
    ("did_not in 7d", event("login", "did_not", timeframe="7d"), who("bob", "cy")),
    ("at_least in a timeframe", event("login", timeframe="7d", at_least=2), who("ada", "eve")),
    ("at_most means at least once and at most N", event("login", at_most=1), who("bob", "fay")),
    ("exactly", event("login", exactly=3), who("ada")),
    ("did_not at_least: fewer than N, including never",
     event("login", "did_not", at_least=3), who("bob", "cy", "dee", "fay")),
    ("at_most in a timeframe", event("login", timeframe="7d", at_most=2),
     who("ada", "dee", "fay")),
    ("a count range", event("login", at_least=2, at_most=4), who("ada", "dee")),
    ("minutes timeframe", event("login", timeframe="150m"), who("eve", "fay")),
    ("weeks timeframe", event("login", timeframe="2w", at_least=3), who("ada", "eve")),
    ("property filter on numbers skips numeric strings",
     event("purchase", properties=[prop("price", "gt", 20)]), who("ada", "eve")),
    ("property filter with a timeframe",
     event("purchase", timeframe="7d", properties=[prop("sku", "starts_with", "BOOK")]),
     who("ada", "eve")),
    ("property filter on a boolean", event("purchase", properties=[prop("gift", "eq", True)]),
     who("ada")),
    ("property filters all apply to one event",
     event("purchase", properties=[prop("price", "exists"), prop("sku", "not_contains", "BOOK")]),
     who("ada", "bob")),
    ("property filter in a list", event("purchase", properties=[prop("items", "contains", "a")]),
     who("eve")),
    ("did_not with a filter", event("purchase", "did_not", properties=[prop("price", "gt", 20)]),
     but("ada", "eve")),
    ("at_least counts every event", event("purchase", at_least=2), who("ada")),
    ("an event condition does not count screens", event("checkout"), who()),
    # pages
    ("page equals", {"page": "https://shop.example/pricing"}, who("ada")),
    ("page contains", {"page": "/pricing", "match": "contains"}, who("ada", "bob")),
    ("page contains in hours", {"page": "/pricing", "match": "contains", "timeframe": "2h"},
     who("ada")),
    ("page not viewed", {"page": "pricing", "match": "contains", "operator": "did_not"},
     but("ada", "bob")),
    # segments and devices
    ("in a segment", {"segment": "beta-testers"}, who("ada")),
    ("not in a segment", {"segment": "beta-testers", "operator": "not_in"}, but("ada")),
    ("has an ios device", {"device": "ios"}, who("ada", "eve")),
    ("has any device", {"device": "any"}, who("ada", "bob", "eve")),
    ("has no device", {"device": "any", "operator": "has_not"}, who("cy", "dee", "fay")),
    ("has a web device", {"device": "web", "operator": "has"}, who("bob")),
    # nesting
    ("the seed example", {"and": [attr("plan", "eq", "pro"), event("login", timeframe="7d")]},
     who("ada")),
    ("or", {"or": [attr("plan", "eq", "pro"), attr("plan", "eq", "team")]}, who("ada", "eve")),
    ("not", {"not": attr("plan", "exists")}, who("dee")),
    ("and of or and not",
     {"and": [{"or": [attr("age", "gt", 30), attr("vip", "eq", True)]},
              {"not": {"device": "android"}}]}, who("ada", "eve")),
    ("or of and and segment",
     {"or": [{"and": [attr("plan", "eq", "free"), event("login", "did_not", timeframe="7d")]},
             {"segment": "beta-testers"}]}, who("ada", "bob")),
    ("not of or of events", {"not": {"or": [event("login", timeframe="7d"), event("purchase")]}},
     who("cy")),
    ("eight levels deep", nested(8, attr("plan", "eq", "pro")), who("ada")),
    ("time inside and with a static gate",
     {"and": [attr("plan", "in", ["pro", "team"]), event("login", timeframe="7d")]},
     who("ada", "eve")),
    ("two timed parts",
     {"or": [attr("created_at", "within", "7d"), event("login", timeframe="1d", at_least=3)]},
     who("bob", "cy", "eve")),
    ("not of a timed and",
     {"not": {"and": [event("login", timeframe="7d"), attr("age", "gte", 18)]}},
     but("ada", "eve")),
]

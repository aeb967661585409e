"""The rule language: what is accepted, what is refused (and how clearly), the canonical
form that is stored, the sentence, timeframes and segment ids."""

from __future__ import annotations

from typing import Any

import pytest

from tests.segments.cases import attr, event, nested
from tools.core.errors import EngineError, InvalidInput, LimitExceeded
from tools.core.segments.nodes import MAX_LEAVES, parse_timeframe
from tools.core.segments.rules import parse_rule
from tools.core.segments.sentence import sentence
from tools.core.segments.slug import check_segment_id, slugify

SEED = {"and": [attr("plan", "eq", "pro"), event("login", timeframe="7d")]}

REFUSED: list[tuple[str, Any, str]] = [
    ("not an object", ["plan"], "must be a condition object"),
    ("no condition key", {"plan": "pro"}, "needs one of the keys"),
    ("unknown operator", attr("plan", "equals", "pro"), "unknown operator 'equals'"),
    ("unknown field", {**attr("plan", "eq", "pro"), "case": "insensitive"},
     "unknown field 'case'"),
    ("missing operator", {"attribute": "plan", "value": "pro"}, "operator is missing"),
    ("missing value", attr("plan", "eq"), "needs a value"),
    ("exists with a value", attr("plan", "exists", "x"), "takes no value"),
    ("eq with a list", attr("plan", "eq", ["pro"]), "needs a string, a number or true/false"),
    ("eq with null", {"attribute": "plan", "operator": "eq", "value": None}, "needs a value"),
    ("gt with a boolean", attr("age", "gt", True), "compares numbers with numbers"),
    ("contains an empty string", attr("email", "contains", ""), "non-empty string"),
    ("starts_with a number", attr("email", "starts_with", 3), "needs a string"),
    ("in with a scalar", attr("plan", "in", "pro"), "non-empty list"),
    ("in with an empty list", attr("plan", "in", []), "non-empty list"),
    ("in with an object", attr("plan", "in", [{"a": 1}]), "value[0]"),
    ("before with a boolean", attr("trial_end", "before", True), "needs a time"),
    ("before with a bad ISO time", attr("trial_end", "before", "next tuesday"), "ISO-8601"),
    ("within with a number", attr("created_at", "within", 30), "timeframe like"),
    ("malformed timeframe", event("login", timeframe="7 days"), "timeframe like"),
    ("zero timeframe", event("login", timeframe="0d"), "timeframe like"),
    ("unknown timeframe unit", event("login", timeframe="7y"), "timeframe like"),
    ("timeframe over ten years", event("login", timeframe="521w"), "ten years"),
    ("count as a string", event("login", at_least="3"), "valid integer"),
    ("count zero", event("login", at_least=0), "from 1 to"),
    ("exactly with at_least", event("login", exactly=2, at_least=1), "cannot be combined"),
    ("at_most below at_least", event("login", at_least=5, at_most=2), "smaller than"),
    ("unknown event operator", event("login", "performed"), "unknown operator 'performed'"),
    ("within on an event property",
     event("purchase", properties=[{"property": "at", "operator": "within", "value": "1d"}]),
     "unknown operator 'within'"),
    ("empty event name", event(""), "must not be empty"),
    ("event name with a newline", event("log\nin"), "control character"),
    ("attribute name with a quote", attr('pl"an', "eq", "pro"), "double quote"),
    ("page match unknown", {"page": "/x", "match": "regex"}, "match"),
    ("segment id not a slug", {"segment": "Active Users"}, "not a segment id"),
    ("device platform unknown", {"device": "tv"}, "'ios', 'android', 'web' or 'any'"),
    ("and with no list", {"and": attr("plan", "eq", "pro")}, "non-empty list"),
    ("or with an empty list", {"or": []}, "non-empty list"),
    ("not with a list", {"not": [attr("plan", "exists")]}, "one condition object"),
    ("combinator with a sibling key", {"and": [attr("plan", "exists")], "or": []},
     "nothing but its 'and' key"),
    ("nested error names its path", {"and": [attr("plan", "exists"), event("x", at_least=0)]},
     "rules.and[1].at_least"),
]


@pytest.mark.parametrize(("label", "rule", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_bad_rule_is_refused_with_a_message_naming_the_problem(
    label: str, rule: Any, message: str,
) -> None:
    with pytest.raises(EngineError) as raised:
        parse_rule(rule)
    assert message in raised.value.message
    assert raised.value.field is not None and raised.value.field.startswith("rules")


def test_eight_levels_of_nesting_are_accepted_and_nine_are_refused() -> None:
    parse_rule(nested(8, attr("plan", "exists")))
    with pytest.raises(LimitExceeded, match="at most 8 deep"):
        parse_rule(nested(9, attr("plan", "exists")))


def test_a_hundred_conditions_are_accepted_and_a_hundred_and_one_refused() -> None:
    parse_rule({"or": [attr(f"a{i}", "exists") for i in range(MAX_LEAVES)]})
    with pytest.raises(LimitExceeded, match="at most 100 conditions"):
        parse_rule({"or": [attr(f"a{i}", "exists") for i in range(MAX_LEAVES + 1)]})


def test_an_oversized_value_is_refused() -> None:
    with pytest.raises(LimitExceeded, match="longer than 1000 bytes"):
        parse_rule(attr("bio", "eq", "x" * 1001))


def test_the_seed_example_parses_as_written_and_is_stored_in_canonical_form() -> None:
    rule = parse_rule(SEED)
    assert rule.canonical == SEED
    assert rule.time_relative
    assert not parse_rule(attr("plan", "eq", "pro")).time_relative


def test_defaults_are_written_out_and_the_condition_kind_comes_first() -> None:
    canonical = parse_rule({"timeframe": "7d", "event": "login"}).canonical
    assert list(canonical) == ["event", "operator", "timeframe"]
    assert canonical["operator"] == "did"


@pytest.mark.parametrize(("rule", "words"), [
    (SEED, 'plan = "pro" and did "login" in the last 7 days'),
    (attr("age", "gte", 18), "age ≥ 18"),
    (attr("plan", "in", ["pro", "team"]), 'plan is one of "pro", "team"'),
    (attr("created_at", "within", "30d"), "created_at is within the last 30 days"),
    (attr("trial_end", "before", "2026-01-01T00:00:00Z"),
     "trial_end is before 2026-01-01T00:00:00Z"),
    (attr("email", "not_exists"), "email is not set"),
    (event("login", "did_not", timeframe="1w"), 'did not do "login" in the last 1 week'),
    (event("purchase", at_least=3, timeframe="30d",
           properties=[{"property": "price", "operator": "gt", "value": 10}]),
     'did "purchase" with price > 10 at least 3 times in the last 30 days'),
    (event("login", exactly=1), 'did "login" exactly 1 time'),
    ({"page": "/pricing", "match": "contains", "timeframe": "12h"},
     'viewed a page whose URL contains "/pricing" in the last 12 hours'),
    ({"segment": "vip", "operator": "not_in"}, 'is not in segment "vip"'),
    ({"device": "ios"}, "has an ios device"),
    ({"device": "any", "operator": "has_not"}, "has no device"),
    ({"or": [attr("a", "exists"), {"and": [attr("b", "exists"), attr("c", "exists")]}]},
     "a is set or (b is set and c is set)"),
    ({"not": attr("a", "exists")}, "not (a is set)"),
])
def test_every_rule_has_a_human_readable_sentence(rule: dict[str, Any], words: str) -> None:
    assert sentence(parse_rule(rule).root) == words


@pytest.mark.parametrize(("text", "seconds"), [
    ("30m", 1800), ("12h", 43_200), ("7d", 604_800), ("4w", 2_419_200), ("1m", 60),
])
def test_timeframes_are_minutes_hours_days_or_weeks(text: str, seconds: int) -> None:
    assert parse_timeframe(text, "timeframe").seconds == seconds


@pytest.mark.parametrize(("name", "slug"), [
    ("Active Pro Users", "active-pro-users"),
    ("  VIP  2026!! ", "vip-2026"),
    ("Café Fans", "cafe-fans"),
    ("a" * 100, "a" * 64),
    ("Pro/Team—Users", "pro-team-users"),
])
def test_segment_ids_are_slugs_of_the_name(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert check_segment_id(slug) == slug


def test_a_name_without_latin_letters_or_digits_cannot_make_an_id() -> None:
    with pytest.raises(InvalidInput, match="no latin letters or digits"):
        slugify("Активные")

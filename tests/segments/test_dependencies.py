"""Dependency analysis: what a rule reads (so a change re-evaluates only what it can
affect), how one more event can move it, cycles and the evaluation order."""

from __future__ import annotations

import pytest

from tests.segments.cases import attr, event
from tools.core.errors import InvalidInput
from tools.core.segments.deps import (
    EITHER,
    FALLING,
    RISING,
    check_no_cycle,
    dependencies,
    evaluation_order,
    event_polarity,
)
from tools.core.segments.rules import parse_rule


def test_a_rule_lists_the_attributes_events_segments_and_devices_it_reads() -> None:
    deps = dependencies(parse_rule({"and": [
        attr("plan", "eq", "pro"),
        {"or": [event("login", timeframe="7d"), {"page": "/pricing", "match": "contains"}]},
        {"not": {"segment": "vip"}},
        {"page": "https://x.test/", "operator": "did_not"},
        event("purchase", properties=[{"property": "price", "operator": "gt", "value": 1}]),
    ]}).root)
    assert deps.attributes == {"plan"}  # event properties are not profile attributes
    assert deps.events == {("event", "login"), ("page", "https://x.test/"),
                           ("event", "purchase")}
    assert deps.page_patterns == {"/pricing"}
    assert deps.segments == {"vip"}
    assert not deps.devices
    assert deps.time


def test_an_event_is_read_by_exact_name_type_and_by_url_part_for_pages() -> None:
    deps = dependencies(parse_rule({"or": [event("login"),
                                           {"page": "/pricing", "match": "contains"}]}).root)
    assert deps.reads_event("event", "login")
    assert not deps.reads_event("screen", "login")
    assert not deps.reads_event("event", "logout")
    assert deps.reads_event("page", "https://shop.test/pricing?plan=pro")
    assert not deps.reads_event("page", "https://shop.test/docs")


def test_device_rules_depend_on_devices() -> None:
    assert dependencies(parse_rule({"device": "any"}).root).devices


@pytest.mark.parametrize(("rule", "polarity"), [
    (event("login"), RISING),
    (event("login", timeframe="7d", at_least=3), RISING),
    (event("login", "did_not"), FALLING),
    (event("login", at_most=2), EITHER),
    (event("login", exactly=1), EITHER),
    ({"not": event("login")}, FALLING),
    ({"and": [attr("plan", "eq", "pro"), event("login")]}, RISING),
    ({"or": [event("login"), event("login", "did_not", timeframe="1d")]}, EITHER),
    (event("logout"), None),
    (attr("plan", "exists"), None),
])
def test_one_more_event_moves_a_rule_in_a_known_direction(rule: dict[str, object],
                                                          polarity: int | None) -> None:
    assert event_polarity(parse_rule(rule).root, "event", "login") == polarity


def test_a_segment_reading_itself_directly_or_through_others_is_a_cycle() -> None:
    with pytest.raises(InvalidInput, match="a -> a"):
        check_no_cycle({"a": {"a"}}, "a")
    with pytest.raises(InvalidInput, match="a -> b -> c -> a"):
        check_no_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}, "a")
    check_no_cycle({"a": {"b"}, "b": {"c"}, "c": set()}, "a")


def test_segments_are_evaluated_after_the_segments_they_read() -> None:
    order = evaluation_order({"top": {"mid"}, "mid": {"base"}, "base": set(), "alone": set()})
    assert order.index("base") < order.index("mid") < order.index("top")
    assert set(order) == {"top", "mid", "base", "alone"}

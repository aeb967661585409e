"""Identify attributes: reserved names, removal by null, the 300 limit, email and timezone."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core import limits
from tools.core.attributes import (
    AttributeChanges,
    check_email,
    check_timezone,
    copy_missing,
    merge_attributes,
    prepare_attributes,
)
from tools.core.errors import InvalidInput, LimitExceeded

NOW = 1_780_000_000.0


def test_plain_attributes_are_set_and_null_values_are_removals() -> None:
    changes = prepare_attributes({"plan": "pro", "age": 41, "old": None}, NOW)
    assert changes.sets == {"plan": "pro", "age": 41}
    assert changes.removes == ["old"]
    assert not changes.update_only
    assert changes.anonymous_id is None


def test_attribute_names_are_case_sensitive() -> None:
    changes = prepare_attributes({"Plan": "a", "plan": "b"}, NOW)
    assert changes.sets == {"Plan": "a", "plan": "b"}


@pytest.mark.parametrize(("value", "flag"), [(True, True), (1, True), ("true", True),
                                             (False, False), (0, False), ("false", False),
                                             (None, False)])
def test_update_flag_accepts_booleans_ones_and_the_words(value: Any, flag: bool) -> None:
    changes = prepare_attributes({"_update": value}, NOW)
    assert changes.update_only is flag
    assert "_update" not in changes.sets


@pytest.mark.parametrize("value", ["yes", "True", 2, 1.0, [], {}])
def test_update_flag_refuses_anything_else(value: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"_update": value}, NOW)
    assert info.value.field == "attributes._update"
    assert "must be true or false" in info.value.message


@pytest.mark.parametrize(("value", "stored"), [(True, True), (1, True), ("true", True),
                                               (False, False), (0, False), ("false", False)])
def test_unsubscribed_is_normalised_to_a_boolean(value: Any, stored: bool) -> None:
    assert prepare_attributes({"unsubscribed": value}, NOW).sets == {"unsubscribed": stored}


def test_unsubscribed_refuses_other_values() -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"unsubscribed": "no"}, NOW)
    assert info.value.field == "attributes.unsubscribed"


def test_unsubscribed_null_removes_it() -> None:
    assert prepare_attributes({"unsubscribed": None}, NOW).removes == ["unsubscribed"]


def test_anonymous_id_is_taken_out_of_the_attributes() -> None:
    changes = prepare_attributes({"anonymous_id": "anon-1", "plan": "pro"}, NOW)
    assert changes.anonymous_id == "anon-1"
    assert changes.sets == {"plan": "pro"}


def test_a_null_anonymous_id_is_ignored() -> None:
    changes = prepare_attributes({"anonymous_id": None}, NOW)
    assert changes.anonymous_id is None and changes.removes == [] and changes.sets == {}


def test_a_malformed_anonymous_id_attribute_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"anonymous_id": "a\nb"}, NOW)
    assert info.value.field == "attributes.anonymous_id"


@pytest.mark.parametrize(("value", "stored"), [(1_700_000_000, 1_700_000_000),
                                               (1_700_000_000.5, 1_700_000_000.5),
                                               ("2026-01-31T12:00:00Z", 1_769_860_800)])
def test_created_at_is_kept_as_given_in_unix_seconds(value: Any, stored: float) -> None:
    sets = prepare_attributes({"created_at": value}, NOW).sets
    assert sets == {"created_at": stored}
    assert type(sets["created_at"]) is type(stored)


@pytest.mark.parametrize("value", [1_700_000_000_000, -5, NOW + 86_400, "soon"])
def test_created_at_must_be_a_valid_timestamp(value: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"created_at": value}, NOW)
    assert info.value.field == "attributes.created_at"


def test_created_at_cannot_be_removed() -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"created_at": None}, NOW)
    assert "cannot be removed" in info.value.message


@pytest.mark.parametrize("address", ["ada@example.com", "Ada.Lovelace+x@mail.example.org",
                                     "a@b.co", "x@sub.domain.example"])
def test_plausible_emails_are_accepted_as_given(address: str) -> None:
    assert check_email(address) == address
    assert prepare_attributes({"email": address}, NOW).sets == {"email": address}


@pytest.mark.parametrize("address", ["ada", "ada@", "@example.com", "ada@example",
                                     "ada lovelace@example.com", "ada@.example.com",
                                     "a" * 250 + "@x.io", 42])
def test_implausible_emails_are_refused(address: Any) -> None:
    with pytest.raises((InvalidInput, LimitExceeded)) as info:
        prepare_attributes({"email": address}, NOW)
    assert info.value.field == "attributes.email"


def test_email_null_removes_the_email() -> None:
    assert prepare_attributes({"email": None}, NOW).removes == ["email"]


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata"])
def test_iana_timezones_are_accepted(zone: str) -> None:
    assert check_timezone(zone) == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Paris", "../etc/passwd", "+02:00", 3])
def test_unknown_timezones_are_refused_with_an_example(zone: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"timezone": zone}, NOW)
    assert info.value.field == "attributes.timezone"
    if isinstance(zone, str):
        assert "America/New_York" in info.value.message


def test_attribute_values_over_1000_bytes_are_refused() -> None:
    with pytest.raises(LimitExceeded) as info:
        prepare_attributes({"bio": "x" * 1000}, NOW)
    assert info.value.field == "attributes.bio"


def test_attribute_names_over_150_bytes_are_refused() -> None:
    with pytest.raises(LimitExceeded):
        prepare_attributes({"n" * 151: 1}, NOW)


@pytest.mark.parametrize("name", ["", "a\nb", " padded"])
def test_malformed_attribute_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        prepare_attributes({name: 1}, NOW)


@pytest.mark.parametrize("raw", [[], "plan=pro", 3, {1: "x"}])
def test_attributes_must_be_an_object_with_string_keys(raw: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes(raw, NOW)
    assert info.value.field == "attributes"


def test_non_json_attribute_values_are_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        prepare_attributes({"score": float("nan")}, NOW)
    assert info.value.field == "attributes.score"


def test_merge_sets_overwrites_and_removes() -> None:
    current = {"plan": "free", "age": 40, "old": True}
    changes = AttributeChanges(sets={"plan": "pro", "new": 1}, removes=["old", "missing"])
    assert merge_attributes(current, changes) == {"plan": "pro", "age": 40, "new": 1}
    assert current == {"plan": "free", "age": 40, "old": True}


def full_profile(count: int) -> dict[str, Any]:
    return {f"a{i}": i for i in range(count)}


def test_a_person_may_have_exactly_300_attributes() -> None:
    changes = AttributeChanges(sets={"last": 1})
    merged = merge_attributes(full_profile(limits.ATTRIBUTES_PER_PERSON - 1), changes)
    assert len(merged) == limits.ATTRIBUTES_PER_PERSON


def test_the_301st_attribute_is_refused_with_the_count() -> None:
    with pytest.raises(LimitExceeded) as info:
        merge_attributes(full_profile(300), AttributeChanges(sets={"one_more": 1}))
    assert "at most 300 attributes" in info.value.message
    assert "301" in info.value.message
    assert info.value.field == "attributes"


def test_removals_in_the_same_call_make_room_under_the_limit() -> None:
    changes = AttributeChanges(sets={"fresh": 1}, removes=["a0"])
    assert len(merge_attributes(full_profile(300), changes)) == 300


def test_copy_missing_keeps_the_primary_and_adds_what_it_lacks() -> None:
    primary = {"email": "p@example.com", "plan": "pro"}
    secondary = {"email": "s@example.com", "city": "Paris"}
    assert copy_missing(primary, secondary) == {
        "email": "p@example.com", "plan": "pro", "city": "Paris",
    }
    assert primary == {"email": "p@example.com", "plan": "pro"}


def test_copy_missing_stops_at_the_attribute_limit() -> None:
    merged = copy_missing(full_profile(299), {"x": 1, "y": 2})
    assert len(merged) == limits.ATTRIBUTES_PER_PERSON
    assert merged["x"] == 1 and "y" not in merged

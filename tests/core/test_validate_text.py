"""Identifiers and names: strings without control characters, within byte limits."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.validate import check_event_name, check_identifier, check_text, utf8_len


@pytest.mark.parametrize(
    "value",
    ["a", "ada@example.com", "user 42", "日本", "x" * 150, "é" * 75, "a\u200bb", "1"],
)
def test_valid_identifiers_are_returned_unchanged(value: str) -> None:
    assert check_identifier(value) == value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (5, "must be a string, got int"),
        (None, "must be a string, got NoneType"),
        (b"ada", "must be a string, got bytes"),
        (["ada"], "must be a string, got list"),
        (True, "must be a string, got bool"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("\t", "must not be empty"),
        ("a\nb", "control character"),
        ("a\x00b", "control character"),
        ("a\x1bb", "control character"),
        ("a\x7fb", "control character"),
        ("a\x85b", "control character"),
        ("a\u2028b", "control character"),
        ("a\ud800b", "lone surrogate"),
        (" ada", "leading or trailing whitespace"),
        ("ada ", "leading or trailing whitespace"),
    ],
)
def test_malformed_identifiers_are_refused_naming_the_field(value: Any, says: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_identifier(value, "anonymous_id")
    assert says in info.value.message
    assert info.value.field == "anonymous_id"
    assert info.value.message.startswith("anonymous_id ")


@pytest.mark.parametrize(("value", "size"), [("x" * 151, 151), ("é" * 76, 152)])
def test_identifiers_over_150_bytes_exceed_the_limit_counting_utf8_bytes(
    value: str, size: int
) -> None:
    with pytest.raises(LimitExceeded) as info:
        check_identifier(value)
    assert info.value.message == f"user_id is {size} bytes; the limit is 150 bytes"
    assert info.value.field == "user_id"


def test_event_names_may_be_100_bytes_but_not_101() -> None:
    assert check_event_name("n" * 100) == "n" * 100
    with pytest.raises(LimitExceeded) as info:
        check_event_name("n" * 101)
    assert info.value.field == "name"


def test_an_empty_text_names_what_to_give() -> None:
    with pytest.raises(InvalidInput) as info:
        check_text("", "device_id", 1000, "device token")
    assert info.value.message == "device_id must not be empty; give the device token"


@pytest.mark.parametrize(("text", "size"), [("", 0), ("abc", 3), ("é", 2), ("日本", 6), ("😀", 4)])
def test_utf8_len_counts_encoded_bytes(text: str, size: int) -> None:
    assert utf8_len(text) == size

"""JSON values: compact serialisation, refusal of non-JSON values, size and depth limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.core import limits
from tools.core.errors import InvalidInput, LimitExceeded
from tools.core.validate import check_object, to_json


def nested(depth: int) -> Any:
    """A list nested `depth` levels deep: [[[...]]]."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({}, "{}"),
        ({"a": 1, "b": [1, 2.5, None, True]}, '{"a":1,"b":[1,2.5,null,true]}'),
        ({"name": "Zoë"}, '{"name":"Zoë"}'),
        ([], "[]"),
        ("text", '"text"'),
        (0, "0"),
        (None, "null"),
    ],
)
def test_json_values_serialise_compactly_without_ascii_escapes(value: Any, text: str) -> None:
    assert to_json(value, "properties", 1000) == text


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        {"score": float("-inf")},
        {"tags": {"a", "b"}},
        {"when": object()},
        {"raw": b"bytes"},
        [1, 2, (lambda: 3)],
    ],
)
def test_non_json_values_are_refused_with_the_allowed_types(value: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        to_json(value, "properties", 10_000)
    assert info.value.field == "properties"
    assert "not JSON-serialisable" in info.value.message
    assert "no NaN or Infinity" in info.value.message


def test_a_lone_surrogate_inside_a_value_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        to_json({"note": "a\ud800"}, "properties", 10_000)
    assert info.value.field == "properties"
    assert "surrogate" in info.value.message


def test_values_nested_up_to_the_depth_limit_are_accepted() -> None:
    text = to_json(nested(limits.JSON_MAX_DEPTH), "properties", 10_000)
    assert json.loads(text) == nested(limits.JSON_MAX_DEPTH)


@pytest.mark.parametrize("depth", [limits.JSON_MAX_DEPTH + 1, 200, 5_000])
def test_values_nested_deeper_than_the_limit_are_refused(depth: int) -> None:
    with pytest.raises(InvalidInput) as info:
        to_json({"deep": nested(depth)}, "properties", 100_000)
    assert info.value.field == "properties"
    assert "nested too deeply" in info.value.message


def test_many_sibling_containers_are_not_mistaken_for_depth() -> None:
    wide = {"rows": [[i] for i in range(100)], "objs": [{"i": i} for i in range(100)]}
    assert json.loads(to_json(wide, "properties", 100_000)) == wide


def test_a_value_at_the_byte_limit_is_accepted_and_one_more_byte_is_refused() -> None:
    assert to_json("x" * 998, "attributes.bio", 1000) == '"' + "x" * 998 + '"'
    with pytest.raises(LimitExceeded) as info:
        to_json("x" * 999, "attributes.bio", 1000)
    assert info.value.message == "attributes.bio is 1001 bytes serialized; the limit is 1000 bytes"
    assert info.value.field == "attributes.bio"


def test_the_byte_limit_counts_utf8_bytes_of_the_serialised_text() -> None:
    with pytest.raises(LimitExceeded):
        to_json("é" * 500, "attributes.bio", 1000)  # 1000 bytes of text plus two quotes


@pytest.mark.parametrize(("value", "kind"), [([], "list"), ("x", "str"), (None, "NoneType")])
def test_check_object_refuses_non_objects(value: Any, kind: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_object(value, "properties")
    assert info.value.message == f"properties must be an object, got {kind}"


def test_check_object_refuses_non_string_keys() -> None:
    with pytest.raises(InvalidInput) as info:
        check_object({1: "one"}, "attributes")
    assert "keys must be strings" in info.value.message
    assert info.value.field == "attributes"


def test_check_object_returns_the_same_dict() -> None:
    value = {"a": 1}
    assert check_object(value, "attributes") is value

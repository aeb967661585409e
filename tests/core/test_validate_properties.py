"""Property checks: validation of any input either returns a value or raises EngineError."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tools.core.attributes import prepare_attributes
from tools.core.errors import EngineError
from tools.core.people import prepare_track
from tools.core.validate import INTEGERS, check_identifier, parse_timestamp, to_json

NOW = 1_780_000_000.0
# Any code point, lone surrogates and control characters included.
ANY_TEXT = st.text(st.characters(codec=None, categories=None, exclude_categories=()),
                   max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)
ANYTHING = VALUES | st.binary(max_size=8) | st.sets(st.integers(), max_size=3)


@settings(max_examples=150, deadline=None)
@given(ANYTHING)
def test_check_identifier_accepts_or_raises_an_engine_error(value: Any) -> None:
    try:
        assert check_identifier(value) == value
    except EngineError as exc:
        assert exc.message and exc.field == "user_id"


def _integers(value: Any) -> list[int]:
    if isinstance(value, dict):
        return [n for child in value.values() for n in _integers(child)]
    if isinstance(value, list):
        return [n for child in value for n in _integers(child)]
    return [value] if type(value) is int else []


@settings(max_examples=150, deadline=None)
@given(ANYTHING)
def test_to_json_output_is_valid_utf8_json_or_an_engine_error(value: Any) -> None:
    try:
        text = to_json(value, "properties", 100_000)
    except EngineError as exc:
        assert exc.field is not None and exc.field.startswith("properties")  # or a path in it
        return
    text.encode("utf-8")  # storable in SQLite
    assert all(n in INTEGERS for n in _integers(json.loads(text)))


@settings(max_examples=150, deadline=None)
@given(ANYTHING)
def test_parse_timestamp_returns_seconds_in_range_or_an_engine_error(value: Any) -> None:
    try:
        seconds = parse_timestamp(value, "timestamp", NOW)
    except EngineError:
        return
    assert 0 <= seconds <= NOW + 3_600


@settings(max_examples=100, deadline=None)
@given(ANYTHING)
def test_prepare_attributes_never_fails_with_anything_but_an_engine_error(value: Any) -> None:
    try:
        prepare_attributes(value, NOW)
    except EngineError:
        pass


@settings(max_examples=100, deadline=None)
@given(name=ANYTHING, user_id=ANYTHING, properties=ANYTHING, kind=ANYTHING, when=ANYTHING)
def test_prepare_track_never_fails_with_anything_but_an_engine_error(
    name: Any, user_id: Any, properties: Any, kind: Any, when: Any
) -> None:
    try:
        prepare_track(name, user_id, None, properties, kind, when, None, NOW)
    except EngineError:
        pass

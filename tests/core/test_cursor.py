"""Opaque cursors: round trips, and refusal of anything not made by encode_cursor."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tools.core.cursor import decode_cursor, encode_cursor
from tools.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("position", "shape"),
    [([1], (int,)), ([1_780_000_000.5, 42], (float, int)), (["ada", 3], (str, int))],
)
def test_a_cursor_decodes_to_the_position_it_was_made_from(
    position: list[Any], shape: tuple[type, ...]
) -> None:
    assert decode_cursor(encode_cursor(position), shape) == position


def test_cursors_are_url_safe_without_padding() -> None:
    cursor = encode_cursor([1_780_000_000.123, 99999])
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "shape"),
    [
        ("", (int,)),
        ("not a cursor!", (int,)),
        ("%%%%", (int,)),
        (raw_cursor("{not json"), (int,)),
        (raw_cursor('{"pk": 1}'), (int,)),
        (raw_cursor("[1, 2]"), (int,)),
        (raw_cursor('["1"]'), (int,)),
        (raw_cursor("[true]"), (int,)),
        (raw_cursor("[1.5]"), (int,)),
        (raw_cursor("[1, 2]"), (float, int)),  # an int where a float is expected
        (encode_cursor([5]), (float, int)),
        (raw_cursor("\xff\xfe"), (int,)),
        (encode_cursor([2**63]), (int,)),  # beyond SQLite's 64-bit integers
        (encode_cursor([1.0, -(2**63) - 1]), (float, int)),
    ],
)
def test_tampered_or_foreign_cursors_are_refused(cursor: str, shape: tuple[type, ...]) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor, shape)
    assert info.value.field == "cursor"
    assert "next_cursor" in info.value.message

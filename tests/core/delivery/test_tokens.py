"""Signed unsubscribe tokens: round trips, and refusal of anything altered or foreign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from typing import Any

import pytest

from tools.core.delivery.tokens import (
    MAX_TOKEN_CHARS,
    UnsubscribeToken,
    agent_of_token,
    make_unsubscribe_token,
    read_unsubscribe_token,
    unsubscribe_url,
)
from tools.core.errors import InvalidInput

SECRET = b"s" * 32
OTHER_SECRET = b"t" * 32
ALPHABET = string.ascii_letters + string.digits + "-_"


def token(agent: str = "tom", message: str = "01HZX3M9Q8", topic: str | None = "news") -> str:
    return make_unsubscribe_token(SECRET, agent, message, topic)


def refused(secret: bytes, value: Any) -> bool:
    try:
        read_unsubscribe_token(secret, value)
    except InvalidInput as error:
        assert error.field == "token"
        return True
    return False


@pytest.mark.parametrize(
    ("agent", "message", "topic"),
    [("tom", "01HZX3M9Q8", "news"), ("tom", "01HZX3M9Q8", None),
     ("A" * 64, "m" * 128, "t" * 64), ("a", "m", "t"), ("ann_2-b", "msg:é/ü", "tópico"),
     ("x", "id with spaces", "a.b-c_d")],
)
def test_a_token_reads_back_the_agent_message_and_topic(
    agent: str, message: str, topic: str | None
) -> None:
    made = make_unsubscribe_token(SECRET, agent, message, topic)
    assert read_unsubscribe_token(SECRET, made) == UnsubscribeToken(agent, message, topic)
    assert agent_of_token(made) == agent
    assert len(made) <= MAX_TOKEN_CHARS


def test_tokens_are_url_safe_without_padding() -> None:
    made = token(agent="A" * 64, message="\xff" * 64, topic="t" * 64)
    assert set(made) <= set(ALPHABET)


def test_no_topic_and_an_empty_looking_topic_make_different_tokens() -> None:
    assert token(topic=None) != token(topic="news")
    assert read_unsubscribe_token(SECRET, token(topic=None)).topic is None


def test_fields_cannot_be_shifted_between_each_other() -> None:
    assert token(agent="ab", message="c") != token(agent="a", message="bc")


def test_every_single_character_change_is_refused() -> None:
    made = token()
    for index, original in enumerate(made):
        for replacement in ALPHABET:
            if replacement != original:
                tampered = made[:index] + replacement + made[index + 1:]
                assert refused(SECRET, tampered), (index, replacement)


def test_every_single_byte_change_is_refused() -> None:
    raw = base64.urlsafe_b64decode(token() + "==")
    for index in range(len(raw)):
        for flip in (0x01, 0x80, 0xFF):
            changed = bytearray(raw)
            changed[index] ^= flip
            tampered = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
            assert refused(SECRET, tampered), (index, flip)


def test_every_truncation_and_extension_is_refused() -> None:
    made = token()
    for end in range(len(made)):
        assert refused(SECRET, made[:end])
    for extra in ("A", "AA", "AAAA", made):
        assert refused(SECRET, made + extra)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert refused(OTHER_SECRET, token())


def test_another_agents_token_is_refused_under_this_agents_secret() -> None:
    ann = make_unsubscribe_token(OTHER_SECRET, "ann", "m1", None)
    assert agent_of_token(ann) == "ann"
    assert refused(SECRET, ann)


@pytest.mark.parametrize(
    "value",
    [None, 42, b"bytes", "", "A", "AAAA", "not a token!", "abc=", "ab+c/d",
     "A" * (MAX_TOKEN_CHARS + 1), "\u00e9" * 40],
)
def test_malformed_or_oversized_tokens_are_refused(value: Any) -> None:
    assert refused(SECRET, value)
    with pytest.raises(InvalidInput):
        agent_of_token(value)


def test_a_validly_signed_payload_of_an_unknown_version_is_refused() -> None:
    made = token()
    raw = base64.urlsafe_b64decode(made + "==")
    payload = b"\x02" + raw[1:-16]
    tag = hmac.new(SECRET, b"customerio-mcp unsubscribe\x00" + payload,
                   hashlib.sha256).digest()[:16]
    forged = base64.urlsafe_b64encode(payload + tag).decode().rstrip("=")
    assert refused(SECRET, forged)


def test_agent_of_token_only_returns_a_valid_agent_id() -> None:
    payload = b"\x01" + b"\x05../..\x01m\x00"
    forged = base64.urlsafe_b64encode(payload + b"\x00" * 16).decode().rstrip("=")
    with pytest.raises(InvalidInput):
        agent_of_token(forged)


@pytest.mark.parametrize(
    ("agent", "message", "topic", "field"),
    [("", "m", None, "agent_id"), ("../etc", "m", None, "agent_id"), ("a" * 65, "m", None,
     "agent_id"), ("tom", "", None, "message_id"), ("tom", "m" * 129, None, "message_id"),
     ("tom", "m", "", "topic"), ("tom", "m", "t" * 65, "topic"),
     ("tom", "\ud800", None, "message_id")],
)
def test_fields_a_token_cannot_hold_are_refused(
    agent: str, message: str, topic: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        make_unsubscribe_token(SECRET, agent, message, topic)
    assert info.value.field == field


@pytest.mark.parametrize("secret", [b"", b"short", "s" * 32])
def test_a_short_or_non_bytes_secret_is_a_programming_error(secret: Any) -> None:
    with pytest.raises(ValueError):
        make_unsubscribe_token(secret, "tom", "m", None)
    with pytest.raises(ValueError):
        read_unsubscribe_token(secret, token())


@pytest.mark.parametrize(
    ("base", "url"),
    [("https://mail.example.com", "https://mail.example.com/unsubscribe/TOK"),
     ("https://mail.example.com/", "https://mail.example.com/unsubscribe/TOK"),
     ("http://127.0.0.1:8000/cio//", "http://127.0.0.1:8000/cio/unsubscribe/TOK")],
)
def test_the_unsubscribe_url_joins_the_base_and_the_token(base: str, url: str) -> None:
    assert unsubscribe_url(base, "TOK") == url

"""Signed unsubscribe tokens: which agent, message and topic an unsubscribe link is for.

A token is base64url (no padding) of `payload || tag`. The payload is version 1, then the
agent id, the message id and the topic, each as a one-byte length and its UTF-8 bytes
(the topic's length is preceded by 0 when there is no topic, 1 when there is). The tag is
HMAC-SHA256 under the agent's secret over a context label and the payload, truncated to
16 bytes. Tokens do not expire: an unsubscribe link must keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

from tools.core.errors import InvalidInput

VERSION = 1
TAG_BYTES = 16
MIN_SECRET_BYTES = 16
MAX_MESSAGE_ID_BYTES = 128
MAX_TOPIC_BYTES = 64
_AGENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_CONTEXT = b"customerio-mcp unsubscribe\x00"
# version, agent (1+64), message (1+128), topic flag and topic (2+64), tag
MAX_TOKEN_BYTES = 1 + 65 + 1 + MAX_MESSAGE_ID_BYTES + 2 + MAX_TOPIC_BYTES + TAG_BYTES
MAX_TOKEN_CHARS = -(-MAX_TOKEN_BYTES * 4 // 3)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class UnsubscribeToken:
    agent_id: str
    message_id: str
    topic: str | None


def make_unsubscribe_token(secret: bytes, agent_id: str, message_id: str,
                           topic: str | None) -> str:
    """A URL-safe token naming the agent, the message and the topic (or none), signed."""
    _check_secret(secret)
    payload = bytes([VERSION]) + _agent_field(agent_id) + _field(
        message_id, "message_id", MAX_MESSAGE_ID_BYTES)
    if topic is None:
        payload += b"\x00"
    else:
        payload += b"\x01" + _field(topic, "topic", MAX_TOPIC_BYTES)
    raw = payload + _tag(secret, payload)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def read_unsubscribe_token(secret: bytes, token: object) -> UnsubscribeToken:
    """The fields of a token made by make_unsubscribe_token under `secret`. Raises
    InvalidInput(field="token") when it was altered, cut short, or signed otherwise."""
    _check_secret(secret)
    raw = _decode(token)
    payload, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(secret, payload)):
        raise _invalid()
    return _parse(payload)


def agent_of_token(token: object) -> str:
    """The agent id a token claims, NOT verified: only for finding the agent whose secret
    then verifies it with read_unsubscribe_token. Never act on it alone."""
    return _parse(_decode(token)[:-TAG_BYTES]).agent_id


def unsubscribe_url(base_url: str, token: str) -> str:
    """The public link that unsubscribes with `token`."""
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"an unsubscribe secret must be at least {MIN_SECRET_BYTES} bytes")


def _tag(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + payload, hashlib.sha256).digest()[:TAG_BYTES]


def _agent_field(agent_id: str) -> bytes:
    if not isinstance(agent_id, str) or not _AGENT_ID.fullmatch(agent_id):
        raise InvalidInput(f"agent_id {str(agent_id)[:70]!r} is not an agent id",
                           field="agent_id")
    return _field(agent_id, "agent_id", 64)


def _field(value: str, name: str, max_bytes: int) -> bytes:
    """One length-prefixed UTF-8 field."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{name} must be a non-empty string", field=name)
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} contains a lone surrogate; remove it", field=name) from None
    if len(data) > max_bytes:
        raise InvalidInput(f"{name} is {len(data)} bytes; a token holds at most {max_bytes}",
                           field=name)
    return bytes([len(data)]) + data


def _invalid() -> InvalidInput:
    return InvalidInput(
        "the unsubscribe link is not valid (it was altered, cut short or is not from this "
        "sender); use the link from a recent message unchanged", field="token")


def _decode(token: object) -> bytes:
    """The raw bytes of a canonical token (every character counts), bounded in size."""
    if (not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS
            or not _TOKEN_CHARS.fullmatch(token) or len(token) % 4 == 1):
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != token:
        raise _invalid()  # non-zero padding bits: not a token this module wrote
    if len(raw) <= TAG_BYTES:
        raise _invalid()
    return raw


def _parse(payload: bytes) -> UnsubscribeToken:
    """The fields of a payload; any malformation (or trailing bytes) is invalid."""
    try:
        if payload[0] != VERSION:
            raise ValueError("version")
        agent, at = _read_field(payload, 1)
        message, at = _read_field(payload, at)
        topic: str | None = None
        if payload[at] == 1:
            topic, at = _read_field(payload, at + 1)
        elif payload[at] == 0:
            at += 1
        else:
            raise ValueError("topic flag")
        if at != len(payload) or not _AGENT_ID.fullmatch(agent):
            raise ValueError("shape")
    except (IndexError, ValueError):  # UnicodeDecodeError is a ValueError
        raise _invalid() from None
    return UnsubscribeToken(agent, message, topic)


def _read_field(payload: bytes, at: int) -> tuple[str, int]:
    size = payload[at]
    end = at + 1 + size
    if size == 0 or end > len(payload):
        raise ValueError("field")
    return payload[at + 1:end].decode("utf-8"), end

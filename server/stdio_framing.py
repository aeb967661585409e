"""One stdio line in, one JSON-RPC message (or the error that answers it) out.

Over stdio a message is one line of JSON. A line that is not one — invalid JSON, a lone
surrogate escape, an integer the parser refuses, nesting too deep, a JSON value that is
not a JSON-RPC message, a line over the size cap — is answered with the JSON-RPC error
the HTTP transport gives the same body (-32700 parse error, -32600 invalid request),
never with silence. The id is echoed when the line shows it plainly (so the client's
pending request fails at once instead of timing out), else it is null.
"""

from __future__ import annotations

import re

import pydantic_core
from mcp.shared.message import SessionMessage
from mcp.types import (
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCNotification,
    jsonrpc_message_adapter,
)
from pydantic import ValidationError

from server.http import MAX_BODY_BYTES

MAX_LINE_BYTES = MAX_BODY_BYTES  # the same cap as an HTTP request body (1 MiB)
PARSE_ERROR_TEXT = "Parse error"  # what the HTTP transport says
NOT_A_MESSAGE_TEXT = "Invalid request: a line must hold one JSON-RPC message object"
TOO_LARGE_TEXT = f"Request too large: a line may hold at most {MAX_LINE_BYTES:,} bytes"
EDGE_BYTES = 512  # how much of a line's start and end is kept to recover its id

RequestId = int | str

# A top-level member that can come before "params" in the orders clients write
# (Python SDK: jsonrpc, id, method; TypeScript SDK: method, params, jsonrpc, id).
_SCALAR = rb'(-?\d{1,16}|"[^"\\]{0,256}")'
_OPEN = re.compile(rb"\s*\{")
_HEAD_MEMBER = re.compile(rb'\s*"(jsonrpc|id|method)"\s*:\s*' + _SCALAR + rb"\s*([,}])")
# The last member of the top-level object: the final "}" closes the object it belongs to.
_TAIL_ID = re.compile(rb',\s*"id"\s*:\s*' + _SCALAR + rb"\s*\}\s*$")


def decode_line(line: bytes) -> SessionMessage | JSONRPCError:
    """The message a line holds, or the error reply to send for it."""
    text = line.decode("utf-8", "replace")  # as the SDK's stdio reader decodes
    try:
        message = jsonrpc_message_adapter.validate_json(text, by_name=False)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            return error_reply(PARSE_ERROR, PARSE_ERROR_TEXT, recover_id(line[:EDGE_BYTES],
                                                                         line[-EDGE_BYTES:]))
        return error_reply(INVALID_REQUEST, NOT_A_MESSAGE_TEXT, _request_id(text))
    if isinstance(message, JSONRPCNotification) and b'"id"' in line and _has_id(text):
        # An id that is not an integer or string (1.5, true, null) would make a request
        # a notification nobody answers; the HTTP transport refuses it too.
        return error_reply(INVALID_REQUEST, NOT_A_MESSAGE_TEXT, None)
    return SessionMessage(message)


def oversize_reply(head: bytes, tail: bytes) -> JSONRPCError:
    """The reply to a line over MAX_LINE_BYTES, from its first and last bytes."""
    return error_reply(INVALID_REQUEST, TOO_LARGE_TEXT, recover_id(head, tail))


def error_reply(code: int, message: str, request_id: RequestId | None) -> JSONRPCError:
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))


def recover_id(head: bytes, tail: bytes) -> RequestId | None:
    """The id of a request whose line cannot be parsed whole, when it shows plainly.

    Only top-level members are trusted: those before the first nested value, and a last
    member closed by the line's final brace. A line without a "method" is not a request
    (a reply of the client's own), so it gets null.
    """
    members: dict[bytes, bytes] = {}
    opening = _OPEN.match(head)
    position = opening.end() if opening else len(head)
    while (member := _HEAD_MEMBER.match(head, position)) is not None:
        members.setdefault(member[1], member[2])
        position = member.end()
        if member[3] == b"}":
            break
    if not members.get(b"method", b"").startswith(b'"'):
        return None
    raw = members.get(b"id")
    if raw is None and (last := _TAIL_ID.search(tail)) is not None:
        raw = last[1]
    return _scalar_id(raw) if raw is not None else None


def _scalar_id(raw: bytes) -> RequestId | None:
    if raw.startswith(b'"'):
        try:
            return raw[1:-1].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return int(raw)


def _request_id(text: str) -> RequestId | None:
    """The id of a well-formed JSON request object whose envelope is invalid."""
    decoded = pydantic_core.from_json(text)
    if not isinstance(decoded, dict) or not isinstance(decoded.get("method"), str):
        return None
    request_id = decoded.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        return None
    return request_id


def _has_id(text: str) -> bool:
    decoded = pydantic_core.from_json(text)
    return isinstance(decoded, dict) and "id" in decoded

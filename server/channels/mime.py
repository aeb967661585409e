"""An email as the bytes SMTP carries: text and HTML alternatives, a Message-ID stable across
attempts, one-click unsubscribe headers on marketing mail."""

from __future__ import annotations

import binascii
import email.errors
import email.utils
import hashlib
import html
import re
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address

from server.channels.base import Outgoing

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_URL_UNSAFE = re.compile(r"[\s<>\"\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidMessage(ValueError):
    """Content that cannot become a well-formed email (a header with a line break, ...)."""


def sender_address(outgoing: Outgoing) -> str:
    """The From header's value: content["from"], else settings["from"]."""
    value = outgoing.content.get("from") or outgoing.settings.get("from")
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessage("no From address: set 'from' in the template or the settings")
    return value.strip()


def envelope_sender(outgoing: Outgoing) -> str:
    """The bare address (MAIL FROM) of the From header, its domain in ASCII."""
    return _address(sender_address(outgoing), "From").addr_spec


def _address(value: str, field: str) -> Address:
    """`value` ("Name <local@domain>" or a bare address) with its domain in punycode."""
    if _CONTROL.search(value):
        raise InvalidMessage(f"the {field} address contains a line break or control character")
    name, addr = email.utils.parseaddr(value)
    local, _, domain = addr.rpartition("@")
    if not local or not domain:
        raise InvalidMessage(f"the {field} address {value[:80]!r} is not local@domain")
    if not local.isascii():
        raise InvalidMessage(f"the {field} address {addr[:80]!r} has a non-ASCII local part "
                             "(SMTPUTF8 is not supported)")
    try:
        domain = domain.strip().lower().encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidMessage(f"the {field} domain {domain[:80]!r} is not valid") from None
    return Address(display_name=name, username=local, domain=domain)


def recipient(outgoing: Outgoing) -> str:
    """The bare address (RCPT TO) of `outgoing.to`, its domain in ASCII."""
    return _address(outgoing.to or "", "To").addr_spec


def message_id(outgoing: Outgoing) -> str:
    """`<{message_id}@{domain of From}>`, the same on every attempt."""
    domain = envelope_sender(outgoing).rpartition("@")[2]
    left = _ID_UNSAFE.sub(
        lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), outgoing.message_id)
    return f"<{left}@{domain}>"


def build_email(outgoing: Outgoing) -> bytes:
    """The full message (CRLF line ends) for `outgoing`. Raises InvalidMessage.

    Written out directly rather than through email.message.EmailMessage, whose header
    registry cost ~2 ms a message: every header value here is one we validated or encode
    ourselves (addresses parsed and re-formatted, text headers RFC 2047-encoded when they
    are not short printable ASCII), so no line break can reach the headers."""
    try:
        return _build(outgoing)
    except InvalidMessage:
        raise
    except (ValueError, TypeError, UnicodeError, email.errors.MessageError) as exc:
        raise InvalidMessage(f"the email cannot be built: {exc}") from None


def _build(outgoing: Outgoing) -> bytes:
    content = outgoing.content
    headers = [("From", _formatted(sender_address(outgoing), "From")),
               ("To", _formatted(outgoing.to or "", "To")),
               ("Subject", _header_text(_text(content.get("subject")))),
               ("Date", email.utils.format_datetime(
                   datetime.fromtimestamp(outgoing.sent_at, UTC))),
               ("Message-ID", message_id(outgoing))]
    reply_to = _text(content.get("reply_to"))
    if reply_to:
        headers.append(("Reply-To", _formatted(reply_to, "Reply-To")))
    if outgoing.unsubscribe_url and not outgoing.transactional:
        if _URL_UNSAFE.search(outgoing.unsubscribe_url) or len(outgoing.unsubscribe_url) > 900:
            raise InvalidMessage("the unsubscribe URL contains spaces or angle brackets")
        headers.append(("List-Unsubscribe", f"<{outgoing.unsubscribe_url}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    headers.append(("MIME-Version", "1.0"))
    text = _text(content.get("text_body"))
    body = _with_preheader(_text(content.get("body")), _text(content.get("preheader")))
    if body and text:
        boundary = _boundary(outgoing.message_id, text + body)
        headers.append(("Content-Type", f'multipart/alternative;\r\n boundary="{boundary}"'))
        payload = b"".join((b"\r\n--", boundary.encode(), b"\r\n", _part(text, "plain"),
                            b"\r\n--", boundary.encode(), b"\r\n", _part(body, "html"),
                            b"\r\n--", boundary.encode(), b"--\r\n"))
        head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
        return head + payload
    part = _part(body, "html") if body else _part(text, "plain")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("ascii")
    return head + part


def _part(text: str, subtype: str) -> bytes:
    """A text part's own headers and its quoted-printable UTF-8 body."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(lines, quotetabs=False, istext=True, header=False)
    encoded = encoded.replace(b"\n", b"\r\n")
    if not encoded.endswith(b"\r\n"):
        encoded += b"\r\n"
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii") + encoded


def _formatted(value: str, field: str) -> str:
    """An address header value: the display name encoded when it needs to be."""
    address = _address(value, field)
    name = address.display_name
    if not name:
        return address.addr_spec
    if name.isascii() and name.isprintable():
        return email.utils.formataddr((name, address.addr_spec))
    return email.utils.formataddr((name, address.addr_spec), charset="utf-8")


def _header_text(value: str) -> str:
    """A text header value: as is when short printable ASCII, else RFC 2047 words."""
    if value.isascii() and value.isprintable() and len(value) <= 900:
        return value
    if _CONTROL.search(value):
        raise InvalidMessage("a header contains a line break or control character")
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _boundary(message_id: str, parts: str) -> str:
    """A multipart boundary derived from the message id (so capture is deterministic) that
    does not occur in the parts."""
    for n in range(100):
        digest = hashlib.sha256(f"{message_id}\x00{n}".encode()).hexdigest()[:32]
        if (boundary := f"=_{digest}") not in parts:
            return boundary
    raise InvalidMessage("no multipart boundary fits this content")


def _text(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _with_preheader(body: str, preheader: str) -> str:
    """The HTML with the preheader as hidden text at the start of its body."""
    if not body or not preheader:
        return body
    hidden = ('<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
              f"{html.escape(preheader)}</div>")
    tag = _BODY_TAG.search(body)
    if tag is None:
        return hidden + body
    return body[: tag.end()] + hidden + body[tag.end():]

"""An email as the bytes SMTP carries: text and HTML alternatives, a Message-ID stable across
attempts, one-click unsubscribe headers on marketing mail."""

from __future__ import annotations

import email.errors
import email.policy
import email.utils
import hashlib
import html
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

from server.channels.base import Outgoing

# Lines up to RFC 5322's 998 characters: a long List-Unsubscribe URL stays one plain
# <url> (at 78 the email package RFC 2047-encodes it, and mail clients ignore it).
_POLICY = email.policy.SMTP.clone(max_line_length=998)
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
    """The full message (CRLF line ends) for `outgoing`. Raises InvalidMessage."""
    try:
        return _build(outgoing).as_bytes()
    except InvalidMessage:
        raise
    except (ValueError, TypeError, UnicodeError, email.errors.MessageError) as exc:
        raise InvalidMessage(f"the email cannot be built: {exc}") from None


def _build(outgoing: Outgoing) -> EmailMessage:
    content = outgoing.content
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = _address(sender_address(outgoing), "From")
    msg["To"] = _address(outgoing.to or "", "To")
    msg["Subject"] = _text(content.get("subject"))
    msg["Date"] = email.utils.format_datetime(datetime.fromtimestamp(outgoing.sent_at, UTC))
    msg["Message-ID"] = message_id(outgoing)
    reply_to = _text(content.get("reply_to"))
    if reply_to:
        msg["Reply-To"] = reply_to
    if outgoing.unsubscribe_url and not outgoing.transactional:
        if _URL_UNSAFE.search(outgoing.unsubscribe_url):
            raise InvalidMessage("the unsubscribe URL contains spaces or angle brackets")
        msg["List-Unsubscribe"] = f"<{outgoing.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    text = _text(content.get("text_body"))
    body = _with_preheader(_text(content.get("body")), _text(content.get("preheader")))
    qp = "quoted-printable"  # short lines, 7-bit safe, whatever the text
    if body and text:
        msg.set_content(text, cte=qp)
        msg.add_alternative(body, subtype="html", cte=qp)
    elif body:
        msg.set_content(body, subtype="html", cte=qp)
    else:
        msg.set_content(text, cte=qp)
    if msg.is_multipart():
        msg.set_boundary(_boundary(outgoing.message_id, text + body))
    return msg


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

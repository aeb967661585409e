"""Recipient addresses: an email addr-spec and a phone number in E.164."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import phonenumbers

from tools.core.errors import InvalidInput

MAX_ADDRESS_BYTES = 254  # RFC 5321 path limit, less the angle brackets
MAX_LOCAL_BYTES = 64
MAX_DOMAIN_BYTES = 253  # in its ASCII (punycode) form
MAX_PHONE_CHARS = 64
# RFC 5322 atext, plus any non-ASCII character (RFC 6531 internationalised local parts).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010ffff-]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Control, line-break, zero-width and bidi-override characters, and lone surrogates.
_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)
_BAD_CHARS = re.compile(rf"\s|{_CONTROL.pattern}")
_EXAMPLE = "write a bare address like 'ada@example.com'"


def email_address(value: Any) -> str:
    """`value` as given once it is a deliverable addr-spec (local@domain); IDN domains
    are accepted (checked in their punycode form). Raises InvalidInput(field="email")."""
    text = _email_text(value)
    local, _, domain = text.rpartition("@")
    _check_local(local, text)
    _check_domain(domain, text)
    return text


def _bad_email(text: str, problem: str) -> InvalidInput:
    return InvalidInput(f"email {text[:80]!r} {problem}; {_EXAMPLE}", field="email")


def _email_text(value: Any) -> str:
    """The string form checks: type, display name, characters, '@', overall length."""
    if not isinstance(value, str):
        raise InvalidInput(
            f"email must be a string, got {type(value).__name__}; {_EXAMPLE}", field="email"
        )
    if not value:
        raise InvalidInput(f"email is empty; {_EXAMPLE}", field="email")
    if "<" in value or ">" in value:
        raise _bad_email(value, "has a display name or angle brackets")
    if _BAD_CHARS.search(value):
        raise _bad_email(value, "contains a space, line break, control or invisible character")
    if "@" not in value:
        raise _bad_email(value, "has no '@'")
    if value.count("@") > 1:
        raise _bad_email(value, "has more than one '@'")
    size = len(value.encode("utf-8"))
    if size > MAX_ADDRESS_BYTES:
        raise _bad_email(value, f"is {size} bytes long; the limit is {MAX_ADDRESS_BYTES}")
    return value


def _check_local(local: str, text: str) -> None:
    """The part before '@': a dot-atom of at most 64 bytes (quoted forms are refused)."""
    if not local:
        raise _bad_email(text, "has nothing before the '@'")
    size = len(local.encode("utf-8"))
    if size > MAX_LOCAL_BYTES:
        raise _bad_email(text, f"has a {size}-byte local part; the limit is {MAX_LOCAL_BYTES}")
    if not _LOCAL.fullmatch(local):
        raise _bad_email(
            text, "has a local part with a character not allowed there (such as a quote, "
            "comma or bracket) or a leading, trailing or doubled '.'"
        )


def _check_domain(domain: str, text: str) -> None:
    """The part after '@': a dotted host name (IDN allowed) or a bracketed IP literal."""
    if not domain:
        raise _bad_email(text, "has nothing after the '@'")
    if domain.startswith("["):
        _check_literal(domain, text)
        return
    if "[" in domain or "]" in domain:
        raise _bad_email(text, "has a domain with a stray bracket")
    labels = domain.split(".")
    if len(labels) < 2:
        raise _bad_email(text, "has a domain without a '.'")
    ascii_labels = [_ascii_label(label, text) for label in labels]
    if len(".".join(ascii_labels)) > MAX_DOMAIN_BYTES:
        raise _bad_email(text, f"has a domain longer than {MAX_DOMAIN_BYTES} characters")
    if ascii_labels[-1].isdigit():
        raise _bad_email(text, "has an all-numeric top-level domain")


def _ascii_label(label: str, text: str) -> str:
    """One domain label in ASCII (punycode for an internationalised one), checked."""
    if not label:
        raise _bad_email(text, "has a domain with an empty label (a leading, trailing or "
                         "doubled '.')")
    try:
        encoded = label if label.isascii() else label.encode("idna").decode("ascii")
    except UnicodeError:
        raise _bad_email(text, f"has a domain label {label[:40]!r} that is not a valid "
                         "internationalised name") from None
    if not _LABEL.fullmatch(encoded):
        raise _bad_email(text, f"has a domain label {label[:40]!r}; labels are 1-63 letters, "
                         "digits and '-', not starting or ending with '-'")
    return encoded


def _check_literal(domain: str, text: str) -> None:
    """A domain literal: '[192.0.2.1]' or '[IPv6:2001:db8::1]'."""
    inner = domain[1:-1] if domain.endswith("]") else None
    try:
        if inner is None:
            raise ValueError(domain)
        if inner[:5].lower() == "ipv6:":
            ipaddress.IPv6Address(inner[5:])
        else:
            ipaddress.IPv4Address(inner)
    except ValueError:
        raise _bad_email(text, "has a bracketed domain that is not '[IPv4]' or "
                         "'[IPv6:address]'") from None


def phone_number(value: Any, default_region: str | None = None) -> str:
    """`value` as E.164 ('+14155550123') once phonenumbers finds it a valid number. A
    number without '+' is read in `default_region` (ISO code like 'US'), which it then
    needs. Raises InvalidInput(field="phone")."""
    text = _phone_text(value)
    region = _check_region(default_region)
    if not text.startswith("+") and region is None:
        raise _bad_phone(text, "has no country code and there is no default region")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise _bad_phone(text, f"could not be read ({_reason(exc)})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise _bad_phone(text, "is not a valid number (wrong length or unassigned range)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _reason(exc: phonenumbers.NumberParseException) -> str:
    """phonenumbers' explanation, as a clause."""
    text = str(exc.args[0]) if exc.args else "not a phone number"
    return text.rstrip(".").lower()


def _bad_phone(text: str, problem: str) -> InvalidInput:
    return InvalidInput(
        f"phone {text[:40]!r} {problem}; store numbers in +E.164 form, like '+14155550123'",
        field="phone",
    )


def _phone_text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(
            f"phone must be a string, got {type(value).__name__}; store numbers in +E.164 "
            "form as a string, like '+14155550123'", field="phone")
    if not value.strip():
        raise _bad_phone(value, "is empty")
    if len(value) > MAX_PHONE_CHARS:
        raise _bad_phone(value, f"is longer than {MAX_PHONE_CHARS} characters")
    if _CONTROL.search(value):
        raise _bad_phone(value, "contains a line break, control or invisible character")
    return value.strip()


def _check_region(region: str | None) -> str | None:
    if region is None or region in phonenumbers.SUPPORTED_REGIONS:
        return region
    raise InvalidInput(
        f"default_region {str(region)[:10]!r} is not a region phonenumbers knows; use an "
        "ISO 3166 code such as 'US' or 'FR'", field="default_region")

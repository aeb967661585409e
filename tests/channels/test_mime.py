"""The email's bytes: header injection refused, stable ids, preheader, IDN domains."""

from __future__ import annotations

from typing import Any

import pytest

from server.channels.base import Outgoing
from server.channels.mime import InvalidMessage, build_email, message_id


def mail(**fields: Any) -> Outgoing:
    base: dict[str, Any] = dict(
        agent_id="tom", message_id="01HX/1", attempt=1, channel="email", provider="smtp",
        settings={"from": "Team <team@example.com>"}, to="ada@example.com", sent_at=0.0,
        content={"subject": "Hi", "body": "<html><body><p>Hi</p></body></html>",
                 "text_body": "Hi"})
    return Outgoing(**{**base, **fields})


@pytest.mark.parametrize("fields", [
    {"content": {"subject": "Hi\r\nBcc: all@example.com"}},
    {"content": {"subject": "Hi", "reply_to": "a@example.com\nBcc: all@example.com"}},
    {"content": {"subject": "Hi", "from": "Evil\r\nBcc: all@example.com <a@example.com>"}},
    {"to": "ada@example.com\r\nBcc: all@example.com"},
    {"unsubscribe_url": "https://u.example.com/x>\r\nBcc: all@example.com"},
])
def test_a_line_break_in_any_header_value_is_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessage):
        build_email(mail(**fields))


def test_the_message_id_escapes_characters_not_allowed_in_a_msg_id() -> None:
    assert message_id(mail()) == "<01HX%2F1@example.com>"
    assert message_id(mail(message_id="a b@c")) == "<a%20b%40c@example.com>"


def test_the_same_outgoing_gives_the_same_bytes() -> None:
    assert build_email(mail()) == build_email(mail(attempt=2))


def test_the_preheader_is_hidden_text_at_the_start_of_the_html_body() -> None:
    data = build_email(mail(content={"subject": "Hi", "body": "<body class='x'><p>Hi</p></body>",
                                     "preheader": "Sale <today>"}))
    assert b"<body class=3D'x'><div style=3D\"display:none" in data
    assert b"Sale &lt;today&gt;</div><p>Hi</p>" in data


def test_an_idn_domain_is_written_in_punycode_and_a_non_ascii_local_part_refused() -> None:
    data = build_email(mail(to="ada@bücher.example"))
    assert b"To: ada@xn--bcher-kva.example\r\n" in data
    with pytest.raises(InvalidMessage, match="non-ASCII local part"):
        build_email(mail(to="adä@example.com"))


def test_no_from_address_is_refused() -> None:
    with pytest.raises(InvalidMessage, match="no From address"):
        build_email(mail(settings={}))

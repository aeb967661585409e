"""Recipient addresses: email addr-specs and phone numbers to E.164."""

from __future__ import annotations

from typing import Any

import pytest

from tools.core.delivery.addresses import email_address, phone_number
from tools.core.errors import InvalidInput


@pytest.mark.parametrize(
    "address",
    ["ada@example.com", "Ada.Lovelace+news@mail.example.co.uk", "o'brien@example.ie",
     "x@a.io", "user!#$%&*/=?^_`{|}~-@example.com", "ada@bücher.de", "ada@例え.テスト",
     "josé@example.com", "ada@xn--bcher-kva.de", "ada@[192.0.2.1]",
     "ada@[IPv6:2001:db8::1]", "a" * 64 + "@example.com",
     "ada@" + "d" * 63 + ".com"],
)
def test_deliverable_addresses_are_returned_as_given(address: str) -> None:
    assert email_address(address) == address


def test_an_address_of_254_bytes_is_the_longest_accepted() -> None:
    domain = ".".join(["d" * 62, "d" * 60, "d" * 60, "d" * 60, "com"])
    assert len(domain) == 249
    assert email_address("abcd@" + domain) == "abcd@" + domain
    with pytest.raises(InvalidInput, match="254"):
        email_address("abcde@" + domain)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "must be a string"),
        (42, "must be a string"),
        ("", "is empty"),
        ("Ada <ada@example.com>", "display name"),
        ("<ada@example.com>", "display name"),
        ("ada lovelace@example.com", "space"),
        (" ada@example.com", "space"),
        ("ada@example.com\n", "line break"),
        ("ada@example.com\r\nBcc: eve@example.com", "line break"),
        ("ada\x00@example.com", "control or invisible character"),
        ("ada\u2028@example.com", "line break"),
        ("ad\u200ba@example.com", "invisible character"),
        ("ada@exa\u202emple.com", "invisible character"),
        ("ada@exa\u00a0mple.com", "space"),
        ("ada.example.com", "no '@'"),
        ("ada@eve@example.com", "more than one '@'"),
        ("@example.com", "nothing before"),
        ("ada@", "nothing after"),
        ("a" * 65 + "@example.com", "65-byte local part"),
        (".ada@example.com", "doubled '.'"),
        ("ada.@example.com", "doubled '.'"),
        ("a..da@example.com", "doubled '.'"),
        ('"ada"@example.com', "quote"),
        ("ada,eve@example.com", "comma"),
        ("ada@localhost", "without a '.'"),
        ("ada@example..com", "empty label"),
        ("ada@.example.com", "empty label"),
        ("ada@example.com.", "empty label"),
        ("ada@-example.com", "label '-example'"),
        ("ada@example-.com", "label 'example-'"),
        ("ada@exa_mple.com", "label 'exa_mple'"),
        ("ada@" + "d" * 64 + ".com", "label"),
        ("ada@example.123", "all-numeric"),
        ("ada@[192.0.2.1", "bracketed"),
        ("ada@[300.0.0.1]", "bracketed"),
        ("ada@[IPv6:nope]", "bracketed"),
        ("ada@exa[mple.com", "stray bracket"),
        ("ada@" + "\u00df" * 70 + ".de", "internationalised"),
    ],
)
def test_malformed_addresses_are_refused_with_what_to_write(value: Any, problem: str) -> None:
    with pytest.raises(InvalidInput) as info:
        email_address(value)
    assert info.value.field == "email"
    assert problem in info.value.message
    assert "ada@example.com" in info.value.message  # the example of what to write


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        ("+14155550123", None, "+14155550123"),
        ("+1 (415) 555-0123", None, "+14155550123"),
        ("+1 415 555 0123", "FR", "+14155550123"),  # the + wins over the region
        ("(415) 555-0123", "US", "+14155550123"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("0033 1 23 45 67 89", "GB", "+33123456789"),  # international prefix from the UK
        ("+81 3-1234-5678", None, "+81312345678"),
    ],
)
def test_valid_numbers_come_back_in_e164(value: str, region: str | None, e164: str) -> None:
    assert phone_number(value, region) == e164


@pytest.mark.parametrize(
    ("value", "region", "problem"),
    [
        (14155550123, None, "must be a string"),
        (None, "US", "must be a string"),
        ("", "US", "is empty"),
        ("   ", "US", "is empty"),
        ("4155550123", None, "no country code and there is no default region"),
        ("(415) 555-0123", None, "no country code"),
        ("+1234", None, "not a valid number"),
        ("+1 555 555 5555", None, "not a valid number"),  # 555 is not an area code
        ("+44 20 7946", None, "not a valid number"),
        ("hello", "US", "could not be read"),
        ("+", None, "could not be read"),
        ("+1 415 555 0123\n", None, "line break"),
        ("+1" + "2" * 70, None, "longer than 64"),
    ],
)
def test_unusable_numbers_are_refused_saying_to_store_e164(
    value: Any, region: str | None, problem: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        phone_number(value, region)
    assert info.value.field == "phone"
    assert problem in info.value.message
    assert "+E.164" in info.value.message


@pytest.mark.parametrize("region", ["XX", "us", "USA", ""])
def test_an_unknown_default_region_is_refused(region: str) -> None:
    with pytest.raises(InvalidInput) as info:
        phone_number("4155550123", region)
    assert info.value.field == "default_region"

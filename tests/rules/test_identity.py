"""Email and phone normalisation: the keys contacts are found by."""

from __future__ import annotations

import pytest

from tui_helpdesk.rules.identity import (
    InvalidIdentity,
    email_domain,
    looks_like_email,
    name_from_email,
    normalise_email,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        # national numbers take the desk's region
        ("02 1234 5678", "IT", "+390212345678"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("020 7946 0000", "GB", "+442079460000"),
        # international forms ignore the region
        ("+39 02 1234 5678", None, "+390212345678"),
        ("+39 02 1234 5678", "US", "+390212345678"),
        ("0044 20 7946 0000", "IT", "+442079460000"),
        ("0044 20 7946 0000", None, "+442079460000"),
        ("+1 (415) 555-0100", None, "+14155550100"),
        ("+1-415-555-0100", "IT", "+14155550100"),
        ("  +1.415.555.0100  ", None, "+14155550100"),
        # every common way of writing the same Milan number
        ("0039 02 1234 5678", None, "+390212345678"),
        ("0039 02 1234 5678", "IT", "+390212345678"),
        ("(02) 1234-5678", "IT", "+390212345678"),
        ("02/1234.5678", "IT", "+390212345678"),
        ("+39-02-1234-5678", None, "+390212345678"),
        ("+39 (0)2 1234 5678", None, "+390212345678"),
        ("+390212345678", "US", "+390212345678"),
        # a number local to one region read in another is that region's number
        ("(415) 555-0100", "IT", "+394155550100"),
    ],
)
def test_normalise_phone(text: str, region: str | None, expected: str) -> None:
    assert normalise_phone(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("02 1234 5678", None),  # national without a region
        ("hello", "IT"),
        ("", "IT"),
        ("12", "IT"),
        ("+39", None),
        ("+1 555", None),
        ("+999 1234", None),  # no such country code
        ("02 1234 5678 9999 9999 999", "IT"),  # too long
        ("+", None),
    ],
)
def test_invalid_phone(text: str, region: str | None) -> None:
    with pytest.raises(InvalidIdentity, match="not a valid phone number"):
        normalise_phone(text, region)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna.Rossi@Example.COM", "anna.rossi@example.com"),
        ("  bob@acme.example ", "bob@acme.example"),
        ("a+tag@sub.acme.example", "a+tag@sub.acme.example"),
    ],
)
def test_normalise_email_is_case_insensitive(text: str, expected: str) -> None:
    assert normalise_email(text) == expected
    assert normalise_email(text.upper()) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bob",
        "bob@",
        "@acme.example",
        "bob@acme",
        "bob@@acme.example",
        "bob smith@acme.example",
        "<bob@acme.example>",
        "bob@-acme.example",
        "bob@acme..example",
    ],
)
def test_invalid_email(text: str) -> None:
    with pytest.raises(InvalidIdentity, match="not a valid email address"):
        normalise_email(text)


def test_helpers() -> None:
    assert looks_like_email("a@b.c")
    assert not looks_like_email("+39 02 1234")
    assert email_domain("anna@acme.example") == "acme.example"
    assert name_from_email("anna.rossi+support@x.example") == "Anna Rossi"
    assert name_from_email("j_doe-smith@x.example") == "J Doe Smith"

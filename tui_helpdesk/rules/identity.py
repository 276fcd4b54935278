"""How people are recognised: email and phone normalisation (pure functions)."""

from __future__ import annotations

import re

_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


class InvalidIdentity(ValueError):
    """Not a usable email address or phone number."""


def looks_like_email(text: str) -> bool:
    return "@" in text


def normalise_email(text: str) -> str:
    """Lower-cased address; emails are compared case-insensitively."""
    address = text.strip().lower()
    if not _EMAIL.match(address):
        raise InvalidIdentity(f"not a valid email address: {text.strip()!r}")
    return address


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[1]


def normalise_phone(text: str, default_region: str | None) -> str:
    """E.164 form of a phone number written in any common way ("+39 02 1234 5678",
    "(415) 555-0100", "0044 20 7946 0000"); local numbers use the desk's default region."""
    import phonenumbers  # a large import: only where a phone number is read

    raw = text.strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentity(f"not a valid phone number: {text.strip()!r}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a valid phone number: {text.strip()!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def name_from_email(address: str) -> str:
    """A readable default name for an unknown sender ("anna.rossi@x" -> "Anna Rossi")."""
    local = address.split("@", 1)[0].split("+", 1)[0]
    words = [w for w in re.split(r"[._\-]+", local) if w]
    return " ".join(w.capitalize() for w in words) or address

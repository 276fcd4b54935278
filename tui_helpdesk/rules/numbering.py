"""Public ticket numbers: `<prefix>-<n>`, and the ways people write them."""

from __future__ import annotations

import re

_REF = re.compile(r"^\s*(?:#|(?P<prefix>[A-Za-z][A-Za-z0-9]{0,9})-)?(?P<n>\d{1,12})\s*$")


def format_key(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def parse_ref(text: str) -> tuple[str | None, int] | None:
    """("HD", 12) for "HD-12" / "hd-12", (None, 12) for "12" or "#12"; None if not a ref."""
    match = _REF.match(text)
    if not match:
        return None
    prefix = match.group("prefix")
    return (prefix.upper() if prefix else None), int(match.group("n"))

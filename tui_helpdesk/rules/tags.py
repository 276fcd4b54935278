"""The tag rule: what a ticket's (or an article's) tag may be, one rule for every layer.

Tags are stored lower case, spaces become `-`, and what is left must be letters, digits and
`_ . : / -` (up to 64 characters). The ticket services normalise what agents type with it,
and the rules document checks the tags its routes, escalation actions and `where` tables
name with it (`parse_tag`, `read_tag`), so a rule never waits for a tag no ticket can carry.
Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from tui_helpdesk.rules.parsing import RuleError, expect_text, show

MAX_TAG_CHARS = 64  # the ticket_tags.tag column
TAG_RULE = "letters, digits and _ . : / - (up to 64 characters)"  # what a tag may be
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,63}$")


class InvalidTag(ValueError):
    """Text that no tag can be; the message says what a tag may be."""


def normalise_tag(raw: str) -> str:
    """The tag as stored ("Needs Review" -> "needs-review"); "" for blank text."""
    tag = raw.strip().lower().replace(" ", "-")
    if tag and not _TAG.match(tag):
        raise InvalidTag(f"invalid tag {raw!r}: {TAG_RULE}")
    return tag


def parse_tag(value: Any, key: str) -> str:
    """A tag a rule names, as tickets store it ("Needs Owner" is "needs-owner"); text no
    ticket's tag can be is an error, for a rule waiting on it would never fire."""
    text = expect_text(value, key)
    try:
        return normalise_tag(text)
    except InvalidTag:
        raise RuleError(f"{key}: {show(value)} can never be a ticket's tag: {TAG_RULE}") from None


def read_tag(value: Any, key: str, *, strict: bool = True) -> str | None:
    """`parse_tag`, or for a stored version (`strict=False`, applied before tags were
    checked) the tag as tickets store it and None for text no ticket's tag can be: the
    caller drops it, for nothing could ever carry or match it."""
    if strict:
        return parse_tag(value, key)
    text = expect_text(value, key)  # no text at all was refused before too
    try:
        return normalise_tag(text)
    except InvalidTag:
        return None

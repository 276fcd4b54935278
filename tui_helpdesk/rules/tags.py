"""The tag rule: what a ticket's (or an article's) tag may be, one rule for every layer.

Tags are stored lower case, spaces become `-`, and what is left must be letters, digits and
`_ . : / -` (up to 64 characters). The ticket services normalise what agents type with it,
and the rules document checks the tags its routes, escalation actions and `where` tables
name with it, so a rule never waits for a tag no ticket can carry. Pure: no I/O.
"""

from __future__ import annotations

import re

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

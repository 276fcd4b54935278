"""The words people use for ticket statuses wherever tickets are listed or searched: a status
(`open`, `on_hold`), `active` (every status but resolved and closed) or `all`.

One definition for the CLI's --status (`ticket list`, `ticket search`, through
`cli.statuses`) and the console's `status:` filter and saved views (`saved_views`). Pure, and
light to import: only the domain's enumerations and the services' errors.
"""

from __future__ import annotations

from collections.abc import Iterable

from tui_helpdesk.domain import ACTIVE_STATUSES, Status
from tui_helpdesk.services.errors import ValidationError

ALL_STATUSES: tuple[Status, ...] = tuple(Status)
STATUS_WORDS = ", ".join([*(s.value for s in Status), "active", "all"])


class UnknownStatus(ValidationError):
    """A word that is neither a status nor `active` or `all` (a usage error: exit 2)."""

    def __init__(self, word: str) -> None:
        super().__init__(f"unknown status {word!r} (expected {STATUS_WORDS})")
        self.word = word


def split_words(values: str | Iterable[str]) -> list[str]:
    """ "open, pending" or ["open", "pending,new"] -> ["open", "pending", "new"], lower case."""
    texts = [values] if isinstance(values, str) else list(values)
    return [w.strip().lower() for text in texts for w in text.split(",") if w.strip()]


def parse_statuses(values: str | Iterable[str]) -> tuple[Status, ...]:
    """The statuses named by `values` (comma-separated, or several), in the order given:
    `active` stands for the active statuses, `all` for every status (`ALL_STATUSES`). No
    words give the empty tuple: what that means (active, or no filter) is the caller's.
    `UnknownStatus` names the first word that is none of these."""
    out: list[Status] = []
    for word in split_words(values):
        if word == "all":
            out.extend(ALL_STATUSES)
        elif word == "active":
            out.extend(ACTIVE_STATUSES)
        else:
            try:
                out.append(Status(word))
            except ValueError:
                raise UnknownStatus(word) from None
    return ALL_STATUSES if "all" in split_words(values) else tuple(dict.fromkeys(out))


def status_words(statuses: Iterable[Status]) -> list[str]:
    """The words for `statuses` that `parse_statuses` reads back: ["all"], ["active"], or
    the statuses themselves."""
    chosen = tuple(statuses)
    if set(chosen) == set(ALL_STATUSES):
        return ["all"]
    if set(chosen) == set(ACTIVE_STATUSES):
        return ["active"]
    return [s.value for s in chosen]

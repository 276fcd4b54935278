"""What --status takes wherever tickets are listed or searched (`ticket list`, `ticket
search`): the option, and how its words are read (`services.statuses`, the one definition the
console's `status:` filter reads too). A module of its own so that commands without it (cron's
`escalate`) do not import the domain's statuses."""

from __future__ import annotations

from typing import Any

import typer

from tui_helpdesk.domain import ACTIVE_STATUSES, Status
from tui_helpdesk.services import statuses
from tui_helpdesk.services.statuses import STATUS_WORDS


def status_option(default: str) -> Any:
    """The --status option of a command listing tickets; `default` says what none means.
    No short option: `-s` is the subject of `ticket create`, and one letter should not mean
    two things in the same noun."""
    return typer.Option(
        "--status",
        metavar="STATUS",
        help=f"Repeatable or comma-separated: {STATUS_WORDS}. Default: {default}.",
    )


def parse_statuses(
    values: list[str] | None, default: tuple[Status, ...] = ACTIVE_STATUSES
) -> tuple[Status, ...]:
    """--status values (repeatable or comma-separated): statuses, `active` (not resolved
    or closed) or `all`, which is the empty tuple (no filter); `default` when none given.
    An unknown word is a `ValidationError` (exit 2) naming it."""
    chosen = statuses.parse_statuses(values or [])
    if not chosen:
        return default
    return () if chosen == statuses.ALL_STATUSES else chosen

"""What --status takes wherever tickets are listed or searched (`ticket list`, `ticket
search`): one definition of the words, the option and how they are read. A module of its own
so that commands without it (cron's `escalate`) do not import the domain's statuses."""

from __future__ import annotations

from typing import Any

import typer

from tui_helpdesk.domain import ACTIVE_STATUSES, Status

from .runtime import CliError

STATUS_WORDS = ", ".join([*(s.value for s in Status), "active", "all"])


def status_option(default: str) -> Any:
    """The --status option of a command listing tickets; `default` says what none means."""
    return typer.Option(
        "--status",
        "-s",
        metavar="STATUS",
        help=f"Repeatable or comma-separated: {STATUS_WORDS}. Default: {default}.",
    )


def parse_statuses(
    values: list[str] | None, default: tuple[Status, ...] = ACTIVE_STATUSES
) -> tuple[Status, ...]:
    """--status values (repeatable or comma-separated): statuses, `active` (not resolved
    or closed) or `all`, which is the empty tuple (no filter); `default` when none given."""
    words = [w.strip().lower() for v in values or [] for w in v.split(",") if w.strip()]
    if not words:
        return default
    if "all" in words:
        return ()
    out: list[Status] = []
    for word in words:
        if word == "active":
            out.extend(ACTIVE_STATUSES)
            continue
        try:
            out.append(Status(word))
        except ValueError:
            raise CliError(f"unknown status {word!r} (expected {STATUS_WORDS})", 2) from None
    return tuple(dict.fromkeys(out))

"""`helpdesk mail ...`: email in (fetch, explain); `cli/outbox.py` adds the commands for
mail out (send, outbox) to the same sub-app."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Email: take mail in as tickets, send the outbox, explain what happened to a mail.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

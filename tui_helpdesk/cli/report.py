"""`helpdesk report ...`: metrics for managers, exports and scheduled reports."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Reports: show metrics, export them (CSV, JSON, XLSX, Markdown), run scheduled ones.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

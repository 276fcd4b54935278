"""The console benchmarks' reference: a minimal Textual app painting a 50-row `DataTable`.

Measured in process by `console_first_row` and launched as a program (`python
bench/minimal_app.py`) by `console_launch`. Imports Textual and nothing else, so the whole
process costs what a Textual app costs at the least.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

ROWS = 50


class Minimal(App[None]):
    """Header, a table filled on mount with rows that look like queue rows, footer."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Pri", "SLA", "Subject", "Requester", "Status")
        for i in range(ROWS):
            table.add_row(f"HD-{i}", "normal", "3h", f"Subject {i}", "Someone", "open")


if __name__ == "__main__":
    Minimal().run()

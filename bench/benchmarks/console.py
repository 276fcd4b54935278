"""Console benchmark (registered in bench.harness): launch to the first painted queue row.

`console_first_row`: the real `HelpdeskApp` on the generated desk, headless
(`App.run_test` at 80x24), from constructing the App to the first frame after the queue's
table holds rows: the profile and the first page come from thread workers, so this is the
time an agent waits for something to work on. Its reference, measured in the same run the
same way, is a minimal Textual app that paints a 50-row `DataTable` filled on mount: the
ratio is what the console costs over Textual itself. Peak memory is the worker's own (one
process per benchmark, see the harness), with the desk's first page loaded.

The agent is the generated desk's `agent1`, whose home view (My open) has tickets; if it had
none the All open view is measured instead (the figure says which).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.harness import Context, Measurement, Samples, benchmark

LOGIN = "agent1"
SIZE = (80, 24)
ROWS = 50
TIMEOUT = 60.0  # seconds: a console that never shows a row is a failure, not a hang


async def _until(pilot: Any, condition: Any) -> None:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > TIMEOUT:
            raise RuntimeError("no row painted within the timeout")
        await pilot.pause(0.001)


async def _console_once(url: str, view: str | None) -> tuple[float, int]:
    from tui_helpdesk.app import HelpdeskApp
    from tui_helpdesk.store.engine import Store
    from tui_helpdesk.widgets.ticket_table import TicketTable

    store = Store(url)
    try:
        started = time.perf_counter()
        app = HelpdeskApp(store, LOGIN)
        async with app.run_test(size=SIZE) as pilot:
            if view is not None:
                await _until(pilot, lambda: bool(app.screen.query(TicketTable)))
                app.screen.action_show_view(view)  # type: ignore[attr-defined]

            def painted_rows() -> int:
                tables = app.screen.query(TicketTable)
                return tables.first().row_count if tables else 0

            await _until(pilot, lambda: painted_rows() > 0)
            await pilot.pause()  # the frame that shows them
            took = time.perf_counter() - started
            rows = painted_rows()
        return took, rows
    finally:
        store.dispose()


async def _reference_once() -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("#", "Pri", "SLA", "Subject", "Requester", "Status")
            for i in range(ROWS):
                table.add_row(f"HD-{i}", "normal", "3h", f"Subject {i}", "Someone", "open")

    started = time.perf_counter()
    app = Minimal()
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.query_one(DataTable).row_count == ROWS)
        await pilot.pause()
        return time.perf_counter() - started


def _reference(ctx: Context) -> Samples:
    asyncio.run(_reference_once())  # warm-up: imports and Textual's first start
    return [asyncio.run(_reference_once()) for _ in range(ctx.repeat)]


@benchmark(
    "console_first_row",
    "console: launch to the first painted queue row (headless, 80x24)",
    target="ratio < 3",
    reference=_reference,
    reference_what=f"minimal Textual app painting a {ROWS}-row DataTable",
)
def console_first_row(ctx: Context) -> Measurement:
    view: str | None = None
    try:
        asyncio.run(asyncio.wait_for(_console_once(ctx.url, None), TIMEOUT / 2))  # warm-up
    except (TimeoutError, RuntimeError):
        view = "all_open"  # the agent has no open tickets: measure the desk-wide view
        asyncio.run(_console_once(ctx.url, view))
    samples: Samples = []
    rows = 0
    for _ in range(ctx.repeat):
        took, rows = asyncio.run(_console_once(ctx.url, view))
        samples.append(took)
    return Measurement(samples, extra={"view": view or "my_open", "rows": rows})

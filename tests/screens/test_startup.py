"""The console's start path loads what the queue's first rows need, and no more.

The other screens (knowledge, new ticket, ticket, customers, reports), bulk changes and
their menus, and the help panel (Textual's Markdown) are imported when first used. Each
check runs in a fresh interpreter, so modules other tests loaded do not count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import Desk
from tests.screens.conftest import make_ticket

LAZY = (
    "tui_helpdesk.screens.knowledge",
    "tui_helpdesk.screens.new_ticket",
    "tui_helpdesk.screens.ticket",
    "tui_helpdesk.screens.customers",
    "tui_helpdesk.screens.reports",
    "tui_helpdesk.services.bulk",
    "tui_helpdesk.widgets.bulk_menu",
    "markdown_it",
)

IMPORT_ONLY = """
import json, sys
import tui_helpdesk.app
print(json.dumps({"modules": sorted(sys.modules)}))
"""

# The console on the desk until its first rows are in and every worker is done.
FIRST_ROWS = """
import asyncio, json, sys
from tui_helpdesk.app import HelpdeskApp
from tui_helpdesk.store.engine import Store
from tui_helpdesk.widgets.ticket_table import TicketTable

async def main(url):
    store = Store(url)
    try:
        app = HelpdeskApp(store, "bob", live=False)
        async with app.run_test(size=(80, 24)) as pilot:
            def rows():
                tables = app.screen.query(TicketTable)
                return tables.first().row_count if tables else 0
            for _ in range(600):  # at most a minute: a console that shows nothing fails
                await pilot.pause(0.1)
                if rows():
                    break
            await app.workers.wait_for_complete()
            await pilot.pause()
            return rows()
    finally:
        store.dispose()

rows = asyncio.run(main(sys.argv[1]))
print(json.dumps({"rows": rows, "modules": sorted(sys.modules)}))
"""


def _run(code: str, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def _lazy_loaded(modules: list[str]) -> list[str]:
    return [name for name in LAZY if name in modules]


def test_importing_the_console_loads_no_other_screen() -> None:
    found = _run(IMPORT_ONLY)
    assert "tui_helpdesk.screens.queue" in found["modules"]
    assert _lazy_loaded(found["modules"]) == []


def test_the_first_rows_load_no_other_screen(desk_store: Desk, db_url: str) -> None:
    make_ticket(desk_store, "VPN drops", assignee="bob")
    found = _run(FIRST_ROWS, db_url)
    assert found["rows"] == 1
    assert _lazy_loaded(found["modules"]) == []


def test_the_checker_sees_a_screen_once_opened() -> None:
    """The check can fail: a screen's module imported with the console shows up in it."""
    opened = "import tui_helpdesk.app, tui_helpdesk.screens.ticket"
    found = _run(IMPORT_ONLY.replace("import tui_helpdesk.app", opened))
    assert "tui_helpdesk.screens.ticket" in _lazy_loaded(found["modules"])

"""Helpers for console tests: a desk with tickets, an App that records its notifications,
and a way to wait until every worker has reported back."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import textual._wait
from textual.pilot import Pilot

from tests.conftest import NOW, Desk
from tui_helpdesk.app import HelpdeskApp
from tui_helpdesk.domain import Status
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.store.models import Ticket
from tui_helpdesk.widgets.ticket_table import TicketTable

# Pilot waits after each key until the app has been idle for one window (Textual's
# `wait_for_idle`: a window with under 1/20 of it in CPU); 20 ms windows by default, so every
# key costs at least 40 ms, which is most of a console test's time. 5 ms windows with the
# same share give the same answer sooner. Tests never rely on it alone for what a worker
# or a timer does later: they wait for that (`settle`, `wait_for`).
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = textual._wait.SLEEP_GRANULARITY / 20

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Console tests run at both sizes and on both back ends, pairwise: SQLite at 80x24 and
    120x40, PostgreSQL at 80x24. The layout does not depend on the back end and the back end
    does not depend on the size, so PostgreSQL at 120x40 would repeat what the other three
    cases cover, at a quarter of the console tests' time. The skipped cases are reported as
    deselected."""
    here = Path(__file__).parent
    keep: list[pytest.Item] = []
    repeated: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if (
            item.path.is_relative_to(here)
            and params.get("db_url") == "postgres"
            and params.get("size") == (120, 40)
        ):
            repeated.append(item)
        else:
            keep.append(item)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = keep


class RecordingApp(HelpdeskApp):
    """The real App, keeping what it told the agent so tests can assert on it."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.notices: list[tuple[str, str]] = []

    def notify(self, message: str, *, severity: str = "information", **kwargs: object) -> None:  # type: ignore[override]
        self.notices.append((severity, str(message)))
        super().notify(message, severity=severity, **kwargs)  # type: ignore[arg-type]


def make_ticket(
    desk: Desk,
    subject: str,
    *,
    actor: Actor | None = None,
    assignee: str | None = None,
    group: str | None = None,
    status: Status | None = None,
    due_in: timedelta | None = None,
    body: str | None = "It does not work.",
    at: datetime = NOW,
) -> str:
    """Create a ticket through the services; `due_in` sets a running deadline."""
    actor = actor or desk.agent
    with desk.store.write() as session:
        ticket: Ticket = tickets.create_ticket(
            session,
            actor,
            at,
            tickets.NewTicket(
                subject=subject,
                body=body,
                requester="mario@acme.example",
                requester_name="Mario Rossi",
                assignee=assignee,
                group=group,
            ),
        )
        if due_in is not None:
            # No SLA engine yet: set the stored deadline the queue orders and colours by.
            ticket.due_at = NOW + due_in
        if status is not None and status is not ticket.status:
            tickets.change_status(session, actor, at, ticket.key, status)
        return ticket.key


def make_app(desk: Desk, login: str = "bob", **kwargs: object) -> RecordingApp:
    """The App on the test desk. Live refresh is off unless asked for (`live=True`): a test
    that writes behind an open screen expects the screen not to notice by itself."""
    kwargs.setdefault("live", False)
    return RecordingApp(desk.store, login, clock=lambda: NOW, **kwargs)


async def settle(pilot: Pilot[None]) -> None:
    """Wait until workers are done and their messages handled (a load may start another)."""
    for _ in range(5):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            break


def table_of(app: HelpdeskApp) -> TicketTable:
    return app.screen.query_one(TicketTable)


def column(table: TicketTable, key: str) -> list[str]:
    """The plain text of one column, top to bottom, as displayed."""
    index = table.visible_columns().index(key)
    return [table.get_row_at(i)[index].plain for i in range(table.row_count)]


def keys_shown(app: HelpdeskApp) -> list[str]:
    return column(table_of(app), "number")


async def wait_for(
    pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 2.0
) -> float:
    """Pause until `condition()` holds (live refresh comes from another thread); returns
    the seconds it took, or fails after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        await pilot.pause(0.05)
    return time.monotonic() - start

"""The queue's SLA countdown is the working time the ticket header shows, on the ticket's
calendar, through Pilot at 80x24 and 120x40 on SQLite and PostgreSQL: a Friday evening
deadline that falls on Monday reads hours of work, not days of wall clock; an overdue one
says by how much, coloured as breached; the rows move on each minute from the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.text import Text
from textual.widgets import Static

from tests.conftest import Desk
from tests.screens.conftest import SIZES, RecordingApp, column, make_ticket, settle, table_of
from tests.screens.test_ticket_actions import open_ticket
from tui_helpdesk.domain import ArticleStatus, Status, Visibility
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import MessageBox
from tui_helpdesk.screens.ticket_panel import SidePanel
from tui_helpdesk.services import desk, kb, tickets
from tui_helpdesk.services.views import SlaState

pytestmark = pytest.mark.parametrize("size", SIZES)

OFFICE = """
[desk]
ticket_prefix = "HD"

[calendars.office]
timezone = "UTC"
hours.mon = ["09:00-13:00", "14:00-18:00"]
hours.tue = ["09:00-13:00", "14:00-18:00"]
hours.wed = ["09:00-13:00", "14:00-18:00"]
hours.thu = ["09:00-13:00", "14:00-18:00"]
hours.fri = ["09:00-13:00", "14:00-18:00"]

[[sla]]
name = "standard"
calendar = "office"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "16h", low = "72h" }
"""
THURSDAY_9 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
FRIDAY_17 = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
FRIDAY_LATE = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)


def _office_desk(desk_store: Desk) -> tuple[str, str]:
    """Two tickets on the office calendar, seen on Friday at 17:30: one due Monday 12:00
    (3h30m of work, 66h30m of wall clock), one due since Thursday 13:00 (11h30m of work)."""
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, THURSDAY_9, parse_rules(OFFICE))
    late = make_ticket(desk_store, "Since Thursday", assignee="bob", group="L1", at=THURSDAY_9)
    soon = make_ticket(desk_store, "Friday evening", assignee="bob", group="L1", at=FRIDAY_17)
    return late, soon


def _header(app: RecordingApp) -> str:
    return str(app.screen.query_one("#ticket-header", Static).render())


async def test_the_queue_counts_down_in_the_headers_working_time(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    late, soon = _office_desk(desk_store)
    now = [FRIDAY_LATE]
    app = RecordingApp(desk_store.store, "bob", clock=lambda: now[0], live=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = table_of(app)
        assert [row.key for row in table.tickets] == [late, soon]
        shown = column(table, "sla")
        assert shown == ["-11h30m", "3h30m"]  # working time; the wall clock says 66h30m
        states = [row.sla_state for row in table.tickets]
        assert states == [SlaState.BREACHED, SlaState.OK]
        # The overdue amount is drawn whole, in the breached colour.
        index = table.visible_columns().index("sla")
        cell = table.get_row_at(0)[index]
        assert isinstance(cell, Text) and cell.plain == "-11h30m"
        breached = table.get_component_rich_style("ticket-table--breached", partial=True)
        assert cell.style == breached
        assert table.ordered_columns[index].width >= len("-11h30m")

        # The header says the same, in words.
        await pilot.press("enter")  # the first row: the overdue one
        await settle(pilot)
        assert "first response overdue 11h30m" in _header(app)
        await pilot.press("escape")
        await settle(pilot)
        screen = await open_ticket(pilot, app, soon)
        assert f"first response {shown[1]} left" in _header(app)
        assert screen.detail is not None and screen.detail.sla == shown[1]
        await pilot.press("escape")
        await settle(pilot)

        # A minute on, the rows are read again from the worker and count on.
        assert isinstance(app.screen, QueueScreen)
        now[0] = FRIDAY_LATE + timedelta(minutes=10)
        app.screen._countdowns_due()
        await settle(pilot)
        assert column(table_of(app), "sla") == ["-11h40m", "3h20m"]
        # After closing time the working time stands still, whatever the wall clock does.
        now[0] = FRIDAY_LATE + timedelta(hours=40)  # Sunday morning
        app.screen._countdowns_due()
        await settle(pilot)
        assert column(table_of(app), "sla") == ["-12h", "3h"]
        assert app.notices == []


async def test_the_open_ticket_counts_down_each_minute_and_keeps_its_place(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """Left open, the ticket's header moves on with the clock (its working time and the
    age of its last update), without a notice and without redrawing the thread."""
    _late, soon = _office_desk(desk_store)
    now = [FRIDAY_LATE]
    app = RecordingApp(desk_store.store, "bob", clock=lambda: now[0], live=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, soon)
        assert "first response 3h30m left" in _header(app)
        assert "(30m ago)" in _header(app)
        boxes = list(screen.query(MessageBox))
        now[0] = FRIDAY_LATE + timedelta(minutes=10)
        screen._countdowns_due()
        await settle(pilot)
        assert "first response 3h20m left" in _header(app)
        assert "(40m ago)" in _header(app)
        assert list(screen.query(MessageBox)) == boxes  # the same widgets: not redrawn
        assert app.notices == []


async def test_the_minute_refresh_keeps_the_panels_suggestions(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """The minute's refresh reads the panel's clocks again, not its suggestions: an article
    written meanwhile shows once the ticket is read again (ctrl+r, or someone's change)."""
    _late, soon = _office_desk(desk_store)
    now = [FRIDAY_LATE]
    app = RecordingApp(desk_store.store, "bob", clock=lambda: now[0], live=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, soon)
        panel = screen.query_one(SidePanel)
        assert panel.panel is not None and panel.panel.articles == ()
        with desk_store.store.write() as session:
            kb.add_article(
                session,
                FRIDAY_LATE,
                desk_store.agent,
                kb.ArticleDraft(
                    "Friday evening",
                    "What to do on a Friday evening.",
                    visibility=Visibility.PUBLIC,
                    status=ArticleStatus.PUBLISHED,
                ),
            )
        now[0] = FRIDAY_LATE + timedelta(minutes=10)
        screen._countdowns_due()
        await settle(pilot)
        assert "first response 3h20m left" in _header(app)
        clocks = [clock.text for clock in panel.panel.clocks]
        assert clocks == ["3h20m left", "15h20m left"], clocks  # the panel's clocks moved on
        assert panel.panel.articles == ()  # not searched again
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert [a.title.plain for a in panel.panel.articles] == ["Friday evening"]
        assert app.notices == []


async def test_a_paused_row_shows_the_time_its_clocks_keep(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    _late, soon = _office_desk(desk_store)
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, FRIDAY_LATE, soon, Status.PENDING)
    app = RecordingApp(
        desk_store.store, "bob", clock=lambda: FRIDAY_LATE + timedelta(hours=3), live=False
    )
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = table_of(app)
        row = next(r for r in table.tickets if r.key == soon)
        # Half an hour of Friday used: what is kept, as the header says it ("paused, … left").
        assert (row.sla, row.sla_state) == ("‖3h30m", SlaState.PAUSED)
        index = table.visible_columns().index("sla")
        assert table.ordered_columns[index].width >= len(row.sla)
        await open_ticket(pilot, app, soon)
        assert "paused, 3h30m left" in _header(app)

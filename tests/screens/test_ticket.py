"""Opening a ticket from the queue, inert customer text, and failures that must not crash."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import Static

from tests.conftest import NOW, Desk
from tests.screens.conftest import (
    SIZES,
    column,
    keys_shown,
    make_app,
    make_ticket,
    settle,
    table_of,
)
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import MessageBox, TicketScreen
from tui_helpdesk.services import tickets

pytestmark = pytest.mark.parametrize("size", SIZES)

EVIL = "[bold red]x\x1b]0;evil\x07"


async def test_enter_opens_the_ticket_and_escape_goes_back(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    key = make_ticket(desk_store, "VPN drops", assignee="bob", body="It drops.")
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW, key, "Looking into it.")
        tickets.add_note(session, desk_store.agent, NOW, key, "Router firmware [red]old[/red].")

    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert keys_shown(app) == [key]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        assert screen.detail is not None and screen.detail.key == key
        header = screen.query_one("#ticket-header", Static).render()
        assert "VPN drops" in str(header) and "Mario Rossi" in str(header)
        boxes = list(screen.query(MessageBox))
        assert [b.kind.value for b in boxes] == ["customer", "reply", "note"]
        assert [sorted(b.classes) for b in boxes] == [
            ["-customer", "message"],
            ["-reply", "message"],
            ["-note", "message"],
        ]
        # The note's look-alike markup is shown as typed.
        assert str(boxes[2].render()) == "Router firmware [red]old[/red]."

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.notices == []


async def test_customer_text_is_inert(desk_store: Desk, size: tuple[int, int]) -> None:
    key = make_ticket(desk_store, EVIL, assignee="bob", body=f"body {EVIL}")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = table_of(app)
        cell = table.get_row_at(0)[table.visible_columns().index("subject")]
        assert isinstance(cell, Text)
        assert cell.plain == "[bold red]x"  # the markup is text, the escape is gone
        assert not any(span.style for span in cell.spans)  # nothing turned bold or red
        assert column(table, "subject") == ["[bold red]x"]

        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.detail is not None
        assert screen.detail.key == key
        header = str(screen.query_one("#ticket-header", Static).render())
        assert "[bold red]x" in header and "\x1b" not in header and "\x07" not in header
        body = str(screen.query_one(MessageBox).render())
        assert body == "body [bold red]x"


async def test_unknown_ticket_is_a_notification(desk_store: Desk, size: tuple[int, int]) -> None:
    make_ticket(desk_store, "Anything", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.action_open_ticket("HD-999")
        await settle(pilot)
        assert ("error", "no ticket HD-999") in app.notices
        assert isinstance(app.screen, QueueScreen)  # the failed screen closed itself
        assert app.is_running
        await pilot.press("enter")  # and the console still works
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)

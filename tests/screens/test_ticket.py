"""Opening a ticket from the queue, inert customer text, failures that must not crash, and
the ticket's actions as keys in the footer (only those that apply, fitting 80 columns) and
commands in the palette (the actions themselves: test_ticket_actions.py)."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.command import DiscoveryHit
from textual.widget import Widget
from textual.widgets import Static

from tests.conftest import NOW, Desk
from tests.screens.conftest import (
    SIZES,
    RecordingApp,
    column,
    keys_shown,
    make_app,
    make_ticket,
    settle,
    table_of,
)
from tui_helpdesk.domain import Status
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import MessageBox, TicketScreen
from tui_helpdesk.screens.ticket_actions import TicketCommands
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
            ["-delivery-queued", "-reply", "message"],  # its mail waits in the outbox
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


# --- actions on the ticket: which apply, the footer, the palette --------------------------


def footer_keys(app: RecordingApp) -> dict[str, Widget]:
    """The footer's keys by description (by CSS type: the class is not public API)."""
    return {str(getattr(k, "description", "")): k for k in app.screen.query("FooterKey")}


async def test_footer_shows_what_applies_and_fits(desk_store: Desk, size: tuple[int, int]) -> None:
    key = make_ticket(desk_store, "Unowned", group="L1")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.action_open_ticket(key)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        shown = footer_keys(app)
        assert [k for k in ("Reply", "Note", "Take", "Status", "Escalate") if k in shown] == [
            "Reply",
            "Note",
            "Take",
            "Status",
            "Escalate",
        ]
        assert "Reopen" not in shown  # only for resolved or closed tickets
        # At 80 columns too, every key of the footer is on screen, the app's included.
        assert {"Quit", "Help", "KB"} <= shown.keys()
        # (the palette key is docked right, over whatever reaches that far)
        palette = shown.pop("palette")
        shown.pop("New", None)  # the app's f3 is cut off first where the screen's keys fill it
        for footer_key in shown.values():
            assert footer_key.region.right <= palette.region.x, footer_key.region
        # While a change is being saved, the actions are disabled, not hidden.
        screen.busy = "reply"
        assert screen.check_action("reply", ()) is None
        assert screen.check_action("back", ()) is None  # its answer must not be lost
        screen.busy = None
        assert screen.check_action("reply", ()) is True


async def test_palette_offers_the_ticket_actions_that_apply(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    closed = make_ticket(desk_store, "Old", assignee="bob", status=Status.RESOLVED)
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, closed, Status.CLOSED)
    fresh = make_ticket(desk_store, "New one", group="L1")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.action_open_ticket(closed)
        await settle(pilot)
        names = [hit.text for hit in await discovered(app.screen)]
        assert "Reply" not in names and "Change status" not in names
        assert {"Internal note", "Reopen", "Refresh ticket"} <= set(names)

        await pilot.press("escape")
        app.action_open_ticket(fresh)
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"assign to me")
        await pilot.pause(0.3)  # the palette searches in a worker of its own
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.detail is not None
        assert screen.detail.assignee == "bob"

    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, fresh)
        assert ticket.assignee is not None and ticket.assignee.login == "bob"


async def discovered(screen: object) -> list[DiscoveryHit]:
    provider = TicketCommands(screen)  # type: ignore[arg-type]
    return [hit async for hit in provider.discover() if isinstance(hit, DiscoveryHit)]

"""The customers mode through Pilot, at 80x24 and 120x40 on SQLite and PostgreSQL: finding
organizations and contacts as you type, one customer's figures and tickets (paged), opening
a ticket, inert customer text, and failures as notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input, OptionList, Static

from tests.conftest import NOW, Desk
from tests.screens.conftest import SIZES, RecordingApp, make_app, make_ticket, settle
from tui_helpdesk.domain import Status
from tui_helpdesk.screens.customers import CustomerScreen, CustomersScreen
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import directory, tickets

pytestmark = pytest.mark.parametrize("size", SIZES)

EVIL = "Eve [bold red]x\x1b]0;evil\x07"


def rows(app: RecordingApp, selector: str) -> list[str]:
    options = app.screen.query_one(selector, OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def open_customers(pilot: object, app: RecordingApp) -> CustomersScreen:
    await settle(pilot)  # type: ignore[arg-type]
    screen = CustomersScreen(app.context)
    await app.push_screen(screen)
    await settle(pilot)  # type: ignore[arg-type]
    return screen


async def type_query(pilot: object, text: str) -> None:
    await pilot.press(*text)  # type: ignore[attr-defined]
    await pilot.pause(0.4)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_find_an_organization_and_open_a_ticket(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    first = make_ticket(desk_store, "VPN drops", assignee="bob")
    second = make_ticket(desk_store, "Printer jams", assignee="bob")
    done = make_ticket(desk_store, "Old one", assignee="bob")
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW, done, "Fixed.")
        tickets.change_status(
            session, desk_store.agent, NOW + timedelta(hours=2), done, Status.RESOLVED
        )
        tickets.get_ticket(session, first).resolution_breached = True
        directory.get_organization(session, "Acme").notes = "Key account; renewal in March"
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_customers(pilot, app)
        assert rows(app, "#customers-list")[0].startswith("▣ Acme")  # browsing: organizations
        await type_query(pilot, "acme")
        found = rows(app, "#customers-list")
        assert found[0].startswith("▣ Acme  premium")
        assert any("Mario Rossi" in r and "mario@acme.example" in r for r in found[1:])
        await pilot.press("enter")
        await settle(pilot)
        customer = app.screen
        assert isinstance(customer, CustomerScreen) and customer.view is not None
        header = str(customer.query_one("#customer-header", Static).render())
        assert "Organization  Acme" in header
        assert "notes Key account; renewal in March" in header  # what the account team knows
        assert "2 open · 1 breached · 3 tickets, 1 done" in header
        assert "avg resolution 2h" in header and "asks most: Mario Rossi (3)" in header
        listed = rows(app, "#customer-tickets")
        assert [r.split()[0] for r in listed] == [done, second, first]  # newest first
        # Everything on screen, nothing overlapping.
        head, body = customer.query_one("#customer-header"), customer.query_one("#customer-tickets")
        assert head.region.bottom <= body.region.y and body.region.height >= 3
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.key == first
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is customer
        await pilot.press("escape")
        assert app.screen is screen
    assert [s for s, _ in app.notices if s == "error"] == []


async def test_a_contact_with_inert_text_and_paged_tickets(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    with desk_store.store.write() as session:
        contact = directory.add_contact(
            session,
            NOW,
            directory.ContactDraft(name=EVIL, emails=["eve@else.example"]),
            "IT",
        )
        for i in range(27):
            tickets.create_ticket(
                session,
                desk_store.agent,
                NOW + timedelta(minutes=i),
                tickets.NewTicket(subject=f"Question {i}", body="?", requester="eve@else.example"),
            )
        contact_id = contact.id
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await open_customers(pilot, app)
        await type_query(pilot, "eve")
        found = rows(app, "#customers-list")
        assert found == ["  Eve [bold red]x  eve@else.example"]  # the markup is text
        await pilot.press("enter")
        await settle(pilot)
        customer = app.screen
        assert isinstance(customer, CustomerScreen) and customer.view is not None
        assert customer.view.id == contact_id
        header = str(customer.query_one("#customer-header", Static).render())
        assert "Contact  Eve [bold red]x" in header and "\x1b" not in header
        assert "27 open" in header
        listed = rows(app, "#customer-tickets")
        assert len(listed) == 26 and listed[-1] == "more tickets…"
        assert "Question 26" in listed[0]
        customer.query_one("#customer-tickets", OptionList).highlighted = 25
        await pilot.press("enter")
        await settle(pilot)
        listed = rows(app, "#customer-tickets")
        assert len(listed) == 27 and "Question 0" in listed[-1]


async def test_failures_are_notifications(desk_store: Desk, size: tuple[int, int]) -> None:
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_customers(pilot, app)
        await app.push_screen(CustomerScreen(app.context, "org", 999))
        await settle(pilot)
        assert ("error", "no organization #999") in app.notices
        assert app.screen is screen and app.is_running
        await type_query(pilot, "nobody-at-all")
        assert str(screen.query_one("#customers-summary", Static).render()) == "nobody matches"
        assert screen.query_one("#customers-query", Input).value == "nobody-at-all"

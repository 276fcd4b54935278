"""Two consoles on one ticket, through Pilot on SQLite and PostgreSQL: the second to save
sees who changed what, nothing it saves overwrites the first, and its draft is kept for it
to send again on the ticket as it now is. (Who else is viewing or typing: test_presence.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update
from textual.widgets import Static, TextArea

from tests.conftest import NOW, Desk
from tests.screens.conftest import SIZES, make_app, make_ticket, settle
from tests.screens.test_ticket_actions import fresh, open_ticket
from tui_helpdesk.domain import MessageKind, Priority, Status
from tui_helpdesk.screens.ticket_actions import ComposeScreen, PickScreen
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.store.models import Agent

pytestmark = pytest.mark.parametrize("size", SIZES)


async def test_two_consoles_conflict_visibly_and_lose_nothing(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """Each console runs in a task of its own (Textual keeps the active app per task), in
    turns set by events: both open the ticket, Ada raises the priority, Bob (on the old
    version) lowers it and starts a reply, Ada adds a note, Bob sends."""
    key = make_ticket(desk_store, "Contested", assignee="bob", group="L1")
    bob = make_app(desk_store, "bob", live=False)  # no live refresh: Bob keeps the old version
    ada = make_app(desk_store, "admin", live=False)
    both_open, ada_changed, bob_typing, ada_noted = (asyncio.Event() for _ in range(4))
    opened: list[int] = []

    async def bob_console() -> None:
        async with bob.run_test(size=size) as pilot:
            screen = await open_ticket(pilot, bob, key)
            assert screen.detail is not None
            opened.append(screen.detail.version)
            await both_open.wait()
            await ada_changed.wait()
            # On the version he loaded, Bob lowers the priority: refused, told who changed
            # what, and the ticket reloaded.
            await pilot.press("p")
            await pilot.pause()
            await pilot.press(*"low", "enter")
            await settle(pilot)
            severity, text = bob.notices[-1]
            assert severity == "warning"
            assert text.startswith(f"{key} was changed since you opened it")
            assert "09:30 admin: priority normal → urgent" in text
            assert screen.detail is not None and screen.detail.priority == "urgent"
            # His reply races Ada's note: the text comes back in the editor, not lost.
            await pilot.press("r")
            await pilot.pause()
            await pilot.press(*"On it")
            bob_typing.set()
            await ada_noted.wait()
            await pilot.press("ctrl+s")
            await settle(pilot)
            compose = bob.screen
            assert isinstance(compose, ComposeScreen)
            assert compose.query_one(TextArea).text == "On it"
            notice = str(compose.query_one("#compose-notice", Static).render())
            assert f"{key} was changed since you opened it" in notice
            assert "admin: added an internal note" in notice
            await pilot.press("ctrl+s")  # sent on the version now shown
            await settle(pilot)
            assert bob.screen is screen

    async def ada_console() -> None:
        async with ada.run_test(size=size) as pilot:
            screen = await open_ticket(pilot, ada, key)
            assert screen.detail is not None
            opened.append(screen.detail.version)
            both_open.set()
            await pilot.press("p")
            await pilot.pause()
            await pilot.press(*"urgent", "enter")
            await settle(pilot)
            assert ("information", "priority: urgent") in ada.notices
            ada_changed.set()
            await bob_typing.wait()
            await pilot.press("n")
            await pilot.pause()
            await pilot.press(*"Customer is a VIP", "ctrl+s")
            await settle(pilot)
            ada_noted.set()

    await asyncio.wait_for(asyncio.gather(bob_console(), ada_console()), timeout=120)
    assert opened[0] == opened[1]  # both were shown the same version

    with fresh(desk_store, key) as (ticket, messages):
        assert ticket.priority is Priority.URGENT  # Ada's change stands
        assert [(m.kind, m.body) for m in messages[1:]] == [
            (MessageKind.NOTE, "Customer is a VIP"),
            (MessageKind.REPLY, "On it"),
        ]


async def test_a_refused_save_lists_every_change_since_in_local_time(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """Bob (in Rome, UTC+1 in November) has the ticket open; Ada raises its priority, then
    Cleo tags it and puts it on hold. Bob's status change is refused, and he is told all
    three changes, who made each and when, in his own time, not the last one in UTC."""
    key = make_ticket(desk_store, "Contested", assignee="bob", group="L1")
    with desk_store.store.write() as session:
        session.execute(update(Agent).where(Agent.login == "bob").values(timezone="Europe/Rome"))
    bob = make_app(desk_store, "bob", live=False)
    async with bob.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, bob, key)
        with desk_store.store.write() as session:
            ada, cleo = directory.actor_for(session, "admin"), directory.actor_for(session, "cleo")
            at = NOW + timedelta(minutes=5)
            tickets.change_priority(session, ada, at, key, Priority.URGENT)
            later = NOW + timedelta(minutes=7)
            tickets.change_tags(session, cleo, later, key, add=["vip"])
            tickets.change_status(session, cleo, later, key, Status.ON_HOLD)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(bob.screen, PickScreen)
        await pilot.press(*"pending", "enter")
        await settle(pilot)
        severity, text = bob.notices[-1]
        assert severity == "warning"
        lines = text.splitlines()
        assert lines[0] == f"{key} was changed since you opened it; nothing of yours was saved:"
        assert lines[1:-1] == [
            "  10:35 admin: priority normal → urgent",
            "  10:37 cleo: tags +vip, status open → on hold",
        ]
        assert "UTC" not in text
        assert screen.detail is not None and screen.detail.status == "on hold"  # reloaded
    with fresh(desk_store, key) as (ticket, _):
        assert ticket.status is Status.ON_HOLD  # Cleo's change stands

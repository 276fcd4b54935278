"""Who else is on a ticket, through Pilot on SQLite and PostgreSQL at 80x24 and 120x40: Bob's
console has a ticket open; Cleo's presence is written through the service on a second store
of the same desk, as her console would. Her line appears on Bob's ticket as "viewing",
switches to "typing…", and goes when she leaves or her row goes stale; Bob typing in his
reply editor writes his own TYPING row, and closing the ticket deletes it. Presence writes
by others wake no reload of Bob's ticket, and the open screen shows only what is fresh.

Heartbeats are made short (`PresenceBar.EVERY`) so the tests wait for them instead of 10 s;
the console's clock is a variable the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.conftest import NOW, Desk
from tests.screens.conftest import SIZES, RecordingApp, make_ticket, settle, wait_for
from tests.screens.test_ticket_actions import open_ticket
from tui_helpdesk.domain import Activity
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.screens.ticket_actions import ComposeScreen
from tui_helpdesk.services import directory, presence, tickets
from tui_helpdesk.services.presence import Colleague
from tui_helpdesk.store.changes import notify_on_commit
from tui_helpdesk.store.engine import Store
from tui_helpdesk.widgets.presence import PresenceBar

pytestmark = pytest.mark.parametrize("size", SIZES)


class Clock:
    """The console's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PresenceBar, "EVERY", 0.1)
    monkeypatch.setattr(PresenceBar, "TYPING_QUIET", 0.3)


@pytest.fixture
def cleo(desk_store: Desk) -> Iterator[Store]:
    """Another console's connection to the same desk (its commits notify, as a console's)."""
    store = Store(desk_store.store.url)
    notify_on_commit(store)
    yield store
    store.dispose()


def bar_of(app: RecordingApp) -> PresenceBar:
    return app.screen.query_one(PresenceBar)


def line(app: RecordingApp) -> str:
    bar = bar_of(app)
    return str(bar.render()) if bar.display else ""


def rows_of(desk: Desk, key: str, viewer: str = "admin") -> tuple[Colleague, ...]:
    """The presence rows of `key` others than `viewer` see, straight from the database."""
    return presence.others(desk.store, key, viewer, NOW)


async def test_another_agent_appears_types_and_goes(
    desk_store: Desk, cleo: Store, size: tuple[int, int]
) -> None:
    key = make_ticket(desk_store, "Printer on fire", assignee="bob")
    clock = Clock()
    app = RecordingApp(desk_store.store, "bob", clock=clock, live=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        assert line(app) == ""  # nobody else: no line at all

        presence.announce(cleo, key, "cleo", Activity.VIEWING, NOW)
        await wait_for(pilot, lambda: line(app) == "Also here: Cleo Expert (viewing)")

        presence.announce(cleo, key, "cleo", Activity.TYPING, NOW)
        await wait_for(pilot, lambda: line(app) == "Also here: Cleo Expert (typing…)")
        assert bar_of(app).has_class("-typing")

        presence.leave(cleo, key, "cleo")
        await wait_for(pilot, lambda: line(app) == "")

        # Her console dies without leaving: her row goes stale and the line with it.
        presence.announce(cleo, key, "cleo", Activity.VIEWING, NOW)
        await wait_for(pilot, lambda: "Cleo Expert" in line(app))
        clock.now = NOW + presence.FRESH + timedelta(seconds=1)
        await wait_for(pilot, lambda: line(app) == "")
        assert app.screen is screen
        assert not [n for n in app.notices if "changed" in n[1]]  # no "ticket changed" toast


async def test_a_colleague_typing_shows_before_the_next_heartbeat(
    desk_store: Desk, cleo: Store, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob's console writes its heartbeat seldom, but reads who else is there more often:
    Cleo starting to type shows within a glance, not a heartbeat."""
    monkeypatch.setattr(PresenceBar, "EVERY", 60.0)
    monkeypatch.setattr(PresenceBar, "LOOK_EVERY", 0.1)
    key = make_ticket(desk_store, "Printer on fire", assignee="bob")
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=False)
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot, app, key)
        await wait_for(pilot, lambda: [c.login for c in rows_of(desk_store, key)] == ["bob"])
        written: list[str] = []
        announce = presence.announce
        monkeypatch.setattr(
            presence,
            "announce",
            lambda store, ticket, login, *rest: (
                written.append(login),
                announce(store, ticket, login, *rest),
            ),
        )
        presence.announce(cleo, key, "cleo", Activity.TYPING, NOW)
        await wait_for(pilot, lambda: line(app) == "Also here: Cleo Expert (typing…)")
        assert written == ["cleo"]  # Bob's glances read; they write nothing


async def test_names_are_plain_text(desk_store: Desk, cleo: Store, size: tuple[int, int]) -> None:
    with desk_store.store.write() as session:
        directory.add_agent(
            session, NOW, directory.AgentDraft("eve", "[bold red]Eve[/]", "eve@desk.example")
        )
    key = make_ticket(desk_store, "Markup", assignee="bob")
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=False)
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot, app, key)
        presence.announce(cleo, key, "eve", Activity.VIEWING, NOW)
        presence.announce(cleo, key, "cleo", Activity.TYPING, NOW)
        await wait_for(
            pilot,
            lambda: line(app) == "Also here: Cleo Expert (typing…) · [bold red]Eve[/] (viewing)",
        )


async def test_typing_in_the_editor_writes_typing_then_viewing(
    desk_store: Desk, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_ticket(desk_store, "Slow VPN", assignee="bob")
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=False)
    monkeypatch.setattr(PresenceBar, "TYPING_QUIET", 60.0)  # Bob types on and on
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot, app, key)
        await wait_for(pilot, lambda: [c.login for c in rows_of(desk_store, key)] == ["bob"])
        assert rows_of(desk_store, key)[0].activity is Activity.VIEWING

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press(*"On it")
        await wait_for(pilot, lambda: rows_of(desk_store, key)[0].activity is Activity.TYPING)
        await pilot.pause(0.5)  # heartbeats meanwhile keep it so
        assert rows_of(desk_store, key)[0].activity is Activity.TYPING

        # He pauses (after one more key): back to viewing, the editor still open.
        monkeypatch.setattr(PresenceBar, "TYPING_QUIET", 0.2)
        await pilot.press(".")
        await wait_for(pilot, lambda: rows_of(desk_store, key)[0].activity is Activity.VIEWING)
        assert isinstance(app.screen, ComposeScreen)


async def test_closing_the_ticket_leaves_it(desk_store: Desk, size: tuple[int, int]) -> None:
    key = make_ticket(desk_store, "Leaving", assignee="bob")
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=False)
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot, app, key)
        await wait_for(pilot, lambda: len(rows_of(desk_store, key)) == 1)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, TicketScreen)
        await wait_for(pilot, lambda: rows_of(desk_store, key) == ())


async def test_another_ticket_on_top_leaves_the_first(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    first = make_ticket(desk_store, "First", assignee="bob")
    second = make_ticket(desk_store, "Second", assignee="bob")
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=False)
    async with app.run_test(size=size) as pilot:
        await open_ticket(pilot, app, first)
        await wait_for(pilot, lambda: len(rows_of(desk_store, first)) == 1)
        await open_ticket(pilot, app, second)
        await wait_for(
            pilot,
            lambda: rows_of(desk_store, first) == () and len(rows_of(desk_store, second)) == 1,
        )
        await pilot.press("escape")  # back on the first: there again
        await wait_for(
            pilot,
            lambda: len(rows_of(desk_store, first)) == 1 and rows_of(desk_store, second) == (),
        )


async def test_presence_of_others_wakes_no_reload(
    desk_store: Desk, cleo: Store, size: tuple[int, int]
) -> None:
    """With live refresh on, Cleo's heartbeats show on Bob's line but never reload his
    ticket (no toast, the thread left as it is), while a real change still does."""
    key = make_ticket(desk_store, "Quiet", assignee="bob")
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=True)
    loads: list[str] = []
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        original = screen._load

        def counting(ref: str) -> object:
            loads.append(ref)
            return original(ref)

        screen._load = counting  # type: ignore[method-assign]
        # PostgreSQL publishes a backend's row counters up to a second or so after it goes
        # idle: the fixture's own writes may still wake the watcher once. Let them settle.
        await pilot.pause(2.5)
        loads.clear()
        for second, activity in enumerate((Activity.VIEWING, Activity.TYPING, Activity.VIEWING)):
            at = NOW + timedelta(seconds=second)  # each heartbeat changes her row
            presence.announce(cleo, key, "cleo", activity, at)
            await pilot.pause(0.6)  # more than a watcher poll each
        await wait_for(pilot, lambda: "Cleo Expert" in line(app))
        assert loads == []
        with cleo.write() as session:
            tickets.add_note(session, desk_store.admin, NOW, key, "A real change.")
        await wait_for(pilot, lambda: loads == [key], timeout=3)

"""Live refresh through Pilot, on SQLite and PostgreSQL, at 80x24 and 120x40: another
connection (another agent, or a cron job's process that sends no NOTIFY) changes tickets and
the open view follows within 2 seconds, the cursor staying on its ticket; a lost database
shows a banner and the console recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.conftest import NOW, Desk
from tests.screens.conftest import (
    SIZES,
    column,
    keys_shown,
    make_app,
    make_ticket,
    settle,
    table_of,
    wait_for,
)
from tui_helpdesk.domain import Priority
from tui_helpdesk.screens.context import DeskChanged
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import ticket_changes, tickets
from tui_helpdesk.store.changes import WATCHER_NAME, notify_on_commit
from tui_helpdesk.store.engine import Store
from tui_helpdesk.widgets.banner import ConnectionBanner

pytestmark = pytest.mark.parametrize("size", SIZES)
_KINDS: dict[int, str] = {}  # which kind of writer each `other` store stands for


@pytest.fixture(params=["notifying", "silent"])
def other(request: pytest.FixtureRequest, desk_store: Desk) -> Iterator[Store]:
    """A second connection to the desk: another agent's console (notifies on commit) or a
    process that does not (a cron job; it ends after its work, see `done`)."""
    store = Store(desk_store.store.url)
    if request.param == "notifying":
        notify_on_commit(store)
    _KINDS[id(store)] = request.param
    yield store
    store.dispose()


def done(store: Store) -> None:
    """A cron job's process ends after its work (its connections close)."""
    if _KINDS.get(id(store)) == "silent":
        store.dispose()


async def test_the_view_follows_changes_by_others(
    desk_store: Desk, other: Store, size: tuple[int, int]
) -> None:
    keys = [
        make_ticket(desk_store, f"Ticket {i}", assignee="bob", due_in=timedelta(hours=i + 1))
        for i in range(5)
    ]
    app = make_app(desk_store, live=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert keys_shown(app) == keys
        await pilot.press("j", "j")  # the cursor on the third ticket
        assert table_of(app).current.key == keys[2]

        # Someone else raises the priority of the fourth and takes the first away.
        with other.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, keys[3], Priority.URGENT)
            tickets.assign(session, desk_store.admin, NOW, keys[0], agent=None)
        done(other)
        await wait_for(pilot, lambda: keys_shown(app) == keys[1:], timeout=2.5)
        assert column(table_of(app), "priority")[2] == "urgent"
        assert table_of(app).current.key == keys[2]  # still on the same ticket
        await settle(pilot)
        assert str(app.screen.query_one("#count").render()) == "4 tickets"


async def test_a_ticket_leaving_the_view_keeps_the_cursor_in_place(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    keys = [
        make_ticket(desk_store, f"Ticket {i}", assignee="bob", due_in=timedelta(hours=i + 1))
        for i in range(4)
    ]
    app = make_app(desk_store, live=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("j")
        with desk_store.store.write() as session:  # the cursor's ticket is handed back
            tickets.assign(session, desk_store.admin, NOW, keys[1], agent=None)
        await wait_for(pilot, lambda: keys_shown(app) == [keys[0], *keys[2:]])
        assert table_of(app).current.key == keys[2]  # the next one took its place


async def test_new_tickets_appear_and_pages_stay_loaded(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    keys = [make_ticket(desk_store, f"Ticket {i}") for i in range(7)]
    app = make_app(desk_store, page_size=3, live=True)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("G")
        assert keys_shown(app) == keys
        assert table_of(app).current.key == keys[-1]
        newer = make_ticket(desk_store, "Arrived by mail", due_in=timedelta(minutes=5))
        await wait_for(pilot, lambda: keys_shown(app)[:1] == [newer])
        assert keys_shown(app) == [newer, *keys]  # all loaded rows read again, not page 1
        assert table_of(app).current.key == keys[-1]


async def test_the_open_ticket_screen_hears_of_changes(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    key = make_ticket(desk_store, "VPN drops", assignee="bob")
    heard: list[DeskChanged] = []
    app = make_app(desk_store, live=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        original = screen.post_message

        def spy(message: object) -> bool:
            if isinstance(message, DeskChanged):
                heard.append(message)
            return original(message)  # type: ignore[arg-type]

        screen.post_message = spy  # type: ignore[method-assign]
        with desk_store.store.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.HIGH)
        await wait_for(pilot, lambda: bool(heard))


async def test_a_lost_database_shows_a_banner_and_recovers(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    if desk_store.store.backend != "postgresql":
        pytest.skip("needs a server whose connections can be killed")
    key = make_ticket(desk_store, "VPN drops", assignee="bob")
    app = make_app(desk_store, live=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.pause(0.6)  # the watcher is connected
        with desk_store.store.engine.connect() as connection:
            killed = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": WATCHER_NAME},
            ).scalar()
        assert killed == 1
        await wait_for(pilot, lambda: bool(app.screen.query(ConnectionBanner)), timeout=3)
        assert app.database_error and "unreachable" in app.database_error
        # The watcher reconnects by itself; the banner goes and the view reloads.
        with desk_store.store.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        await wait_for(pilot, lambda: not app.screen.query(ConnectionBanner), timeout=5)
        await wait_for(pilot, lambda: column(table_of(app), "priority") == ["urgent"])
        assert app.database_error is None
        assert isinstance(app.screen, QueueScreen)

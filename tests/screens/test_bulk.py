"""Marking rows and changing them in bulk, through Pilot on SQLite and PostgreSQL: each
ticket goes through the ticket services with the version shown, so one changed meanwhile by
someone else is reported and left as they made it."""

from __future__ import annotations

from datetime import timedelta

import pytest

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
from tui_helpdesk.domain import Priority
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.services import bulk, ticket_changes, tickets
from tui_helpdesk.services.bulk import BulkAction, BulkKind, Target

pytestmark = pytest.mark.parametrize("size", SIZES)


def _mine(desk: Desk, count: int) -> list[str]:
    return [
        make_ticket(desk, f"Ticket {i}", assignee="bob", due_in=timedelta(hours=i + 1))
        for i in range(count)
    ]


async def test_mark_and_change_priority(desk_store: Desk, size: tuple[int, int]) -> None:
    keys = _mine(desk_store, 4)
    app = make_app(desk_store)  # not live: the conflict below stays unseen until sent
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("space", "space")  # marks the first two, moving down
        await pilot.press("j", "space")  # skips the third, marks the fourth
        table = table_of(app)
        assert [r.key for r in table.marked] == [keys[0], keys[1], keys[3]]
        assert column(table, "number")[0] == f"✓{keys[0]}"
        assert "3 marked" in str(screen.query_one("#count").render())

        # Someone else changes the second one meanwhile.
        with desk_store.store.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, keys[1], Priority.LOW)

        await pilot.press("b")
        await pilot.pause()
        await pilot.press(*"priority", "enter")
        await pilot.pause()
        await pilot.press(*"urgent", "enter")
        await settle(pilot)
        report = screen.last_bulk
        assert report is not None
        assert [o.key for o in report.changed] == [keys[0], keys[3]]
        assert [o.key for o in report.failed] == [keys[1]]
        # Says what changed since, who and when (`services.conflicts`, as the ticket screen).
        assert report.failed[0].summary.startswith("changed since you loaded it, left as is: ")
        assert "admin: priority normal → low" in report.failed[0].summary
        notice = app.notices[-1]
        assert notice[0] == "warning" and "2 changed, 1 not changed" in notice[1]
        assert column(table, "priority") == ["urgent", "low", "normal", "urgent"]
        assert [r.key for r in table.marked] == [keys[1]]  # the refused one stays marked
        await pilot.press("escape")
        assert table.marked == []


async def test_mark_all_and_assign_to_me(desk_store: Desk, size: tuple[int, int]) -> None:
    made = [make_ticket(desk_store, f"Unassigned {i}", group="L1") for i in range(3)]
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert sorted(keys_shown(app)) == sorted(made)
        await pilot.press("ctrl+a")
        assert len(table_of(app).marked) == 3
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("enter")  # the first entry: assign to me
        await settle(pilot)
        assert keys_shown(app) == []  # no longer unassigned
        await pilot.press("1")
        await settle(pilot)
        assert sorted(keys_shown(app)) == sorted(made)


def test_bulk_service_reports_each_ticket(desk_store: Desk, size: tuple[int, int]) -> None:
    keys = _mine(desk_store, 3)
    with desk_store.store.read() as session:
        shown = [Target(k, tickets.get_ticket(session, k).version) for k in keys]
    with desk_store.store.write() as session:
        tickets.add_note(session, desk_store.admin, NOW, keys[2], "meanwhile")
    report = bulk.apply(
        desk_store.store,
        "bob",
        BulkAction(BulkKind.ADD_TAGS, "vip  billing"),
        [*shown, Target("HD-999", 1)],
        now=NOW,
    )
    assert [o.ok for o in report.outcomes] == [True, True, False, False]
    assert report.outcomes[0].summary == "tags: billing vip"
    assert "HD-999" in report.outcomes[3].key
    again = bulk.apply(
        desk_store.store, "bob", BulkAction(BulkKind.ADD_TAGS, "vip"), shown[:1], now=NOW
    )
    assert [o.key for o in again.failed] == [keys[0]]  # shown before the tags: refused
    with pytest.raises(Exception, match="unknown value"):
        bulk.apply(desk_store.store, "bob", BulkAction(BulkKind.PRIORITY, "asap"), shown, now=NOW)

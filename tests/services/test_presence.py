"""Who has a ticket open (`services.presence`) on SQLite and PostgreSQL: one row per agent and
ticket, upserted; others are those seen within the freshness window, never oneself; leaving
deletes one's row; old rows are pruned in bulk; the foreign keys cascade and `db check` is
content; presence commits wake no desk watcher while a real change still does."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from tests.conftest import NOW, Desk
from tests.services.conftest import MakeTicket
from tui_helpdesk.domain import Activity, Priority
from tui_helpdesk.services import directory, presence, ticket_changes
from tui_helpdesk.services.checks import run_checks
from tui_helpdesk.store.changes import DeskWatcher, notify_on_commit
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent, Ticket, TicketPresence


def rows(desk: Desk) -> list[tuple[str, str, str]]:
    """Every presence row as (ticket key, login, activity), straight from the table."""
    query = (
        select(Ticket.key, Agent.login, TicketPresence.activity)
        .join(Ticket, Ticket.id == TicketPresence.ticket_id)
        .join(Agent, Agent.id == TicketPresence.agent_id)
        .order_by(Ticket.key, Agent.login)
    )
    with desk.store.read() as session:
        return [(k, login, a.value) for k, login, a in session.execute(query)]


def names(desk: Desk, key: str, viewer: str, at: object = NOW) -> list[tuple[str, str, str]]:
    seen = presence.others(desk.store, key, viewer, at)  # type: ignore[arg-type]
    return [(c.login, c.name, c.activity.value) for c in seen]


def test_announce_is_an_upsert(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket()
    presence.announce(desk_store.store, key, "bob", Activity.VIEWING, NOW)
    presence.announce(desk_store.store, key, "bob", Activity.TYPING, NOW + timedelta(seconds=3))
    assert rows(desk_store) == [(key, "bob", "typing")]
    with desk_store.store.read() as session:
        assert session.scalar(select(TicketPresence.seen_at)) == NOW + timedelta(seconds=3)
    presence.announce(desk_store.store, key, "bob", Activity.VIEWING, NOW + timedelta(seconds=9))
    assert rows(desk_store) == [(key, "bob", "viewing")]


def test_unknown_ticket_or_agent_writes_nothing(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket()
    presence.announce(desk_store.store, "HD-999", "bob", Activity.VIEWING, NOW)
    presence.announce(desk_store.store, key, "nobody", Activity.VIEWING, NOW)
    assert rows(desk_store) == []


def test_others_excludes_oneself_and_names_the_rest(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key, elsewhere = make_ticket(), make_ticket("Another")
    presence.announce(desk_store.store, key, "bob", Activity.VIEWING, NOW)
    presence.announce(desk_store.store, key, "cleo", Activity.TYPING, NOW)
    presence.announce(desk_store.store, key, "admin", Activity.VIEWING, NOW)
    presence.announce(desk_store.store, elsewhere, "cleo", Activity.VIEWING, NOW)
    assert names(desk_store, key, "bob") == [
        ("admin", "Ada Admin", "viewing"),
        ("cleo", "Cleo Expert", "typing"),
    ]
    assert names(desk_store, elsewhere, "bob") == [("cleo", "Cleo Expert", "viewing")]
    assert names(desk_store, elsewhere, "cleo") == []


def test_the_freshness_window(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket()
    presence.announce(desk_store.store, key, "cleo", Activity.VIEWING, NOW)
    assert presence.FRESH >= 2 * presence.HEARTBEAT  # a missed heartbeat is no departure
    assert names(desk_store, key, "bob", NOW + presence.FRESH) == [
        ("cleo", "Cleo Expert", "viewing")
    ]
    assert names(desk_store, key, "bob", NOW + presence.FRESH + timedelta(seconds=1)) == []
    assert rows(desk_store) == [(key, "cleo", "viewing")]  # stale, ignored, not yet pruned


def test_leave_deletes_only_ones_own_row(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key, elsewhere = make_ticket(), make_ticket("Another")
    for ticket in (key, elsewhere):
        for login in ("bob", "cleo"):
            presence.announce(desk_store.store, ticket, login, Activity.VIEWING, NOW)
    presence.leave(desk_store.store, key, "bob")
    presence.leave(desk_store.store, key, "bob")  # twice is harmless
    assert rows(desk_store) == [
        (key, "cleo", "viewing"),
        (elsewhere, "bob", "viewing"),
        (elsewhere, "cleo", "viewing"),
    ]


def test_old_rows_are_pruned(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key, elsewhere = make_ticket(), make_ticket("Another")
    old = NOW - presence.PRUNE_AFTER - timedelta(seconds=1)
    presence.announce(desk_store.store, elsewhere, "cleo", Activity.TYPING, old)
    presence.announce(desk_store.store, key, "admin", Activity.VIEWING, NOW - presence.PRUNE_AFTER)
    # Bob's heartbeat takes the long-gone row with it, on whatever ticket it was.
    presence.announce(desk_store.store, key, "bob", Activity.VIEWING, NOW)
    assert rows(desk_store) == [(key, "admin", "viewing"), (key, "bob", "viewing")]
    later = NOW + timedelta(seconds=1)
    assert presence.prune(desk_store.store, later) == 1  # maintenance: the same rule
    assert rows(desk_store) == [(key, "bob", "viewing")]


def test_rows_go_with_their_agent_and_db_check_is_content(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        directory.add_agent(session, NOW, directory.AgentDraft("dan", "Dan", "dan@desk.example"))
    presence.announce(desk_store.store, key, "dan", Activity.VIEWING, NOW)
    presence.announce(desk_store.store, key, "cleo", Activity.VIEWING, NOW)
    with desk_store.store.read() as session:
        checks = {c.name: c for c in run_checks(session)}
    assert checks["fk:ticket_presence.ticket_id"].ok
    assert checks["fk:ticket_presence.agent_id"].ok
    assert all(c.ok for c in checks.values()), [c.name for c in checks.values() if not c.ok]
    with desk_store.store.write() as session:
        session.execute(delete(Agent).where(Agent.login == "dan"))
    assert rows(desk_store) == [(key, "cleo", "viewing")]


@pytest.mark.parametrize("notify", [True, False], ids=["notify", "silent-writer"])
def test_presence_wakes_no_watcher_but_a_change_does(
    desk_store: Desk, make_ticket: MakeTicket, notify: bool
) -> None:
    """Another console (its commits notify, or not: then PostgreSQL's write counters tell)
    announces, types and leaves: this console's desk watcher sees no change; then it raises
    a priority, which is seen."""
    key = make_ticket()
    other = Store(desk_store.store.url)
    if notify:
        notify_on_commit(other)
    watcher = DeskWatcher(desk_store.store)
    try:
        assert watcher.wait(0.1) is True  # the first call always counts
        deadline = time.monotonic() + 5  # PostgreSQL publishes counters up to a second late
        while watcher.wait(1.2) and time.monotonic() < deadline:
            pass
        for activity in (Activity.VIEWING, Activity.TYPING, Activity.VIEWING):
            presence.announce(other, key, "cleo", activity, NOW)
            assert watcher.wait(0.4) is False
        presence.leave(other, key, "cleo")
        assert watcher.wait(1.2) is False
        with other.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.HIGH)
        if not notify:
            other.dispose()  # its counters are published when its connection ends
        seen = False
        deadline = time.monotonic() + 3
        while not seen and time.monotonic() < deadline:
            seen = watcher.wait(0.3)
        assert seen, "the change was not seen"
    finally:
        watcher.close()
        other.dispose()

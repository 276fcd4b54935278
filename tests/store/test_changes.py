"""The "desk changed" signal on SQLite and PostgreSQL: commits by another connection (with or
without the NOTIFY hook, as a cron job in another process would be) wake the watcher; reads
do not; a killed connection is reported and comes back by itself."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from tests.conftest import NOW, Desk
from tests.screens.conftest import make_ticket
from tui_helpdesk.domain import Priority
from tui_helpdesk.services import ticket_changes
from tui_helpdesk.store.changes import WATCHER_NAME, DeskWatcher, WatchLost, notify_on_commit
from tui_helpdesk.store.engine import Store


def _settled(watcher: DeskWatcher) -> None:
    """Swallow what happened before the test's change (the first call counts as a change;
    PostgreSQL publishes write counters up to a second late)."""
    assert watcher.wait(0.1) is True
    deadline = time.monotonic() + 5
    while watcher.wait(1.2) and time.monotonic() < deadline:
        pass


def _seen_within(watcher: DeskWatcher, seconds: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if watcher.wait(0.2):
            return time.monotonic() - start
    return None


@pytest.mark.parametrize("notify", [True, False], ids=["notify", "silent-writer"])
def test_a_commit_elsewhere_is_seen(desk_store: Desk, notify: bool) -> None:
    key = make_ticket(desk_store, "VPN drops")
    other = Store(desk_store.store.url)  # another agent, or a cron job's process
    if notify:
        notify_on_commit(other)
    watcher = DeskWatcher(desk_store.store)
    try:
        _settled(watcher)
        with desk_store.store.read() as session:  # reading is no change
            session.execute(text("SELECT count(*) FROM tickets")).scalar()
        assert watcher.wait(0.3) is False
        with other.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        if not notify:
            other.dispose()  # a cron job's process ends after its work
        took = _seen_within(watcher, 2.0)
        assert took is not None, "the change was not seen within 2 s"
    finally:
        watcher.close()
        other.dispose()


def test_notify_wakes_postgres_at_once(desk_store: Desk) -> None:
    if desk_store.store.backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    key = make_ticket(desk_store, "VPN drops")
    other = Store(desk_store.store.url)
    notify_on_commit(other)
    notify_on_commit(other)  # twice is once
    watcher = DeskWatcher(desk_store.store)
    try:
        _settled(watcher)
        with other.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.HIGH)
        start = time.monotonic()
        assert watcher.wait(5.0) is True
        assert time.monotonic() - start < 1.0  # woken, not polled
    finally:
        watcher.close()
        other.dispose()


def test_a_lost_connection_is_reported_then_recovers(desk_store: Desk) -> None:
    if desk_store.store.backend != "postgresql":
        pytest.skip("needs a server whose connections can be killed")
    watcher = DeskWatcher(desk_store.store)
    try:
        _settled(watcher)
        with desk_store.store.engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": WATCHER_NAME},
            )
        with pytest.raises(WatchLost, match="database unreachable"):
            for _ in range(10):
                watcher.wait(0.3)
        assert watcher.wait(0.1) is True  # connected again: counts as a change
        assert watcher.wait(0.1) in (True, False)
    finally:
        watcher.close()


def test_the_sqlite_footprint_covers_every_table_whatever_was_imported_first() -> None:
    """Every command opens this module without the models; the watcher's statement still
    reads every desk table (a new message, a new event or a new contact moves it)."""
    code = (
        "import sys; from tui_helpdesk.store import changes; "
        "assert 'tui_helpdesk.store.models' not in sys.modules; "
        "print(changes._sqlite_footprint())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for table in ("tickets", "messages", "ticket_events", "contacts", "articles"):
        assert f"(SELECT max(rowid) FROM {table})" in result.stdout
    assert "ticket_presence" not in result.stdout

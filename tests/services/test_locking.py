"""Optimistic locking: a change based on a stale version raises `Conflict` naming who changed
the ticket, and nothing is written; also when two units of work really race (two Store
objects on the same database, as two consoles would be)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.domain import EventKind, Priority, Status
from tui_helpdesk.services import audit, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.directory import actor_for
from tui_helpdesk.services.errors import Conflict
from tui_helpdesk.store.engine import Store

LATER = NOW + timedelta(minutes=7)


@pytest.fixture
def second_store(desk_store: Desk) -> Iterator[Store]:
    """Another process's view of the same database."""
    other = Store(desk_store.store.url)
    yield other
    other.dispose()


def _stale_calls(cleo: Actor) -> dict[str, Callable[[Session, str, int], object]]:
    return {
        "status": lambda s, k, v: tickets.change_status(
            s, cleo, LATER, k, Status.PENDING, expected_version=v
        ),
        "assign": lambda s, k, v: tickets.assign(s, cleo, LATER, k, group="L2", expected_version=v),
        "priority": lambda s, k, v: tickets.change_priority(
            s, cleo, LATER, k, Priority.LOW, expected_version=v
        ),
        "category": lambda s, k, v: tickets.change_category(
            s, cleo, LATER, k, "Billing", expected_version=v
        ),
        "tags": lambda s, k, v: tickets.change_tags(
            s, cleo, LATER, k, add=["x"], expected_version=v
        ),
    }


def test_stale_version_names_who_and_writes_nothing(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    with desk_store.store.read() as session:
        cleo = actor_for(session, "cleo")
    for name, call in _stale_calls(cleo).items():
        key = make_ticket(name)
        with desk_store.store.write() as session:
            tickets.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        before = look(key)
        with pytest.raises(Conflict) as info, desk_store.store.write() as session:
            call(session, key, 1)
        conflict = info.value
        assert (conflict.key, conflict.changed_by, conflict.changed_at) == (key, "admin", NOW)
        assert (conflict.expected_version, conflict.current_version) == (1, 2)
        assert conflict.change == "priority: normal -> urgent"
        assert str(conflict) == (
            f"{key} was changed by admin at 2026-11-23 09:30 UTC (priority: normal -> urgent) "
            "since you loaded it [version 1 -> 2]; nothing was saved: reload and try again"
        )
        assert look(key) == before, name
        # With the current version the same change goes through.
        with desk_store.store.write() as session:
            call(session, key, 2)
        assert look(key).version == 3


def _message_calls(
    cleo: Actor,
) -> dict[str, Callable[[Session, str, int, int | None], object]]:
    return {
        "reply": lambda s, k, v, seen: tickets.reply(
            s, cleo, LATER, k, "hi", expected_version=v, seen_event=seen
        ),
        "note": lambda s, k, v, seen: tickets.add_note(
            s, cleo, LATER, k, "n", expected_version=v, seen_event=seen
        ),
    }


def _newest_event(desk: Desk, key: str) -> int:
    with desk.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        return max(e.id for e in tickets.ticket_events(session, ticket))


@pytest.mark.parametrize("by_event", [False, True], ids=["by-version", "by-event"])
def test_a_message_is_refused_only_when_the_conversation_or_the_status_moved(
    desk_store: Desk, make_ticket: MakeTicket, look: Look, by_event: bool
) -> None:
    """A reply or note is written against the conversation shown: another save of the
    ticket's fields, an escalation's move or an automation's note meanwhile lets it through
    (known by the newest event shown, or by the version alone, as the CLI knows it); a
    newer message, a colleague's note or a status change refuses it, naming that change."""
    admin = desk_store.admin
    quiet: dict[str, Callable[[Session, str], object]] = {
        "priority": lambda s, k: tickets.change_priority(s, admin, NOW, k, Priority.URGENT),
        "tags": lambda s, k: tickets.change_tags(s, admin, NOW, k, add=["vip"]),
        "group": lambda s, k: tickets.assign(s, admin, NOW, k, group="L2"),
        "rule note": lambda s, k: tickets.add_note(s, admin, NOW, k, "fyi", rule="warn"),
    }
    moving: dict[str, Callable[[Session, str], object]] = {
        "status": lambda s, k: tickets.change_status(s, admin, NOW, k, Status.ON_HOLD),
        "reply": lambda s, k: tickets.reply(s, admin, NOW, k, "Done already"),
        "note": lambda s, k: tickets.add_note(s, admin, NOW, k, "I am calling them"),
        "customer": lambda s, k: tickets.add_customer_message(
            s, admin, NOW, k, tickets.get_ticket(s, k).requester, "Any news?"
        ),
        "reply, its mail bounced": _reply_then_bounce(admin),
    }
    with desk_store.store.read() as session:
        cleo = actor_for(session, "cleo")
    for name, call in _message_calls(cleo).items():
        for what, change in {**quiet, **moving}.items():
            key = make_ticket(f"{name} after {what}")
            seen = _newest_event(desk_store, key) if by_event else None
            with desk_store.store.write() as session:
                change(session, key)
            # A later save, quiet: the one before it decides.
            with desk_store.store.write() as session:
                tickets.change_priority(session, admin, LATER, key, Priority.HIGH)
            before = look(key)
            if what in quiet:
                with desk_store.store.write() as session:
                    call(session, key, 1, seen)
                assert look(key).version == before.version + 1, (name, what)
                continue
            with pytest.raises(Conflict) as info, desk_store.store.write() as session:
                call(session, key, 1, seen)
            assert look(key) == before, (name, what)
            assert info.value.current_version == before.version


def _reply_then_bounce(admin: Actor) -> Callable[[Session, str], object]:
    """A reply, then its mail bounced: the bounce is an event beside the saves, which
    moves no version (`ticket_core.NOT_SAVES`), and must not hide the reply before it."""

    def change(session: Session, key: str) -> None:
        tickets.reply(session, admin, NOW, key, "Done already")
        ticket = tickets.get_ticket(session, key)
        audit.record(
            session,
            ticket,
            Actor.system("mail-delivery"),
            NOW + timedelta(minutes=1),
            EventKind.MAIL,
            field="delivery",
            new="reply mail to anna@acme.example not delivered: 550",
            rule="mail-delivery",
        )

    return change


def test_reopen_with_stale_version(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.admin, NOW, key, Status.RESOLVED)
    before = look(key)
    with pytest.raises(Conflict, match="changed by admin"), desk_store.store.write() as session:
        tickets.reopen(session, desk_store.agent, LATER, key, expected_version=1)
    assert look(key) == before


def test_two_stores_same_version_second_save_conflicts(
    desk_store: Desk, second_store: Store, make_ticket: MakeTicket, look: Look
) -> None:
    """Two consoles show version 1; the first saves; the second's save is refused."""
    key = make_ticket()
    with second_store.read() as session:
        shown = tickets.get_ticket(session, key).version
    with desk_store.store.write() as session:
        tickets.assign(session, desk_store.agent, LATER, key, agent="bob", expected_version=shown)
    with (
        pytest.raises(Conflict, match=f"^{key} was changed by bob") as info,
        second_store.write() as session,
    ):
        tickets.change_priority(
            session, desk_store.admin, LATER, key, Priority.LOW, expected_version=shown
        )
    assert info.value.current_version == shown + 1
    seen = look(key)
    assert (seen.doc["assignee"], seen.doc["priority"], seen.version) == ("bob", "normal", 2)


def test_stale_object_saved_directly_conflicts(
    desk_store: Desk, second_store: Store, make_ticket: MakeTicket, look: Look
) -> None:
    """The ORM path: an object loaded at version 1 and saved after someone else's change
    neither overwrites nor fails anonymously."""
    key = make_ticket()
    with second_store.write() as session:
        stale = tickets.get_ticket(session, key)  # kept after commit (no expiry on commit)
    with desk_store.store.write() as session:
        tickets.change_priority(session, desk_store.agent, LATER, key, Priority.HIGH)
    with pytest.raises(Conflict, match="changed by bob") as info, second_store.write() as session:
        session.add(stale)
        stale.subject = "overwritten?"
        stale.priority = Priority.LOW
        tickets.save(session, stale)
    assert (info.value.expected_version, info.value.current_version) == (1, 2)
    seen = look(key)
    assert (seen.doc["subject"], seen.doc["priority"], seen.version) == (
        "Printer on fire",
        "high",
        2,
    )


def test_identity_map_does_not_hide_a_concurrent_change(
    desk_store: Desk, second_store: Store, make_ticket: MakeTicket, look: Look
) -> None:
    """A session that read the ticket before another unit of work changed it must see the
    new version when the service locks the row (PostgreSQL: reads do not block writers)."""
    if desk_store.store.backend == "sqlite":
        pytest.skip("a SQLite write transaction holds the database lock from its first read")
    key = make_ticket()
    with second_store.write() as session:
        shown = tickets.get_ticket(session, key)
        assert shown.version == 1
        with desk_store.store.write() as other:
            tickets.change_priority(other, desk_store.agent, LATER, key, Priority.HIGH)
        with pytest.raises(Conflict, match="changed by bob") as info:
            tickets.change_status(
                session, desk_store.admin, LATER, key, Status.OPEN, expected_version=1
            )
        assert info.value.current_version == 2
        session.rollback()
    assert look(key).doc["priority"] == "high"


def _wait_until_blocked(store: Store) -> None:
    """Give the racing writer time to reach the lock (PostgreSQL: until it waits on it)."""
    if store.backend != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + 5
    with store.engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            ).scalar_one()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.02)


def test_real_race_second_writer_waits_then_conflicts(
    desk_store: Desk, second_store: Store, make_ticket: MakeTicket, look: Look
) -> None:
    """Two writers start from version 1 at the same time: the second waits for the first's
    lock, then finds the version moved and raises Conflict naming the first agent."""
    key = make_ticket()
    first_changed = threading.Event()
    release = threading.Event()
    outcome: dict[str, object] = {}

    def first_writer() -> None:
        with desk_store.store.write() as session:
            tickets.change_priority(
                session, desk_store.agent, LATER, key, Priority.URGENT, expected_version=1
            )
            first_changed.set()
            release.wait(10)  # hold the lock (and the uncommitted change) until told

    def second_writer() -> None:
        try:
            with second_store.write() as session:
                tickets.change_status(
                    session, desk_store.admin, LATER, key, Status.PENDING, expected_version=1
                )
            outcome["result"] = "saved"
        except Conflict as exc:
            outcome["result"] = exc

    one = threading.Thread(target=first_writer)
    one.start()
    assert first_changed.wait(10)
    two = threading.Thread(target=second_writer)
    two.start()
    _wait_until_blocked(desk_store.store)
    assert "result" not in outcome  # still waiting for the first writer
    release.set()
    one.join(20)
    two.join(20)
    conflict = outcome["result"]
    assert isinstance(conflict, Conflict), conflict
    assert conflict.changed_by == "bob"
    assert (conflict.expected_version, conflict.current_version) == (1, 2)
    seen = look(key)
    assert (seen.status, seen.doc["priority"], seen.version) == ("new", "urgent", 2)

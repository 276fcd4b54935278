"""`services.conflicts`: a save refused for someone else's change, told as every change made
since what the agent was shown (by the newest event shown, or only by the version), each with
who and when in the agent's zone; the same words for the console, bulk changes and the CLI.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW, Desk
from tui_helpdesk.domain import Priority, Status
from tui_helpdesk.services import conflicts, ticket_changes, tickets
from tui_helpdesk.services.errors import Conflict
from tui_helpdesk.store.models import TicketEvent

ROME = ZoneInfo("Europe/Rome")  # UTC+1 in November


def _ticket(desk: Desk) -> tuple[str, int, int]:
    """A ticket, its version and newest event id as an agent was shown them."""
    with desk.store.write() as session:
        ticket = tickets.create_ticket(
            session, desk.agent, NOW, tickets.NewTicket(subject="Printer", requester="p@x.example")
        )
        seen = session.scalar(
            select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id)
        )
        return ticket.key, ticket.version, seen or 0


def _meanwhile(desk: Desk, key: str, saves: int = 2) -> None:
    """Someone else's saves: a priority, a status, then notes."""
    with desk.store.write() as session:
        ticket_changes.change_priority(session, desk.admin, NOW, key, Priority.URGENT)
    if saves > 1:
        with desk.store.write() as session:
            tickets.change_status(
                session, desk.admin, NOW + timedelta(minutes=2), key, Status.PENDING
            )
    for i in range(saves - 2):
        with desk.store.write() as session:
            tickets.add_note(session, desk.admin, NOW + timedelta(minutes=3 + i), key, f"n{i}")


def _refused(desk: Desk, key: str, version: int) -> Conflict:
    with pytest.raises(Conflict) as refused, desk.store.write() as session:
        ticket_changes.change_priority(
            session, desk.agent, NOW, key, Priority.LOW, expected_version=version
        )
    return refused.value


def test_every_change_since_the_version_in_the_agents_zone(desk_store: Desk) -> None:
    key, version, seen = _ticket(desk_store)
    _meanwhile(desk_store, key)
    conflict = _refused(desk_store, key, version)
    with desk_store.store.read() as session:
        by_version = conflicts.explain(session, conflict, zone=ROME, now=NOW)
        by_event = conflicts.explain(session, conflict, zone=ROME, now=NOW, seen_event=seen)
        line = conflicts.explain_line(session, conflict, zone=ROME)
    expected = (
        f"{key} was changed since you opened it; nothing of yours was saved:\n"
        "  10:30 admin: priority normal → urgent\n"
        "  10:32 admin: status new → pending\n"
        "The ticket now shows their changes: try again on it."
    )
    assert by_version == by_event == expected
    # Without `now`, dated (the CLI); one line (bulk changes, the CLI).
    assert line == (
        "changed since you loaded it, left as is: 2026-11-23 10:30 admin: priority normal → "
        "urgent; 2026-11-23 10:32 admin: status new → pending"
    )


def test_only_the_saves_missed_and_a_count_beyond_the_list(desk_store: Desk) -> None:
    key, _version, _seen = _ticket(desk_store)
    _meanwhile(desk_store, key, saves=conflicts.CONFLICT_CHANGES + 3)
    with desk_store.store.read() as session:
        current = tickets.get_ticket(session, key).version
    # Shown the version after the first two saves: those are not news.
    conflict = _refused(desk_store, key, current - conflicts.CONFLICT_CHANGES - 1)
    with desk_store.store.read() as session:
        found = conflicts.account(session, conflict)
        lines = conflicts.change_lines(found, ROME, NOW, " (history: h)")
    assert len(found.changes) == conflicts.CONFLICT_CHANGES and found.more == 1
    assert all(c.said == ("added an internal note",) for c in found.changes)
    assert lines[-1] == "and 1 more (history: h)"
    assert lines[-2].endswith("admin: added an internal note")


def test_by_the_event_shown_the_newest_saves_are_listed_and_the_rest_counted(
    desk_store: Desk,
) -> None:
    key, version, seen = _ticket(desk_store)
    _meanwhile(desk_store, key, saves=conflicts.CONFLICT_CHANGES + 3)
    conflict = _refused(desk_store, key, version)
    with desk_store.store.read() as session:
        found = conflicts.account(session, conflict, seen_event=seen)
    # The priority and the status (the oldest two saves) and the first note are counted;
    # the newest notes, the last one among them, are listed.
    assert len(found.changes) == conflicts.CONFLICT_CHANGES and found.more == 3
    assert all(c.said == ("added an internal note",) for c in found.changes)
    assert found.changes[-1].at == NOW + timedelta(minutes=3 + conflicts.CONFLICT_CHANGES)


def test_a_conflict_without_readable_changes_tells_its_own_account(desk_store: Desk) -> None:
    gone = Conflict("HD-999", 1, 2, "cleo", NOW, "status: open -> pending")
    with desk_store.store.read() as session:
        line = conflicts.explain_line(session, gone, zone=ROME, now=NOW)
    assert line.endswith(": by cleo at 10:30 (status: open -> pending)")

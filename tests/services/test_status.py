"""Status changes through the service: every transition of the workflow allowed or refused,
audited, and a refused one writes nothing; reopening within and beyond the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW, Desk
from tests.rules.test_workflow import ALL_PAIRS, ALLOWED
from tests.services.conftest import Look, MakeTicket, events_of
from tui_helpdesk.domain import EventKind, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, tickets
from tui_helpdesk.services.errors import InvalidTransition
from tui_helpdesk.services.serialize import iso

# How to bring a new ticket to each status with allowed steps.
PATH = {
    Status.NEW: [],
    Status.OPEN: [Status.OPEN],
    Status.PENDING: [Status.PENDING],
    Status.ON_HOLD: [Status.ON_HOLD],
    Status.RESOLVED: [Status.RESOLVED],
    Status.CLOSED: [Status.RESOLVED, Status.CLOSED],
}


def _bring(desk_store: Desk, make_ticket: MakeTicket, status: Status) -> str:
    key = make_ticket()
    for step in PATH[status]:
        with desk_store.store.write() as session:
            tickets.change_status(session, desk_store.agent, NOW, key, step)
    return key


def test_every_allowed_transition(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    later = NOW + timedelta(hours=1)
    for current, target in ALLOWED:
        key = _bring(desk_store, make_ticket, current)
        before = look(key)
        with desk_store.store.write() as session:
            ticket = tickets.change_status(
                session, desk_store.admin, later, key, target, expected_version=before.version
            )
            assert ticket.status is target
        after = look(key)
        assert after.status == target.value
        assert after.version == before.version + 1
        assert after.doc["updated_at"] == iso(later)
        assert after.doc["updated_by"] == "admin"
        new_events = after.events[len(before.events) :]
        assert ("status", "admin", "status", current.value, target.value) in new_events
        if target is Status.RESOLVED:
            assert after.doc["resolved_at"] == iso(later)
        if target is Status.CLOSED:
            assert after.doc["closed_at"] == iso(later)
        if current is Status.RESOLVED and target is Status.OPEN:
            assert after.doc["resolved_at"] is None
            assert ("reopened", "admin", "status", "resolved", "open") in new_events


def test_every_refused_transition_writes_nothing(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    refused = [(a, b) for a, b in ALL_PAIRS if (a, b) not in ALLOWED]
    assert len(refused) == 15
    for current, target in refused:
        key = _bring(desk_store, make_ticket, current)
        before = look(key)
        with desk_store.store.write() as session:
            with pytest.raises(InvalidTransition, match=f"cannot go from {current.value} to"):
                tickets.change_status(session, desk_store.admin, NOW, key, target)
            # The caller may go on in the same unit of work: nothing is pending.
            assert not session.new and not session.dirty
        after = look(key)
        assert (after.status, after.version, after.events) == (
            before.status,
            before.version,
            before.events,
        )


def test_closed_refusal_says_how_to_go_on(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = _bring(desk_store, make_ticket, Status.CLOSED)
    with desk_store.store.write() as session, pytest.raises(InvalidTransition, match="reopened"):
        tickets.change_status(session, desk_store.agent, NOW, key, Status.PENDING)


def test_same_status_changes_nothing(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = _bring(desk_store, make_ticket, Status.OPEN)
    before = look(key)
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.OPEN)
    assert look(key) == before


def test_reopen_resolved(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = _bring(desk_store, make_ticket, Status.RESOLVED)
    with desk_store.store.write() as session:
        tickets.reopen(session, desk_store.agent, NOW, key, reason="not fixed")
    seen = look(key)
    assert seen.status == "open"
    assert seen.doc["resolved_at"] is None
    [event] = events_of(seen, EventKind.REOPENED)
    assert event == ("reopened", "bob", "status", "resolved", "open")


def test_reopen_window(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    """Closed at NOW; the desk reopens within 14 days (the default), not after."""
    inside = _bring(desk_store, make_ticket, Status.CLOSED)
    outside = _bring(desk_store, make_ticket, Status.CLOSED)
    with desk_store.store.write() as session:
        tickets.reopen(session, desk_store.agent, NOW + timedelta(days=14), inside)
    assert look(inside).status == "open"
    assert look(inside).doc["closed_at"] is None
    before = look(outside)
    late = NOW + timedelta(days=14, seconds=1)
    with (
        desk_store.store.write() as session,
        pytest.raises(InvalidTransition, match="closed more than 14 days ago"),
    ):
        tickets.reopen(session, desk_store.agent, late, outside)
    assert look(outside) == before


def test_reopen_window_from_the_rules(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(
            session, desk_store.admin, NOW, parse_rules("[desk]\nreopen_window_days = 2\n")
        )
    key = _bring(desk_store, make_ticket, Status.CLOSED)
    with (
        desk_store.store.write() as session,
        pytest.raises(InvalidTransition, match="more than 2 days"),
    ):
        tickets.reopen(session, desk_store.agent, NOW + timedelta(days=3), key)
    with desk_store.store.write() as session:
        tickets.reopen(session, desk_store.agent, NOW + timedelta(days=2), key)
    assert look(key).status == "open"


def test_reopen_active_ticket_refused(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = _bring(desk_store, make_ticket, Status.PENDING)
    with (
        desk_store.store.write() as session,
        pytest.raises(InvalidTransition, match="is pending, not resolved or closed"),
    ):
        tickets.reopen(session, desk_store.agent, NOW, key)

"""Auto-close: resolved tickets close after `[desk] auto_close_days` without objection,
audited as the desk's close, a batch per transaction, idempotent; a dry run keeps nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.domain import Status
from tui_helpdesk.services import auto_close, tickets
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.models import Ticket

DAY = timedelta(days=1)


def _resolve(desk_store: Desk, key: str, at: datetime) -> None:
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, at, key, Status.RESOLVED)


def _customer_says(desk_store: Desk, key: str, at: datetime) -> None:
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        tickets.add_customer_message(session, desk_store.agent, at, key, ticket.requester, "No!")


def test_the_desk_waits_five_days_by_default(desk_store: Desk) -> None:
    with desk_store.store.read() as session:
        assert desk_settings(session).auto_close_days == 5


def test_old_resolutions_close_recent_ones_stay(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    old, recent, active = make_ticket("Old"), make_ticket("Recent"), make_ticket("Active")
    _resolve(desk_store, old, NOW)
    _resolve(desk_store, recent, NOW + 4 * DAY)
    before = look(old)
    at = NOW + 6 * DAY
    result = auto_close.close_resolved(desk_store.store, at)
    assert [line.ticket for line in result.closed] == [old]
    assert result.closed[0].resolved_at == NOW and result.days == 5 and result.failed == []
    seen = look(old)
    assert seen.status == "closed" and seen.version == before.version + 1
    assert seen.doc["closed_at"] == "2026-11-29T09:30:00Z"
    assert ("status", "auto-close", "status", "resolved", "closed") in seen.events
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, old)
        rules = [e.rule for e in tickets.ticket_events(session, ticket) if e.new == "closed"]
        assert rules == ["auto-close: no objection in 5 days"]
    assert (look(recent).status, look(active).status) == ("resolved", "new")

    # Idempotent: a second run at the same instant finds nothing.
    again = auto_close.close_resolved(desk_store.store, at)
    assert again.closed == [] and again.failed == []
    assert look(old).version == seen.version

    # Exactly five days after its resolution, the recent one closes.
    later = auto_close.close_resolved(desk_store.store, NOW + 9 * DAY)
    assert [line.ticket for line in later.closed] == [recent]


def test_the_delay_counts_from_the_last_resolution(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    _resolve(desk_store, key, NOW)
    _customer_says(desk_store, key, NOW + DAY)  # an objection reopens it
    assert look(key).status == "open"
    _resolve(desk_store, key, NOW + 3 * DAY)
    assert auto_close.close_resolved(desk_store.store, NOW + 6 * DAY).closed == []
    assert look(key).status == "resolved"
    closed = auto_close.close_resolved(desk_store.store, NOW + 8 * DAY).closed
    assert [(line.ticket, line.resolved_at) for line in closed] == [(key, NOW + 3 * DAY)]


def test_a_dry_run_says_what_it_would_do_and_keeps_nothing(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    _resolve(desk_store, key, NOW)
    before = look(key)
    seen: list[str] = []
    result = auto_close.close_resolved(
        desk_store.store,
        NOW + 6 * DAY,
        dry_run=True,
        progress=lambda line: seen.append(line.ticket),
    )
    assert [line.ticket for line in result.closed] == seen == [key]
    assert look(key) == before


def test_batches_go_on_in_keyset_order(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    keys = [make_ticket(f"T{n}") for n in range(5)]
    for n, key in enumerate(reversed(keys)):  # resolution order differs from ids
        _resolve(desk_store, key, NOW + n * timedelta(hours=1))
    # Same instant for two of them: the id breaks the tie.
    extra = make_ticket("Tie")
    _resolve(desk_store, extra, NOW + 4 * timedelta(hours=1))
    dry = auto_close.close_resolved(desk_store.store, NOW + 7 * DAY, dry_run=True, batch=2)
    expected = [*reversed(keys), extra]
    assert [line.ticket for line in dry.closed] == expected
    done = auto_close.close_resolved(desk_store.store, NOW + 7 * DAY, batch=2)
    assert [line.ticket for line in done.closed] == expected
    assert {look(key).status for key in expected} == {"closed"}


def test_nothing_resolved_is_one_probe(desk_store: Desk, make_ticket: MakeTicket) -> None:
    make_ticket()
    result = auto_close.close_resolved(desk_store.store, NOW + 30 * DAY)
    assert (result.closed, result.failed, result.days) == ([], [], None)


def test_a_failing_ticket_is_counted_and_the_rest_close(
    desk_store: Desk, make_ticket: MakeTicket, look: Look, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, broken, last = make_ticket("A"), make_ticket("B"), make_ticket("C")
    for key in (first, broken, last):
        _resolve(desk_store, key, NOW)
    real = auto_close.close_ticket

    def close(session: Session, ticket: Ticket, now: datetime, rule: str) -> None:
        real(session, ticket, now, rule)
        if ticket.key == broken:
            raise ValidationError("kept open by hand")

    monkeypatch.setattr(auto_close, "close_ticket", close)
    result = auto_close.close_resolved(desk_store.store, NOW + 6 * DAY)
    assert [line.ticket for line in result.closed] == [first, last]
    assert result.failed == [(broken, "kept open by hand")]
    assert [look(k).status for k in (first, broken, last)] == ["closed", "resolved", "closed"]

"""Auto-close: resolved tickets close after `[desk] auto_close_days` without objection (the
cron run `helpdesk auto-close`, DESIGN §3).

A resolved ticket waits for the customer's confirmation. A customer reply reopens it
(`tickets.add_customer_message`), so a ticket still resolved `auto_close_days` calendar days
after its last resolution had no objection: it is closed as an agent's close is (the status
change checked by the workflow, audited with the rule saying why, clocks synced, the version
moved on so a console holding the ticket sees the change), by the desk's own actor.

The run is structured as the escalation run (`services.escalation`): the caller holds the
job lock (`store.locks.job_lock`), candidates are read a batch per transaction in keyset
order of (resolved_at, id), each ticket is closed in a savepoint so one failing ticket is
counted and left while the rest of its batch commits, and a dry run does the same work and
rolls each batch back. Running again closes nothing more: closed tickets leave the range.

Candidates are the index range `status = 'resolved'` of `ix_tickets_status_updated`: the
tickets waiting for confirmation, a few days' resolutions, sorted by (resolved_at, id) in the
batch query. `ix_tickets_resolved (resolved_at, id)` would be the wrong range: closed tickets
keep their `resolved_at`, so `resolved_at <= cutoff` there is the desk's whole history.

Cron's common run with no resolved ticket is one Core probe (the oldest resolution of a
resolved ticket), without the ORM, the models or the rules; they load once it finds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import column, func, select, table, tuple_

from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tui_helpdesk.store.models import Ticket

BATCH = 500
ACTOR_LOGIN = "auto-close"
RESOLVED = "resolved"  # `Status.RESOLVED` as stored, without importing the domain for the probe

# What the probe reads, described without the ORM (as `escalation._DUE`).
_TICKETS = table("tickets", column("status"), column("resolved_at", UTCDateTime()))


def reason(days: int) -> str:
    """The rule named on the audit event of an auto-close."""
    return f"auto-close: no objection in {days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class ClosedLine:
    """One ticket the run closed (or would close)."""

    ticket: str
    resolved_at: datetime


@dataclass
class CloseResult:
    now: datetime
    dry_run: bool
    days: int | None = None  # the desk's auto_close_days, once read
    closed: list[ClosedLine] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (ticket, reason)


def _oldest_resolution(store: Store) -> datetime | None:
    with store.read_core() as connection:
        return connection.execute(
            select(func.min(_TICKETS.c.resolved_at)).where(_TICKETS.c.status == RESOLVED)
        ).scalar()


def close_resolved(
    store: Store,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Callable[[ClosedLine], None] | None = None,
) -> CloseResult:
    """Close every ticket resolved at least `auto_close_days` days before `now`, a batch
    per transaction; each closed ticket is passed to `progress` once its batch committed
    (or, in a dry run, was rolled back). The caller holds the job lock."""
    result = CloseResult(now=now, dry_run=dry_run)
    oldest = _oldest_resolution(store)
    if oldest is None or oldest > now:
        return result
    after: tuple[datetime, int] | None = None
    while True:
        page = _batch(store, now, after, batch, dry_run, result)
        if page is None:
            break
        after, count, lines = page
        result.closed.extend(lines)
        if progress is not None:
            for line in lines:
                progress(line)
        if count < batch:
            break
    return result


def _candidates(
    session: Session, cutoff: datetime, after: tuple[datetime, int] | None, limit: int
) -> list[Ticket]:
    from tui_helpdesk.domain import Status
    from tui_helpdesk.store.models import Ticket

    query = select(Ticket).where(Ticket.status == Status.RESOLVED, Ticket.resolved_at <= cutoff)
    if after is not None:
        query = query.where(tuple_(Ticket.resolved_at, Ticket.id) > tuple_(*after))
    query = query.order_by(Ticket.resolved_at, Ticket.id).limit(limit)
    # Locked for the batch (PostgreSQL; a SQLite write transaction holds the database): a
    # customer's reply that reopens a ticket meanwhile is read after it, never under it.
    return list(session.scalars(query.with_for_update(of=Ticket)))


def _batch(
    store: Store,
    now: datetime,
    after: tuple[datetime, int] | None,
    limit: int,
    dry_run: bool,
    result: CloseResult,
) -> tuple[tuple[datetime, int], int, list[ClosedLine]] | None:
    """One batch in its own transaction: (cursor after it, tickets read, tickets closed),
    or None when nothing more is old enough."""
    from tui_helpdesk.services.desk import desk_settings
    from tui_helpdesk.services.errors import ServiceError

    with store.write() as session:
        days = desk_settings(session).auto_close_days
        result.days = days
        page = _candidates(session, now - timedelta(days=days), after, limit)
        if not page:
            return None
        last = page[-1]
        assert last.resolved_at is not None
        cursor = (last.resolved_at, last.id)
        lines: list[ClosedLine] = []
        for ticket in page:
            key, resolved_at = ticket.key, ticket.resolved_at
            assert resolved_at is not None
            try:
                with session.begin_nested():
                    close_ticket(session, ticket, now, reason(days))
            except ServiceError as exc:  # counted and reported; the rest of the batch goes on
                result.failed.append((key, str(exc)))
                continue
            lines.append(ClosedLine(key, resolved_at))
        if dry_run:
            # The batch ran for real inside the transaction, so what is printed is exactly
            # what a run would do now; rolling back keeps none of it.
            session.rollback()
    return cursor, len(page), lines


def close_ticket(session: Session, ticket: Ticket, now: datetime, rule: str) -> None:
    """Close a resolved ticket on the desk's behalf, as an agent's close does, the audit
    event naming `rule`. The caller has the ticket loaded (and locked)."""
    from tui_helpdesk.domain import Status
    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.services.ticket_core import _set_status, save, touch
    from tui_helpdesk.services.tickets import _check_transition

    actor = Actor.system(ACTOR_LOGIN)
    _check_transition(ticket, Status.CLOSED)
    _set_status(session, ticket, actor, now, Status.CLOSED, rule=rule)
    touch(session, ticket, actor, now)
    save(session, ticket)

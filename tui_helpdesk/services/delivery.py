"""Delivering the outbox (DESIGN §6): the sender loop behind `helpdesk mail send`.

Rows are claimed set-based, a batch at a time: one short transaction selects the due queued
rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so overlapping senders take disjoint rows),
counts the attempt and pushes `next_attempt_at` a lease ahead, so no other sender sees them
while this one works. The mail goes out with no transaction open (the network is slow), and
each outcome is written at once in its own short transaction, so a crash resends at most the
mail in flight. A sender that dies leaves its claimed rows to come due when the lease ends.
On SQLite the whole run also holds the "mail-send" job lock (a second run exits 75).

Outcomes: sent; a temporary failure (4xx, dropped connection) retried with exponential
back-off; a permanent failure (5xx, a mail that cannot be composed, or `MAX_ATTEMPTS` tries)
marks the row failed, the reply message's `delivery_state` failed, and writes an audit event
on the ticket, so the agent sees the customer never got it. `retry` queues a failed row again.

The transport (SMTP, in `channels.smtp`) is passed in: services never import channels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_, select, text, update
from sqlalchemy.orm import Session, selectinload

from tui_helpdesk.domain import EventKind, OutboxState
from tui_helpdesk.services.audit import record
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.locks import job_lock
from tui_helpdesk.store.models import Message, Outbox, Ticket

JOB = "mail-send"
BATCH = 50  # rows claimed per transaction
LEASE = timedelta(minutes=15)  # a claimed row comes due again if its sender died
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=2)
BACKOFF_CAP = timedelta(hours=4)
MAX_ERROR = 2000
ACTOR = Actor.system("mail")


class SendFailed(Exception):
    """One mail was not accepted; `permanent` when trying again cannot help (a 5xx)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class TransportUnavailable(Exception):
    """No mail can go now (server unreachable, login refused): the run stops, rows stay
    queued untouched. `temporary` says whether a later run may succeed."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class Transport(Protocol):
    def deliver(self, row: Outbox, now: datetime) -> str | None:
        """Send `row`; a note when some recipients were refused; raise `SendFailed`."""
        ...


OpenTransport = Callable[[], AbstractContextManager[Transport]]


@dataclass(frozen=True)
class DeliveryLine:
    outbox_id: int
    ticket: str | None
    kind: str
    to: list[str]
    subject: str
    outcome: str  # sent, retry, failed, due (dry run)
    attempts: int
    detail: str | None = None
    next_attempt_at: datetime | None = None


@dataclass
class DeliveryRun:
    lines: list[DeliveryLine] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped early (transport unavailable)
    stopped_temporary: bool = True

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 2, 4, 8 ... minutes, at most 4 hours."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(Outbox.state == OutboxState.QUEUED, Outbox.next_attempt_at <= now)


@dataclass(frozen=True)
class _Claimed:
    row: Outbox
    ticket: str | None


def _claim(store: Store, now: datetime, size: int) -> list[_Claimed]:
    """Claim up to `size` due rows: count the attempt and lease them, in one transaction."""
    with store.write() as session:
        ids = list(
            session.scalars(
                select(Outbox.id)
                .where(_due(now))
                .order_by(Outbox.next_attempt_at, Outbox.id)
                .limit(size)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids))
            .values(attempts=Outbox.attempts + 1, next_attempt_at=now + LEASE)
        )
        rows = session.execute(
            select(Outbox, Ticket.key)
            .outerjoin(Ticket, Ticket.id == Outbox.ticket_id)
            .where(Outbox.id.in_(ids))
            .options(selectinload(Outbox.attachments))
            .execution_options(populate_existing=True)
        ).all()
        order = {row_id: position for position, row_id in enumerate(ids)}
        return sorted((_Claimed(row, key) for row, key in rows), key=lambda c: order[c.row.id])


def _release(store: Store, now: datetime, ids: Sequence[int]) -> None:
    """Give claimed rows back untried: the attempt is not counted, they are due again."""
    if not ids:
        return
    with store.write() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(ids), Outbox.state == OutboxState.QUEUED)
            .values(attempts=Outbox.attempts - 1, next_attempt_at=now)
        )


def _set_message_state(session: Session, row: Outbox, state: OutboxState) -> None:
    if row.message_row_id is not None:
        session.execute(
            update(Message).where(Message.id == row.message_row_id).values(delivery_state=state)
        )


def _mark_sent(store: Store, row: Outbox, now: datetime, note: str | None) -> None:
    with store.write() as session:
        if store.backend == "postgresql":
            # One commit per mail sent: without waiting for the WAL flush each costs a disk
            # sync less. A database crash may then forget the last few marks, and those mails
            # go out again: the same at-least-once a sender crash already gives.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        session.execute(
            update(Outbox)
            .where(Outbox.id == row.id)
            .values(state=OutboxState.SENT, sent_at=now, next_attempt_at=None, last_error=note)
        )
        _set_message_state(session, row, OutboxState.SENT)


def _mark_retry(store: Store, row: Outbox, now: datetime, error: str) -> datetime:
    due = now + backoff(row.attempts)
    with store.write() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id == row.id)
            .values(next_attempt_at=due, last_error=error[:MAX_ERROR])
        )
    return due


def _mark_failed(store: Store, row: Outbox, now: datetime, error: str) -> None:
    with store.write() as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id == row.id)
            .values(state=OutboxState.FAILED, next_attempt_at=None, last_error=error[:MAX_ERROR])
        )
        _set_message_state(session, row, OutboxState.FAILED)
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
        if ticket is not None:
            record(
                session,
                ticket,
                ACTOR,
                now,
                EventKind.MAIL,
                field="delivery",
                new=f"{row.kind} mail to {', '.join(row.to_addrs)} not delivered: {error}",
                rule="mail-delivery",
                detail={
                    "outbox": row.id,
                    "kind": row.kind,
                    "to": row.to_addrs,
                    "message_id": row.message_id,
                    "attempts": row.attempts,
                    "error": error[:MAX_ERROR],
                },
            )


def _line(
    claimed: _Claimed,
    outcome: str,
    detail: str | None = None,
    next_attempt_at: datetime | None = None,
) -> DeliveryLine:
    row = claimed.row
    return DeliveryLine(
        outbox_id=row.id,
        ticket=claimed.ticket,
        kind=row.kind,
        to=list(row.to_addrs),
        subject=row.subject,
        outcome=outcome,
        attempts=row.attempts,
        detail=detail,
        next_attempt_at=next_attempt_at,
    )


def _send_one(store: Store, transport: Transport, claimed: _Claimed, now: datetime) -> DeliveryLine:
    row = claimed.row
    try:
        note = transport.deliver(row, now)
    except SendFailed as failure:
        error = str(failure)
        if failure.permanent or row.attempts >= MAX_ATTEMPTS:
            reason = error if failure.permanent else f"{error} (gave up after {row.attempts} tries)"
            _mark_failed(store, row, now, reason)
            return _line(claimed, "failed", reason)
        due = _mark_retry(store, row, now, error)
        return _line(claimed, "retry", error, next_attempt_at=due)
    _mark_sent(store, row, now, note)
    return _line(claimed, "sent", note)


@contextmanager
def _run_lock(store: Store) -> Iterator[None]:
    """SQLite: one sender at a time (the job lock); PostgreSQL: row claims suffice."""
    with job_lock(store, JOB) if store.backend == "sqlite" else nullcontext():
        yield


def sender_name(store: Store) -> str:
    """The name the desk's mail goes out under: its `[desk] name`."""
    with store.read() as session:
        return desk_settings(session).name


def deliver_outbox(
    store: Store,
    now: datetime,
    open_transport: OpenTransport,
    *,
    limit: int | None = None,
) -> DeliveryRun:
    """Send the due queued rows, oldest due first, at most `limit`. The transport is opened
    only when there is something to send. Raises `store.locks.LockHeld` when another run
    holds the lock; a transport that cannot be reached stops the run (`DeliveryRun.stopped`)
    with the rows it had claimed given back untried."""
    if limit is not None and limit < 1:
        raise ValidationError("--limit must be at least 1")
    run = DeliveryRun()
    with _run_lock(store), ExitStack() as connection:
        transport: Transport | None = None
        while limit is None or len(run.lines) < limit:
            size = BATCH if limit is None else min(BATCH, limit - len(run.lines))
            batch = _claim(store, now, size)
            if not batch:
                break
            done = 0
            try:
                if transport is None:  # connect only once there is something to send
                    transport = connection.enter_context(open_transport())
                for claimed in batch:
                    run.lines.append(_send_one(store, transport, claimed, now))
                    done += 1
            except TransportUnavailable as down:
                _release(store, now, [c.row.id for c in batch[done:]])
                run.stopped, run.stopped_temporary = str(down), down.temporary
                break
            if len(batch) < size:
                # A short claim took every row due at `now` that no other sender holds:
                # asking again would find none (a retry this run set is due later).
                break
    return run


# --- reading and retrying ----------------------------------------------------------------


def due_rows(session: Session, now: datetime, limit: int | None = None) -> list[DeliveryLine]:
    """What a run at `now` would send, in order (the dry run): nothing is claimed."""
    query = (
        select(Outbox, Ticket.key)
        .outerjoin(Ticket, Ticket.id == Outbox.ticket_id)
        .where(_due(now))
        .order_by(Outbox.next_attempt_at, Outbox.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        _line(_Claimed(row, key), "due", row.last_error, next_attempt_at=row.next_attempt_at)
        for row, key in session.execute(query)
    ]


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox mail as plain values, for listings (CLI, console)."""

    id: int
    ticket: str | None
    kind: str
    state: OutboxState
    to: list[str]
    subject: str
    message_id: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def outbox_rows(
    session: Session,
    *,
    state: OutboxState | None = None,
    ticket: Ticket | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[OutboxEntry]:
    """Outbox mails, newest first, a page at a time (keyset: pass the last id as
    `before_id`; `limit + 1` rows are read so the caller knows whether there is more)."""
    query = select(Outbox, Ticket.key).outerjoin(Ticket, Ticket.id == Outbox.ticket_id)
    if state is not None:
        query = query.where(Outbox.state == state)
    if ticket is not None:
        query = query.where(Outbox.ticket_id == ticket.id)
    if before_id is not None:
        query = query.where(Outbox.id < before_id)
    rows = session.execute(query.order_by(Outbox.id.desc()).limit(limit + 1)).all()
    return [
        OutboxEntry(
            id=row.id,
            ticket=key,
            kind=row.kind,
            state=row.state,
            to=list(row.to_addrs),
            subject=row.subject,
            message_id=row.message_id,
            created_at=row.created_at,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )
        for row, key in rows
    ]


def retry(session: Session, actor: Actor, now: datetime, outbox_id: int) -> Outbox:
    """Queue a failed mail again, due now, with its attempts counted from zero."""
    row = session.get(Outbox, outbox_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no outbox mail #{outbox_id}")
    if row.state is not OutboxState.FAILED:
        raise ValidationError(f"outbox mail #{outbox_id} is {row.state.value}, not failed")
    row.state = OutboxState.QUEUED
    row.attempts = 0
    row.next_attempt_at = now
    _set_message_state(session, row, OutboxState.QUEUED)
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    if ticket is not None:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.MAIL,
            field="delivery",
            new=f"{row.kind} mail to {', '.join(row.to_addrs)} queued again",
            detail={"outbox": row.id, "previous_error": row.last_error},
        )
    session.flush()
    return row

"""Escalation: the cron run (`helpdesk escalate`) and manual escalation of one ticket.

The run works in two phases per batch (DESIGN §4, after Request Tracker's prepare/commit):
SQL selects candidates by `next_escalation_at <= now` in keyset order (an index range, never
all open tickets), the pure `rules.triggers.schedule` decides what is due for each, and then,
unless it is a dry run, the actions are applied through the same ticket services the console
and the CLI use, so every change is checked and audited the same way. A batch commits as one
transaction; if a ticket's actions fail, the batch is done again ticket by ticket, each rule
in a savepoint, so only the failing ones are left out (and counted).

Idempotence: each (ticket, rule, SLA cycle) gets one `escalations` row, inserted with ON
CONFLICT DO NOTHING before the rule's actions run: the actions run only when this run inserted
the row. Overlap: the run holds a job lock (`store.locks`) so a second run exits at once; the
unique row would stop a double action even without it.

Manual escalation (`escalate_ticket`) moves a ticket up a level or to a named group, records an
escalation without a rule, and for a customer's request fires the `customer_request` rules.

This module is what cron's common run, nothing due, needs: one index probe, without the rules
or the ORM's mapping of related rows. What a batch does to its tickets (planning, claiming,
the actions) is in `services.escalation_apply`, imported once something is due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, column, select, table, tuple_

from tui_helpdesk import heap
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.store.models import Ticket

BATCH = 500

# The two columns cron's common run reads, nothing due: described here so that the probe
# needs neither the ORM nor the mapped models (importing and declaring them is most of this
# command's start-up). Same table, same column type as `Ticket`.
_DUE = table("tickets", column("id"), column("next_escalation_at", UTCDateTime()))


def _due_probe(now: datetime) -> Select[tuple[int]]:
    """Is any ticket due at `now`? One index probe."""
    return select(_DUE.c.id).where(_DUE.c.next_escalation_at <= now).limit(1)


@dataclass(frozen=True)
class ActionLine:
    """One thing an escalation did (or would do): what the run prints."""

    ticket: str
    rule: str | None
    action: str
    before: str | None = None
    after: str | None = None


@dataclass
class RunResult:
    now: datetime
    dry_run: bool
    actions: list[ActionLine] = field(default_factory=list)  # kept when asked (`keep_actions`)
    action_count: int = 0
    escalated: int = 0  # distinct tickets with at least one rule fired
    breaches: int = 0  # breaches newly recorded
    failed: list[tuple[str, str]] = field(default_factory=list)  # (ticket, reason)


# --- the run --------------------------------------------------------------------------------


def _candidates(
    session: Session, now: datetime, after: tuple[datetime, int] | None, limit: int
) -> list[Ticket]:
    # Nothing due: one index probe, without building the ORM query that loads whole tickets
    # (its first compilation alone costs more than the probe) or importing the models.
    if after is None and session.execute(_due_probe(now)).first() is None:
        return []
    from sqlalchemy.orm import defaultload, lazyload, selectinload

    from tui_helpdesk.store.models import Agent, Contact, Ticket

    query = select(Ticket).where(Ticket.next_escalation_at <= now)
    if after is not None:
        query = query.where(tuple_(Ticket.next_escalation_at, Ticket.id) > tuple_(*after))
    query = (
        query.order_by(Ticket.next_escalation_at, Ticket.id)
        .limit(limit)
        .options(
            lazyload(Ticket.created_by),  # no rule reads who created the ticket
            # Notifications name the requester, never the requester's organization (the
            # ticket's own is joined): one join and one object less per row.
            defaultload(Ticket.requester).lazyload(Contact.organization),
        )
    )
    # Locked for the batch (PostgreSQL; a SQLite write transaction holds the database):
    # a ticket changed by an agent meanwhile is read after their change, never under it.
    page = list(session.scalars(query.with_for_update(of=Ticket)))
    # The assignees' groups, read at once: moving a ticket asks whether its assignee is a
    # member of the new group (one query per agent otherwise).
    assignees = {ticket.assignee_id for ticket in page if ticket.assignee_id is not None}
    if assignees:
        session.execute(
            select(Agent).where(Agent.id.in_(assignees)).options(selectinload(Agent.groups))
        ).all()
    return page


@dataclass
class BatchDone:
    """What one batch did; merged into the run's result once its transaction commits."""

    lines: list[ActionLine] = field(default_factory=list)
    escalated: set[str] = field(default_factory=set)  # ticket keys
    breaches: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def add(self, ticket: str, ticket_lines: list[ActionLine], breaches: int) -> None:
        self.lines.extend(ticket_lines)
        self.breaches += breaches
        if ticket_lines:
            self.escalated.add(ticket)


class TicketFailed(Exception):
    """A ticket's actions failed in a fast batch: the batch is redone ticket by ticket."""


def run_escalations(
    store: Store,
    now: datetime,
    *,
    dry_run: bool = False,
    rule: str | None = None,
    batch: int = BATCH,
    progress: Callable[[ActionLine], None] | None = None,
    keep_actions: bool = True,
) -> RunResult:
    """Escalate every ticket that is due at `now`, a batch per transaction. Each action is
    passed to `progress` once its batch has committed; `keep_actions=False` keeps only their
    count, so a long run's memory does not grow with what it did. The caller holds
    the job lock (`store.locks.job_lock`). A dry run does the same work and rolls each batch
    back: it prints exactly what a run would do and keeps nothing.

    A batch is done in one go: the due rules of all its tickets are claimed in one statement
    and their changes written together (a statement per table; the tickets' rows with their
    version checks, `ticket_core.save_many`). If any ticket's actions fail, that batch is rolled
    back and done again ticket by ticket, each in a savepoint, so only the failing tickets are
    left out (and counted)."""
    result = RunResult(now=now, dry_run=dry_run)
    if rule is None:
        # The common cron case, nothing due, answered in Core: no session, so no ORM import.
        with store.read_core() as connection:
            if connection.execute(_due_probe(now)).first() is None:
                return result
    # A ticket can come due again within the run (an action made another rule due, e.g. a
    # raised priority that an "urgent and unassigned" rule matches); it is then read again
    # in a later batch. Count it once.
    escalated: set[str] = set()
    after: tuple[datetime, int] | None = None
    while True:
        try:
            page = _batch(store, now, after, batch, dry_run, rule, careful=False)
        except TicketFailed:
            page = _batch(store, now, after, batch, dry_run, rule, careful=True)
        if page is None:
            break
        after, count, done = page
        escalated |= done.escalated
        result.escalated = len(escalated)
        result.breaches += done.breaches
        result.failed.extend(done.failed)
        result.action_count += len(done.lines)
        for line in done.lines:
            if keep_actions:
                result.actions.append(line)
            if progress is not None:
                progress(line)
        if count < batch:
            break
    return result


def _batch(
    store: Store,
    now: datetime,
    after: tuple[datetime, int] | None,
    limit: int,
    dry_run: bool,
    only: str | None,
    *,
    careful: bool,
) -> tuple[tuple[datetime, int], int, BatchDone] | None:
    """One batch in its own transaction: (cursor after it, tickets read, what it did), or
    None when nothing more is due."""
    from tui_helpdesk.services.escalation_apply import escalate_page

    with heap.batch(), store.write() as session:
        if only is not None:
            _check_rule(session, only)
        page = _candidates(session, now, after, limit)
        if not page:
            return None
        last = page[-1]
        assert last.next_escalation_at is not None
        cursor = (last.next_escalation_at, last.id)
        done = BatchDone()
        escalate_page(session, page, now, only, done, careful=careful)
        if dry_run:
            # The batch ran for real inside the transaction, so what was printed is
            # exactly what a run would do now; rolling back keeps none of it.
            session.rollback()
    return cursor, len(page), done


def escalate_due_in(session: Session, now: datetime, *, batch: int = BATCH) -> int:
    """Escalate everything due at `now` in the caller's transaction, ticket by ticket (a
    ticket whose actions fail is recorded and left, as a run does). For a caller that owns
    one long transaction and replays time, such as the demo desk running cron every few
    minutes of its history. Returns the number of tickets read."""
    from tui_helpdesk.services.escalation_apply import escalate_page

    after: tuple[datetime, int] | None = None
    read = 0
    while page := _candidates(session, now, after, batch):
        last = page[-1]
        assert last.next_escalation_at is not None
        after = (last.next_escalation_at, last.id)
        escalate_page(session, page, now, None, BatchDone(), careful=True)
        read += len(page)
        if len(page) < batch:
            break
    return read


def _check_rule(session: Session, only: str) -> None:
    """Refuse a rule name the active rules do not have (even when nothing is due)."""
    from tui_helpdesk.services.sla import active_rules

    rules = active_rules(session)
    if only not in {r.name for r in rules.escalations}:
        known = ", ".join(r.name for r in rules.escalations) or "none"
        raise ValidationError(f"no escalation rule {only!r} (rules: {known})")


# --- manual escalation ----------------------------------------------------------------------


def escalate_ticket(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    *,
    level_up: bool = False,
    to_group: str | None = None,
    reason: str | None = None,
    customer_request: bool = False,
    expected_version: int | None = None,
) -> list[ActionLine]:
    """Escalate a ticket by hand: up one support level (the default), or to a named group;
    `customer_request` records that the customer asked and fires the `customer_request`
    rules (once per SLA cycle each). See `escalation_apply.escalate_by_hand`."""
    from tui_helpdesk.services.escalation_apply import escalate_by_hand

    return escalate_by_hand(
        session,
        actor,
        now,
        ref,
        level_up=level_up,
        to_group=to_group,
        reason=reason,
        customer_request=customer_request,
        expected_version=expected_version,
    )

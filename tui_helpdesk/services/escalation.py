"""Escalation: the cron run (`helpdesk escalate`) and manual escalation of one ticket.

The run works in two phases per batch (DESIGN §4, after Request Tracker's prepare/commit):
SQL selects candidates by `next_escalation_at <= now` in keyset order (an index range, never
all open tickets), the pure `rules.triggers.schedule` decides what is due for each, and then,
unless it is a dry run, the actions are applied through the same ticket services the console
and the CLI use, so every change is checked and audited the same way. A batch commits as one
transaction; a ticket whose actions fail is rolled back alone (a savepoint) and counted.

Idempotence: each (ticket, rule, SLA cycle) gets one `escalations` row, inserted with ON
CONFLICT DO NOTHING before the rule's actions run: the actions run only when this run inserted
the row. Overlap: the run holds a job lock (`store.locks`) so a second run exits at once; the
unique row would stop a double action even without it.

Manual escalation (`escalate_ticket`) moves a ticket up a level or to a named group, records an
escalation without a rule, and for a customer's request fires the `customer_request` rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind, Priority
from tui_helpdesk.rules.clock import ClockName, LedgerEntry, mark_breached
from tui_helpdesk.rules.document import Rules
from tui_helpdesk.rules.escalation import (
    Action,
    AddNote,
    AddTag,
    Assign,
    EscalationRule,
    LevelUp,
    MoveToGroup,
    Notify,
    NotifyTarget,
    RaisePriority,
    SetPriority,
    Trigger,
    Unassign,
)
from tui_helpdesk.rules.triggers import Due
from tui_helpdesk.services.audit import record
from tui_helpdesk.services.batching import batched_inserts
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import InvalidTransition, ServiceError, ValidationError
from tui_helpdesk.services.sla import (
    active_rules,
    facts_of,
    prime_fired,
    record_ledger,
    remember_fired,
    sla_of,
    store_sla,
    ticket_schedule,
)
from tui_helpdesk.services.ticket_core import save, touch
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Escalation, Ticket

# The ticket services the actions go through (tickets, ticket_changes, notify, directory)
# are imported where an action runs: cron's common case, nothing due, never needs them.

SYSTEM = Actor.system("escalation")
BATCH = 200


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


# --- one action -----------------------------------------------------------------------------


def _change_of(ticket: Ticket, action: Action) -> tuple[str | None, str | None]:
    """(before, after) of what `action` would change on the ticket as it is; `after` is None
    when there is nothing to do (already so, no next level, nobody to notify)."""
    if isinstance(action, RaisePriority | SetPriority):
        wanted = action.priority if isinstance(action, SetPriority) else ticket.priority.raised()
        before = ticket.priority.value
        return before, (wanted.value if wanted is not ticket.priority else None)
    if isinstance(action, LevelUp | MoveToGroup):
        group = ticket.group.name if ticket.group else None
        if isinstance(action, LevelUp):
            target = ticket.group.next_level if ticket.group else None
            name = target.name if target else None
        else:
            name = action.group
        return group, (name if name != group else None)
    if isinstance(action, Assign | Unassign):
        login = ticket.assignee.login if ticket.assignee else None
        wanted_login = action.login if isinstance(action, Assign) else None
        if wanted_login == login:
            return login, None
        return login, wanted_login or "-"
    if isinstance(action, AddTag):
        return None, (action.tag if action.tag not in ticket.tags else None)
    if isinstance(action, AddNote):
        return None, action.text
    from tui_helpdesk.services.notify import recipients

    return None, ", ".join(recipients(ticket, action.to)) or None


def _apply_action(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    action: Action,
    rule: str | None,
    reason: str,
) -> ActionLine:
    """Apply one rule action to a loaded, locked ticket through the same ticket services the
    console and the CLI use (their cores, without the per-change load and save: the caller
    marks and saves the ticket once after all its actions). Returns what changed."""
    from tui_helpdesk.services import ticket_changes, tickets
    from tui_helpdesk.services.notify import notify

    before, after = _change_of(ticket, action)
    line = ActionLine(ticket.key, rule, str(action), before, after)
    if after is None:
        return line
    if isinstance(action, RaisePriority | SetPriority):
        ticket_changes.apply_priority(session, ticket, actor, now, Priority(after), rule=rule)
    elif isinstance(action, LevelUp | MoveToGroup):
        ticket_changes.apply_assignment(session, ticket, actor, now, group=after, rule=rule)
    elif isinstance(action, Assign | Unassign):
        login = action.login if isinstance(action, Assign) else None
        ticket_changes.apply_assignment(session, ticket, actor, now, agent=login, rule=rule)
    elif isinstance(action, AddTag):
        ticket_changes.apply_tags(session, ticket, actor, now, add=[action.tag], rule=rule)
    elif isinstance(action, AddNote):
        tickets.write_note(session, ticket, actor, now, action.text, rule=rule)
    else:
        what = f"rule {rule}" if rule else "escalated by an agent"
        to = after.split(", ")
        notify(
            session,
            ticket,
            now,
            to,
            f"Escalation: {ticket.subject}",
            f"{ticket.key} ({ticket.priority}, {ticket.status}) needs attention: {reason}.\n"
            f"Escalation: {what}.\n",
        )
        record(
            session, ticket, actor, now, EventKind.ESCALATED, field="notify", new=after, rule=rule
        )
    return line


def _claim_values(
    ticket: Ticket, rule: EscalationRule, at: datetime, reason: str, actor: Actor
) -> dict[str, object]:
    return {
        "ticket_id": ticket.id,
        "rule": rule.name,
        "cycle": ticket.sla_cycle or 0,
        "trigger": rule.on.value,
        "at": at,
        "actor": actor.login,
        "reason": reason,
        "actions": [str(action) for action in rule.actions],
    }


def _claim(session: Session, rows: list[dict[str, object]]) -> set[tuple[int, str]]:
    """Insert (ticket, rule, cycle) escalation rows in one statement; returns the (ticket id,
    rule) pairs this call inserted. A pair already there (fired before, or by an overlapping
    run) is skipped: its actions must not run again."""
    if not rows:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement compiled once (and cached), its rows sent in multi-row pages.
    statement = (
        insert(Escalation)
        .on_conflict_do_nothing(index_elements=["ticket_id", "rule", "cycle"])
        .returning(Escalation.ticket_id, Escalation.rule)
    )
    return {(ticket_id, rule) for ticket_id, rule in session.execute(statement, rows)}


def _fire(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    rule: EscalationRule,
    reason: str,
) -> list[ActionLine]:
    """Fire `rule` on a ticket once per cycle: claim its row, then run its actions."""
    if not _claim(session, [_claim_values(ticket, rule, now, reason, actor)]):
        return []
    return _run_actions(session, ticket, actor, now, rule, reason)


def _run_actions(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    rule: EscalationRule,
    reason: str,
) -> list[ActionLine]:
    """The actions of a rule whose escalation row this run claimed, and their audit."""
    remember_fired(session, ticket, rule.name)
    names = [str(action) for action in rule.actions]
    lines: list[ActionLine] = []
    for action in rule.actions:
        lines.append(_apply_action(session, ticket, actor, now, action, rule.name, reason))
    if any(not isinstance(action, Notify) for action in rule.actions):
        ticket.escalation_level = (ticket.escalation_level or 0) + 1
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.ESCALATED,
        field="rule",
        new=rule.name,
        rule=rule.name,
        detail={"trigger": rule.on.value, "reason": reason, "actions": names},
    )
    return lines


# --- the run --------------------------------------------------------------------------------


def _record_breaches(
    session: Session, ticket: Ticket, now: datetime, names: tuple[ClockName, ...]
) -> None:
    sla = mark_breached(sla_of(ticket), list(names))
    store_sla(ticket, sla, now)
    entries = [
        LedgerEntry("breach", name, due_at=clock.due_at)
        for name in names
        if (clock := sla.clock(name)) is not None
    ]
    record_ledger(session, ticket, SYSTEM, now, entries, sla)


def _candidates(
    session: Session, now: datetime, after: tuple[datetime, int] | None, limit: int
) -> list[Ticket]:
    if after is None:
        # The common cron case, nothing due: one index probe, without building the ORM query
        # that loads whole tickets (its first compilation alone costs more than the probe).
        probe = select(Ticket.id).where(Ticket.next_escalation_at <= now).limit(1)
        if session.execute(probe).first() is None:
            return []
    query = select(Ticket).where(Ticket.next_escalation_at <= now)
    if after is not None:
        query = query.where(tuple_(Ticket.next_escalation_at, Ticket.id) > tuple_(*after))
    query = query.order_by(Ticket.next_escalation_at, Ticket.id).limit(limit)
    # Locked for the batch (PostgreSQL; a SQLite write transaction holds the database):
    # a ticket changed by an agent meanwhile is read after their change, never under it.
    return list(session.scalars(query.with_for_update(of=Ticket)))


def _plan(
    session: Session, ticket: Ticket, rules: Rules, now: datetime, only: str | None
) -> tuple[list[Due], tuple[ClockName, ...]]:
    planned = ticket_schedule(session, ticket, rules, now)
    due = [item for item in planned.due if only is None or item.rule.name == only]
    return due, planned.breaches


@dataclass
class _Batch:
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


class _TicketFailed(Exception):
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
    and their changes written in one flush. If any ticket's actions fail, that batch is rolled
    back and done again ticket by ticket, each in a savepoint, so only the failing tickets are
    left out (and counted)."""
    result = RunResult(now=now, dry_run=dry_run)
    # A ticket can come due again within the run (an action made another rule due, e.g. a
    # raised priority that an "urgent and unassigned" rule matches); it is then read again
    # in a later batch. Count it once.
    escalated: set[str] = set()
    after: tuple[datetime, int] | None = None
    while True:
        try:
            page = _batch(store, now, after, batch, dry_run, rule, careful=False)
        except _TicketFailed:
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
) -> tuple[tuple[datetime, int], int, _Batch] | None:
    """One batch in its own transaction: (cursor after it, tickets read, what it did), or
    None when nothing more is due."""
    with store.write() as session:
        rules = active_rules(session)
        if only is not None and only not in {r.name for r in rules.escalations}:
            known = ", ".join(r.name for r in rules.escalations) or "none"
            raise ValidationError(f"no escalation rule {only!r} (rules: {known})")
        page = _candidates(session, now, after, limit)
        if not page:
            return None
        last = page[-1]
        assert last.next_escalation_at is not None
        cursor = (last.next_escalation_at, last.id)
        from tui_helpdesk.services.notify import prime_threads

        prime_fired(session, page)
        prime_threads(session, (ticket.id for ticket in page))
        done = _Batch()
        if careful:
            for ticket in page:
                _escalate_one(session, ticket, rules, now, only, done)
        else:
            _escalate_all(session, page, rules, now, only, done)
        if dry_run:
            # The batch ran for real inside the transaction, so what was printed is
            # exactly what a run would do now; rolling back keeps none of it.
            session.rollback()
    return cursor, len(page), done


def _escalate_all(
    session: Session,
    page: list[Ticket],
    rules: Rules,
    now: datetime,
    only: str | None,
    done: _Batch,
) -> None:
    """The fast path: plan every ticket, claim every due rule in one statement, apply the
    claimed rules' actions and flush the batch once. Raises `_TicketFailed` (rolling back the
    whole batch) if any ticket's actions fail."""
    plans = {ticket.id: _plan(session, ticket, rules, now, only) for ticket in page}
    claims = [
        _claim_values(ticket, item.rule, now, item.reason, SYSTEM)
        for ticket in page
        for item in plans[ticket.id][0]
    ]
    won = _claim(session, claims)
    with session.no_autoflush, batched_inserts(session):
        for ticket in page:
            due, breaches = plans[ticket.id]
            try:
                if breaches:
                    _record_breaches(session, ticket, now, breaches)
                lines: list[ActionLine] = []
                for item in due:
                    if (ticket.id, item.rule.name) in won:
                        lines.extend(
                            _run_actions(session, ticket, SYSTEM, now, item.rule, item.reason)
                        )
                # Bring clocks and timers up to date: the next escalation moves past them.
                touch(session, ticket, SYSTEM, now)
            except ServiceError as error:
                raise _TicketFailed(ticket.key) from error
            done.add(ticket.key, lines, len(breaches))
    session.flush()


def _escalate_one(
    session: Session,
    ticket: Ticket,
    rules: Rules,
    now: datetime,
    only: str | None,
    done: _Batch,
) -> None:
    """The careful path: one rule at a time in a savepoint, so a failure undoes only that
    rule's changes. A rule whose actions fail is still recorded as fired (with the error, in
    the escalation row and the ticket's history) so that cron does not retry and report it
    every few minutes; the run counts it as failed (exit 3)."""
    key = ticket.key
    due, breaches = _plan(session, ticket, rules, now, only)
    if breaches:
        _record_breaches(session, ticket, now, breaches)
    lines: list[ActionLine] = []
    for item in due:
        savepoint = session.begin_nested()
        try:
            lines.extend(_fire(session, ticket, SYSTEM, now, item.rule, item.reason))
            savepoint.commit()
        except ServiceError as error:
            savepoint.rollback()
            _record_failure(session, ticket, now, item, str(error))
            done.failed.append((key, f"rule {item.rule.name}: {error}"))
    touch(session, ticket, SYSTEM, now)
    session.flush()
    done.add(key, lines, len(breaches))


def _record_failure(session: Session, ticket: Ticket, now: datetime, item: Due, error: str) -> None:
    row = _claim_values(ticket, item.rule, now, f"{item.reason}; failed: {error}", SYSTEM)
    row["actions"] = []
    if _claim(session, [row]):
        remember_fired(session, ticket, item.rule.name)
        record(
            session,
            ticket,
            SYSTEM,
            now,
            EventKind.ESCALATED,
            field="failed",
            new=item.rule.name,
            rule=item.rule.name,
            detail={"reason": item.reason, "error": error},
        )


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
    rules (once per SLA cycle each)."""
    from tui_helpdesk.services import ticket_changes
    from tui_helpdesk.services.directory import get_group

    if level_up and to_group:
        raise ValidationError("choose one of --level-up and --to-group")
    ticket = ticket_changes.load_open_for_change(session, ref, expected_version)
    why = (reason or "").strip() or ("the customer asked" if customer_request else "by hand")
    lines: list[ActionLine] = []
    move: Action | None = None
    if to_group:
        target = get_group(session, to_group)  # the group's own spelling, or NotFound
        if ticket.group_id == target.id:
            raise InvalidTransition(f"{ticket.key} is already in {target.name}")
        move = MoveToGroup(target.name)
    elif level_up or not customer_request:
        if ticket.group is None or ticket.group.next_level is None:
            where = ticket.group.name if ticket.group else "no group"
            raise InvalidTransition(
                f"{ticket.key} is in {where}, which has no next level: use --to-group GROUP"
            )
        move = LevelUp()
    session.add(
        Escalation(
            ticket_id=ticket.id,
            rule=None,
            cycle=ticket.sla_cycle or 0,
            trigger=Trigger.CUSTOMER_REQUEST.value if customer_request else "manual",
            at=now,
            actor=actor.login,
            reason=why,
            actions=[str(move)] if move else [],
        )
    )
    if move is not None:
        lines.append(_apply_action(session, ticket, actor, now, move, None, why))
        lines.append(
            _apply_action(session, ticket, actor, now, Notify(NotifyTarget.GROUP_LEAD), None, why)
        )
    ticket.escalation_level = (ticket.escalation_level or 0) + 1
    if customer_request:
        ticket.customer_escalation = True
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.ESCALATED,
        field="manual",
        new=str(move) if move else Trigger.CUSTOMER_REQUEST.value,
        detail={"reason": why, "customer_request": customer_request},
    )
    if customer_request:
        rules = active_rules(session)
        for rule in rules.escalations:
            if rule.on is Trigger.CUSTOMER_REQUEST and rule.where.matches(facts_of(ticket)):
                lines.extend(_fire(session, ticket, actor, now, rule, why))
    touch(session, ticket, actor, now)
    save(session, ticket)
    return lines

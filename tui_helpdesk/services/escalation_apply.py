"""What an escalation batch does to its tickets, and manual escalation: for each ticket, the
pure `rules.triggers.schedule` says what is due; its rules are claimed (one `escalations` row
per ticket, rule and SLA cycle, inserted with ON CONFLICT DO NOTHING: the actions run only
where this run inserted the row) and their actions applied through the same ticket services
the console and the CLI use, so every change is checked and audited the same way.

`services.escalation` (the run: candidates, batches, transactions) imports this module once
a batch has tickets; cron's common run, nothing due, never needs it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind, Priority, lower_level
from tui_helpdesk.rules.clock import ClockName, LedgerEntry, Sla, mark_breached
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
from tui_helpdesk.services import ticket_changes, tickets
from tui_helpdesk.services.audit import record
from tui_helpdesk.services.batching import batched_inserts
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.directory import get_group
from tui_helpdesk.services.errors import InvalidTransition, ServiceError, ValidationError
from tui_helpdesk.services.escalation import ActionLine, BatchDone, TicketFailed
from tui_helpdesk.services.notify import notify, prime_threads, recipients
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
from tui_helpdesk.services.ticket_core import save, save_many, touch
from tui_helpdesk.store.models import Escalation, Ticket

SYSTEM = Actor.system("escalation")


# --- one action -----------------------------------------------------------------------------


def _change_of(ticket: Ticket, action: Action, notified: set[str]) -> tuple[str | None, str | None]:
    """(before, after) of what `action` would change on the ticket as it is; `after` is None
    when there is nothing to do (already so, no next level, nobody to notify who was not
    notified already: `notified`)."""
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
    return None, ", ".join(a for a in recipients(ticket, action.to) if a not in notified) or None


def _apply_action(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    action: Action,
    rule: str | None,
    reason: str,
    notified: set[str],
) -> ActionLine:
    """Apply one rule action to a loaded, locked ticket through the same ticket services the
    console and the CLI use (their cores, without the per-change load and save: the caller
    marks and saves the ticket once after all its actions). Returns what changed.
    `notified`: the addresses this firing has notified so far (one mail each: the assignee
    may lead the group too); those the action notifies are added."""
    before, after = _change_of(ticket, action, notified)
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
        notified.update(to)
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
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
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
    notified: set[str] = set()
    for action in rule.actions:
        lines.append(
            _apply_action(session, ticket, actor, now, action, rule.name, reason, notified)
        )
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


# --- a batch --------------------------------------------------------------------------------


def escalate_page(
    session: Session,
    page: list[Ticket],
    now: datetime,
    only: str | None,
    done: BatchDone,
    *,
    careful: bool,
) -> None:
    """Escalate a batch of loaded, locked tickets in the caller's transaction, into `done`.

    Fast (`careful=False`): the due rules of all its tickets are claimed in one statement and
    their changes written in one go; raises `TicketFailed` if any ticket's actions fail.
    Careful: ticket by ticket, each rule in a savepoint, so only the failing ones are left
    out (and counted)."""
    rules = active_rules(session)
    prime_fired(session, page)
    prime_threads(session, (ticket.id for ticket in page))
    if careful:
        for ticket in page:
            _escalate_one(session, ticket, rules, now, only, done)
    else:
        _escalate_all(session, page, rules, now, only, done)


def _record_breaches(
    session: Session, ticket: Ticket, now: datetime, names: tuple[ClockName, ...], read: Sla
) -> None:
    """Mark the clocks `names` breached (`read`: the ticket's clocks, as planned)."""
    sla = mark_breached(read, list(names))
    store_sla(ticket, sla, now)
    entries = [
        LedgerEntry("breach", name, due_at=clock.due_at)
        for name in names
        if (clock := sla.clock(name)) is not None
    ]
    record_ledger(session, ticket, SYSTEM, now, entries, sla)


def _plan(
    session: Session, ticket: Ticket, rules: Rules, now: datetime, only: str | None
) -> tuple[list[Due], tuple[ClockName, ...], Sla]:
    """The rules due on the ticket, its clocks to mark breached, and the clocks as read."""
    sla = sla_of(ticket)
    planned = ticket_schedule(session, ticket, rules, now, sla=sla)
    due = [item for item in planned.due if only is None or item.rule.name == only]
    return due, planned.breaches, sla


def _escalate_all(
    session: Session,
    page: list[Ticket],
    rules: Rules,
    now: datetime,
    only: str | None,
    done: BatchDone,
) -> None:
    """The fast path: plan every ticket, claim every due rule in one statement, apply the
    claimed rules' actions and flush the batch once. Raises `TicketFailed` (rolling back the
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
            due, breaches, read = plans[ticket.id]
            try:
                if breaches:
                    _record_breaches(session, ticket, now, breaches, read)
                lines: list[ActionLine] = []
                for item in due:
                    if (ticket.id, item.rule.name) in won:
                        lines.extend(
                            _run_actions(session, ticket, SYSTEM, now, item.rule, item.reason)
                        )
                # Bring clocks and timers up to date: the next escalation moves past them.
                touch(session, ticket, SYSTEM, now)
            except ServiceError as error:
                raise TicketFailed(ticket.key) from error
            done.add(ticket.key, lines, len(breaches))
    save_many(session, page)


def _escalate_one(
    session: Session,
    ticket: Ticket,
    rules: Rules,
    now: datetime,
    only: str | None,
    done: BatchDone,
) -> None:
    """The careful path: one rule at a time in a savepoint, so a failure undoes only that
    rule's changes. A rule whose actions fail is still recorded as fired (with the error, in
    the escalation row and the ticket's history) so that cron does not retry and report it
    every few minutes; the run counts it as failed (exit 3)."""
    key = ticket.key
    due, breaches, read = _plan(session, ticket, rules, now, only)
    if breaches:
        _record_breaches(session, ticket, now, breaches, read)
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


def escalate_by_hand(
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
        if lower_level(target.level, ticket.level):
            raise InvalidTransition(
                f"{target.name} is a lower support level than {ticket.key}'s "
                f"(level {ticket.level}): moving it down is an assignment, not an escalation"
            )
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
        notified: set[str] = set()
        lines.append(_apply_action(session, ticket, actor, now, move, None, why, notified))
        lead = Notify(NotifyTarget.GROUP_LEAD)
        lines.append(_apply_action(session, ticket, actor, now, lead, None, why, notified))
    ticket.escalation_level = (ticket.escalation_level or 0) + 1
    if customer_request:
        ticket.customer_escalation = True
    if (reason or "").strip():
        # Where the ticket arrives, the reason is read in the conversation, not only in
        # the history and the lead's mail.
        to = f" to {ticket.group.name}" if move is not None and ticket.group else ""
        asked = " at the customer's request" if customer_request else ""
        tickets.write_note(session, ticket, actor, now, f"Escalated{to}{asked}: {why}")
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

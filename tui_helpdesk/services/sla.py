"""Keeping each ticket's SLA clocks and escalation timers true (DESIGN §4).

Every ticket change ends in `ticket_core.touch`, which calls `sync_sla`: the pure clock rule
(`rules.clock.reconcile`) moves the clocks from what is stored to what the ticket now is, each
step of the ledger becomes an audit event (kind `sla`), and `next_escalation_at` is set to the
next instant an escalation rule or a breach is due (`rules.triggers.schedule`), so the
escalation run reads only tickets whose instant has come. The escalation service uses the
same functions for its candidates.

The active rules are parsed once per applied version and cached for the process.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind
from tui_helpdesk.rules.clock import (
    Clock,
    ClockName,
    ClockState,
    LedgerEntry,
    Situation,
    Sla,
    calendar_for,
    reconcile,
)
from tui_helpdesk.rules.document import Rules, rules_from_document
from tui_helpdesk.rules.sla import TicketFacts
from tui_helpdesk.rules.triggers import Schedule, Timers, schedule
from tui_helpdesk.services.audit import record
from tui_helpdesk.services.context import Actor
from tui_helpdesk.store.models import Escalation, RuleSet, Ticket

_parsed: dict[tuple[int, str], Rules] = {}


RULES_KEY = "helpdesk.active_rules"  # session.info: (transaction, rules) read in it


def active_rules(session: Session) -> Rules:
    """The active rules, parsed (empty rules when none were applied). Read once per
    transaction: a batch job changing many tickets asks once; `desk.apply_rules` forgets it."""
    transaction = session.get_transaction()
    cached = session.info.get(RULES_KEY)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    rules = _read_active_rules(session)
    session.info[RULES_KEY] = (session.get_transaction(), rules)
    return rules


def _read_active_rules(session: Session) -> Rules:
    row = session.execute(
        select(RuleSet.id, RuleSet.sha256).where(RuleSet.active.is_(True)).limit(1)
    ).first()
    if row is None:
        return Rules()
    key = (row.id, row.sha256)
    rules = _parsed.get(key)
    if rules is None:
        document = session.scalar(select(RuleSet.document).where(RuleSet.id == row.id))
        rules = rules_from_document(document)
        _parsed.clear()  # one version is active at a time
        _parsed[key] = rules
    return rules


# --- the ticket as the rules see it --------------------------------------------------------


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


def _delta(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


# The columns of each clock: state, target, due_at, remaining, breached.
_CLOCK_COLUMNS = {
    name: tuple(f"{name}_{part}" for part in ("state", "target", "due_at", "remaining", "breached"))
    for name in ClockName
}


def _clock_of(ticket: Ticket, name: ClockName) -> Clock | None:
    state_key, target_key, due_key, remaining_key, breached_key = _CLOCK_COLUMNS[name]
    state = getattr(ticket, state_key)
    target = getattr(ticket, target_key)
    if state is None or target is None:
        return None
    return Clock(
        state=ClockState(state),
        target=timedelta(seconds=target),
        due_at=getattr(ticket, due_key),
        remaining=_delta(getattr(ticket, remaining_key)),
        breached=bool(getattr(ticket, breached_key)),
    )


def sla_of(ticket: Ticket) -> Sla:
    return Sla(
        policy=ticket.sla_policy,
        calendar=ticket.sla_calendar,
        cycle=ticket.sla_cycle or 0,
        first_response=_clock_of(ticket, ClockName.FIRST_RESPONSE),
        resolution=_clock_of(ticket, ClockName.RESOLUTION),
    )


def store_sla(ticket: Ticket, sla: Sla, now: datetime) -> None:
    was_paused = ticket.sla_paused_at
    values: dict[str, object] = {
        "sla_policy": sla.policy,
        "sla_calendar": sla.calendar,
        "sla_cycle": sla.cycle,
        "due_at": sla.due_at,
        "sla_paused_at": (was_paused or now) if sla.paused else None,
    }
    for name, columns in _CLOCK_COLUMNS.items():
        clock = sla.clock(name)
        values.update(
            zip(
                columns,
                (
                    clock.state.value if clock else None,
                    _seconds(clock.target) if clock else None,
                    clock.due_at if clock else None,
                    _seconds(clock.remaining) if clock else None,
                    bool(clock and clock.breached),
                ),
                strict=True,
            )
        )
    # Only what changed is set: a batch job stores the clocks of thousands of tickets, most
    # of whose columns stay as they are (setting a mapped attribute costs its history).
    for key, value in values.items():
        if getattr(ticket, key) != value:
            setattr(ticket, key, value)


def facts_of(ticket: Ticket) -> TicketFacts:
    return TicketFacts(
        priority=ticket.priority,
        segment=ticket.organization.segment if ticket.organization else None,
        group=ticket.group.name if ticket.group else None,
        level=ticket.level,
        category=ticket.category.path if ticket.category else None,
        channel=ticket.channel,
        status=ticket.status,
        tags=frozenset(ticket.tags),
    )


def situation_of(ticket: Ticket, facts: TicketFacts | None = None) -> Situation:
    """The ticket as the clock rules see it (`facts`: its facts, when the caller has them)."""
    return Situation(
        facts=facts if facts is not None else facts_of(ticket),
        contract=ticket.organization.sla_policy if ticket.organization else None,
        first_response_at=ticket.first_response_at,
        merged=ticket.merged_into_id is not None,
    )


def timers_of(ticket: Ticket) -> Timers:
    return Timers(
        last_activity_at=ticket.last_activity_at or ticket.created_at,
        unassigned_since=ticket.unassigned_since,
    )


FIRED_KEY = "helpdesk.fired"  # session.info: {(ticket id, cycle): rule names}, see prime_fired


def prime_fired(session: Session, tickets: list[Ticket]) -> None:
    """Read the rules fired on many tickets at once (a batch job), so `fired_rules` needs no
    query per ticket; `remember_fired` keeps the cache true as the job fires more."""
    cache: dict[tuple[int, int], set[str]] = {(t.id, t.sla_cycle or 0): set() for t in tickets}
    session.info[FIRED_KEY] = cache
    if not tickets:
        return
    rows = session.execute(
        select(Escalation.ticket_id, Escalation.cycle, Escalation.rule).where(
            Escalation.ticket_id.in_([t.id for t in tickets]), Escalation.rule.is_not(None)
        )
    )
    for ticket_id, cycle, rule in rows:
        if (ticket_id, cycle) in cache and rule is not None:
            cache[(ticket_id, cycle)].add(rule)


def remember_fired(session: Session, ticket: Ticket, rule: str) -> None:
    cache = session.info.get(FIRED_KEY)
    if cache is not None:
        cache.setdefault((ticket.id, ticket.sla_cycle or 0), set()).add(rule)


def fired_rules(session: Session, ticket: Ticket) -> set[str]:
    """Names of the escalation rules that fired on this ticket in its current SLA cycle."""
    if ticket.id is None:
        return set()
    cached = session.info.get(FIRED_KEY, {}).get((ticket.id, ticket.sla_cycle or 0))
    if cached is not None:
        return set(cached)
    names = session.scalars(_FIRED, {"ticket": ticket.id, "cycle": ticket.sla_cycle or 0})
    return {name for name in names if name is not None}


# Built once: asked whenever a ticket's escalation timers are brought up to date.
_FIRED = select(Escalation.rule).where(
    Escalation.ticket_id == bindparam("ticket"),
    Escalation.cycle == bindparam("cycle"),
    Escalation.rule.is_not(None),
)


# --- keeping it true -----------------------------------------------------------------------


def ledger_detail(entry: LedgerEntry, sla: Sla) -> dict[str, Any]:
    return {
        "action": entry.action,
        "clock": entry.clock.value if entry.clock else None,
        "reason": entry.reason or None,
        "due_at": entry.due_at.isoformat() if entry.due_at else None,
        "remaining_s": _seconds(entry.remaining),
        "target_s": _seconds(entry.target),
        "policy": sla.policy,
        "calendar": sla.calendar,
        "cycle": sla.cycle,
    }


def record_ledger(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    entries: list[LedgerEntry],
    sla: Sla,
    rule: str | None = None,
) -> None:
    for entry in entries:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.SLA,
            field=entry.clock.value if entry.clock else "policy",
            new=entry.action,
            rule=rule,
            detail=ledger_detail(entry, sla),
        )


def ticket_schedule(
    session: Session,
    ticket: Ticket,
    rules: Rules,
    now: datetime,
    *,
    sla: Sla | None = None,
    facts: TicketFacts | None = None,
) -> Schedule:
    """What escalation is due for the ticket at `now`, and when the next one will be. `sla`
    is the ticket's clocks as stored, and `facts` its facts, when the caller has just read
    them (`sla_of`, `facts_of`)."""
    sla = sla if sla is not None else sla_of(ticket)
    return schedule(
        rules.escalations,
        sla,
        calendar_for(rules, sla.calendar),
        facts if facts is not None else facts_of(ticket),
        timers_of(ticket),
        fired_rules(session, ticket) if rules.escalations else set(),
        now,
    )


def refresh_schedule(
    session: Session,
    ticket: Ticket,
    rules: Rules,
    now: datetime,
    *,
    sla: Sla | None = None,
    facts: TicketFacts | None = None,
) -> Schedule:
    """`ticket_schedule`, storing when the next escalation will be due."""
    planned = ticket_schedule(session, ticket, rules, now, sla=sla, facts=facts)
    ticket.next_escalation_at = planned.next_at
    return planned


def sync_sla(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, *, rules: Rules | None = None
) -> Sla:
    """Bring the ticket's clocks and escalation timers up to date after a change, recording
    each step of the clocks in the audit trail."""
    sla, entries = update_clocks(session, ticket, now, rules=rules)
    record_ledger(session, ticket, actor, now, entries, sla)
    return sla


def update_clocks(
    session: Session, ticket: Ticket, now: datetime, *, rules: Rules | None = None
) -> tuple[Sla, list[LedgerEntry]]:
    """The clock and timer part of `sync_sla`, without the audit events: a ticket being
    created has no id yet, so its ledger is recorded once it is stored."""
    with session.no_autoflush:  # the caller's change is flushed once, by `save`
        rules = rules if rules is not None else active_rules(session)
        if ticket.assignee is None and ticket.status.is_active:
            ticket.unassigned_since = ticket.unassigned_since or now
        else:
            ticket.unassigned_since = None
        before = sla_of(ticket)
        # Read once: storing the clocks and the timers changes none of the ticket's facts.
        facts = facts_of(ticket)
        after, entries = reconcile(rules, before, situation_of(ticket, facts), now)
        if after != before:
            store_sla(ticket, after, now)
        # Unchanged clocks are still the ones just read (stored ones are read back: the
        # store keeps whole seconds).
        refresh_schedule(
            session,
            ticket,
            rules,
            now,
            sla=before if after == before else None,
            facts=facts,
        )
    return after, entries

"""Why a ticket is due when it is: the read model behind `helpdesk ticket sla` (DESIGN §4).

`explain_sla(session, ref, now)` reads one ticket and builds a plain `SlaExplanation`: the
policy and why it was chosen, its calendar, and for each clock its target, due time, working
time used and left at `now`, whether it was met or breached, and the segments it went
through. The segments come from walking the clock's ledger (audit events of kind `sla`
written by `services.sla.sync_sla`) in order: a clock runs from start/resume to
pause/stop/met, each running stretch split by the calendar into running (working hours) and
outside-hours parts (`rules.segments`); paused and stopped stretches name the status the
ticket waited in. Escalations fired come from the `Escalation` rows, the upcoming ones from
`rules.triggers.fire_time`. `explanation_doc` is the `--json` document.

Read only: nothing is written, and the clocks are not moved (the numbers are those the queue
and `helpdesk escalate` see). The CLI calls it inside a read unit of work and prints after.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind
from tui_helpdesk.rules.calendar import WEEKDAYS, Calendar
from tui_helpdesk.rules.clock import (
    ALWAYS,
    ZERO,
    Clock,
    ClockName,
    ClockState,
    calendar_for,
    choose_policy,
    remaining,
)
from tui_helpdesk.rules.document import Rules
from tui_helpdesk.rules.segments import split_by_hours
from tui_helpdesk.rules.triggers import fire_time, percent_used
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.services.sla import (
    active_rules,
    facts_of,
    fired_rules,
    sla_of,
    timers_of,
)
from tui_helpdesk.services.ticket_core import get_ticket
from tui_helpdesk.store.models import Escalation, Ticket, TicketEvent
from tui_helpdesk.text import span

# A stored deadline and the ledger may disagree by rounding (seconds are stored whole).
_TOLERANCE = timedelta(minutes=1)


class SegmentKind(enum.StrEnum):
    RUNNING = "running"  # the clock ran inside working hours: this time counted
    OUTSIDE_HOURS = "outside_hours"  # the clock ran, but the calendar was closed
    PAUSED = "paused"  # waiting on the customer or a third party
    STOPPED = "stopped"  # resolved before a first response: kept in case it reopens

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    start: datetime
    end: datetime  # `now` for the segment still going on
    working: timedelta  # the working time the clock used in it (running parts only)
    reason: str | None = None  # paused / stopped: why ("status pending")
    cycle: int = 0
    calendar: str | None = None
    ongoing: bool = False

    @property
    def wall(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Step:
    """One ledger entry, as recorded."""

    at: datetime
    actor: str
    clock: ClockName | None  # None for policy steps (policy chosen, cleared)
    action: str  # policy, clear, start, pause, stop, resume, retarget, met, breach, restart
    reason: str | None = None
    due_at: datetime | None = None
    remaining: timedelta | None = None
    target: timedelta | None = None
    policy: str | None = None
    calendar: str | None = None
    cycle: int = 0


@dataclass(frozen=True)
class ClockReport:
    name: ClockName
    state: ClockState
    target: timedelta
    due_at: datetime | None  # the deadline while running; when it was due once met
    started_at: datetime | None  # the last start (or restart on reopen) of this clock
    used: timedelta  # working time used since `started_at`, from the segments
    remaining: timedelta | None  # at `now` (running, paused, stopped) or when met; < 0 late
    percent_used: int | None
    breached: bool
    breached_by: timedelta | None  # working time past the target, once breached
    outcome: str  # "met in time, 40m working time to spare", "breached by 1h20m ..."
    segments: tuple[Segment, ...]  # every segment, earlier cycles included
    note: str | None = None  # the stored deadline and the ledger disagree


@dataclass(frozen=True)
class CalendarInfo:
    name: str
    known: bool  # False: no longer in the rules, so every hour counts
    timezone: str
    always_open: bool
    hours: Mapping[str, tuple[str, ...]]  # {"mon": ("09:00-13:00", ...)}: working days
    holidays: tuple[str, ...]  # dates, RRULEs and "easter+1" as written


@dataclass(frozen=True)
class PolicyInfo:
    name: str | None
    reason: str | None  # why it was chosen (or why none applies)
    chosen_at: datetime | None
    rules_now: str | None = None  # the active rules would choose otherwise (not yet applied)


@dataclass(frozen=True)
class Fired:
    rule: str | None  # None for a manual escalation
    cycle: int
    trigger: str
    at: datetime
    actor: str
    reason: str | None
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Upcoming:
    rule: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class SlaExplanation:
    number: str
    subject: str
    status: str
    priority: str
    now: datetime
    policy: PolicyInfo
    calendar: CalendarInfo | None
    cycle: int
    clocks: tuple[ClockReport, ...]
    ledger: tuple[Step, ...]
    escalations: tuple[Fired, ...]
    upcoming: tuple[Upcoming, ...]
    escalation_level: int
    next_escalation_at: datetime | None


# --- words ----------------------------------------------------------------------------------


def _outcome(state: ClockState, left: timedelta | None, reason: str | None, breached: bool) -> str:
    words = _words(state, left, reason, breached)
    if breached and (left is None or left > ZERO):
        # A target raised after the breach (priority lowered) leaves time again, not a pardon.
        words += "; breached earlier"
    return words


def _words(state: ClockState, left: timedelta | None, reason: str | None, breached: bool) -> str:
    if state is ClockState.MET:
        if left is None:
            return "met"
        if left < ZERO:
            return f"met late: breached by {span(-left)} working time"
        if left == ZERO and breached:
            return "met late: at the deadline"
        return f"met in time, {span(left)} working time to spare"
    assert left is not None
    if state is ClockState.RUNNING:
        if left <= ZERO:
            return f"{_breached(left)}, still running"
        return f"running: {span(left)} working time left"
    why = f" ({reason})" if reason else ""
    if left <= ZERO:
        return f"{state}{why}: {_breached(left)}"
    return f"{state}{why}: {span(left)} working time left"


def _breached(left: timedelta) -> str:
    if left:
        return f"breached by {span(-left)} working time"
    # The deadline fell at closing time: breached, though no working time has passed since.
    return "breached at the deadline, no working time since"


# --- reading --------------------------------------------------------------------------------


def explain_sla(session: Session, ref: str | int, now: datetime) -> SlaExplanation:
    """The explanation of a ticket's SLA clocks at `now` (NotFound for an unknown ticket)."""
    ticket = get_ticket(session, ref)
    rules = active_rules(session)
    events = list(
        session.scalars(
            select(TicketEvent)
            .where(
                TicketEvent.ticket_id == ticket.id,
                or_(TicketEvent.kind == EventKind.SLA, TicketEvent.kind == EventKind.STATUS),
            )
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )
    steps = tuple(_step(e) for e in events if e.kind is EventKind.SLA)
    sla = sla_of(ticket)
    calendar = calendar_for(rules, sla.calendar)
    clocks = []
    for name in ClockName:
        clock = sla.clock(name)
        if clock is None:
            continue
        walker = _Walker(name, rules)
        for event in events:
            walker.feed(event)
        segments = walker.finish(now)
        clocks.append(_report(name, clock, calendar, segments, walker.started_at, steps, now))
    return SlaExplanation(
        number=ticket.key,
        subject=ticket.subject,
        status=ticket.status.value,
        priority=ticket.priority.value,
        now=now,
        policy=_policy(ticket, rules, steps),
        calendar=_calendar_info(rules, sla.calendar) if sla.calendar else None,
        cycle=sla.cycle,
        clocks=tuple(clocks),
        ledger=steps,
        escalations=_fired(session, ticket),
        upcoming=_upcoming(session, ticket, rules, calendar, now),
        escalation_level=ticket.escalation_level,
        next_escalation_at=ticket.next_escalation_at,
    )


def _seconds(detail: dict[str, Any], key: str) -> timedelta | None:
    value = detail.get(key)
    return None if value is None else timedelta(seconds=value)


def _step(event: TicketEvent) -> Step:
    detail = event.detail or {}
    due = detail.get("due_at")
    return Step(
        at=event.at,
        actor=event.actor,
        clock=None if event.field == "policy" else ClockName(event.field or ""),
        action=event.new or "",
        reason=detail.get("reason"),
        due_at=datetime.fromisoformat(due) if due else None,
        remaining=_seconds(detail, "remaining_s"),
        target=_seconds(detail, "target_s"),
        policy=detail.get("policy"),
        calendar=detail.get("calendar"),
        cycle=detail.get("cycle") or 0,
    )


class _Walker:
    """Walks the ticket's status and SLA events in order and cuts one clock's segments."""

    def __init__(self, name: ClockName, rules: Rules) -> None:
        self.name = name
        self.rules = rules
        self.status: str | None = None
        self.kind: SegmentKind | None = None
        self.since: datetime | None = None
        self.reason: str | None = None
        self.calendar: str | None = None
        self.cycle = 0
        self.started_at: datetime | None = None
        self.segments: list[Segment] = []

    def feed(self, event: TicketEvent) -> None:
        if event.kind is EventKind.STATUS:
            self.status = event.new
            return
        if event.field == "policy":
            if event.new == "clear":  # no policy applies any more: the clocks are gone
                self._close(event.at)
                self.kind = None
            return
        if event.field != self.name.value:
            return
        step = _step(event)
        action, at = step.action, step.at
        if action in ("start", "restart"):
            self._close(at)
            self.started_at = at
            if step.due_at is not None:
                kind = SegmentKind.RUNNING
            else:  # started waiting: the reason is the state it started in
                kind = SegmentKind(step.reason) if step.reason == "stopped" else SegmentKind.PAUSED
            self._open(kind, at, self._waiting(), step)
        elif action in ("pause", "stop"):
            self._close(at)
            kind = SegmentKind.PAUSED if action == "pause" else SegmentKind.STOPPED
            self._open(kind, at, step.reason or self._waiting(), step)
        elif action == "resume":
            self._close(at)
            self._open(SegmentKind.RUNNING, at, None, step)
        elif action == "met":
            self._close(at)
            self.kind = None
        elif action == "retarget" and step.calendar != self.calendar:
            if self.kind is SegmentKind.RUNNING:
                # A new policy on another calendar: what follows counts on that calendar.
                self._close(at)
                self._open(SegmentKind.RUNNING, at, None, step)
            else:
                self.calendar = step.calendar

    def _waiting(self) -> str:
        return f"status {self.status}" if self.status else "waiting"

    def _open(self, kind: SegmentKind, at: datetime, reason: str | None, step: Step) -> None:
        self.kind, self.since, self.reason = kind, at, reason
        self.calendar, self.cycle = step.calendar, step.cycle

    def _close(self, end: datetime, *, ongoing: bool = False) -> None:
        if self.kind is None or self.since is None:
            return
        start, self.since = self.since, None
        kind, self.kind = self.kind, None
        end = max(start, end)
        if end == start and not ongoing:
            return
        common = {"cycle": self.cycle, "calendar": self.calendar}
        if kind is not SegmentKind.RUNNING:
            self.segments.append(
                Segment(kind, start, end, ZERO, self.reason, ongoing=ongoing, **common)
            )
            return
        parts = split_by_hours(calendar_for(self.rules, self.calendar), start, end)
        pieces = [
            Segment(SegmentKind.RUNNING, p.start, p.end, p.length, **common)
            if p.working
            else Segment(SegmentKind.OUTSIDE_HOURS, p.start, p.end, ZERO, **common)
            for p in parts
        ] or [Segment(SegmentKind.RUNNING, start, end, ZERO, **common)]
        if ongoing:
            pieces[-1] = replace(pieces[-1], ongoing=True)
        self.segments.extend(pieces)

    def finish(self, now: datetime) -> tuple[Segment, ...]:
        self._close(now, ongoing=True)
        return tuple(self.segments)


def _report(
    name: ClockName,
    clock: Clock,
    calendar: Calendar,
    segments: tuple[Segment, ...],
    started_at: datetime | None,
    steps: tuple[Step, ...],
    now: datetime,
) -> ClockReport:
    current = [s for s in segments if started_at is None or s.start >= started_at]
    used = sum((s.working for s in current), ZERO)
    reason = None
    if clock.state is ClockState.MET:
        met = [s for s in steps if s.clock is name and s.action == "met"]
        left = met[-1].remaining if met else None
    else:
        left = remaining(calendar, clock, now)
        waiting = [s for s in current if s.kind in (SegmentKind.PAUSED, SegmentKind.STOPPED)]
        reason = waiting[-1].reason if waiting and waiting[-1].ongoing else None
    breached_by = None
    if left is not None and left < ZERO:
        breached_by = -left
    elif clock.breached and used > clock.target:
        breached_by = used - clock.target
    note = None
    if left is not None and started_at is not None and segments:
        stored_used = clock.target - left
        if abs(stored_used - used) > _TOLERANCE:
            note = (
                f"the stored deadline implies {span(stored_used)} used; "
                f"the segments add up to {span(used)}"
            )
    return ClockReport(
        name=name,
        state=clock.state,
        target=clock.target,
        due_at=clock.due_at,
        started_at=started_at,
        used=used,
        remaining=left,
        percent_used=percent_used(clock.target, left) if left is not None else None,
        breached=clock.breached or (left is not None and left < ZERO),
        breached_by=breached_by,
        outcome=_outcome(clock.state, left, reason, clock.breached),
        segments=segments,
        note=note,
    )


def _policy(ticket: Ticket, rules: Rules, steps: tuple[Step, ...]) -> PolicyInfo:
    chosen = [s for s in steps if s.clock is None]
    last = chosen[-1] if chosen else None
    if ticket.sla_policy is None:
        if last is not None and last.action == "clear":
            reason = last.reason
        elif not rules.sla:
            reason = "the active rules define no SLA policy"
        else:
            reason = "no [[sla]] policy matches the ticket"
        info = PolicyInfo(None, reason, last.at if last else None)
    else:
        info = PolicyInfo(
            ticket.sla_policy, last.reason if last else None, last.at if last else None
        )
    contract = ticket.organization.sla_policy if ticket.organization else None
    choice = choose_policy(rules, facts_of(ticket), contract)
    now_name = choice[0].name if choice else None
    if now_name != ticket.sla_policy:
        # Rules applied since the ticket last changed: its clocks move on its next change.
        would = choice[1] if choice else "no policy"
        info = replace(info, rules_now=f"the active rules would now choose {would}")
    return info


def _calendar_info(rules: Rules, name: str) -> CalendarInfo:
    calendar = calendar_for(rules, name)
    known = calendar is not ALWAYS
    hours = {
        day: tuple(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans)
        for day, spans in zip(WEEKDAYS, calendar.hours, strict=True)
        if spans and not calendar.always_open
    }
    holidays = (
        *sorted(d.isoformat() for d in calendar.holiday_dates),
        *calendar.holiday_rules,
        *(f"easter{offset:+d}" for offset in calendar.easter_offsets),
    )
    return CalendarInfo(
        name=name,
        known=known,
        timezone=calendar.timezone,
        always_open=calendar.always_open,
        hours=hours,
        holidays=holidays,
    )


def _fired(session: Session, ticket: Ticket) -> tuple[Fired, ...]:
    rows = session.scalars(
        select(Escalation)
        .where(Escalation.ticket_id == ticket.id)
        .order_by(Escalation.at, Escalation.id)
    )
    return tuple(
        Fired(r.rule, r.cycle, r.trigger, r.at, r.actor, r.reason, tuple(r.actions or ()))
        for r in rows
    )


def _upcoming(
    session: Session, ticket: Ticket, rules: Rules, calendar: Calendar, now: datetime
) -> tuple[Upcoming, ...]:
    """Escalation rules not yet fired in this cycle that will fire as things stand."""
    if not rules.escalations:
        return ()
    fired = fired_rules(session, ticket)
    sla, facts, timers = sla_of(ticket), facts_of(ticket), timers_of(ticket)
    planned = []
    for rule in rules.escalations:
        if rule.name in fired:
            continue
        when = fire_time(rule, sla, calendar, facts, timers, now)
        if when is not None:
            planned.append(Upcoming(rule.name, when[0], when[1]))
    return tuple(sorted(planned, key=lambda u: u.at))


# --- the --json document --------------------------------------------------------------------


def explanation_doc(explanation: SlaExplanation) -> dict[str, Any]:
    """The `helpdesk ticket sla --json` document: the explanation's fields as keys (stable:
    they are the dataclasses' field names), times as ISO 8601 UTC with `Z`, durations as
    whole seconds under the field name plus `_s`, every segment and ledger step."""
    doc = _plain(explanation)
    assert isinstance(doc, dict)
    return doc


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        doc = {}
        for item in fields(value):
            # The key follows the declared type, not the value, so a None keeps its `_s`.
            key = f"{item.name}_s" if "timedelta" in str(item.type) else item.name
            doc[key] = _plain(getattr(value, item.name))
        return doc
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value

"""When escalation rules fire: the instants behind `next_escalation_at` and `helpdesk escalate`.

For one ticket, `fire_time` says when a rule becomes due: at a share of an SLA target (the
instant the clock's remaining working time drops to the rest of the target; a share below
100% is a warning, so it no longer fires once the clock is overdue), at the breach,
after a working-time duration idle (no public exchange while new or open) or unassigned, or
never (customer requests fire on request; a paused clock fires nothing). `schedule` gathers,
for rules not yet fired in this SLA cycle, what is due at `now` and the next instant anything
will be, breaches of running clocks included, so the store can keep that instant on the
ticket and the escalation run reads only tickets whose instant has come.

The SLA service calls `schedule` after every change; the escalation run calls it on each
candidate. Pure: `now` is a parameter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tui_helpdesk.domain import Status
from tui_helpdesk.rules.calendar import Calendar, add_working_time
from tui_helpdesk.rules.clock import (
    ZERO,
    ClockName,
    ClockState,
    Sla,
    breaches,
    remaining,
)
from tui_helpdesk.rules.escalation import (
    AtBreach,
    AtDuration,
    AtPercent,
    EscalationRule,
    Trigger,
)
from tui_helpdesk.rules.sla import TicketFacts

_WORKING = (Status.NEW, Status.OPEN)  # idle counts only while the desk owes the next move


@dataclass(frozen=True)
class Timers:
    """The ticket's facts for idle and unassigned rules."""

    last_activity_at: datetime  # last public exchange (or creation)
    unassigned_since: datetime | None  # None while somebody owns the ticket


@dataclass(frozen=True)
class Due:
    rule: EscalationRule
    at: datetime  # when it became due
    reason: str


@dataclass(frozen=True)
class Schedule:
    due: tuple[Due, ...]  # rules due at `now`, in the order of the rules file
    breaches: tuple[ClockName, ...]  # running clocks past their deadline, not yet recorded
    next_at: datetime | None  # the next instant a rule or a breach will be due


def fire_time(
    rule: EscalationRule,
    sla: Sla,
    calendar: Calendar,
    facts: TicketFacts,
    timers: Timers,
    now: datetime,
) -> tuple[datetime, str] | None:
    """When `rule` fires for this ticket, and why; None if it cannot fire as things stand.

    A breach fires at the clock's deadline (in the past for an overdue clock); a share of the
    target that is already used fires at `now` (the exact past instant is not kept)."""
    if facts.status is None or not facts.status.is_active or not rule.where.matches(facts):
        return None
    at = rule.at
    if rule.on.is_target:
        name = ClockName(rule.on.value)
        clock = sla.clock(name)
        if clock is None or clock.state is not ClockState.RUNNING or clock.due_at is None:
            return None
        if isinstance(at, AtBreach) or (isinstance(at, AtPercent) and at.percent == 100):
            return clock.due_at, f"{name.label} target breached"
        assert isinstance(at, AtPercent)
        rest = clock.target * (100 - at.percent) / 100
        left = remaining(calendar, clock, now)
        assert left is not None
        if clock.breached or left <= ZERO:
            return None  # a warning is for before the breach: once breached, it is too late
        reason = f"{at.percent}% of the {name.label} target used"
        if left <= rest:
            return now, reason
        return add_working_time(calendar, now, left - rest), reason
    if not isinstance(at, AtDuration):
        return None  # customer requests fire only on request
    if rule.on is Trigger.IDLE:
        if facts.status not in _WORKING:
            return None
        start, what = timers.last_activity_at, "idle"
    else:
        if timers.unassigned_since is None:
            return None
        start, what = timers.unassigned_since, "unassigned"
    return add_working_time(calendar, start, at.duration), f"{what} for {at}"


def schedule(
    rules: Iterable[EscalationRule],
    sla: Sla,
    calendar: Calendar,
    facts: TicketFacts,
    timers: Timers,
    fired: Collection[str],
    now: datetime,
) -> Schedule:
    """What is due now for this ticket, and when the next thing will be."""
    due: list[Due] = []
    upcoming: list[datetime] = []
    for rule in rules:
        if rule.name in fired:
            continue
        when = fire_time(rule, sla, calendar, facts, timers, now)
        if when is None:
            continue
        at, reason = when
        if at <= now:
            due.append(Due(rule, at, reason))
        else:
            upcoming.append(at)
    overdue = breaches(sla, now)
    for name in ClockName:
        clock = sla.clock(name)
        if (
            clock is not None
            and clock.state is ClockState.RUNNING
            and not clock.breached
            and clock.due_at is not None
            and clock.due_at > now
        ):
            upcoming.append(clock.due_at)
    # Something due now is picked up by the run that sees it: keep the ticket a candidate.
    if due or overdue:
        upcoming.append(now)
    return Schedule(tuple(due), tuple(overdue), min(upcoming) if upcoming else None)


def percent_used(clock_target: timedelta, left: timedelta) -> int:
    """How much of a target is used, in whole percent (over 100 once overdue)."""
    if clock_target <= ZERO:
        return 100
    # Whole microseconds, not floats: 29% of a target must not read as 28.
    return (clock_target - left) * 100 // clock_target

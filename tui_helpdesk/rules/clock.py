"""SLA clocks: the pure state machine behind every ticket's due times (DESIGN §4).

A ticket with an SLA policy has two clocks, first response and resolution. Each is
`running` (it has a deadline), `paused` (the ticket waits on the customer or a third party:
the working time left is kept), `stopped` (the ticket was resolved before anyone answered:
first response only, kept like a pause in case it reopens) or `met`.

`reconcile` is the one rule for how clocks move. The SLA service calls it after every change
of a ticket with the clocks as stored and the ticket's facts as they are now; it returns the
new clocks and the ledger entries that explain the step (policy chosen, start, pause, resume,
retarget, met, breach, restart). What moves them:

- the policy: chosen by the organization's contract (its `sla_policy`) when that names a
  policy of the rules, else by the first `[[sla]]` whose `where` matches; a ticket no policy
  matches has no clocks;
- the targets: the policy's per priority. A new target (priority or policy changed) keeps
  the working time already used: the remaining time becomes new target minus elapsed;
- the status: `pending` pauses both clocks, `on_hold` pauses resolution only, `resolved` and
  `closed` meet resolution (and stop an unanswered first response);
- the first public reply meets first response;
- a reopened ticket (resolution met, then active again) starts a new cycle with a fresh
  resolution clock.

Remaining time is measured in working time on the policy's calendar; a clock that is already
overdue keeps a negative remaining time and resumes exactly as overdue as it was paused (its
deadline then lies that much working time in the past), so pausing never adds or removes
working time from a target. A met clock keeps what was left when it was met (its target
minus that is the working time the goal took, which reports read); a clock already met when
its policy starts has none. A running clock is overdue from the instant of its deadline on
(the same instant `breaches` and a `breach` escalation use); a paused one once its remaining
time is zero or less. Every clock that becomes overdue gets its `breached` flag and exactly one
`breach` ledger entry, whichever step made it overdue (the deadline passing, a retarget to a
shorter target); the flag stays once set. No clock, no I/O: `now` is a parameter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tui_helpdesk.domain import Status
from tui_helpdesk.rules.calendar import Calendar, add_working_time, working_time_between
from tui_helpdesk.rules.document import Rules
from tui_helpdesk.rules.sla import SlaPolicy, TicketFacts, select_policy

ZERO = timedelta(0)
# The calendar of timers on tickets without a policy, and of clocks whose calendar is no
# longer in the rules: every hour counts.
ALWAYS = Calendar(name="always", timezone="UTC", always_open=True)


class ClockName(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Both clocks, in order: iterating the enum class itself is slow enough to show in a batch
# job that asks for every ticket.
CLOCK_NAMES = tuple(ClockName)


class ClockState(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    MET = "met"


@dataclass(frozen=True)
class Clock:
    state: ClockState
    target: timedelta
    due_at: datetime | None = None  # the deadline while running; kept once met
    # Working time left (< 0 overdue): while paused or stopped; once met, what was left when
    # it was met (the "met" ledger entry's), so reports read working times off the ticket.
    # None while running (the deadline tells it) and for a clock met before it was measured.
    remaining: timedelta | None = None
    breached: bool = False


@dataclass(frozen=True)
class Sla:
    """A ticket's clocks as stored."""

    policy: str | None = None
    calendar: str | None = None
    cycle: int = 0
    first_response: Clock | None = None
    resolution: Clock | None = None

    def clock(self, name: ClockName) -> Clock | None:
        return self.first_response if name is ClockName.FIRST_RESPONSE else self.resolution

    @property
    def due_at(self) -> datetime | None:
        """The earliest deadline still running (the queue's order)."""
        dues = [
            clock.due_at
            for clock in (self.first_response, self.resolution)
            if clock is not None and clock.state is ClockState.RUNNING and clock.due_at
        ]
        return min(dues) if dues else None

    @property
    def paused(self) -> bool:
        return any(
            clock is not None and clock.state is ClockState.PAUSED
            for clock in (self.first_response, self.resolution)
        )


@dataclass(frozen=True)
class Situation:
    """What the clocks depend on, as the ticket is now."""

    facts: TicketFacts  # `status` is required here
    contract: str | None = None  # the organization's named SLA policy
    first_response_at: datetime | None = None
    merged: bool = False  # merged into another ticket: closed, but its clocks stop, not met


@dataclass(frozen=True)
class LedgerEntry:
    """One step of a clock, as the audit trail records it."""

    # policy, clear, start, pause, stop, resume, retarget, met, breach, restart
    action: str
    clock: ClockName | None = None
    reason: str = ""
    due_at: datetime | None = None
    remaining: timedelta | None = None
    target: timedelta | None = None


def calendar_for(rules: Rules, name: str | None) -> Calendar:
    if name is not None and name in rules.calendars:
        return rules.calendars[name]
    return ALWAYS


def choose_policy(
    rules: Rules, facts: TicketFacts, contract: str | None
) -> tuple[SlaPolicy, str] | None:
    """The policy for a ticket, and why: the organization's contract first, then the first
    `[[sla]]` whose `where` matches."""
    if contract:
        for policy in rules.sla:
            if policy.name == contract:
                return policy, f"{policy.name}: the organization's contract names it"
    return select_policy(rules.sla, facts)


def signed_working_time(calendar: Calendar, now: datetime, due: datetime) -> timedelta:
    """Working time from `now` to `due`; negative (overdue) when `due` has passed."""
    if due >= now:
        return working_time_between(calendar, now, due)
    return -working_time_between(calendar, due, now)


def remaining(calendar: Calendar, clock: Clock, now: datetime) -> timedelta | None:
    """Working time left on a clock at `now` (None once met: a met clock's `remaining` is
    what was left when it was met, not time still to run)."""
    if clock.state is ClockState.RUNNING and clock.due_at is not None:
        return signed_working_time(calendar, now, clock.due_at)
    if clock.state in (ClockState.PAUSED, ClockState.STOPPED):
        return clock.remaining
    return None


def deadline(calendar: Calendar, now: datetime, left: timedelta) -> datetime:
    """When `left` of working time from `now` is used up. For an overdue clock (`left` < 0)
    the instant it became due, `-left` of working time before `now`, so the clock resumes
    exactly as overdue as it was: `signed_working_time(calendar, now, deadline(...)) == left`."""
    if left > ZERO:
        return add_working_time(calendar, now, left)
    if left < ZERO:
        return _working_time_before(calendar, now, -left)
    return now


# How far back an overdue deadline is searched; a calendar without working time in that long
# (only holidays can do that) makes an overdue clock due now instead.
_MAX_LOOKBACK = timedelta(days=366 * 10)


def _working_time_before(calendar: Calendar, end: datetime, amount: timedelta) -> datetime:
    """An instant with exactly `amount` (> 0) of working time between it and `end`.

    The calendar only adds forwards, so: go back (doubling the step) to an instant with at
    least `amount` of working time before `end`, then add the surplus forwards from there."""
    if calendar.always_open:
        return end - amount
    span = amount
    while (found := working_time_between(calendar, end - span, end)) < amount:
        if span > _MAX_LOOKBACK:
            return end
        span *= 2
    return add_working_time(calendar, end - span, found - amount)


def _wanted(name: ClockName, situation: Situation) -> ClockState:
    status = situation.facts.status
    if name is ClockName.FIRST_RESPONSE:
        if situation.first_response_at is not None:
            return ClockState.MET
        if situation.merged or status in (Status.RESOLVED, Status.CLOSED):
            return ClockState.STOPPED
        return ClockState.PAUSED if status is Status.PENDING else ClockState.RUNNING
    if situation.merged:
        # Its conversation goes on in the ticket it was merged into: nothing was resolved.
        return ClockState.STOPPED
    if status in (Status.RESOLVED, Status.CLOSED):
        return ClockState.MET
    if status in (Status.PENDING, Status.ON_HOLD):
        return ClockState.PAUSED
    return ClockState.RUNNING


def _why_waiting(situation: Situation) -> str:
    if situation.merged:
        return "merged"
    status = situation.facts.status
    return f"status {status}" if status is not None else "waiting"


def _start(
    name: ClockName, wanted: ClockState, target: timedelta, calendar: Calendar, now: datetime
) -> tuple[Clock, LedgerEntry]:
    if wanted is ClockState.RUNNING:
        due = deadline(calendar, now, target)
        return Clock(wanted, target, due_at=due), LedgerEntry(
            "start", name, due_at=due, target=target
        )
    if wanted is ClockState.MET:
        return Clock(wanted, target), LedgerEntry("met", name, reason="already met", target=target)
    return Clock(wanted, target, remaining=target), LedgerEntry(
        "start", name, reason=f"{wanted}", remaining=target, target=target
    )


def _overdue(clock: Clock, left: timedelta, now: datetime) -> bool:
    """Past the deadline: a running clock from its deadline's instant on (as `breaches` and a
    `breach` escalation see it, even when no working time has passed since), any other clock
    once no working time is left."""
    if clock.state is ClockState.RUNNING and clock.due_at is not None:
        return clock.due_at <= now
    return left <= ZERO


def _step(
    name: ClockName,
    before: Clock | None,
    wanted: ClockState,
    target: timedelta,
    old_calendar: Calendar,
    calendar: Calendar,
    situation: Situation,
    now: datetime,
    why_retarget: str | None,
) -> tuple[Clock, list[LedgerEntry]]:
    """One clock's step. `why_retarget` is set when the policy or its calendar changed: the
    clock is then retargeted even if its target stays the same (the deadline moves with the
    calendar); otherwise a clock is retargeted only when its target changed (priority)."""
    if before is None:
        clock, entry = _start(name, wanted, target, calendar, now)
        return clock, [entry]
    if before.state is ClockState.MET:
        if wanted is ClockState.MET or name is ClockName.FIRST_RESPONSE or situation.merged:
            # A met first response stays met, even on reopen; so does the resolution of a
            # ticket resolved before it was merged.
            return before, []
        clock, entry = _start(name, wanted, target, calendar, now)
        return clock, [replace(entry, action="restart", reason="reopened: a new cycle")]

    entries: list[LedgerEntry] = []
    left = remaining(old_calendar, before, now)
    assert left is not None
    overdue = _overdue(before, left, now)
    breached = before.breached
    if overdue and not breached:
        breached = True
        entries.append(LedgerEntry("breach", name, due_at=before.due_at, remaining=left))
    retargeted = why_retarget is not None or target != before.target
    due = before.due_at  # the deadline a running or met clock keeps
    if retargeted:
        # The working time already used stays used: only the target changes.
        left = target - (before.target - left)
        overdue = left <= ZERO
        # The new deadline, for a clock that runs on, or is met now while it was running.
        keeps_deadline = wanted is ClockState.RUNNING or (
            wanted is ClockState.MET and before.state is ClockState.RUNNING
        )
        due = deadline(calendar, now, left) if keeps_deadline else None
        entries.append(
            LedgerEntry(
                "retarget",
                name,
                reason=why_retarget or f"priority {situation.facts.priority}",
                remaining=left,
                target=target,
                due_at=due,
            )
        )
        if overdue and not breached:
            breached = True
            entries.append(
                LedgerEntry("breach", name, reason="retargeted", due_at=due, remaining=left)
            )
    if wanted is ClockState.RUNNING:
        if before.state is ClockState.RUNNING and not retargeted:
            return replace(before, breached=breached), entries
        if not retargeted:
            due = deadline(calendar, now, left)
        if before.state is not ClockState.RUNNING:
            entries.append(LedgerEntry("resume", name, due_at=due, remaining=left))
        return Clock(wanted, target, due_at=due, breached=breached), entries
    if wanted is ClockState.MET:
        entries.append(
            LedgerEntry(
                "met",
                name,
                reason="late" if overdue else "in time",
                due_at=due,
                remaining=left,
            )
        )
        return Clock(wanted, target, due_at=due, remaining=left, breached=breached), entries
    # paused or stopped: record the change of state (a retarget entry already told the rest)
    if before.state is not wanted:
        action = "pause" if wanted is ClockState.PAUSED else "stop"
        entries.append(LedgerEntry(action, name, reason=_why_waiting(situation), remaining=left))
    return Clock(wanted, target, remaining=left, breached=breached), entries


def reconcile(
    rules: Rules, before: Sla, situation: Situation, now: datetime
) -> tuple[Sla, list[LedgerEntry]]:
    """The clocks after a change, and the ledger entries that explain the step."""
    if situation.facts.status is None:
        raise ValueError("reconcile needs the ticket's status in its facts")
    choice = choose_policy(rules, situation.facts, situation.contract)
    if choice is None:
        if before.policy is None:
            return before, []
        return Sla(cycle=before.cycle), [LedgerEntry("clear", reason="no SLA policy applies")]
    policy, why = choice
    entries: list[LedgerEntry] = []
    why_retarget: str | None = None  # set when every clock moves, whatever its target
    if before.policy != policy.name:
        entries.append(LedgerEntry("policy", reason=why))
        if before.policy is not None:
            why_retarget = f"policy {before.policy} -> {policy.name}"
    elif before.calendar is not None and before.calendar != policy.calendar:
        why_retarget = f"calendar {before.calendar} -> {policy.calendar}"
    old_calendar = calendar_for(rules, before.calendar)
    calendar = calendar_for(rules, policy.calendar)
    first_target, resolution_target = policy.targets(situation.facts.priority)
    cycle = before.cycle
    if (
        before.resolution is not None
        and before.resolution.state is ClockState.MET
        and _wanted(ClockName.RESOLUTION, situation) is not ClockState.MET
    ):
        cycle += 1
    clocks: dict[ClockName, Clock] = {}
    for name, target in (
        (ClockName.FIRST_RESPONSE, first_target),
        (ClockName.RESOLUTION, resolution_target),
    ):
        clock, steps = _step(
            name,
            before.clock(name),
            _wanted(name, situation),
            target,
            old_calendar,
            calendar,
            situation,
            now,
            why_retarget,
        )
        clocks[name] = clock
        entries.extend(steps)
    after = Sla(
        policy=policy.name,
        calendar=policy.calendar,
        cycle=cycle,
        first_response=clocks[ClockName.FIRST_RESPONSE],
        resolution=clocks[ClockName.RESOLUTION],
    )
    return after, entries


def breaches(sla: Sla, now: datetime) -> list[ClockName]:
    """Running clocks past their deadline whose breach is not yet recorded."""
    return [
        name
        for name in CLOCK_NAMES
        if (clock := sla.clock(name)) is not None
        and clock.state is ClockState.RUNNING
        and not clock.breached
        and clock.due_at is not None
        and clock.due_at <= now
    ]


def mark_breached(sla: Sla, names: list[ClockName]) -> Sla:
    changes: Mapping[str, Clock | None] = {
        name.value: replace(clock, breached=True)
        for name in names
        if (clock := sla.clock(name)) is not None
    }
    return replace(sla, **changes)

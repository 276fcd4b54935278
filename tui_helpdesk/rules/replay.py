"""Replaying one ticket's history through the clock and trigger rules (`helpdesk rules test`).

A `History` is what happened to a ticket as plain values (its starting facts and the changes
of each instant); `replay_ticket` walks it through `rules.clock.reconcile` and
`rules.triggers.schedule` under a set of rules and returns which escalation rules would have
fired (once per ticket and SLA cycle) and which clocks would have breached. The replay service
(services.replay) builds histories from the audit trail and adds the figures up. Escalation
actions are not applied. Pure: `now` is a parameter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tui_helpdesk.domain import Channel, EventKind, Priority, Status
from tui_helpdesk.rules.clock import (
    ClockName,
    Situation,
    Sla,
    calendar_for,
    mark_breached,
    reconcile,
)
from tui_helpdesk.rules.document import Rules
from tui_helpdesk.rules.sla import TicketFacts
from tui_helpdesk.rules.triggers import Timers, schedule

# --- a ticket's history --------------------------------------------------------------------

_STATUSES = frozenset(status.value for status in Status)
_PRIORITIES = frozenset(priority.value for priority in Priority)


@dataclass(frozen=True)
class Change:
    """One audited change, as the replay reads it."""

    kind: EventKind
    old: str | None = None
    new: str | None = None
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Step:
    """The changes of one instant (one service call writes its events at one `now`)."""

    at: datetime
    changes: tuple[Change, ...]


@dataclass
class TicketState:
    """What the clocks and triggers ask about a ticket, at one point of its history."""

    status: Status
    priority: Priority
    category: str | None = None
    group: str | None = None
    level: int | None = None
    assignee: str | None = None
    tags: frozenset[str] = frozenset()
    first_response_at: datetime | None = None
    last_activity_at: datetime | None = None
    unassigned_since: datetime | None = None
    merged: bool = False


@dataclass(frozen=True)
class History:
    key: str
    channel: Channel
    segment: str | None  # the organization's, as it is now
    contract: str | None
    start: TicketState  # as created; the first step is the creation
    steps: tuple[Step, ...]


def parse_status(value: object) -> Status | None:
    return Status(value) if value in _STATUSES else None


def parse_priority_value(value: object) -> Priority | None:
    return Priority(value) if value in _PRIORITIES else None


def parse_level(value: object) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _apply(state: TicketState, change: Change, at: datetime) -> None:
    """Move the state by one audited change; values the enums do not know are ignored."""
    kind, new = change.kind, change.new
    if kind in (EventKind.STATUS, EventKind.REOPENED):
        state.status = parse_status(new) or state.status
    elif kind is EventKind.PRIORITY:
        state.priority = parse_priority_value(new) or state.priority
    elif kind is EventKind.CATEGORY:
        state.category = new or None
    elif kind is EventKind.GROUP:
        state.group = new or None
    elif kind is EventKind.LEVEL:
        state.level = parse_level(new)
    elif kind is EventKind.ASSIGNEE:
        state.assignee = new or None
    elif kind is EventKind.TAGS:
        state.tags = frozenset((new or "").split())
    elif kind is EventKind.REPLY:
        state.last_activity_at = at
    elif kind is EventKind.FIRST_RESPONSE:
        state.first_response_at = state.first_response_at or at
    elif kind is EventKind.MERGED:
        state.merged = True
    elif kind is EventKind.CUSTOMER_MESSAGE and not (change.detail or {}).get("automatic"):
        state.last_activity_at = at


# --- replaying one ticket ------------------------------------------------------------------


@dataclass
class Outcome:
    """What one ticket would have produced under one set of rules."""

    escalations: Counter[str] = field(default_factory=Counter)  # rule -> cycles it fired in
    policies: set[str] = field(default_factory=set)  # every policy that governed its clocks
    breaches: Counter[tuple[str, ClockName]] = field(default_factory=Counter)

    def note_step(self, before: Sla, after: Sla) -> None:
        """Count the clocks that became breached in a step, under the policy in force."""
        if after.policy is None:
            return
        self.policies.add(after.policy)
        for name in ClockName:
            now_clock, was = after.clock(name), before.clock(name)
            if now_clock is not None and now_clock.breached and not (was and was.breached):
                self.breaches[(after.policy, name)] += 1


def _facts(history: History, state: TicketState) -> TicketFacts:
    return TicketFacts(
        priority=state.priority,
        segment=history.segment,
        group=state.group,
        level=state.level,
        category=state.category,
        channel=history.channel,
        status=state.status,
        tags=state.tags,
    )


def replay_ticket(rules: Rules, history: History, now: datetime) -> Outcome:
    """Step a ticket's history through `rules` up to `now`. Pure: no database, no clock."""
    state = replace(history.start)
    sla = Sla()
    fired: set[str] = set()
    outcome = Outcome()
    last = len(history.steps) - 1
    for index, step in enumerate(history.steps):
        for change in step.changes:
            _apply(state, change, step.at)
        # As `services.sla.update_clocks` keeps it on every change.
        if state.assignee is None and state.status.is_active:
            state.unassigned_since = state.unassigned_since or step.at
        else:
            state.unassigned_since = None
        situation = Situation(
            _facts(history, state), history.contract, state.first_response_at, state.merged
        )
        after, _ledger = reconcile(rules, sla, situation, step.at)
        outcome.note_step(sla, after)
        if after.cycle != sla.cycle:
            fired = set()  # each rule fires once per SLA cycle
        sla = after
        end = now if index == last else history.steps[index + 1].at
        sla = _between(rules, history, state, sla, fired, outcome, step.at, end, index == last)
    return outcome


def _between(
    rules: Rules,
    history: History,
    state: TicketState,
    sla: Sla,
    fired: set[str],
    outcome: Outcome,
    start: datetime,
    end: datetime,
    inclusive: bool,
) -> Sla:
    """Walk from one change to the next (or to `end`), instant by instant where something
    falls due: rules that fire and clocks that breach. Returns the clocks at `end`."""
    calendar = calendar_for(rules, sla.calendar)
    facts = _facts(history, state)
    timers = Timers(state.last_activity_at or start, state.unassigned_since)
    at = start
    while True:
        planned = schedule(rules.escalations, sla, calendar, facts, timers, fired, at)
        if planned.due or planned.breaches:
            for due in planned.due:
                fired.add(due.rule.name)
                outcome.escalations[due.rule.name] += 1
            if planned.breaches:
                marked = mark_breached(sla, list(planned.breaches))
                outcome.note_step(sla, marked)
                sla = marked
            continue  # plan again at the same instant: what is left is in the future
        following = planned.next_at
        if following is None or following <= at or following > end:
            return sla
        if following == end and not inclusive:
            return sla  # the next change comes first and may stop the rule
        at = following

"""SLA clocks and escalation timers of generated tickets, as the product would have kept them.

The generator writes tickets in bulk, so nothing calls the product's `sync_sla`; this module
gives every ticket the columns `sync_sla` would have left after the ticket's history, under
the bench rules (`bench/rules.toml`, applied as the active version of every generated desk),
with escalation never having run (no `escalations` rows; `next_escalation_at` as scheduled
at the ticket's last change, so a backlog of tickets is due for `helpdesk escalate`).

- Active tickets replay their history through the real pure rules: `rules.clock.reconcile`
  at creation, at the first reply, at the pause (pending, on hold) and at the last change,
  then `rules.triggers.schedule` at the last change. Changes in between move no clock (the
  generator never changes priority or policy), except that a sync past a deadline flags the
  breach, which the last reconcile does as well.
- Resolved and closed tickets (85%, never paused in generated histories) take the closed
  form of the same rules, in whole seconds: the deadlines are `add_working_time(created,
  target)` (bench.worktime, over the engine's own working intervals), first response met at
  the first reply (or stopped at the resolution), resolution met at the resolution, each
  keeping the working time left then (what its ledger entry records) and breached when it
  came at or after its deadline. tests/bench
  checks every ticket of a generated desk against a full replay.

Called by bench.generate in its worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.worktime import WorkTable
from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.rules.clock import (
    Situation,
    Sla,
    calendar_for,
    choose_policy,
    reconcile,
)
from tui_helpdesk.rules.document import Rules, RulesDocument, parse_rules
from tui_helpdesk.rules.sla import WHERE_KEYS, SlaPolicy, TicketFacts
from tui_helpdesk.rules.triggers import Timers, schedule

RULES_FILE = Path(__file__).resolve().parent / "rules.toml"
Targets = dict[Priority, tuple[int, int]]  # (first response, resolution) working seconds

# The ticket columns this module fills, in this order.
SLA_COLUMNS = (
    "sla_policy",
    "sla_calendar",
    "sla_cycle",
    "first_response_state",
    "first_response_target",
    "first_response_due_at",
    "first_response_remaining",
    "first_response_breached",
    "resolution_state",
    "resolution_target",
    "resolution_due_at",
    "resolution_remaining",
    "resolution_breached",
    "due_at",
    "sla_paused_at",
    "next_escalation_at",
)
# A ticket no policy matches: no clocks.
NO_SLA: tuple[Any, ...] = tuple(
    0 if name == "sla_cycle" else (False if name.endswith("_breached") else None)
    for name in SLA_COLUMNS
)

# A clock met, as its ledger entry records it: (when, clock, its deadline, working seconds
# left then (negative when late), why). Finished tickets give epoch seconds, active ones
# datetimes.
Met = tuple[Any, str, Any, int, str]

PRIORITIES = {p.value: p for p in Priority}
CHANNELS = {c.value: c for c in Channel}
STATUSES = {s.value: s for s in Status}


def _why(due: int, met: int) -> str:
    """The reason a met ledger entry gives (a running clock is late from its deadline on)."""
    return "late" if due <= met else "in time"


def bench_rules() -> RulesDocument:
    return parse_rules(RULES_FILE.read_text(), source=str(RULES_FILE.name))


@dataclass(frozen=True)
class History:
    """What the clocks of an active generated ticket depend on in its history."""

    facts: TicketFacts  # as the ticket is at the end (its final status)
    created: datetime
    first_response: datetime | None
    paused: datetime | None  # pending and on-hold tickets: when they started waiting
    last_change: datetime  # the last change (the last time the product synced the clocks)
    last_activity: datetime
    unassigned_since: datetime | None


class Clocks:
    """Computes the SLA columns (`SLA_COLUMNS`) of generated tickets under one rules set.

    Finished tickets' instants come back as epoch seconds (`span` bounds the fast tables),
    active tickets' as the aware datetimes the rules return."""

    def __init__(self, rules: Rules, span: tuple[int, int]) -> None:
        self.rules = rules
        self.span = span
        # Policies are cached by the facts their `where` tables look at (exact: no other
        # fact can change the choice).
        self._keys = tuple(
            key for key in WHERE_KEYS if any(getattr(p.where, key) is not None for p in rules.sla)
        )
        self._policies: dict[tuple[Any, ...], tuple[SlaPolicy, WorkTable, Targets] | None] = {}
        self._tables: dict[str, WorkTable] = {}

    def _policy(self, facts: TicketFacts) -> tuple[SlaPolicy, WorkTable, Targets] | None:
        key = tuple(getattr(facts, name) for name in self._keys)
        try:
            return self._policies[key]
        except KeyError:
            choice = choose_policy(self.rules, facts, None)
            found = None
            if choice is not None:
                policy = choice[0]
                table = self._tables.get(policy.calendar)
                if table is None:
                    calendar = calendar_for(self.rules, policy.calendar)
                    table = self._tables[policy.calendar] = WorkTable(calendar, *self.span)
                targets = {
                    priority: tuple(int(t.total_seconds()) for t in policy.targets(priority))
                    for priority in Priority
                }
                found = (policy, table, targets)
            self._policies[key] = found
            return found

    def finished(
        self, facts: TicketFacts, created: int, first_response: int | None, resolved: int
    ) -> tuple[tuple[Any, ...], list[Met]]:
        """A resolved or closed ticket that was never paused: the closed form of `reconcile`
        over creation, first reply and resolution (epoch seconds in and out), and the clocks
        it met."""
        found = self._policy(facts)
        if found is None:
            return NO_SLA, []
        policy, table, targets = found
        first_target, resolution_target = targets[facts.priority]
        first_due = table.add(created, first_target)
        resolution_due = table.add(created, resolution_target)
        met: list[Met] = []
        if first_response is not None and first_response <= resolved:
            left = table.signed(first_response, first_due)
            first: tuple[Any, ...] = ("met", first_due, left, first_due <= first_response)
            met.append(
                (first_response, "first_response", first_due, left, _why(first_due, first_response))
            )
        else:
            left = table.signed(resolved, first_due)
            first = ("stopped", None, left, first_due <= resolved)
        resolution_left = table.signed(resolved, resolution_due)
        met.append(
            (
                resolved,
                "resolution",
                resolution_due,
                resolution_left,
                _why(resolution_due, resolved),
            )
        )
        columns = (
            policy.name,
            policy.calendar,
            0,
            first[0],
            first_target,
            first[1],
            first[2],
            first[3],
            "met",
            resolution_target,
            resolution_due,
            resolution_left,
            resolution_due <= resolved,
            None,
            None,
            None,
        )
        return columns, met

    def active(self, h: History) -> tuple[tuple[Any, ...], list[Met]]:
        """An active ticket: its history replayed through `reconcile`, then `schedule`; and
        the clocks it met on the way."""
        facts = h.facts
        new = replace(facts, status=Status.NEW)
        steps = [(h.created, Situation(new))]
        if h.first_response is not None:
            opened = replace(facts, status=Status.OPEN)
            steps.append((h.first_response, Situation(opened, first_response_at=h.first_response)))
        final = Situation(facts, first_response_at=h.first_response)
        if h.paused is not None:
            steps.append((h.paused, final))
        steps.append((h.last_change, final))
        sla, met = Sla(), []
        for at, situation in steps:
            sla, entries = reconcile(self.rules, sla, situation, at)
            met += [
                (
                    at,
                    entry.clock.value,
                    entry.due_at,
                    int(entry.remaining.total_seconds()),
                    entry.reason,
                )
                for entry in entries
                if entry.action == "met" and entry.clock and entry.remaining is not None
            ]
        if sla.policy is None:
            return NO_SLA, []
        calendar = calendar_for(self.rules, sla.calendar)
        timers = Timers(last_activity_at=h.last_activity, unassigned_since=h.unassigned_since)
        planned = schedule(self.rules.escalations, sla, calendar, facts, timers, (), h.last_change)
        values: list[Any] = [sla.policy, sla.calendar, sla.cycle]
        for clock in (sla.first_response, sla.resolution):
            if clock is None:
                values += [None, None, None, None, False]
                continue
            values += [
                clock.state.value,
                int(clock.target.total_seconds()),
                clock.due_at,
                None if clock.remaining is None else int(clock.remaining.total_seconds()),
                clock.breached,
            ]
        values += [sla.due_at, h.paused if sla.paused else None, planned.next_at]
        return tuple(values), met

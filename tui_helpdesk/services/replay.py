"""Replaying a candidate rules file over past tickets: `helpdesk rules test FILE`.

This module owns the replay. It reads the tickets created in a period (keyset batches: memory
stays flat however long the period), rebuilds each ticket's history from its audit events
(`TicketEvent`, ordered by at, id; one IN query per batch), and steps that history through the
same pure rules the live desk uses: `rules.clock.reconcile` at every change, and
`rules.triggers.schedule` between changes, to find which escalation rules would have become due
(each at most once per ticket per SLA cycle) and which clocks would have breached. It does so
twice, for the candidate rules and for the active ones, and sets both next to what actually
happened: the `Escalation` rows recorded for those tickets and their stored breached flags.
`cli/rules.py` calls `replay_period` in a read session and prints `report_document`.

What a replay is, and is not:
- each selected ticket is followed from its creation to `now` (not only to the end of the
  period), so its figures compare with the recorded ones, which are as of now;
- escalation actions are not applied: a rule that would raise the priority, move the ticket or
  assign it would have changed the clocks and rules that follow; the replay keeps the ticket as
  it was actually handled;
- the organization (segment and contract) is the ticket's organization as it is now;
- customer-request rules fire only on request and are not replayed;
- a ticket's starting values come from its `created` event, else from the `old` side of the
  first change of each field, else from the ticket as it is now.

Nothing is written: the caller passes a read session.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.domain import EventKind
from tui_helpdesk.rules.clock import (
    ClockName,
)
from tui_helpdesk.rules.document import Rules
from tui_helpdesk.rules.escalation import Trigger
from tui_helpdesk.rules.replay import (
    Change,
    History,
    Outcome,
    Step,
    TicketState,
    parse_level,
    parse_priority_value,
    parse_status,
    replay_ticket,
)
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Escalation,
    Group,
    Organization,
    RuleSet,
    Ticket,
    TicketEvent,
    TicketTag,
)

BATCH_SIZE = 500
# Field changes, by the event kind that records them (the `old` side of a kind's first event
# is the value the ticket was created with).
_FIELD_OF = {
    EventKind.STATUS: "status",
    EventKind.PRIORITY: "priority",
    EventKind.CATEGORY: "category",
    EventKind.GROUP: "group",
    EventKind.LEVEL: "level",
    EventKind.ASSIGNEE: "assignee",
    EventKind.TAGS: "tags",
}
# The events that change what the clocks and triggers look at; SLA ledger rows and the like
# are the old rules' own output and are not read back.
REPLAYED_KINDS = (
    EventKind.CREATED,
    *_FIELD_OF,
    EventKind.REPLY,
    EventKind.FIRST_RESPONSE,
    EventKind.CUSTOMER_MESSAGE,
    EventKind.REOPENED,
    EventKind.MERGED,
)
LIMITATIONS = (
    "escalation actions are not applied in the replay (a raised priority or a move would "
    "have changed the clocks that follow)",
    "organization segment and contract are taken as they are now",
    "each ticket is followed from its creation to now",
    "customer_request rules fire only on request and are not replayed",
)


# --- a ticket's history --------------------------------------------------------------------


def build_history(
    row: Row[Any], tags: Sequence[str], events: Sequence[Row[Any]], now: datetime
) -> History:
    """A ticket's history from its row (as it is now), its tags and its audit events."""
    created = next((e for e in events if e.kind is EventKind.CREATED), None)
    detail: Mapping[str, Any] = (created.detail if created is not None else None) or {}
    first_old: dict[str, str | None] = {}
    for event in events:
        name = _FIELD_OF.get(event.kind)
        if name is not None and name not in first_old:
            first_old[name] = event.old
    current: dict[str, Any] = {
        "status": row.status.value,
        "priority": row.priority.value,
        "category": row.category,
        "group": row.group,
        "level": row.level,
        "assignee": row.assignee,
        "tags": " ".join(tags),
    }

    def initial(name: str) -> Any:
        if name in detail:
            value = detail[name]
            return " ".join(value) if name == "tags" and isinstance(value, list) else value
        return first_old[name] if name in first_old else current[name]

    start = TicketState(
        status=parse_status(initial("status")) or row.status,
        priority=parse_priority_value(initial("priority")) or row.priority,
        category=initial("category") or None,
        group=initial("group") or None,
        level=parse_level(initial("level")),
        assignee=initial("assignee") or None,
        tags=frozenset((initial("tags") or "").split()),
        last_activity_at=row.created_at,
    )
    changes: list[tuple[datetime, Change]] = [
        (max(e.at, row.created_at), Change(e.kind, e.old, e.new, e.detail))
        for e in events
        if e.kind is not EventKind.CREATED and e.at <= now
    ]
    if row.first_response_at is not None and not any(
        e.kind is EventKind.FIRST_RESPONSE for e in events
    ):
        # Tickets loaded in bulk carry the stamp without the event.
        changes.append((row.first_response_at, Change(EventKind.FIRST_RESPONSE)))
        changes.sort(key=lambda item: item[0])
    steps = [Step(row.created_at, ())]
    for at, change in changes:
        if at == steps[-1].at:
            steps[-1] = Step(at, (*steps[-1].changes, change))
        else:
            steps.append(Step(at, (change,)))
    return History(row.key, row.channel, row.segment, row.contract, start, tuple(steps))


# --- figures -------------------------------------------------------------------------------


@dataclass
class RuleFigures:
    tickets: int = 0  # tickets it escalated
    escalations: int = 0  # escalation records: one per ticket and SLA cycle


@dataclass
class PolicyFigures:
    tickets: int = 0
    first_response_breaches: int = 0
    resolution_breaches: int = 0


@dataclass
class Figures:
    """Totals over the period, for one set of rules (or for what was recorded)."""

    rules: dict[str, RuleFigures] = field(default_factory=dict)
    policies: dict[str, PolicyFigures] = field(default_factory=dict)
    without_policy: int = 0

    def rule(self, name: str) -> RuleFigures:
        return self.rules.setdefault(name, RuleFigures())

    def policy(self, name: str) -> PolicyFigures:
        return self.policies.setdefault(name, PolicyFigures())

    def add(self, outcome: Outcome) -> None:
        for name, count in outcome.escalations.items():
            figures = self.rule(name)
            figures.tickets += 1
            figures.escalations += count
        for name in outcome.policies:
            self.policy(name).tickets += 1
        if not outcome.policies:
            self.without_policy += 1
        for (name, clock), count in outcome.breaches.items():
            figures = self.policy(name)
            if clock is ClockName.FIRST_RESPONSE:
                figures.first_response_breaches += count
            else:
                figures.resolution_breaches += count


@dataclass(frozen=True)
class ActiveVersion:
    version: int
    sha256: str


@dataclass
class ReplayReport:
    since: datetime
    until: datetime
    now: datetime
    candidate_rules: Rules
    active_rules: Rules
    active_version: ActiveVersion | None
    tickets: int = 0
    candidate: Figures = field(default_factory=Figures)
    active: Figures = field(default_factory=Figures)
    recorded: Figures = field(default_factory=Figures)


# --- reading the period --------------------------------------------------------------------


def _ticket_batches(
    session: Session, since: datetime, until: datetime, now: datetime, size: int
) -> Iterator[list[Row[Any]]]:
    """The period's tickets in creation order, `size` at a time (keyset on created_at, id)."""
    assignee = aliased(Agent)
    query = (
        select(
            Ticket.id,
            Ticket.key,
            Ticket.created_at,
            Ticket.channel,
            Ticket.status,
            Ticket.priority,
            Ticket.level,
            Ticket.first_response_at,
            Ticket.sla_policy,
            Ticket.first_response_breached,
            Ticket.resolution_breached,
            Category.path.label("category"),
            Group.name.label("group"),
            assignee.login.label("assignee"),
            Organization.segment.label("segment"),
            Organization.sla_policy.label("contract"),
        )
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(Group, Group.id == Ticket.group_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(Organization, Organization.id == Ticket.organization_id)
        .where(Ticket.created_at >= since, Ticket.created_at < until, Ticket.created_at <= now)
        .order_by(Ticket.created_at, Ticket.id)
        .limit(size)
    )
    after: tuple[datetime, int] | None = None
    while True:
        page = query
        if after is not None:
            created, ticket_id = after
            page = query.where(
                or_(
                    Ticket.created_at > created,
                    and_(Ticket.created_at == created, Ticket.id > ticket_id),
                )
            )
        rows = list(session.execute(page))
        if not rows:
            return
        yield rows
        after = (rows[-1].created_at, rows[-1].id)
        if len(rows) < size:
            return


def _events_of(session: Session, ids: Sequence[int], now: datetime) -> dict[int, list[Row[Any]]]:
    rows = session.execute(
        select(
            TicketEvent.ticket_id,
            TicketEvent.at,
            TicketEvent.kind,
            TicketEvent.old,
            TicketEvent.new,
            TicketEvent.detail,
        )
        .where(
            TicketEvent.ticket_id.in_(ids),
            TicketEvent.kind.in_(REPLAYED_KINDS),
            TicketEvent.at <= now,
        )
        .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)
    )
    events: dict[int, list[Row[Any]]] = {}
    for row in rows:
        events.setdefault(row.ticket_id, []).append(row)
    return events


def _tags_of(session: Session, ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    query = select(TicketTag.ticket_id, TicketTag.tag).where(TicketTag.ticket_id.in_(ids))
    for ticket_id, tag in session.execute(query.order_by(TicketTag.ticket_id, TicketTag.tag)):
        tags.setdefault(ticket_id, []).append(tag)
    return tags


def _record_batch(session: Session, rows: Sequence[Row[Any]], recorded: Figures) -> None:
    """What actually happened to a batch: its escalation records and stored SLA flags."""
    ids = [row.id for row in rows]
    per_rule = session.execute(
        select(
            Escalation.rule,
            func.count(func.distinct(Escalation.ticket_id)),
            func.count(Escalation.id),
        )
        .where(Escalation.ticket_id.in_(ids), Escalation.rule.is_not(None))
        .group_by(Escalation.rule)
    )
    for name, tickets, escalations in per_rule:
        figures = recorded.rule(name)
        figures.tickets += tickets
        figures.escalations += escalations
    for row in rows:
        if row.sla_policy is None:
            recorded.without_policy += 1
            continue
        policy = recorded.policy(row.sla_policy)
        policy.tickets += 1
        policy.first_response_breaches += int(bool(row.first_response_breached))
        policy.resolution_breaches += int(bool(row.resolution_breached))


def _active_version(session: Session) -> ActiveVersion | None:
    row = session.execute(
        select(RuleSet.version, RuleSet.sha256).where(RuleSet.active.is_(True)).limit(1)
    ).first()
    return ActiveVersion(row.version, row.sha256) if row is not None else None


def replay_period(
    session: Session,
    candidate: Rules,
    since: datetime,
    until: datetime,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
) -> ReplayReport:
    """Replay the tickets created in [since, until) under the candidate and the active rules,
    next to what was recorded. Reads only; the caller's session should be a read session."""
    active = active_rules(session)
    report = ReplayReport(since, until, now, candidate, active, _active_version(session))
    for rows in _ticket_batches(session, since, until, now, batch_size):
        ids = [row.id for row in rows]
        events = _events_of(session, ids, now)
        tags = _tags_of(session, ids)
        for row in rows:
            history = build_history(row, tags.get(row.id, []), events.get(row.id, []), now)
            report.candidate.add(replay_ticket(candidate, history, now))
            report.active.add(replay_ticket(active, history, now))
        _record_batch(session, rows, report.recorded)
        report.tickets += len(rows)
    return report


# --- the report as a document --------------------------------------------------------------


def _presence(name: str, candidate: Iterable[str], active: Iterable[str]) -> str:
    in_candidate, in_active = name in set(candidate), name in set(active)
    if in_candidate and in_active:
        return "both"
    return "candidate" if in_candidate else "active" if in_active else "recorded only"


def _rule_doc(figures: Figures, name: str, defined: bool) -> dict[str, int] | None:
    if not defined:
        return None
    found = figures.rules.get(name, RuleFigures())
    return {"tickets": found.tickets, "escalations": found.escalations}


def _policy_doc(figures: Figures, name: str, defined: bool) -> dict[str, int] | None:
    if not defined:
        return None
    found = figures.policies.get(name, PolicyFigures())
    return {
        "tickets": found.tickets,
        "first_response_breaches": found.first_response_breaches,
        "resolution_breaches": found.resolution_breaches,
    }


def report_document(report: ReplayReport) -> dict[str, Any]:
    """The replay as one JSON-ready document with stable keys (`rules test --json`)."""
    candidate = {rule.name: rule for rule in report.candidate_rules.escalations}
    active = {rule.name: rule for rule in report.active_rules.escalations}
    rule_names = list(candidate) + [n for n in active if n not in candidate]
    rule_names += sorted(n for n in report.recorded.rules if n not in rule_names)
    escalation = []
    for name in rule_names:
        rule = candidate.get(name) or active.get(name)
        escalation.append(
            {
                "rule": name,
                "in": _presence(name, candidate, active),
                "changed": name in candidate and name in active and candidate[name] != active[name],
                "on": rule.on.value if rule else None,
                "at": str(rule.at) if rule and rule.at is not None else None,
                "replayed": rule is not None and rule.on is not Trigger.CUSTOMER_REQUEST,
                "candidate": _rule_doc(report.candidate, name, name in candidate),
                "active": _rule_doc(report.active, name, name in active),
                "recorded": _rule_doc(report.recorded, name, True),
            }
        )
    c_policies = {policy.name: policy for policy in report.candidate_rules.sla}
    a_policies = {policy.name: policy for policy in report.active_rules.sla}
    policy_names = list(c_policies) + [n for n in a_policies if n not in c_policies]
    policy_names += sorted(n for n in report.recorded.policies if n not in policy_names)
    sla = [
        {
            "policy": name,
            "in": _presence(name, c_policies, a_policies),
            "changed": name in c_policies
            and name in a_policies
            and c_policies[name] != a_policies[name],
            "candidate": _policy_doc(report.candidate, name, name in c_policies),
            "active": _policy_doc(report.active, name, name in a_policies),
            "recorded": _policy_doc(report.recorded, name, True),
        }
        for name in policy_names
    ]
    version = report.active_version
    return {
        "period": {"since": iso(report.since), "until": iso(report.until), "now": iso(report.now)},
        "active_version": version.version if version else None,
        "tickets": report.tickets,
        "escalation": escalation,
        "sla": sla,
        "without_policy": {
            "candidate": report.candidate.without_policy,
            "active": report.active.without_policy,
            "recorded": report.recorded.without_policy,
        },
        "only_in_candidate": {
            "escalation": [n for n in candidate if n not in active],
            "sla": [n for n in c_policies if n not in a_policies],
        },
        "only_in_active": {
            "escalation": [n for n in active if n not in candidate],
            "sla": [n for n in a_policies if n not in c_policies],
        },
        "limitations": list(LIMITATIONS),
    }

"""What the ticket screen shows beside and behind the conversation, as frozen rows of plain
display-ready values: the SLA clocks in working time, the side panel (requester, their
organization with its segment and SLA policy, the requester's other open tickets, suggested
knowledge articles and similar resolved tickets) and the history tab (the audit trail, with
the rule behind each automatic change). Also the two writes the panel offers that
`console_actions` has no counterpart for: merging into another ticket and drafting a
knowledge article from a resolved ticket.

Each function opens its own unit of work on the `Store` (customer text cleaned of control
sequences, times formatted in the agent's zone); a database failure is a `ServiceError`.
Called by `tui_helpdesk.screens.ticket` and `screens.ticket_panel` from thread workers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES, EventKind, MessageKind
from tui_helpdesk.rules.clock import ClockName, ClockState, calendar_for, remaining
from tui_helpdesk.services import kb, tickets
from tui_helpdesk.services.console_actions import ActionResult, writing
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.history_text import describe_event
from tui_helpdesk.services.intake_views import (
    SuggestedArticle,
    SuggestedTicket,
    _one_line,
    phone_label,
)
from tui_helpdesk.services.queue import Sort, TicketFilter, list_tickets
from tui_helpdesk.services.search import suggest
from tui_helpdesk.services.sla import active_rules, sla_of
from tui_helpdesk.services.views import (  # the views' own helpers
    AT_RISK_WITHIN,
    SlaState,
    Store,
    _reading,
    _zone,
    find_ticket,
    relative_age,
    viewer_zone,
)
from tui_helpdesk.store.models import Message, Ticket, TicketEvent
from tui_helpdesk.text import clean, span

__all__ = [
    "ClockView",
    "HistoryRow",
    "HistoryView",
    "OtherTicket",
    "PanelView",
    "describe_event",
    "draft_article",
    "merge_into",
    "ticket_history",
    "ticket_panel",
]

OTHER_OPEN = 8  # the requester's other open tickets listed
SUGGESTIONS = 4  # articles, and as many similar resolved tickets
RESOLUTION_CHARS = 160  # of a similar ticket's resolution, on one line
HISTORY_LIMIT = 300  # events shown (the newest); the CLI's `ticket show` has them all


# --- the side panel -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    """One SLA clock: "first response", "2h10m left" (working time), its state for colour."""

    name: str
    text: str
    state: SlaState


@dataclass(frozen=True)
class OtherTicket:
    key: str
    subject: str
    status: str
    priority: str
    age: str  # since it was created: "3d"


@dataclass(frozen=True)
class PanelView:
    key: str
    version: int
    level: str  # "2", or "" when the ticket has no level
    policy: str  # the SLA policy the ticket's clocks run on, "" when none
    clocks: tuple[ClockView, ...]
    contact_id: int
    requester: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]  # as people read them
    vip: bool
    organization_id: int | None
    organization: str
    segment: str
    contract: str  # the organization's named SLA policy, "" when none
    other_open: tuple[OtherTicket, ...]
    other_open_more: bool  # more open tickets than listed
    articles: tuple[SuggestedArticle, ...]
    similar: tuple[SuggestedTicket, ...]
    changed_by: str  # who made the latest change (SLA steps aside), "" when unknown


def _clocks(session: Session, ticket: Ticket, now: datetime) -> tuple[ClockView, ...]:
    """The clocks with the working time left, as the SLA calendar counts it."""
    sla = sla_of(ticket)
    if sla.first_response is None and sla.resolution is None:
        return ()
    calendar = calendar_for(active_rules(session), sla.calendar)
    views: list[ClockView] = []
    for name in ClockName:
        clock = sla.clock(name)
        if clock is None:
            continue
        left = remaining(calendar, clock, now)
        if clock.state is ClockState.MET:
            text = "met late" if clock.breached else "met"
            state = SlaState.NONE
        elif left is None:
            text, state = clock.state.value, SlaState.NONE
        elif left <= timedelta(0):
            text, state = f"overdue {span(-left)}", SlaState.BREACHED
            if not left:  # no working time since the deadline: out of hours, or paused then
                text = "overdue (out of hours)" if clock.state is ClockState.RUNNING else "overdue"
        else:
            text = f"{span(left)} left"
            state = SlaState.AT_RISK if left <= AT_RISK_WITHIN else SlaState.OK
        if clock.state in (ClockState.PAUSED, ClockState.STOPPED):
            text = f"{clock.state.value}, {text}"
            state = SlaState.BREACHED if state is SlaState.BREACHED else SlaState.PAUSED
        views.append(ClockView(name.label, text, state))
    return tuple(views)


def _first_customer_text(session: Session, ticket: Ticket) -> str:
    body = session.scalar(
        select(Message.body)
        .where(Message.ticket_id == ticket.id, Message.kind == MessageKind.CUSTOMER)
        .order_by(Message.created_at, Message.id)
        .limit(1)
    )
    return clean(body or "")


def _last_actor(session: Session, ticket: Ticket) -> str:
    """Who made the ticket's latest change: the actor of its newest event (an SLA step
    follows from someone's change, so those are left out, as `Conflict` does)."""
    return (
        session.scalar(
            select(TicketEvent.actor)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind != EventKind.SLA)
            .order_by(TicketEvent.id.desc())
            .limit(1)
        )
        or ""
    )


def ticket_panel(store: Store, ref: str, *, now: datetime, suggestions: bool = True) -> PanelView:
    """The side panel of one ticket. Suggestions come from its subject and first customer
    message (the ticket itself is never suggested as similar to itself)."""
    with _reading(store) as session:
        ticket = tickets.get_ticket(session, ref)
        person = ticket.requester
        org = ticket.organization
        page = list_tickets(
            session,
            TicketFilter(statuses=ACTIVE_STATUSES, requester_id=person.id),
            sort=Sort.CREATED,
            limit=OTHER_OPEN + 1,
        )
        others = [t for t in page.tickets if t.id != ticket.id]
        articles: tuple[SuggestedArticle, ...] = ()
        similar: tuple[SuggestedTicket, ...] = ()
        if suggestions:
            found = suggest(
                session,
                ticket.subject,
                _first_customer_text(session, ticket),
                articles=SUGGESTIONS,
                tickets=SUGGESTIONS + 1,
            )
            articles = tuple(
                SuggestedArticle(a.id, a.title, a.snippet, _one_line(a.category or ""))
                for a in found.articles
            )
            similar = tuple(
                SuggestedTicket(
                    t.key, t.subject, t.status, _one_line(t.resolution, RESOLUTION_CHARS)
                )
                for t in found.tickets
                if t.key != ticket.key
            )[:SUGGESTIONS]
        level = (
            ticket.level
            if ticket.level is not None
            else (ticket.group.level if ticket.group is not None else None)
        )
        return PanelView(
            key=ticket.key,
            version=ticket.version,
            level=str(level) if level is not None else "",
            policy=_one_line(ticket.sla_policy),
            clocks=_clocks(session, ticket, now),
            contact_id=person.id,
            requester=_one_line(person.name or person.email or person.phone or ""),
            emails=tuple(_one_line(e) for e in person.emails),
            phones=tuple(phone_label(p) for p in person.phones),
            vip=person.vip,
            organization_id=org.id if org else None,
            organization=_one_line(org.name) if org else "",
            segment=_one_line(org.segment) if org else "",
            contract=_one_line(org.sla_policy) if org else "",
            other_open=tuple(
                OtherTicket(
                    key=t.key,
                    subject=_one_line(t.subject),
                    status=t.status.value.replace("_", " "),
                    priority=t.priority.value,
                    age=relative_age(t.created_at, now),
                )
                for t in others[:OTHER_OPEN]
            ),
            other_open_more=len(others) > OTHER_OPEN,
            articles=articles,
            similar=similar,
            changed_by=_one_line(_last_actor(session, ticket)),
        )


# --- the history tab ----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    at: str  # in the display time zone
    actor: str
    kind: str
    change: str
    rule: str  # the rule that caused it, "" for a change made by hand


@dataclass(frozen=True)
class HistoryView:
    key: str
    rows: tuple[HistoryRow, ...]  # oldest first
    hidden: int  # older events not shown


def ticket_history(
    store: Store,
    login: str,
    ref: str,
    *,
    timezone: str | None = None,
    limit: int = HISTORY_LIMIT,
) -> HistoryView:
    """The newest `limit` audit events of a ticket, oldest first, each with the rule that
    caused it (escalation, routing, assignment, SLA rules), in the agent's time zone."""
    with _reading(store) as session:
        key, ticket_id, agent_zone = find_ticket(session, ref, Ticket.id, viewer_zone(login))
        zone = _zone(timezone, agent_zone, desk_settings(session).timezone)

        def local(value: datetime) -> str:
            return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        events = list(
            session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
                .limit(limit)
            )
        )
        total = len(events)
        if total == limit:
            total = (
                session.scalar(
                    select(func.count())
                    .select_from(TicketEvent)
                    .where(TicketEvent.ticket_id == ticket_id)
                )
                or total
            )
        rows = tuple(
            HistoryRow(
                at=local(e.at),
                actor=_one_line(e.actor),
                kind=e.kind.value.replace("_", " "),
                change=_one_line(describe_event(e, local), 400),
                rule=_one_line(e.rule),
            )
            for e in reversed(events)
        )
        return HistoryView(key, rows, max(0, total - len(rows)))


# --- the panel's writes -------------------------------------------------------------------


def merge_into(
    store: Store,
    login: str,
    ref: str,
    target: str,
    *,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    """Merge the ticket shown (at the version shown) into `target`: its conversation moves
    there and it is closed. The result names the target, which the console opens next."""
    with writing(store, login) as (session, actor):
        source, into = tickets.merge(
            session, actor, now, ref, target.strip(), expected_version=expected_version
        )
        return ActionResult(into.key, into.version, f"{source.key} merged into {into.key}")


def draft_article(
    store: Store, login: str, ref: str, *, expected_version: int, now: datetime
) -> ActionResult:
    """Draft an internal knowledge article from a resolved or closed ticket (its problem
    and solution); the result's summary names the article. `expected_version` is accepted
    for the screen's one way of calling actions: drafting does not change the ticket."""
    del expected_version
    with writing(store, login) as (session, actor):
        article = kb.draft_from_ticket(session, now, actor, ref)
        ticket = tickets.get_ticket(session, ref)
        title = _one_line(article.title, 60)
        return ActionResult(
            ticket.key, ticket.version, f"article {article.id} drafted: {title}", True
        )

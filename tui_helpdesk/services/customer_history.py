"""The history of a contact or an organization: open and closed tickets, breaches, average
first response and resolution (wall clock, and working time where an SLA clock measured it),
last contact, the most recent tickets, and for an organization its contacts and top
requesters. Aggregate SQL only: nothing reads a customer's tickets into Python.

Used by `helpdesk contact show`, `helpdesk org show`, the console's customers screen and the
reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES, MessageKind, Status
from tui_helpdesk.reports.sql import working_seconds
from tui_helpdesk.services import directory
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.services.queue import Cursor, Sort, TicketFilter, list_tickets
from tui_helpdesk.store.functions import elapsed_seconds
from tui_helpdesk.store.models import (
    Contact,
    Message,
    Organization,
    Ticket,
)

# --- finding a caller --------------------------------------------------------------------------

CANDIDATES = 100  # names read per tier of a lookup (at least twice the limit)
FUZZY_SCAN = 200  # names a fuzzy lookup may look at
FUZZY_THRESHOLD = 0.6  # similarity a typo'd name needs (0..1)
MIN_DIGITS = 4  # of a partial number
_PHONE_PUNCTUATION = frozenset(" +-./()")

# Score bands, one per way of matching, so that sorting by score ranks the ways first.
_EXACT = 1.0
_EQUAL_NAME = 0.95


_DONE = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class TicketFigures:
    """A customer's tickets in numbers (merged tickets left out: they live on in another).

    `open`: new, open, pending or on hold; `done`: resolved or closed; `breached`: a target
    was missed (recorded, or a running clock past its deadline at `now`). Averages are in
    seconds: wall-clock from creation to the first response and to the resolution (the last
    one, for a ticket that was reopened); working time as the SLA clocks counted it (paused
    time and hours outside the calendar left out), as each met clock keeps it
    (`reports.sql.working_seconds`, the reports' own rule), for resolution only for tickets
    never reopened (a reopened ticket's clock restarts and measures its last cycle); `*_n`
    say over how many tickets. `last_contact_at`: the latest customer message or ticket creation."""

    total: int = 0
    open: int = 0
    done: int = 0
    breached: int = 0
    first_response_s: float | None = None
    resolution_s: float | None = None
    first_response_working_s: float | None = None
    first_response_working_n: int = 0
    resolution_working_s: float | None = None
    resolution_working_n: int = 0
    last_contact_at: datetime | None = None
    oldest_open_at: datetime | None = None


@dataclass
class History:
    """A contact's or an organization's history: figures, the most recent tickets (a page,
    newest first, `next_cursor` for the next), and for an organization its contacts and the
    contacts who asked most."""

    figures: TicketFigures
    recent: list[Ticket]
    next_cursor: Cursor | None
    contacts: int | None = None
    top_requesters: list[tuple[Contact, int]] = field(default_factory=list)


def _seconds(value: object) -> float | None:
    return None if value is None else round(float(value), 1)  # type: ignore[arg-type]


def _figures(
    session: Session, scope: ColumnElement[bool], messages: ColumnElement[bool], now: datetime
) -> TicketFigures:
    scope = and_(scope, Ticket.merged_into_id.is_(None))
    active = Ticket.status.in_(ACTIVE_STATUSES)
    breached = or_(
        Ticket.first_response_breached.is_(True),
        Ticket.resolution_breached.is_(True),
        and_(Ticket.first_response_state == "running", Ticket.first_response_due_at <= now),
        and_(Ticket.resolution_state == "running", Ticket.resolution_due_at <= now),
    )
    first, resolution = working_seconds("first_response"), working_seconds("resolution")
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((active, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Ticket.status.in_(_DONE), 1), else_=0)), 0),
            func.coalesce(func.sum(case((breached, 1), else_=0)), 0),
            func.avg(elapsed_seconds(Ticket.first_response_at, Ticket.created_at)),
            func.avg(elapsed_seconds(Ticket.resolved_at, Ticket.created_at)),
            func.max(Ticket.created_at),
            func.min(case((active, Ticket.created_at))),
            func.avg(first),
            func.count(first),
            func.avg(resolution),
            func.count(resolution),
        ).where(scope)
    ).one()
    last_message = session.scalar(
        select(func.max(Message.created_at))
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(scope, messages, Message.kind == MessageKind.CUSTOMER)
    )
    last = max((d for d in (row[6], last_message) if d is not None), default=None)
    return TicketFigures(
        total=row[0],
        open=int(row[1]),
        done=int(row[2]),
        breached=int(row[3]),
        first_response_s=_seconds(row[4]),
        resolution_s=_seconds(row[5]),
        first_response_working_s=_seconds(row[8]),
        first_response_working_n=row[9],
        resolution_working_s=_seconds(row[10]),
        resolution_working_n=row[11],
        last_contact_at=last,
        oldest_open_at=row[7],
    )


def contact_history(
    session: Session,
    contact_id: int,
    now: datetime,
    *,
    limit: int = 10,
    after: Cursor | None = None,
) -> History:
    """The tickets a contact asked for, in figures, and the most recent of them."""
    directory.get_contact(session, contact_id)
    figures = _figures(
        session,
        Ticket.requester_id == contact_id,
        Message.author_contact_id == contact_id,
        now,
    )
    page = list_tickets(
        session,
        TicketFilter(statuses=(), requester_id=contact_id),
        sort=Sort.CREATED,
        after=after,
        limit=limit,
    )
    return History(figures, page.tickets, page.next_cursor)


def organization_history(
    session: Session,
    org_id: int,
    now: datetime,
    *,
    limit: int = 10,
    after: Cursor | None = None,
    top: int = 5,
) -> History:
    """An organization's tickets (those its people opened while they belonged to it), in
    figures, the most recent of them, its contacts and its most frequent requesters."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"no organization #{org_id} (see `helpdesk org list`)")
    scope = Ticket.organization_id == org_id
    figures = _figures(session, scope, true(), now)
    page = list_tickets(
        session,
        TicketFilter(statuses=(), organization=org.name),
        sort=Sort.CREATED,
        after=after,
        limit=limit,
    )
    contacts = session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.organization_id == org_id, Contact.merged_into_id.is_(None))
    )
    counts = session.execute(
        select(Ticket.requester_id, func.count())
        .where(scope, Ticket.merged_into_id.is_(None))
        .group_by(Ticket.requester_id)
        .order_by(func.count().desc(), Ticket.requester_id)
        .limit(top)
    ).all()
    people = {
        c.id: c
        for c in session.scalars(select(Contact).where(Contact.id.in_([r[0] for r in counts])))
    }
    return History(
        figures,
        page.tickets,
        page.next_cursor,
        contacts=contacts or 0,
        top_requesters=[(people[r[0]], r[1]) for r in counts],
    )

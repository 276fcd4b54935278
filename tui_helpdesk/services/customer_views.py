"""What the console's customers mode shows: organizations and contacts found for what is
typed, and one of them with its figures (open, breached, average first response and
resolution) and its tickets, a page at a time. Plain frozen rows (customer text cleaned,
times formatted), each read in a unit of work of its own.

The finding is `services.customers.find_callers` (contacts by number, address, name with
typos, organization) and `store.contact_search.organizations_named`; the figures are
`services.customer_history`. Called by `tui_helpdesk.screens.customers` from worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tui_helpdesk.services import directory
from tui_helpdesk.services.customer_history import (
    History,
    TicketFigures,
    contact_history,
    organization_history,
)
from tui_helpdesk.services.customers import find_callers
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.services.intake_views import _one_line, phone_label
from tui_helpdesk.services.queue import Cursor
from tui_helpdesk.services.views import Store, _reading, relative_age
from tui_helpdesk.store import contact_search
from tui_helpdesk.store.models import Organization, Ticket
from tui_helpdesk.text import short_duration

__all__ = [
    "CustomerResults",
    "CustomerRow",
    "CustomerTicket",
    "CustomerView",
    "Figures",
    "customer_view",
    "find_customers",
]

ORGANIZATIONS = 5  # organizations listed above the contacts for a query
FOUND_LIMIT = 30  # rows for one query: a search box, not a report
BROWSE_LIMIT = 50  # organizations listed before anything is typed
TICKET_PAGE = 25  # tickets of a customer read at a time
TOP_REQUESTERS = 5


@dataclass(frozen=True)
class CustomerRow:
    kind: str  # "org" or "contact"
    id: int
    name: str
    detail: str  # a contact's organization and address; an organization's segment
    vip: bool = False


@dataclass(frozen=True)
class CustomerResults:
    text: str
    rows: tuple[CustomerRow, ...]
    browsing: bool  # nothing typed: organizations by name


def _org_row(org: Organization) -> CustomerRow:
    domains = ", ".join(org.domains[:2])
    detail = " · ".join(p for p in (_one_line(org.segment), _one_line(domains)) if p)
    return CustomerRow("org", org.id, _one_line(org.name), detail)


def find_customers(store: Store, text: str, *, limit: int = FOUND_LIMIT) -> CustomerResults:
    """Organizations whose name matches, then contacts (a phone number in any format, an
    address, a name despite typos, an organization's name); organizations by name when
    nothing is typed."""
    typed = _one_line(text)
    with _reading(store) as session:
        if not typed:
            orgs = directory.list_organizations(session, BROWSE_LIMIT)
            return CustomerResults(text, tuple(_org_row(o) for o in orgs), browsing=True)
        value = " ".join(typed.lower().split())
        orgs = contact_search.organizations_named(session, value, ORGANIZATIONS)
        region = desk_settings(session).phone_region
        found = find_callers(session, typed, region, limit=max(1, limit - len(orgs)))
        rows = [_org_row(o) for o in orgs]
        for match in found:
            contact = match.contact
            where = _one_line(match.organization.name) if match.organization else ""
            address = _one_line(contact.email) or phone_label(contact.phone)
            rows.append(
                CustomerRow(
                    "contact",
                    contact.id,
                    _one_line(contact.name) or address,
                    " · ".join(p for p in (where, address) if p),
                    contact.vip,
                )
            )
        return CustomerResults(text, tuple(rows), browsing=False)


@dataclass(frozen=True)
class Figures:
    total: int
    open: int
    done: int
    breached: int
    first_response: str  # "2h10m" (wall clock), "—" when none
    resolution: str
    resolution_working: str  # as the SLA clocks counted it, "—" when unknown
    last_contact: str  # "3d" ago, "—"


@dataclass(frozen=True)
class CustomerTicket:
    key: str
    subject: str
    status: str
    priority: str
    age: str  # since it was created


@dataclass(frozen=True)
class CustomerView:
    kind: str  # "org" or "contact"
    id: int
    name: str
    facts: tuple[tuple[str, str], ...]  # (label, value), plain
    figures: Figures
    tickets: tuple[CustomerTicket, ...]  # newest first
    next: Cursor | None  # where the next page of tickets starts
    people: tuple[tuple[str, int], ...]  # an organization's top requesters (name, tickets)


def _span(seconds: float | None) -> str:
    return "—" if seconds is None else short_duration(timedelta(seconds=seconds))


def _figures(figures: TicketFigures, now: datetime) -> Figures:
    last = figures.last_contact_at
    return Figures(
        total=figures.total,
        open=figures.open,
        done=figures.done,
        breached=figures.breached,
        first_response=_span(figures.first_response_s),
        resolution=_span(figures.resolution_s),
        resolution_working=_span(figures.resolution_working_s),
        last_contact=relative_age(last, now) if last else "—",
    )


def _tickets(found: list[Ticket], now: datetime) -> tuple[CustomerTicket, ...]:
    return tuple(
        CustomerTicket(
            key=t.key,
            subject=_one_line(t.subject),
            status=t.status.value.replace("_", " "),
            priority=t.priority.value,
            age=relative_age(t.created_at, now),
        )
        for t in found
    )


def _contact(
    session: Session, contact_id: int, now: datetime, after: Cursor | None
) -> CustomerView:
    contact = directory.get_contact(session, contact_id)
    history: History = contact_history(session, contact_id, now, limit=TICKET_PAGE, after=after)
    facts = [("email", _one_line(e)) for e in contact.emails]
    facts += [("phone", phone_label(p)) for p in contact.phones]
    if contact.organization is not None:
        facts.append(("organization", _one_line(contact.organization.name)))
    if contact.vip:
        facts.append(("vip", "yes"))
    if contact.language:
        facts.append(("language", _one_line(contact.language)))
    if contact.notes:
        facts.append(("notes", _one_line(contact.notes)))
    return CustomerView(
        kind="contact",
        id=contact.id,
        name=_one_line(contact.name) or _one_line(contact.email),
        facts=tuple(facts),
        figures=_figures(history.figures, now),
        tickets=_tickets(history.recent, now),
        next=history.next_cursor,
        people=(),
    )


def _organization(
    session: Session, org_id: int, now: datetime, after: Cursor | None
) -> CustomerView:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"no organization #{org_id}")
    history = organization_history(
        session, org_id, now, limit=TICKET_PAGE, after=after, top=TOP_REQUESTERS
    )
    facts = [
        ("segment", _one_line(org.segment)),
        ("SLA", _one_line(org.sla_policy) or "by the rules"),
    ]
    if org.domains:
        facts.append(("domains", _one_line(", ".join(org.domains))))
    if org.region:
        facts.append(("region", _one_line(org.region)))
    facts.append(("contacts", str(history.contacts or 0)))
    if org.notes:
        facts.append(("notes", _one_line(org.notes)))
    return CustomerView(
        kind="org",
        id=org.id,
        name=_one_line(org.name),
        facts=tuple(facts),
        figures=_figures(history.figures, now),
        tickets=_tickets(history.recent, now),
        next=history.next_cursor,
        people=tuple(
            (_one_line(c.name) or _one_line(c.email), n) for c, n in history.top_requesters
        ),
    )


def customer_view(
    store: Store, kind: str, customer_id: int, *, now: datetime, after: Cursor | None = None
) -> CustomerView:
    """An organization (`kind` "org") or a contact ("contact"): facts, figures, and a page of
    tickets, newest first, after `after`. `NotFound` if it is gone."""
    with _reading(store) as session:
        if kind == "org":
            return _organization(session, customer_id, now, after)
        return _contact(session, customer_id, now, after)

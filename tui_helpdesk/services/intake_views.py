"""What the console's new-ticket form for a caller reads and writes, as plain functions of
the `Store`: the caller lookup as you type, the picked caller's card, knowledge suggestions
for what is being written, the category choices, and the creation itself.

Each function opens its own unit of work and returns frozen rows of cleaned plain text (or
`Marked` pieces for highlighted words), so the screen never holds a session or a model.
The lookup is `services.customers.find_callers`, the figures `services.customer_history`,
the suggestions `services.search.suggest`, the creation `services.tickets.create_ticket`
(the contact of a new caller is added in the same transaction). Database failures come back
as `views.DatabaseUnavailable`.

Called by `tui_helpdesk.screens.new_ticket` from thread workers only (never the UI thread);
`new_caller_prefill` is pure and may be called anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.rules.clock import choose_policy
from tui_helpdesk.rules.identity import (
    InvalidIdentity,
    email_domain,
    looks_like_email,
    normalise_email,
    normalise_phone,
)
from tui_helpdesk.rules.sla import TicketFacts
from tui_helpdesk.services import directory
from tui_helpdesk.services.console_actions import writing
from tui_helpdesk.services.customer_history import contact_history
from tui_helpdesk.services.customers import CallerMatch, find_callers
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.queue import Sort, TicketFilter, list_tickets
from tui_helpdesk.services.search import Marked, suggest
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.services.tickets import NewTicket, create_ticket
from tui_helpdesk.services.views import Store, _reading, relative_age
from tui_helpdesk.store import contact_search
from tui_helpdesk.store.models import Contact
from tui_helpdesk.text import clean

__all__ = [
    "CallerCard",
    "CallerResults",
    "CallerRow",
    "CategoryChoice",
    "CreatedTicket",
    "IntakeForm",
    "NewCaller",
    "OpenTicket",
    "SuggestedArticle",
    "SuggestedTicket",
    "SuggestionsView",
    "caller_card",
    "category_choices",
    "create_for_caller",
    "find_callers_view",
    "new_caller_prefill",
    "phone_label",
    "suggestions_view",
]

CALLER_LIMIT = 8  # matches listed while typing: the caller is among the first few or unknown
OPEN_LIMIT = 5  # open tickets listed on the caller's card
SUGGEST_LIMIT = 4  # articles, and as many similar tickets
RESOLUTION_CHARS = 200  # of a similar ticket's resolution, on one line
_PHONE_CHARACTERS = frozenset("0123456789 +-./()")


def _one_line(text: str | None, limit: int = 200) -> str:
    line = clean(text, single_line=True)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def phone_label(number: str | None) -> str:
    """An E.164 number as people read it ("+39 02 1234 5678"); "" for none."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return clean(number, single_line=True)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- the caller lookup --------------------------------------------------------------------


@dataclass(frozen=True)
class CallerRow:
    """One contact found for the caller field: `matched` is the number or address that
    matched (or the contact's first one, for a name), `reason` why it was found."""

    contact_id: int
    name: str
    organization: str  # "" when none
    matched: str
    reason: str  # phone, email, name, organization, phone digits
    vip: bool
    score: float


@dataclass(frozen=True)
class NewCaller:
    """A whole email address or phone number typed that no contact has: the caller is new.
    `identity` as it will be stored (the address) or read (the number, formatted);
    `organization` owns the address's domain ("" when none)."""

    identity: str
    organization: str


@dataclass(frozen=True)
class CallerResults:
    query: str
    rows: tuple[CallerRow, ...]
    new_caller: NewCaller | None = None  # offered before `rows`, which are only alike


def _new_caller(
    session: Session, query: str, region: str | None, rows: tuple[CallerRow, ...]
) -> NewCaller | None:
    """The new caller behind `query` when it is a complete address or a valid number that
    no contact has (contacts of the address's organization are alike, not the caller)."""
    if any(row.reason in ("email", "phone") for row in rows):
        return None
    _name, phone, email = new_caller_prefill(query)
    try:
        if email:
            address = normalise_email(email)
            owner = directory.organization_for_domain(session, email_domain(address))
            return NewCaller(address, _one_line(owner.name) if owner else "")
        if phone:
            number = normalise_phone(phone, region)
            if phonenumbers.is_valid_number(phonenumbers.parse(number, None)):
                return NewCaller(phone_label(number), "")
    except InvalidIdentity:
        pass  # not a whole address or number yet
    return None


def _matched(match: CallerMatch, query: str, region: str | None) -> str:
    contact = match.contact
    if match.reason == "email":
        wanted = query.strip().lower()
        return next((e for e in contact.emails if e == wanted), contact.email or wanted)
    if match.reason.startswith("phone"):
        digits = "".join(c for c in query if c.isdigit())
        prefixes = contact_search.number_prefixes(query, digits, region) if digits else []
        for number in contact.phones:
            if any(number.startswith(p) for p in prefixes):
                return phone_label(number)
    return contact.email or phone_label(contact.phone)


def find_callers_view(store: Store, query: str, *, limit: int = CALLER_LIMIT) -> CallerResults:
    """Contacts for what is typed in the caller field (a phone number in any format, an
    email, a name with typos, an organization), best first."""
    if not query.strip():
        return CallerResults(query, ())
    with _reading(store) as session:
        region = desk_settings(session).phone_region
        found = find_callers(session, query, region, limit=limit)
        rows = tuple(
            CallerRow(
                contact_id=m.contact.id,
                name=_one_line(m.contact.name),
                organization=_one_line(m.organization.name) if m.organization else "",
                matched=_one_line(_matched(m, query, region)),
                reason=m.reason,
                vip=m.contact.vip,
                score=m.score,
            )
            for m in found
        )
        return CallerResults(query, rows, _new_caller(session, query, region, rows))


def new_caller_prefill(text: str) -> tuple[str, str, str]:
    """(name, phone, email) for a new caller from what was typed in the caller field: an
    address goes to the email, something made of digits to the phone, the rest to the name."""
    typed = clean(text, single_line=True).strip()
    if not typed:
        return "", "", ""
    if looks_like_email(typed):
        return "", "", typed
    if any(c.isdigit() for c in typed) and all(c in _PHONE_CHARACTERS for c in typed):
        return "", typed, ""
    return typed, "", ""


# --- the caller's card --------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTicket:
    key: str
    status: str
    priority: str
    subject: str
    age: str  # since it was created: "3d"


@dataclass(frozen=True)
class CallerCard:
    """What the agent sees of a picked caller. `sla` is the policy a normal-priority phone
    ticket of theirs would get now (the organization's contract, else the rules), with why."""

    contact_id: int
    name: str
    email: str
    phone: str
    vip: bool
    organization: str  # "" when none
    segment: str  # "" when no organization
    sla: str  # policy name, "" when no policy applies
    sla_reason: str
    total: int
    open: int
    breached: int
    open_tickets: tuple[OpenTicket, ...]


def _sla(session: Session, contact: Contact) -> tuple[str, str]:
    org = contact.organization
    facts = TicketFacts(
        priority=Priority.NORMAL,
        segment=org.segment if org else None,
        channel=Channel.PHONE,
        status=Status.NEW,
    )
    chosen = choose_policy(active_rules(session), facts, org.sla_policy if org else None)
    if chosen is None:
        return "", ""
    policy, why = chosen
    return _one_line(policy.name), _one_line(why.partition(": ")[2] or why)


def caller_card(store: Store, contact_id: int, now: datetime) -> CallerCard:
    """The picked caller: organization, segment, SLA policy, VIP, ticket figures and the
    open tickets (most recent first). `NotFound` if the contact is gone."""
    with _reading(store) as session:
        contact = directory.get_contact(session, contact_id)
        history = contact_history(session, contact_id, now, limit=1)
        page = list_tickets(
            session, TicketFilter(requester_id=contact_id), sort=Sort.CREATED, limit=OPEN_LIMIT
        )
        org = contact.organization
        sla, why = _sla(session, contact)
        return CallerCard(
            contact_id=contact.id,
            name=_one_line(contact.name),
            email=_one_line(contact.email),
            phone=phone_label(contact.phone),
            vip=contact.vip,
            organization=_one_line(org.name) if org else "",
            segment=_one_line(org.segment) if org else "",
            sla=sla,
            sla_reason=why,
            total=history.figures.total,
            open=history.figures.open,
            breached=history.figures.breached,
            open_tickets=tuple(
                OpenTicket(
                    key=t.key,
                    status=t.status.value,
                    priority=t.priority.value,
                    subject=_one_line(t.subject),
                    age=relative_age(t.created_at, now),
                )
                for t in page.tickets
            ),
        )


# --- suggestions while writing ------------------------------------------------------------


@dataclass(frozen=True)
class SuggestedArticle:
    id: int
    title: Marked
    snippet: Marked
    category: str


@dataclass(frozen=True)
class SuggestedTicket:
    key: str
    subject: Marked
    status: str
    resolution: str  # the last public reply, on one line; "" when none


@dataclass(frozen=True)
class SuggestionsView:
    subject: str
    description: str
    keywords: tuple[str, ...]
    articles: tuple[SuggestedArticle, ...]
    tickets: tuple[SuggestedTicket, ...]


def suggestions_view(
    store: Store, subject: str, description: str, *, limit: int = SUGGEST_LIMIT
) -> SuggestionsView:
    """Published articles and similar resolved tickets (with their resolution) for a
    ticket being written; nothing for a blank form."""
    if not (subject.strip() or description.strip()):
        return SuggestionsView(subject, description, (), (), ())
    with _reading(store) as session:
        found = suggest(session, subject, description, articles=limit, tickets=limit)
        return SuggestionsView(
            subject,
            description,
            tuple(clean(k, single_line=True) for k in found.keywords),
            tuple(
                SuggestedArticle(
                    a.id, a.title, a.snippet, _one_line(a.category) if a.category else ""
                )
                for a in found.articles
            ),
            tuple(
                SuggestedTicket(
                    t.key, t.subject, t.status, _one_line(t.resolution, RESOLUTION_CHARS)
                )
                for t in found.tickets
            ),
        )


# --- the pickers --------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryChoice:
    path: str
    default_priority: str  # "" when the category sets none
    default_group: str  # "" when none


def category_choices(store: Store) -> tuple[CategoryChoice, ...]:
    """Every category, by path."""
    with _reading(store) as session:
        return tuple(
            CategoryChoice(
                path=_one_line(c.path),
                default_priority=c.default_priority.value if c.default_priority else "",
                default_group=_one_line(c.default_group.name) if c.default_group else "",
            )
            for c in directory.list_categories(session)
        )


# --- creating the ticket ------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeForm:
    """What the agent filled in. Either `contact_id` (a caller picked from the lookup) or a
    new caller (`new_name` and at least one of `new_phone` / `new_email`)."""

    subject: str
    description: str = ""
    contact_id: int | None = None
    new_name: str = ""
    new_phone: str = ""
    new_email: str = ""
    category: str = ""  # a path; "" lets the routing rules decide
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.PHONE


@dataclass(frozen=True)
class CreatedTicket:
    key: str
    number: int
    requester: str  # the caller's name
    new_contact: bool  # the caller was added as a contact with the ticket


def _survivor(session: Session, contact: Contact) -> Contact:
    """The contact a picked one was merged into since it was picked (if it was)."""
    seen = {contact.id}
    while contact.merged_into_id is not None and contact.merged_into_id not in seen:
        seen.add(contact.merged_into_id)
        contact = directory.get_contact(session, contact.merged_into_id)
    return contact


def _caller(session: Session, now: datetime, form: IntakeForm) -> tuple[Contact, bool]:
    if form.contact_id is not None:
        return _survivor(session, directory.get_contact(session, form.contact_id)), False
    if not (form.new_phone.strip() or form.new_email.strip()):
        raise ValidationError("a new caller needs a phone number or an email address")
    draft = directory.ContactDraft(
        name=" ".join(form.new_name.split()) or None,
        phone=form.new_phone.strip() or None,
        email=form.new_email.strip() or None,
    )
    return directory.add_contact(session, now, draft, desk_settings(session).phone_region), True


def create_for_caller(store: Store, login: str, now: datetime, form: IntakeForm) -> CreatedTicket:
    """Create the ticket on behalf of the caller (created by `login`, requested by the
    caller) in one transaction with the new caller's contact, if any. A refused form
    (`ValidationError`, `NotFound`) writes nothing."""
    if not form.subject.strip():
        raise ValidationError("a ticket needs a subject")
    with writing(store, login) as (session, actor):
        contact, added = _caller(session, now, form)
        ticket = create_ticket(
            session,
            actor,
            now,
            NewTicket(
                subject=form.subject,
                body=form.description.strip() or None,
                channel=form.channel,
                requester_id=contact.id,
                category=form.category or None,
                priority=form.priority,
            ),
        )
        return CreatedTicket(ticket.key, ticket.number, _one_line(contact.name), added)

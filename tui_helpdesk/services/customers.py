"""Customers, the desk's white pages: finding a caller and merging duplicate contacts (a
customer's history is `services.customer_history`).

Used by `helpdesk contact find|merge` and the console's caller lookup. Contacts themselves
(add, edit, lookup by an exact address or number) live in `services.directory`; the back-end
specific SQL in `store.contact_search` (and `store.caller_names`: PostgreSQL's name tiers in
one statement). Every query here has a LIMIT or is an aggregate:
nothing reads all contacts into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    Integer,
    String,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, joinedload

from tui_helpdesk.domain import EventKind
from tui_helpdesk.rules.identity import InvalidIdentity, looks_like_email, normalise_phone
from tui_helpdesk.services import directory
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store import caller_names
from tui_helpdesk.store import contact_search as search
from tui_helpdesk.store.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Message,
    Organization,
    Ticket,
    TicketEvent,
)
from tui_helpdesk.store.types import UTCDateTime
from tui_helpdesk.text import clean

# --- finding a caller --------------------------------------------------------------------------

CANDIDATES = 100  # names read per tier of a lookup (at least twice the limit)
FUZZY_SCAN = 200  # names a fuzzy lookup may look at
FUZZY_THRESHOLD = 0.6  # similarity a typo'd name needs (0..1)
MIN_DIGITS = 4  # of a partial number
_PHONE_PUNCTUATION = frozenset(" +-./()")

# A lookup folds every candidate's name (a few hundred), and names repeat: each one once.
_fold = lru_cache(maxsize=4096)(search.fold)

# Score bands, one per way of matching, so that sorting by score ranks the ways first.
_EXACT = 1.0
_EQUAL_NAME = 0.95
MIN_EMAIL_START = 3  # letters of a plain word also looked for at the start of addresses


@dataclass(frozen=True)
class CallerMatch:
    """A contact found for a query, why (`phone`, `email`, `name`, `organization`,
    `phone digits`) and how well (0..1; higher first)."""

    contact: Contact
    organization: Organization | None
    reason: str
    score: float


class _Found:
    """The best match so far per contact id."""

    def __init__(self) -> None:
        self.best: dict[int, tuple[float, str, str]] = {}  # id -> (score, reason, folded name)

    def add(self, contact_id: int, name: str, score: float, reason: str) -> None:
        if contact_id not in self.best or self.best[contact_id][0] < score:
            self.best[contact_id] = (score, reason, _fold(name))

    def __len__(self) -> int:
        return len(self.best)


_TIERS = (
    (search.NameMatch.PREFIX, 0.8),
    (search.NameMatch.WORD, 0.7),
    (search.NameMatch.CONTAINS, 0.6),
)


def _add_named(
    found: _Found, how: search.NameMatch, value: str, folded: str, rows: list[tuple[int, str]]
) -> None:
    base = dict(_TIERS)[how]
    for contact_id, name in rows:
        # Closer in length to the query: closer to what was asked for.
        closeness = min(1.0, len(value) / max(1, len(name)))
        equal = how is search.NameMatch.PREFIX and _fold(name) == folded
        found.add(contact_id, name, _EQUAL_NAME if equal else base + 0.1 * closeness, "name")


def _candidates_by_tier(
    session: Session, value: str, limit: int
) -> tuple[dict[search.NameMatch, list[tuple[int, str]]], list[tuple[int, str]]]:
    """PostgreSQL: every tier's candidates in one statement (`store.caller_names`), each tier
    read only while the ones before it found fewer than `limit` contacts; the fuzzy tier's
    candidates last (none when it was not needed)."""
    per_tier = max(CANDIDATES, 2 * limit)
    scan = max(FUZZY_SCAN, 2 * limit)
    rows = caller_names.name_tiers(
        session, value, [how for how, _base in _TIERS], per_tier, limit, scan
    )
    tiers: dict[search.NameMatch, list[tuple[int, str]]] = {how: [] for how, _base in _TIERS}
    fuzzy: list[tuple[int, str]] = []
    for tier, contact_id, name in rows:
        (fuzzy if tier == caller_names.FUZZY else tiers[search.NameMatch(tier)]).append(
            (contact_id, name)
        )
    return tiers, fuzzy


def _names(found: _Found, session: Session, value: str, folded: str, limit: int) -> None:
    """The name tiers: equal, starting with, a word starting with, containing, fuzzy."""
    by_tier: dict[search.NameMatch, list[tuple[int, str]]] | None = None
    fuzzy: list[tuple[int, str]] | None = None
    if session.get_bind().dialect.name != "sqlite":
        by_tier, fuzzy = _candidates_by_tier(session, value, limit)
    for how, _base in _TIERS:
        rows = (
            by_tier[how]
            if by_tier is not None
            else search.name_candidates(session, how, value, max(CANDIDATES, 2 * limit))
        )
        _add_named(found, how, value, folded, rows)
        if len(found) >= limit:
            return
    # Typos: the candidates' distinct names, the closest by trigrams first (cheap), then the
    # closest few compared letter by letter (what decides and scores).
    by_name: dict[str, list[int]] = {}
    scan = max(FUZZY_SCAN, 2 * limit)
    if fuzzy is None:
        fuzzy = search.fuzzy_candidates(session, value, scan, scan)
    for contact_id, name in fuzzy:
        if contact_id not in found.best:
            by_name.setdefault(_fold(name), []).append(contact_id)
    wanted = search.trigrams(folded)
    shortlist = sorted(
        by_name, key=lambda n: -search.trigram_similarity(wanted, search.trigrams(n))
    )
    for name in shortlist[: max(limit, 10)]:
        similarity = search.name_similarity(folded, name)
        if similarity >= FUZZY_THRESHOLD:
            for contact_id in by_name[name]:
                found.add(contact_id, name, 0.3 + 0.3 * similarity, "name")


def _organizations(found: _Found, session: Session, value: str, limit: int) -> None:
    if not value:
        return
    orgs: list[Organization] = []
    domain = value.lstrip("@")
    if "." in domain and " " not in domain:
        owner = directory.organization_for_domain(session, domain)
        orgs += [owner] if owner is not None else []
    orgs += [o for o in search.organizations_named(session, value, 5) if o not in orgs]
    for contact in search.organization_contacts(session, [o.id for o in orgs], limit):
        found.add(contact.id, contact.name, 0.25, "organization")


def find_callers(
    session: Session, query: str, region: str | None, *, limit: int = 20
) -> list[CallerMatch]:
    """Contacts for one query that may be a phone number in any common format, an email, a
    partial name or an organization's name (or email domain). Ranked: the exact number or
    address; then names equal to the query, starting with it, with a word starting with it,
    containing it, then alike despite typos ("Jon Smiht" finds John Smith); then contacts of
    organizations so named; then numbers starting with the digits typed (4 or more). Merged
    contacts are never found. Each tier reads at most a few hundred names, so a name shared
    by more contacts than that finds the first few hundred of them."""
    query = clean(query, single_line=True).strip()
    if not query or limit < 1:
        return []
    found = _Found()
    digits = "".join(c for c in query if c.isdigit())
    if looks_like_email(query):
        try:
            owner = directory.find_contact_by_identity(session, query, region)
        except ValidationError:
            owner = None  # not a whole address: its domain may still name an organization
        if owner is not None:
            found.add(owner.id, owner.name, _EXACT, "email")
        _organizations(found, session, query.rsplit("@", 1)[1].lower(), limit)
    elif digits and all(c.isdigit() or c in _PHONE_PUNCTUATION for c in query):
        try:
            number: str | None = normalise_phone(query, region)
        except InvalidIdentity:
            number = None
        if number is not None:
            for contact in directory.contacts_with_phone(session, number, limit):
                found.add(contact.id, contact.name, _EXACT, "phone")
        if len(digits) >= MIN_DIGITS and len(found) < limit:
            prefixes = search.number_prefixes(query, digits, region)
            for contact_id, phone in search.phone_prefix_candidates(session, prefixes, limit):
                found.add(contact_id, phone, 0.2, "phone digits")
    else:
        value = " ".join(query.lower().split())
        folded = search.fold(query)
        _names(found, session, value, folded, limit)
        if len(found) < limit and len(folded) >= MIN_EMAIL_START and " " not in folded:
            # A name written with accents or another script is often spelt plainly in the
            # address: "zoe" finds Zoë Müller by zoe.mueller@...
            for contact_id, email in search.email_prefix_candidates(session, folded, limit):
                found.add(contact_id, email, 0.5, "email")
        if len(found) < limit:
            _organizations(found, session, value, limit)
    ranked = sorted(found.best.items(), key=lambda item: (-item[1][0], item[1][2], item[0]))
    ranked = ranked[:limit]
    contacts = {
        c.id: c
        for c in session.scalars(
            select(Contact)
            .where(Contact.id.in_([contact_id for contact_id, _ in ranked]))
            # Joined, not "selectin": one round trip for the page (a few rows each).
            .options(joinedload(Contact.email_rows), joinedload(Contact.phone_rows))
        ).unique()
    }
    return [
        CallerMatch(contacts[i], contacts[i].organization, reason, round(score, 3))
        for i, (score, reason, _name) in ranked
    ]


def resolve_contact(session: Session, ref: str, region: str | None) -> Contact:
    """A contact named by id (`#12`, or `12`: up to six digits, no leading zero), email or
    phone number. A number several contacts share is refused, listing them."""
    ref = ref.strip()
    number = ref.removeprefix("#")
    if number.isdigit() and (ref.startswith("#") or (len(ref) <= 6 and ref[0] != "0")):
        return directory.get_contact(session, int(number))
    if looks_like_email(ref):
        contact = directory.find_contact_by_identity(session, ref, region)
        if contact is None:
            raise NotFound(f"no contact with email {ref!r}")
        return contact
    phone = directory.clean_phone(ref, region)
    assert phone is not None  # ref is not blank: clean_phone raised for anything unusable
    owners = directory.contacts_with_phone(session, phone, limit=10)
    if not owners:
        raise NotFound(f"no contact with phone number {phone}")
    if len(owners) > 1:
        names = ", ".join(directory.contact_label(c) for c in owners)
        raise ValidationError(f"phone number {phone} belongs to {names}: name one by id (#N)")
    return owners[0]


# --- merging duplicates ---------------------------------------------------------------------


@dataclass(frozen=True)
class MergePlan:
    """What merging `duplicate` into `keep` moves: ticket numbers, a count of messages, the
    addresses and numbers that join `keep`, and the empty fields of `keep` it fills."""

    keep: Contact
    duplicate: Contact
    tickets: list[str]
    messages: int
    emails: list[str]
    phones: list[str]
    filled: dict[str, str] = field(default_factory=dict)


def _identity(contact: Contact) -> str:
    who = contact.email or contact.phone
    return f"{contact.name} <{who}> (#{contact.id})" if who else directory.contact_label(contact)


def plan_merge(session: Session, keep: Contact, duplicate: Contact) -> MergePlan:
    """What `merge_contacts` would do, read without changing anything (`--dry-run`)."""
    if keep.id == duplicate.id:
        raise ValidationError("cannot merge a contact into itself")
    if keep.merged_into_id is not None:
        raise ValidationError(
            f"{directory.contact_label(keep)} was merged into contact #{keep.merged_into_id}: "
            "merge into that one"
        )
    if duplicate.merged_into_id is not None:
        raise ValidationError(
            f"{directory.contact_label(duplicate)} is already merged into contact "
            f"#{duplicate.merged_into_id}"
        )
    keys = session.scalars(
        select(Ticket.key).where(Ticket.requester_id == duplicate.id).order_by(Ticket.number)
    )
    messages = session.scalar(
        select(func.count()).select_from(Message).where(Message.author_contact_id == duplicate.id)
    )
    filled: dict[str, str] = {}
    for name in ("email", "phone", "language"):
        if getattr(keep, name) is None and getattr(duplicate, name) is not None:
            filled[name] = getattr(duplicate, name)
    if keep.organization is None and duplicate.organization is not None:
        filled["organization"] = duplicate.organization.name
    if duplicate.notes and duplicate.notes not in (keep.notes or ""):
        filled["notes"] = duplicate.notes
    if duplicate.vip and not keep.vip:
        filled["vip"] = "yes"
    return MergePlan(
        keep=keep,
        duplicate=duplicate,
        tickets=list(keys),
        messages=messages or 0,
        emails=duplicate.emails,
        phones=[p for p in duplicate.phones if p not in keep.phones],
        filled=filled,
    )


def merge_contacts(
    session: Session, now: datetime, actor: Actor, keep: Contact, duplicate: Contact
) -> MergePlan:
    """Merge `duplicate` into `keep`: its tickets (each with a `merged` event on field
    `requester`) and the messages it wrote move to `keep`, its addresses and numbers join
    `keep` (whose primary ones stay), `keep`'s empty fields are filled from it (notes are
    appended, VIP if either is). The duplicate's row stays, marked `merged_into`, without
    addresses or numbers, so history naming it still resolves. Set-based statements only."""
    # Lock both rows in id order (PostgreSQL), so two merges of the same pair cannot deadlock,
    # and read them as committed: a merge that just finished is seen.
    session.execute(
        select(Contact.id)
        .where(Contact.id.in_([keep.id, duplicate.id]))
        .order_by(Contact.id)
        .with_for_update()
    )
    for contact in (keep, duplicate):
        session.refresh(contact)
    plan = plan_merge(session, keep, duplicate)
    keep_id, dup_id = keep.id, duplicate.id
    session.execute(
        insert(TicketEvent).from_select(
            ["ticket_id", "at", "actor_agent_id", "actor", "kind", "field", "old", "new"],
            select(
                Ticket.id,
                literal(now, UTCDateTime()),
                literal(actor.agent_id, Integer()),
                literal(actor.login, String()),
                literal(EventKind.MERGED, TicketEvent.__table__.c.kind.type),
                literal("requester", String()),
                literal(_identity(duplicate), String()),
                literal(_identity(keep), String()),
            ).where(Ticket.requester_id == dup_id),
        )
    )
    bulk = {"synchronize_session": False}
    # A new version: an agent editing one of these tickets is told someone changed it.
    session.execute(
        update(Ticket)
        .where(Ticket.requester_id == dup_id)
        .values(requester_id=keep_id, version=Ticket.version + 1),
        execution_options=bulk,
    )
    session.execute(
        update(Message)
        .where(Message.author_contact_id == dup_id)
        .values(author_contact_id=keep_id),
        execution_options=bulk,
    )
    kept_numbers = select(ContactPhone.phone).where(ContactPhone.contact_id == keep_id)
    session.execute(
        delete(ContactPhone).where(
            ContactPhone.contact_id == dup_id, ContactPhone.phone.in_(kept_numbers)
        ),
        execution_options=bulk,
    )
    for model in (ContactPhone, ContactEmail):
        session.execute(
            update(model).where(model.contact_id == dup_id).values(contact_id=keep_id),
            execution_options=bulk,
        )
    # Contacts merged into the duplicate earlier now point at the contact that stays.
    session.execute(
        update(Contact).where(Contact.merged_into_id == dup_id).values(merged_into_id=keep_id),
        execution_options=bulk,
    )
    session.expire_all()  # the statements above bypassed the objects loaded in this session
    old = {name: getattr(duplicate, name) for name in ("email", "phone", "language", "notes")}
    organization_id, vip = duplicate.organization_id, duplicate.vip
    duplicate.email = duplicate.phone = None
    duplicate.merged_into_id = keep_id
    session.flush()  # the address is free for `keep` (contacts.email is unique)
    keep.email = keep.email or old["email"]
    keep.phone = keep.phone or old["phone"]
    keep.language = keep.language or old["language"]
    keep.organization_id = keep.organization_id or organization_id
    if "notes" in plan.filled:
        keep.notes = f"{keep.notes}\n{old['notes']}" if keep.notes else old["notes"]
    keep.vip = keep.vip or vip
    session.flush()
    session.expire(keep, ["organization"])
    return plan

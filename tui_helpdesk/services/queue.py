"""Ticket lists: filters and keyset pagination, shared by `helpdesk ticket list` and the
console's queue.

Pages are fetched with `limit + 1` rows after a cursor (never OFFSET), so page 50,000 costs
what page 1 costs. The default order is the most urgent deadline first: tickets with a
running deadline by `due_at`, then those without one (paused or no SLA) by number. That is
two index range scans rather than one sort with NULLS LAST, which SQLite cannot serve from
an index.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from tui_helpdesk.domain import ACTIVE_STATUSES, Channel, Priority, Status
from tui_helpdesk.services.directory import get_agent, get_category, get_group, get_organization
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.models import Category, Contact, Ticket, TicketTag

MAX_PAGE = 500


class Sort(enum.StrEnum):
    DUE = "due"  # most urgent deadline first, then no deadline
    UPDATED = "updated"  # most recently updated first
    CREATED = "created"  # newest first
    NUMBER = "number"  # oldest number first
    RESOLVED = "resolved"  # most recently resolved first; unresolved tickets are left out


@dataclass(frozen=True)
class TicketFilter:
    statuses: tuple[Status, ...] = ACTIVE_STATUSES
    group: str | None = None
    groups: tuple[str, ...] | None = None  # any of these groups (an empty tuple matches none)
    assignee: str | None = None  # a login, or "none" for unassigned
    priorities: tuple[Priority, ...] = ()
    organization: str | None = None
    category: str | None = None  # a path; includes sub-categories
    tag: str | None = None
    channel: Channel | None = None
    requester_id: int | None = None
    text: str | None = None  # in the subject, the requester's name or email


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts. `phase` 0 walks the ordered column, 1 the rows without it."""

    sort: Sort
    phase: int
    value: str | int | None
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.sort.value, self.phase, self.value, self.id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort, phase, value, ident = json.loads(raw)
            return cls(Sort(sort), int(phase), value, int(ident))
        except (ValueError, TypeError):
            raise ValidationError(f"invalid page cursor {text!r}") from None


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: Cursor | None
    sort: Sort = Sort.DUE
    extra: dict[str, object] = field(default_factory=dict)


def where_clauses(session: Session, flt: TicketFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.statuses:
        clauses.append(Ticket.status.in_(flt.statuses))
    if flt.group:
        clauses.append(Ticket.group_id == get_group(session, flt.group).id)
    if flt.groups is not None:
        clauses.append(Ticket.group_id.in_([get_group(session, g).id for g in flt.groups]))
    if flt.assignee:
        if flt.assignee.lower() == "none":
            clauses.append(Ticket.assignee_id.is_(None))
        else:
            clauses.append(Ticket.assignee_id == get_agent(session, flt.assignee).id)
    if flt.priorities:
        clauses.append(Ticket.priority.in_(flt.priorities))
    if flt.organization:
        clauses.append(Ticket.organization_id == get_organization(session, flt.organization).id)
    if flt.category:
        category = get_category(session, flt.category)
        sub_ids = select(Category.id).where(
            or_(
                Category.id == category.id,
                Category.path.startswith(category.path + " > ", autoescape=True),
            )
        )
        clauses.append(Ticket.category_id.in_(sub_ids))
    if flt.tag:
        clauses.append(
            exists().where(TicketTag.ticket_id == Ticket.id, TicketTag.tag == flt.tag.lower())
        )
    if flt.channel:
        clauses.append(Ticket.channel == flt.channel)
    if flt.requester_id is not None:
        clauses.append(Ticket.requester_id == flt.requester_id)
    if flt.text and flt.text.strip():
        # What the user typed is matched literally: % and _ are not wildcards.
        words = flt.text.strip().lower()
        requester_match = (
            select(Contact.id)
            .where(
                or_(
                    func.lower(Contact.name).contains(words, autoescape=True),
                    Contact.email.contains(words, autoescape=True),
                )
            )
            .scalar_subquery()
        )
        clauses.append(
            or_(
                func.lower(Ticket.subject).contains(words, autoescape=True),
                Ticket.requester_id.in_(requester_match),
            )
        )
    return clauses


def _implied_statuses(
    session: Session, flt: TicketFilter, statuses: Sequence[Status]
) -> Select[tuple[Ticket]] | None:
    """The filter's query without its status test, when that test cannot exclude anything.

    Some columns are set only in some statuses: `due_at` only on active tickets, `resolved_at`
    only on resolved and closed ones (the services keep it so; `helpdesk db check` verifies
    it). A query that already requires such a column needs no status test if the filter
    admits all of those statuses, and without it the column's index serves the page in
    order instead of the database sorting every matching ticket.
    """
    if flt.statuses and not set(statuses) <= set(flt.statuses):
        return None
    return select(Ticket).where(*where_clauses(session, replace(flt, statuses=())))


def _value_of(ticket: Ticket, sort: Sort) -> str | int | None:
    if sort is Sort.NUMBER:
        return ticket.number
    column = {
        Sort.DUE: ticket.due_at,
        Sort.UPDATED: ticket.updated_at,
        Sort.CREATED: ticket.created_at,
        Sort.RESOLVED: ticket.resolved_at,
    }[sort]
    return column.isoformat() if column is not None else None


def list_tickets(
    session: Session,
    flt: TicketFilter = TicketFilter(),
    *,
    sort: Sort = Sort.DUE,
    after: Cursor | None = None,
    limit: int = 50,
) -> Page:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if after is not None and after.sort is not sort:
        raise ValidationError("the page cursor belongs to another sort order")
    base = select(Ticket).where(*where_clauses(session, flt))
    rows: list[Ticket] = []
    phase = after.phase if after else 0
    if sort is Sort.DUE:
        if phase == 0:
            # Only active tickets carry a running deadline (see _implied_statuses).
            implied = _implied_statuses(session, flt, ACTIVE_STATUSES)
            deadline_base = base if implied is None else implied
            query = deadline_base.where(Ticket.due_at.is_not(None))
            if after is not None:
                value = datetime.fromisoformat(str(after.value))
                query = query.where(tuple_(Ticket.due_at, Ticket.id) > tuple_(value, after.id))
            rows = _fetch(session, query.order_by(Ticket.due_at, Ticket.id), limit + 1)
            if len(rows) <= limit:
                rest = _fetch(
                    session,
                    base.where(Ticket.due_at.is_(None)).order_by(Ticket.id),
                    limit + 1 - len(rows),
                )
                rows += rest
                # Rows from the second phase carry phase 1 in their cursor.
                return _page(rows, limit, sort, phase_of=lambda t: 0 if t.due_at else 1)
            return _page(rows, limit, sort, phase_of=lambda t: 0)
        query = base.where(Ticket.due_at.is_(None))
        if after is not None:
            query = query.where(Ticket.id > after.id)
        rows = _fetch(session, query.order_by(Ticket.id), limit + 1)
        return _page(rows, limit, sort, phase_of=lambda t: 1)

    column = {
        Sort.UPDATED: Ticket.updated_at,
        Sort.CREATED: Ticket.created_at,
        Sort.NUMBER: Ticket.number,
        Sort.RESOLVED: Ticket.resolved_at,
    }[sort]
    descending = sort is not Sort.NUMBER
    query = base
    if sort is Sort.RESOLVED:
        # Only resolved and closed tickets carry `resolved_at` (see _implied_statuses).
        implied = _implied_statuses(session, flt, (Status.RESOLVED, Status.CLOSED))
        query = (base if implied is None else implied).where(Ticket.resolved_at.is_not(None))
    if after is not None:
        value: object = after.value
        if sort is not Sort.NUMBER:
            value = datetime.fromisoformat(str(after.value))
        if descending:
            query = query.where(tuple_(column, Ticket.id) < tuple_(value, after.id))
        else:
            query = query.where(tuple_(column, Ticket.id) > tuple_(value, after.id))
    order = (column.desc(), Ticket.id.desc()) if descending else (column, Ticket.id)
    rows = _fetch(session, query.order_by(*order), limit + 1)
    return _page(rows, limit, sort, phase_of=lambda t: 0)


# A page loads its tickets with a plain single-table query, then each related kind in one
# `IN` query: an eight-way join costs PostgreSQL more to plan than the page costs to read.
_PAGE_LOADING = (
    selectinload(Ticket.category),
    selectinload(Ticket.requester),
    selectinload(Ticket.organization),
    selectinload(Ticket.group),
    selectinload(Ticket.assignee),
    selectinload(Ticket.created_by),
)


def _fetch(session: Session, query: Select[tuple[Ticket]], limit: int) -> list[Ticket]:
    return list(session.scalars(query.options(*_PAGE_LOADING).limit(limit)).unique())


def _page(
    rows: Sequence[Ticket], limit: int, sort: Sort, phase_of: Callable[[Ticket], int]
) -> Page:
    if len(rows) <= limit:
        return Page(list(rows), None, sort)
    page = list(rows[:limit])
    last = page[-1]
    return Page(page, Cursor(sort, phase_of(last), _value_of(last, sort), last.id), sort)


def count_tickets(session: Session, flt: TicketFilter = TicketFilter()) -> int:
    return (
        session.scalar(select(func.count()).select_from(Ticket).where(*where_clauses(session, flt)))
        or 0
    )

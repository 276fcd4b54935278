"""Ticket lists: filters and keyset pagination, shared by `helpdesk ticket list` and the
console's queue.

Pages are fetched with `limit + 1` rows after a cursor (never OFFSET), so page 50,000 costs
what page 1 costs. The default order is the most urgent deadline first: tickets with a
running deadline by `due_at`, then those without one (paused or no SLA) by number. That is
two index range scans rather than one sort with NULLS LAST, which SQLite cannot serve from
an index.

A page comes in two shapes from the same paging: `list_tickets` loads `Ticket` objects with
their related rows (the CLI, the customer views, the side panel), and `list_rows` reads lean
`TicketRow`s for the console's queue: one statement per phase, the page's own rows taken from
the index first and joined to the four names a queue row shows afterwards (PostgreSQL plans
that in a quarter of the time a flat five-table join takes, and a page of `Ticket` objects
costs one statement per related kind).
"""

from __future__ import annotations

import base64
import enum
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import ColumnElement, Subquery, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from tui_helpdesk.domain import ACTIVE_STATUSES, Channel, Priority, Status
from tui_helpdesk.services.directory import (
    find_category,
    get_agent,
    get_group,
    get_organization,
)
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Contact,
    Group,
    Organization,
    Ticket,
    TicketTag,
)

if TYPE_CHECKING:
    from sqlalchemy.orm.interfaces import LoaderOption

MAX_PAGE = 500
AT_RISK_WITHIN = timedelta(hours=1)  # a running deadline this close is at risk (working time)


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


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket as the console's queue lists it: its own columns and the names of the four
    things a row shows (requester, organization, group, assignee), None where it has none.
    `list_rows` reads these in one statement; `of` makes one from a loaded `Ticket`."""

    id: int
    key: str
    number: int
    subject: str
    status: Status
    priority: Priority
    level: int | None
    due_at: datetime | None
    sla_paused_at: datetime | None
    sla_calendar: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    version: int
    # The clocks' states and the working seconds kept while paused: a paused row's SLA cell
    # shows the time kept, as the ticket header does (`views.Countdowns`).
    first_response_state: str | None
    first_response_remaining: int | None
    resolution_state: str | None
    resolution_remaining: int | None
    requester_name: str
    requester_email: str | None
    requester_phone: str | None
    organization: str | None
    group: str | None
    group_level: int | None
    assignee: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketRow:
        person, org, group = ticket.requester, ticket.organization, ticket.group
        own = {name: getattr(ticket, name) for name in _OWN_COLUMNS}
        return cls(
            **own,
            requester_name=person.name,
            requester_email=person.email,
            requester_phone=person.phone,
            organization=org.name if org else None,
            group=group.name if group else None,
            group_level=group.level if group else None,
            assignee=ticket.assignee.login if ticket.assignee else None,
        )


# The row's fields that are columns of `tickets` (the rest come from the joined tables).
_OWN_COLUMNS = tuple(f.name for f in fields(TicketRow) if f.name in Ticket.__table__.c)


def _status_clause(flt: TicketFilter) -> list[ColumnElement[bool]]:
    return [Ticket.status.in_(flt.statuses)] if flt.statuses else []


def where_clauses(session: Session, flt: TicketFilter) -> list[ColumnElement[bool]]:
    return _status_clause(flt) + _other_clauses(session, flt)


def _other_clauses(session: Session, flt: TicketFilter) -> list[ColumnElement[bool]]:
    """Every test of the filter but the status one."""
    clauses: list[ColumnElement[bool]] = []
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
        org = get_organization(session, flt.organization, beginning=True)
        clauses.append(Ticket.organization_id == org.id)
    if flt.category:
        category = find_category(session, flt.category)  # a path, or a category's own name
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


class _Keyed(Protocol):
    """What a page's last row gives its cursor: a `Ticket` or a `TicketRow`."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> int: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...


R = TypeVar("R", bound=_Keyed)
Order = tuple[tuple[str, bool], ...]  # (column of `tickets`, descending), most significant first
Fetch = Callable[[Session, Sequence[ColumnElement[bool]], Order, int], list[R]]

BY_ID: Order = (("id", False),)
_BY_DUE: Order = (("due_at", False), ("id", False))


def _implied_statuses(
    flt: TicketFilter, statuses: Sequence[Status], others: list[ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    """The filter's clauses, without its status test when that test cannot exclude anything.

    Some columns are set only in some statuses: `due_at` only on active tickets, `resolved_at`
    only on resolved and closed ones (the services keep it so; `helpdesk db check` verifies
    it). A query that already requires such a column needs no status test if the filter
    admits all of those statuses, and without it the column's index serves the page in
    order instead of the database sorting every matching ticket.
    """
    if flt.statuses and not set(statuses) <= set(flt.statuses):
        return _status_clause(flt) + others
    return others


def _value_of(ticket: _Keyed, sort: Sort) -> str | int | None:
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
    """A page of tickets, loaded with their related rows (category, people, groups, tags)."""
    tickets, cursor = _paginate(session, flt, sort, after, limit, _fetch_tickets)
    return Page(tickets, cursor, sort)


def list_rows(
    session: Session,
    flt: TicketFilter = TicketFilter(),
    *,
    sort: Sort = Sort.DUE,
    after: Cursor | None = None,
    limit: int = 50,
) -> tuple[list[TicketRow], Cursor | None]:
    """The same page as `list_tickets` (same rows, order and cursors), as lean queue rows."""
    return _paginate(session, flt, sort, after, limit, fetch_rows)


def _paginate(
    session: Session,
    flt: TicketFilter,
    sort: Sort,
    after: Cursor | None,
    limit: int,
    fetch: Fetch[R],
) -> tuple[list[R], Cursor | None]:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if after is not None and after.sort is not sort:
        raise ValidationError("the page cursor belongs to another sort order")
    others = _other_clauses(session, flt)
    base = _status_clause(flt) + others
    phase = after.phase if after else 0
    if sort is Sort.DUE:
        if phase == 0:
            # Only active tickets carry a running deadline (see _implied_statuses).
            where = [*_implied_statuses(flt, ACTIVE_STATUSES, others), Ticket.due_at.is_not(None)]
            if after is not None:
                value = datetime.fromisoformat(str(after.value))
                where.append(tuple_(Ticket.due_at, Ticket.id) > tuple_(value, after.id))
            rows = fetch(session, where, _BY_DUE, limit + 1)
            if len(rows) <= limit:
                rest = [*base, Ticket.due_at.is_(None)]
                rows += fetch(session, rest, BY_ID, limit + 1 - len(rows))
                # Rows from the second phase carry phase 1 in their cursor.
                return _page(rows, limit, sort, phase_of=lambda t: 0 if t.due_at else 1)
            return _page(rows, limit, sort, phase_of=lambda t: 0)
        where = [*base, Ticket.due_at.is_(None)]
        if after is not None:
            where.append(Ticket.id > after.id)
        return _page(fetch(session, where, BY_ID, limit + 1), limit, sort, phase_of=lambda t: 1)

    name = {
        Sort.UPDATED: "updated_at",
        Sort.CREATED: "created_at",
        Sort.NUMBER: "number",
        Sort.RESOLVED: "resolved_at",
    }[sort]
    column = Ticket.__table__.c[name]
    descending = sort is not Sort.NUMBER
    where = base
    if sort is Sort.RESOLVED:
        # Only resolved and closed tickets carry `resolved_at` (see _implied_statuses).
        implied = _implied_statuses(flt, (Status.RESOLVED, Status.CLOSED), others)
        where = [*implied, Ticket.resolved_at.is_not(None)]
    if after is not None:
        value: object = after.value
        if sort is not Sort.NUMBER:
            value = datetime.fromisoformat(str(after.value))
        if descending:
            where = [*where, tuple_(column, Ticket.id) < tuple_(value, after.id)]
        else:
            where = [*where, tuple_(column, Ticket.id) > tuple_(value, after.id)]
    order: Order = ((name, descending), ("id", descending))
    rows = fetch(session, where, order, limit + 1)
    return _page(rows, limit, sort, phase_of=lambda t: 0)


def _order_by(order: Order, source: Subquery | None = None) -> list[ColumnElement[object]]:
    """`order` over the `tickets` table, or over the columns of a page taken from it."""
    columns = Ticket.__table__.c if source is None else source.c
    return [columns[name].desc() if desc else columns[name] for name, desc in order]


@functools.cache
def _page_loading() -> tuple[LoaderOption, ...]:
    """A page of `Ticket`s loads them with a plain single-table query, then each related kind
    in one `IN` query: an eight-way join costs PostgreSQL more to plan than the page costs to
    read. Built on first use, not at import: a loader option configures every mapper, which
    a command that imports this module for its filters or lean rows need not pay for."""
    return (
        selectinload(Ticket.category),
        selectinload(Ticket.requester),
        selectinload(Ticket.organization),
        selectinload(Ticket.group),
        selectinload(Ticket.assignee),
        selectinload(Ticket.created_by),
    )


def _fetch_tickets(
    session: Session, where: Sequence[ColumnElement[bool]], order: Order, limit: int
) -> list[Ticket]:
    query = select(Ticket).where(*where).order_by(*_order_by(order)).limit(limit)
    return list(session.scalars(query.options(*_page_loading())).unique())


# The columns a page of rows takes from `tickets`: the row's own, and the keys it joins on.
_PAGE_COLUMNS = (*_OWN_COLUMNS, "requester_id", "organization_id", "group_id", "assignee_id")
# Plain table aliases, made once: building a page's statement is then cheap (ORM aliases are
# adapted column by column on every call).
_REQUESTER = Contact.__table__.alias("requester")
_ORG = Organization.__table__.alias("org")
_GROUP = Group.__table__.alias("grp")
_ASSIGNEE = Agent.__table__.alias("assignee")


def fetch_rows(
    session: Session, where: Sequence[ColumnElement[bool]], order: Order, limit: int
) -> list[TicketRow]:
    """The first `limit` tickets matching `where` in `order`, as queue rows, in one statement:
    the page is cut from `tickets` alone (an index range when the order has one), and only
    its rows are joined to the names they show."""
    columns = Ticket.__table__.c
    page = (
        select(*(columns[name] for name in _PAGE_COLUMNS))
        .where(*where)
        .order_by(*_order_by(order))
        .limit(limit)
        .subquery("page")
    )
    query = (
        select(
            *(page.c[name] for name in _OWN_COLUMNS),
            _REQUESTER.c.name,
            _REQUESTER.c.email,
            _REQUESTER.c.phone,
            _ORG.c.name,
            _GROUP.c.name,
            _GROUP.c.level,
            _ASSIGNEE.c.login,
        )
        .select_from(
            page.join(_REQUESTER, _REQUESTER.c.id == page.c.requester_id)
            .outerjoin(_ORG, _ORG.c.id == page.c.organization_id)
            .outerjoin(_GROUP, _GROUP.c.id == page.c.group_id)
            .outerjoin(_ASSIGNEE, _ASSIGNEE.c.id == page.c.assignee_id)
        )
        .order_by(*_order_by(order, page))
    )
    return [TicketRow(*row) for row in session.execute(query)]


def row_columns() -> list[ColumnElement[object]]:
    """A `TicketRow`'s columns, in its fields' order, over `tickets` alone: the names as
    correlated scalar subqueries. For one ticket (a header) that is cheaper to plan than
    `fetch_rows`' join; add columns after these and build the row from the first ones."""
    return [
        *(Ticket.__table__.c[name] for name in _OWN_COLUMNS),
        _name_of(Contact, "name", Ticket.requester_id),
        _name_of(Contact, "email", Ticket.requester_id),
        _name_of(Contact, "phone", Ticket.requester_id),
        _name_of(Organization, "name", Ticket.organization_id),
        _name_of(Group, "name", Ticket.group_id),
        _name_of(Group, "level", Ticket.group_id),
        _name_of(Agent, "login", Ticket.assignee_id),
    ]


def _name_of(
    model: type[Contact | Organization | Group | Agent], column: str, key: ColumnElement[object]
) -> ColumnElement[object]:
    table = model.__table__
    return select(table.c[column]).where(table.c.id == key).scalar_subquery()


ROW_WIDTH = len(fields(TicketRow))


def _page(
    rows: Sequence[R], limit: int, sort: Sort, phase_of: Callable[[R], int]
) -> tuple[list[R], Cursor | None]:
    if len(rows) <= limit:
        return list(rows), None
    page = list(rows[:limit])
    last = page[-1]
    return page, Cursor(sort, phase_of(last), _value_of(last, sort), last.id)


def count_tickets(session: Session, flt: TicketFilter = TicketFilter()) -> int:
    return (
        session.scalar(select(func.count()).select_from(Ticket).where(*where_clauses(session, flt)))
        or 0
    )

"""What the console shows, as small frozen rows of display-ready plain values.

The console's screens never hold a session or a model object: their thread workers call the
functions here, each of which opens its own read-only unit of work on the `Store`, asks the
lifecycle and queue services, and returns plain dataclasses (customer text already cleaned of
control sequences, times already formatted). Database failures come back as `ServiceError`
so a screen can show them as a notification without knowing about SQLAlchemy.

Called by `tui_helpdesk.screens` (queue and ticket screens) from worker threads only.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BindParameter, ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.domain import ACTIVE_STATUSES, MessageKind, Status
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.directory import get_agent
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.queue import (
    AT_RISK_WITHIN,
    BY_ID,
    MAX_PAGE,
    ROW_WIDTH,
    Cursor,
    Sort,
    TicketFilter,
    TicketRow,
    count_tickets,
    fetch_rows,
    list_rows,
    row_columns,
    where_clauses,
)
from tui_helpdesk.services.saved_views import SavedView, ViewFilter, parse_filter
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import (
    Agent,
    Attachment,
    Category,
    Contact,
    Message,
    Ticket,
    TicketEvent,
    TicketTag,
)
from tui_helpdesk.text import clean, file_size, span

if TYPE_CHECKING:
    from tui_helpdesk.reports.model import Drill
    from tui_helpdesk.rules.calendar import Calendar

# The console's start-up imports this module: the SLA rules (the countdowns' calendars,
# `services.breaching` for the Breaching view) are imported with the first page, off the UI
# thread.

__all__ = [
    "AT_RISK_WITHIN",
    "MAX_PAGE",
    "AttachmentView",
    "Countdowns",
    "Cursor",
    "DatabaseUnavailable",
    "DrillView",
    "MessageView",
    "Profile",
    "QueuePage",
    "QueueRow",
    "SlaState",
    "Store",
    "TicketDetail",
    "View",
    "count_view",
    "describe_changes",
    "find_ticket",
    "profile",
    "queue_page",
    "ticket_detail",
    "viewer_zone",
]

MAX_THREAD = 500  # messages shown on the ticket screen (the newest ones)


class DatabaseUnavailable(ServiceError):
    """The database could not be reached or answered with an error."""


def database_error(exc: SQLAlchemyError) -> DatabaseUnavailable:
    """One line for a notification; the driver's multi-line detail is not for agents."""
    first = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()
    return DatabaseUnavailable(f"database error: {first[0] if first else type(exc).__name__}")


@contextmanager
def _reading(store: Store) -> Iterator[Session]:
    try:
        with store.read() as session:
            yield session
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc


# --- views --------------------------------------------------------------------------------


class View(enum.StrEnum):
    MY_OPEN = "my_open"
    MY_GROUPS = "my_groups"  # unassigned tickets of the agent's groups
    ALL_OPEN = "all_open"
    PENDING = "pending"
    RESOLVED = "resolved"  # recently resolved or closed, newest first
    BREACHING = "breaching"  # due within an hour of working time, or overdue

    @property
    def label(self) -> str:
        return _VIEW_LABELS[self]

    @property
    def short(self) -> str:
        """A word for the tab when the full labels do not fit (80 columns)."""
        return _VIEW_SHORT[self]


_VIEW_SHORT = {
    View.MY_OPEN: "Mine",
    View.MY_GROUPS: "Groups",
    View.ALL_OPEN: "All",
    View.PENDING: "Pending",
    View.RESOLVED: "Done",
    View.BREACHING: "Breach",
}

_VIEW_LABELS = {
    View.MY_OPEN: "My open",
    View.MY_GROUPS: "My groups",
    View.ALL_OPEN: "All open",
    View.PENDING: "Pending",
    View.RESOLVED: "Resolved",
    View.BREACHING: "Breaching",
}


@dataclass(frozen=True)
class DrillView:
    """The tickets behind a figure of the reports mode, shown as a queue view of its own
    (by number; `services.reports.drill_where` says which)."""

    title: str
    drill: Drill

    @property
    def label(self) -> str:
        return self.title

    @property
    def value(self) -> str:
        return f"drill:{self.title}"


AnyView = View | SavedView | DrillView


def _builtin(session: Session, login: str, view: View) -> TicketFilter:
    if view is View.MY_OPEN:
        return TicketFilter(assignee=login)
    if view is View.MY_GROUPS:
        groups = tuple(g.name for g in get_agent(session, login).groups)
        return TicketFilter(groups=groups, assignee="none")
    if view is View.PENDING:
        return TicketFilter(statuses=(Status.PENDING,))
    if view is View.RESOLVED:
        return TicketFilter(statuses=(Status.RESOLVED, Status.CLOSED))
    return TicketFilter(statuses=ACTIVE_STATUSES)


def _filter(session: Session, login: str, view: AnyView, text: str | None) -> TicketFilter:
    """The queue filter a view stands for, narrowed by what was typed in the `/` field
    (`status:pending vpn`: a field typed there replaces the view's own)."""
    if isinstance(view, DrillView):
        base = TicketFilter(statuses=())  # the drill says which; typed fields narrow it
    elif isinstance(view, SavedView):
        base = view.filter.ticket_filter(login)
    else:
        base = _builtin(session, login, view)
    typed = parse_filter(text) if text and text.strip() else ViewFilter()
    if typed.is_empty:
        return base
    narrow = typed.ticket_filter(login)
    changes: dict[str, object] = {
        name: getattr(narrow, name)
        for name in ("priorities", "group", "assignee", "organization", "category", "tag")
        if getattr(typed, name)
    }
    if typed.statuses:
        changes["statuses"] = typed.statuses
    if typed.channel:
        changes["channel"] = typed.channel
    if typed.text:
        changes["text"] = typed.text
    return replace(base, **changes)  # type: ignore[arg-type]


def _sort(view: AnyView) -> Sort:
    """Deadlines first where clocks run; where they are paused or done, the latest first."""
    if isinstance(view, SavedView | DrillView):
        return Sort.DUE
    return {View.RESOLVED: Sort.RESOLVED, View.PENDING: Sort.UPDATED}.get(view, Sort.DUE)


# --- queue rows ---------------------------------------------------------------------------


class SlaState(enum.StrEnum):
    OK = "ok"
    AT_RISK = "at-risk"
    BREACHED = "breached"
    PAUSED = "paused"
    NONE = "none"  # no running deadline


@dataclass(frozen=True)
class QueueRow:
    key: str
    number: int
    subject: str
    priority: str
    status: str
    sla: str
    sla_state: SlaState
    requester: str
    organization: str
    group: str  # "L1 (1)" or a functional team's name
    assignee: str
    updated: str  # relative, "3h"
    version: int


@dataclass(frozen=True)
class QueuePage:
    view: AnyView
    rows: tuple[QueueRow, ...]
    next: Cursor | None  # None: this was the last page


def relative_age(then: datetime, now: datetime) -> str:
    """How long ago, to one unit: "now", "12m", "3h", "5d", "8w", "2y"."""
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return "now"
    for size, unit in ((31_536_000, "y"), (604_800, "w"), (86_400, "d"), (3_600, "h")):
        if seconds >= size * (2 if unit in "yw" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


class _Deadline(Protocol):
    """What the SLA cell reads: a `Ticket` or a `TicketRow`."""

    @property
    def due_at(self) -> datetime | None: ...
    @property
    def sla_paused_at(self) -> datetime | None: ...
    @property
    def sla_calendar(self) -> str | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def first_response_state(self) -> str | None: ...
    @property
    def first_response_remaining(self) -> int | None: ...
    @property
    def resolution_state(self) -> str | None: ...
    @property
    def resolution_remaining(self) -> int | None: ...


PAUSED_MARK = "‖"  # a paused row's cell: "‖8h", the working time its clocks keep
SLA_CELL = 7  # characters of the queue's SLA column: "-11h30m"


def kept(ticket: _Deadline) -> timedelta | None:
    """The working time a paused ticket's clocks keep (the nearest of those paused; negative
    when one was already overdue), None when no paused clock says."""
    left = [
        seconds
        for state, seconds in (
            (ticket.first_response_state, ticket.first_response_remaining),
            (ticket.resolution_state, ticket.resolution_remaining),
        )
        if state == "paused" and seconds is not None
    ]
    return timedelta(seconds=min(left)) if left else None


def countdown(left: timedelta) -> str:
    """A length of working time as the SLA column shows it: "45m", "2h10m", "36h" (as the
    ticket header's clocks spell it, `text.span`), whole hours from 100h so that an overdue
    one, "-1234h", still fits the column."""
    if abs(left) >= timedelta(hours=100):
        return f"{int(abs(left).total_seconds() // 3600)}h"
    return span(left)


class Countdowns:
    """The SLA cell of a page's rows: working time left to each row's running deadline on
    its SLA calendar, the one rule the ticket header's clocks use
    (`rules.clock.signed_working_time`), at one `now`.

    The calendars come from the active rules, which `services.sla` parses once per applied
    version and keeps for the run (each calendar keeps the working days it has laid out).
    Given the page's rows, their deadlines are measured in one walk per calendar: sorted,
    each from its neighbour nearer to `now` (working time adds up over adjacent spans, so
    that is exact), instead of every overdue deadline walking its own weeks back to `now`.
    Built in a worker, per page."""

    def __init__(self, session: Session, now: datetime, tickets: Iterable[_Deadline] = ()) -> None:
        # The rules' modules load with the first page, off the UI thread.
        from tui_helpdesk.rules.calendar import working_time_between
        from tui_helpdesk.rules.clock import calendar_for, signed_working_time
        from tui_helpdesk.services.sla import active_rules

        self.now = now
        self._rules = active_rules(session)
        self._calendar_for = calendar_for
        self._left = signed_working_time
        self._between = working_time_between
        self._known: dict[tuple[str | None, datetime], timedelta] = {}
        dues: dict[str | None, set[datetime]] = {}
        for ticket in tickets:
            if ticket.due_at is not None:
                dues.setdefault(ticket.sla_calendar, set()).add(ticket.due_at)
        for name, instants in dues.items():
            self._measure(name, instants)

    # Working time between two deadlines, kept for the run (the spans of a page come back
    # on every refresh; one deadline years overdue is a walk over years of calendar). Only
    # spans between stored deadlines, never to `now`. The spans belong to one rules object:
    # the pair is replaced as a whole when the rules change, so a worker still measuring
    # with older rules (pages are built in worker threads) never writes into newer ones.
    _spans: ClassVar[tuple[object, dict[tuple[str | None, datetime, datetime], timedelta]]] = (
        None,
        {},
    )
    MAX_SPANS: ClassVar[int] = 10_000

    def _span(
        self, name: str | None, calendar: Calendar, start: datetime, end: datetime
    ) -> timedelta:
        if start == self.now or end == self.now:
            return self._between(calendar, start, end)
        owner, spans = Countdowns._spans
        if owner is not self._rules or len(spans) >= self.MAX_SPANS:
            spans = {}
            Countdowns._spans = (self._rules, spans)
        found = spans.get((name, start, end))
        if found is None:
            found = spans[name, start, end] = self._between(calendar, start, end)
        return found

    def _measure(self, name: str | None, dues: set[datetime]) -> None:
        calendar = self._calendar_for(self._rules, name)
        ahead = sorted(d for d in dues if d >= self.now)
        behind = sorted((d for d in dues if d < self.now), reverse=True)
        for order, sign in ((ahead, 1), (behind, -1)):
            total, last = timedelta(0), self.now
            for due in order:
                start, end = (last, due) if sign > 0 else (due, last)
                total += self._span(name, calendar, start, end)
                self._known[name, due] = total if sign > 0 else -total
                last = due

    def of(self, ticket: _Deadline) -> tuple[str, SlaState]:
        """The countdown to the running deadline and its colour: overdue from the deadline
        on ("-1h20m"; the header says "overdue 1h20m"; "overdue" while no working time has
        passed since), at risk within an hour of working
        time; while the clocks wait, the working time they keep after "‖" ("‖8h", as the
        header's "paused, 8h left"; "‖-2h" when already overdue, "paused" when no clock says),
        "—" without a deadline."""
        due = ticket.due_at
        if due is None:
            if ticket.sla_paused_at is not None and ticket.status.is_active:
                left = kept(ticket)
                if left is None:
                    return "paused", SlaState.PAUSED
                return _paused_cell(left)
            return "—", SlaState.NONE
        left = self._known.get((ticket.sla_calendar, due))
        if left is None:
            calendar = self._calendar_for(self._rules, ticket.sla_calendar)
            left = self._left(calendar, self.now, due)
        if due <= self.now:
            # No working time since the deadline (it fell at closing time, and the desk is
            # closed now): overdue all the same, never "-0s".
            overdue = f"-{countdown(left)}" if left else "overdue"
            return overdue, SlaState.BREACHED
        return countdown(left), SlaState.AT_RISK if left <= AT_RISK_WITHIN else SlaState.OK


def _paused_cell(left: timedelta) -> tuple[str, SlaState]:
    """ "‖3h30m" kept; "‖-2h10m" already overdue (breached, as the header colours it; "‖late"
    with no working time past the deadline); whole
    hours when the minutes would not fit the column ("‖-47h" for 47h44m)."""
    sign, state = ("-", SlaState.BREACHED) if left <= timedelta(0) else ("", SlaState.PAUSED)
    if not left:  # paused once its deadline had passed out of hours: late, never "-0s"
        return f"{PAUSED_MARK}late", state
    text = f"{PAUSED_MARK}{sign}{countdown(left)}"
    if len(text) > SLA_CELL:
        text = f"{PAUSED_MARK}{sign}{int(abs(left).total_seconds() // 3600)}h"
    return text, state


def _group_label(ticket: TicketRow) -> str:
    if ticket.group is None:
        return ""
    name = clean(ticket.group, single_line=True)
    level = ticket.level if ticket.level is not None else ticket.group_level
    return f"{name} ({level})" if level is not None and not name.endswith(str(level)) else name


def _requester_label(ticket: TicketRow) -> str:
    return clean(
        ticket.requester_name or ticket.requester_email or ticket.requester_phone or "",
        single_line=True,
    )


def queue_row(ticket: TicketRow, now: datetime, countdowns: Countdowns) -> QueueRow:
    sla, state = countdowns.of(ticket)
    return QueueRow(
        key=ticket.key,
        number=ticket.number,
        subject=clean(ticket.subject, single_line=True),
        priority=ticket.priority.value,
        status=ticket.status.value.replace("_", " "),
        sla=sla,
        sla_state=state,
        requester=_requester_label(ticket),
        organization=clean(ticket.organization, single_line=True) if ticket.organization else "",
        group=_group_label(ticket),
        assignee=ticket.assignee or "",
        updated=relative_age(ticket.updated_at, now),
        version=ticket.version,
    )


def queue_page(
    store: Store,
    login: str,
    view: AnyView,
    *,
    now: datetime,
    text: str | None = None,
    after: Cursor | None = None,
    limit: int = 100,
) -> QueuePage:
    """One page of a view, in the view's order, after `after` (None: the first page).
    `text` is what was typed in the `/` field (`saved_views.parse_filter`).

    A page is one statement (two where the due order passes from running deadlines to the
    rest), plus the active rules' version check and any name the filter looks up."""
    with _reading(store) as session:
        flt = _filter(session, login, view, text)
        found: list[TicketRow]
        if view is View.BREACHING:
            from tui_helpdesk.services.breaching import Horizons, breaching_page

            found, cursor = breaching_page(session, flt, Horizons(session, now), after, limit)
        elif isinstance(view, DrillView):
            found, cursor = _drill_page(session, view, flt, after, limit)
        else:
            found, cursor = list_rows(session, flt, sort=_sort(view), after=after, limit=limit)
        countdowns = Countdowns(session, now, found)
        rows = tuple(queue_row(t, now, countdowns) for t in found)
        return QueuePage(view, rows, cursor)


def _drill_page(
    session: Session, view: DrillView, flt: TicketFilter, after: Cursor | None, limit: int
) -> tuple[list[TicketRow], Cursor | None]:
    from tui_helpdesk.services.reports import drill_where  # it imports this module

    where = [drill_where(view.drill), *where_clauses(session, flt)]
    if after is not None:
        where.append(Ticket.id > after.id)
    rows = fetch_rows(session, where, BY_ID, limit + 1)
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], Cursor(Sort.NUMBER, 1, None, rows[limit - 1].id)


def count_view(
    store: Store, login: str, view: AnyView, *, now: datetime, text: str | None = None
) -> int:
    """How many tickets the view holds at `now` (an exact COUNT)."""
    with _reading(store) as session:
        flt = _filter(session, login, view, text)
        if isinstance(view, DrillView):
            from tui_helpdesk.services.reports import drill_where  # it imports this module

            query = select(func.count()).select_from(Ticket)
            query = query.where(drill_where(view.drill), *where_clauses(session, flt))
            return session.scalar(query) or 0
        if view is not View.BREACHING:
            return count_tickets(session, flt)
        from tui_helpdesk.services.breaching import Horizons, breaching_filter

        horizons = Horizons(session, now)
        query = (
            select(func.count())
            .select_from(Ticket)
            .where(*where_clauses(session, breaching_filter(flt)), horizons.clause())
        )
        return session.scalar(query) or 0


# --- the agent and the desk ---------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    desk_name: str
    login: str
    name: str
    groups: tuple[str, ...]
    timezone: str


def _zone(*names: str | None) -> ZoneInfo:
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def profile(store: Store, login: str, timezone: str | None = None) -> Profile:
    """The acting agent and the desk's name; the display zone is the personal setting, else
    the agent's, else the desk's."""
    with _reading(store) as session:
        agent = get_agent(session, login)
        desk = desk_settings(session)
        zone = _zone(timezone, agent.timezone, desk.timezone)
        return Profile(
            desk_name=clean(desk.name, single_line=True) or "Help Desk",
            login=agent.login,
            name=clean(agent.name, single_line=True),
            groups=tuple(g.name for g in agent.groups),
            timezone=zone.key,
        )


# --- one ticket ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentView:
    """What the conversation shows of a file a message came with: never its content (the
    ticket screen reads that only to save it, `services.attachments`)."""

    id: int
    filename: str  # the customer's name for it, cleaned
    content_type: str
    size: int  # bytes
    kept: bool  # False: over the size limit when the mail came in, only its name was kept

    @property
    def size_text(self) -> str:
        return file_size(self.size)


@dataclass(frozen=True)
class MessageView:
    kind: MessageKind
    author: str
    at: str  # in the display time zone
    body: str
    delivery: str | None = None  # a public reply's mail: queued, sent, failed
    attachments: tuple[AttachmentView, ...] = ()


@dataclass(frozen=True)
class TicketDetail:
    key: str
    subject: str
    status: str
    priority: str
    sla: str
    sla_state: SlaState
    category: str
    channel: str
    requester: str
    requester_contact: str  # email and phone
    organization: str
    group: str
    assignee: str
    tags: tuple[str, ...]
    created: str
    updated: str
    version: int
    messages: tuple[MessageView, ...]
    hidden_messages: int  # older messages not loaded
    merged_into: str | None = None  # the ticket its conversation moved to, once merged
    # The newest audit event shown: a save refused as too late lists every change after it
    # (`console_actions.explain_conflict`). Read with the version, in the same statement.
    seen_event: int = 0
    requester_email: str = ""
    requester_phone: str = ""  # E.164 as stored (`intake_views.phone_label` for reading)


def _author(message: Row[Any]) -> str:
    if message.kind is MessageKind.SYSTEM:
        return "system"
    if message.kind is MessageKind.CUSTOMER and message.author_contact_id is not None:
        return clean(message.contact or "customer", single_line=True)
    if message.author_agent_id is not None:
        return clean(message.agent, single_line=True)
    return "desk"  # written by the desk itself: an escalation rule's note, say


def _first_of(*columns: ColumnElement[str | None]) -> ColumnElement[str | None]:
    """The first of `columns` neither NULL nor empty (Python's `a or b or c`), else NULL."""
    return func.coalesce(*(func.nullif(column, "") for column in columns))


def _when(stamp: str, age: str) -> str:
    return f"{stamp} (just now)" if age == "now" else f"{stamp} ({age} ago)"


def find_ticket(session: Session, ref: str, *columns: ColumnElement[Any]) -> Row[Any]:
    """The ticket `ref` names ("HD-12", "12" or "#12", read as `tickets.get_ticket` reads
    it): its key, then `columns`, in one statement over `tickets` (other tables' values as
    scalar subqueries). Raises what `get_ticket` raises."""
    return find_ticket_with(session, ref, by_number(select(Ticket.key, *columns)))


def by_number(query: Select[Any]) -> Select[Any]:
    """`query` (over `tickets`, the key first) for the ticket whose number is bound at the
    call: built once, a statement is run by `find_ticket_with` with each `ref`."""
    return query.where(Ticket.number == bindparam("number"))


def find_ticket_with(session: Session, ref: str, query: Select[Any], **params: Any) -> Row[Any]:
    """`find_ticket` for a statement made by `by_number` (with `params` for its other bound
    values)."""
    from tui_helpdesk.services.ticket_core import check_found, ticket_ref

    prefix, number = ticket_ref(ref)
    found = session.execute(query, {"number": number, **params}).first()
    check_found(ref, prefix, found[0] if found else None)
    assert found is not None
    return found


def viewer_zone(login: str | BindParameter[str]) -> ColumnElement[str | None]:
    """The agent's own time zone as a scalar subquery (NULL for an unknown login); the login
    may be a bound parameter of a statement built once."""
    return select(Agent.timezone).where(Agent.login == login).scalar_subquery()


def _header(session: Session, ref: str, login: str) -> tuple[TicketRow, Row[Any]]:
    """The ticket as a queue row, and what the header adds to it (channel, category, tags,
    the viewer's own time zone), in one statement."""
    found = find_ticket_with(session, ref, _header_query(), login=login)
    return TicketRow(*found[1 : 1 + ROW_WIDTH]), found


@functools.cache
def _header_query() -> Select[Any]:
    """The header's statement, built once: its parts (an alias of `tickets`, five scalar
    subqueries) take longer to put together than the statement takes to run."""
    tags = select(func.aggregate_strings(TicketTag.tag, " ")).where(
        TicketTag.ticket_id == Ticket.id
    )
    category = select(Category.path).where(Category.id == Ticket.category_id)
    target = aliased(Ticket)
    merged_into = select(target.key).where(target.id == Ticket.merged_into_id)
    seen_event = select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == Ticket.id)
    return by_number(
        select(
            Ticket.key,
            *row_columns(),
            Ticket.channel,
            category.scalar_subquery().label("category"),
            tags.scalar_subquery().label("tags"),
            viewer_zone(bindparam("login")).label("viewer_zone"),
            merged_into.scalar_subquery().label("merged_into"),
            seen_event.scalar_subquery().label("seen_event"),
        )
    )


def _thread(session: Session, ticket_id: int) -> tuple[list[Row[Any]], int]:
    """The newest `MAX_THREAD` messages of a ticket with their authors' names, oldest first,
    and how many older ones are left out: one statement (the newest first from the
    `(ticket_id, created_at, id)` index, turned round here), two for a longer thread."""
    newest = list(session.execute(_thread_query(), {"ticket_id": ticket_id, "limit": MAX_THREAD}))[
        ::-1
    ]
    if len(newest) < MAX_THREAD:
        return newest, 0
    total = select(func.count()).select_from(Message).where(Message.ticket_id == ticket_id)
    return newest, (session.scalar(total) or 0) - len(newest)


@functools.cache
def _thread_query() -> Select[Any]:
    """The thread's statement, built once (the ticket and the limit bound at each call)."""
    # The authors' names as scalar subqueries: a join would let the planner hash the whole
    # contacts table for a thread of a few hundred messages.
    contact = select(_first_of(Contact.name, Contact.email, Contact.phone)).where(
        Contact.id == Message.author_contact_id
    )
    agent = select(_first_of(Agent.name, Agent.login)).where(Agent.id == Message.author_agent_id)
    has_attachments = select(Attachment.id).where(Attachment.message_id == Message.id).exists()
    return (
        select(
            Message.id,
            Message.kind,
            Message.created_at,
            Message.body,
            Message.delivery_state,
            Message.author_agent_id,
            agent.scalar_subquery().label("agent"),
            Message.author_contact_id,
            contact.scalar_subquery().label("contact"),
            has_attachments.label("has_attachments"),
        )
        .where(Message.ticket_id == bindparam("ticket_id"))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(bindparam("limit"))
    )


def _attachments(
    session: Session, messages: list[Row[Any]]
) -> dict[int, tuple[AttachmentView, ...]]:
    """The attachments of the messages shown, by message: their names, types and sizes (never
    their content) in one statement, none when no message shown has any."""
    ids = [m.id for m in messages if m.has_attachments]
    if not ids:
        return {}
    found: dict[int, list[AttachmentView]] = {}
    for row in session.execute(_attachments_query(), {"ids": ids}):
        found.setdefault(row.message_id, []).append(
            AttachmentView(
                id=row.id,
                filename=clean(row.filename, single_line=True),
                content_type=clean(row.content_type, single_line=True),
                size=row.size,
                kept=bool(row.kept),
            )
        )
    return {message: tuple(views) for message, views in found.items()}


@functools.cache
def _attachments_query() -> Select[Any]:
    return (
        select(
            Attachment.message_id,
            Attachment.id,
            Attachment.filename,
            Attachment.content_type,
            Attachment.size,
            Attachment.content.is_not(None).label("kept"),
        )
        .where(Attachment.message_id.in_(bindparam("ids", expanding=True)))
        .order_by(Attachment.message_id, Attachment.id)
    )


def ticket_detail(
    store: Store,
    login: str,
    ref: str,
    *,
    now: datetime,
    timezone: str | None = None,
) -> TicketDetail:
    """The header and conversation of one ticket, oldest message first: three statements
    (the header, the thread, the active rules' version check), and a fourth when messages
    shown have attachments (what each is, `AttachmentView`)."""
    with _reading(store) as session:
        ticket, header = _header(session, ref, login)
        zone = _zone(timezone, header.viewer_zone, desk_settings(session).timezone)
        messages, hidden = _thread(session, ticket.id)
        attachments = _attachments(session, messages)
        sla, state = Countdowns(session, now).of(ticket)  # the panel's clocks, until they come

        def local(value: datetime) -> str:
            return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        return TicketDetail(
            key=ticket.key,
            subject=clean(ticket.subject, single_line=True),
            status=ticket.status.value.replace("_", " "),
            priority=ticket.priority.value,
            sla=sla,
            sla_state=state,
            category=clean(header.category, single_line=True) if header.category else "",
            channel=header.channel.value,
            requester=_requester_label(ticket),
            requester_contact=" · ".join(
                clean(v, single_line=True)
                for v in (ticket.requester_email, ticket.requester_phone)
                if v
            ),
            requester_email=clean(ticket.requester_email or "", single_line=True),
            requester_phone=clean(ticket.requester_phone or "", single_line=True),
            organization=clean(ticket.organization, single_line=True)
            if ticket.organization
            else "",
            group=_group_label(ticket),
            assignee=ticket.assignee or "",
            tags=tuple(sorted(header.tags.split())) if header.tags else (),
            created=local(ticket.created_at),
            updated=_when(local(ticket.updated_at), relative_age(ticket.updated_at, now)),
            version=ticket.version,
            messages=tuple(
                MessageView(
                    m.kind,
                    _author(m),
                    local(m.created_at),
                    clean(m.body),
                    m.delivery_state.value if m.delivery_state else None,
                    attachments.get(m.id, ()),
                )
                for m in messages
            ),
            merged_into=header.merged_into,
            hidden_messages=hidden,
            seen_event=header.seen_event or 0,
        )


_COMPARED = (
    ("status", "status"),
    ("priority", "priority"),
    ("assignee", "assignee"),
    ("group", "group"),
    ("category", "category"),
    ("subject", "subject"),
    ("requester", "requester"),
    ("organization", "organization"),
)


def describe_changes(old: TicketDetail, new: TicketDetail) -> str | None:
    """One line saying what someone else changed, for the ticket screen's live-refresh toast:
    "HD-12 changed: status open → pending; 1 new message". None when nothing did."""
    if old.version == new.version and len(old.messages) == len(new.messages):
        return None
    parts = [
        f"{label} {getattr(old, name) or 'none'} → {getattr(new, name) or 'none'}"
        for name, label in _COMPARED
        if getattr(old, name) != getattr(new, name)
    ]
    if old.tags != new.tags:
        parts.append(f"tags {' '.join(new.tags) or 'none'}")
    added = (len(new.messages) + new.hidden_messages) - (len(old.messages) + old.hidden_messages)
    if added > 0:
        parts.append(f"{added} new message{'' if added == 1 else 's'}")
    return f"{new.key} changed: {'; '.join(parts) or 'updated'}"

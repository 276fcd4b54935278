"""Breaching soon: which running deadlines fall within an hour of *working* time.

An hour of working time is not a wall-clock hour: at 16:30 on a Friday, with office hours
until 17:00, it ends on Monday at 9:30. Each SLA calendar in the active rules gets its own
horizon (`add_working_time(calendar, now, 1h)`), and a ticket is at risk when its stored
`due_at` — itself a working-time deadline turned into an instant by its calendar — lies before
its calendar's horizon. That keeps the view a range of the `(due_at, id)` index, cut per
calendar, instead of a computation per ticket.

Used by `services.views` for the Breaching soon view only: the amber of an SLA cell in every
other view comes from the working time left that `views.Countdowns` measures for its row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_, tuple_
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES
from tui_helpdesk.rules.calendar import add_working_time
from tui_helpdesk.rules.clock import calendar_for
from tui_helpdesk.services.queue import (
    AT_RISK_WITHIN,
    Cursor,
    Sort,
    TicketFilter,
    TicketRow,
    fetch_rows,
    where_clauses,
)
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.store.models import Ticket


class OnCalendar(Protocol):
    """A ticket, or a queue row: anything that names its SLA calendar."""

    @property
    def sla_calendar(self) -> str | None: ...


class Horizons:
    """Per SLA calendar, the instant an hour of working time from now ends.

    A deadline before its calendar's horizon is at risk. With the always-open calendar the
    horizon is one wall-clock hour; with office hours, at 16:30 on a Friday it is Monday
    morning. Computed once per page from the active rules (a few calendars at most).
    """

    def __init__(self, session: Session, now: datetime) -> None:
        rules = active_rules(session)
        self.named = {
            name: add_working_time(calendar, now, AT_RISK_WITHIN)
            for name, calendar in rules.calendars.items()
        }
        self.default = add_working_time(calendar_for(rules, None), now, AT_RISK_WITHIN)

    def of(self, ticket: OnCalendar) -> datetime:
        return self.named.get(ticket.sla_calendar or "", self.default)

    @property
    def latest(self) -> datetime:
        return max([self.default, *self.named.values()])

    def clause(self) -> ColumnElement[bool]:
        """Tickets whose running deadline is before their calendar's horizon."""
        known = list(self.named)
        tests = [
            and_(Ticket.sla_calendar == name, Ticket.due_at <= at)
            for name, at in self.named.items()
        ]
        other = Ticket.sla_calendar.is_(None)
        if known:
            other = or_(other, Ticket.sla_calendar.not_in(known))
        tests.append(and_(other, Ticket.due_at <= self.default))
        return and_(Ticket.due_at.is_not(None), Ticket.due_at <= self.latest, or_(*tests))


def breaching_page(
    session: Session, flt: TicketFilter, horizons: Horizons, after: Cursor | None, limit: int
) -> tuple[list[TicketRow], Cursor | None]:
    """One page of Breaching soon, as queue rows in one statement: a range of the due index,
    most urgent first. Only active tickets carry `due_at`, so no status test is needed (the
    index serves the order)."""
    where = [*where_clauses(session, breaching_filter(flt)), horizons.clause()]
    if after is not None:
        value = datetime.fromisoformat(str(after.value))
        where.append(tuple_(Ticket.due_at, Ticket.id) > tuple_(value, after.id))
    rows = fetch_rows(session, where, (("due_at", False), ("id", False)), limit + 1)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    assert last.due_at is not None
    return rows[:limit], Cursor(Sort.DUE, 0, last.due_at.isoformat(), last.id)


def breaching_filter(flt: TicketFilter) -> TicketFilter:
    """`flt` without a status test that cannot exclude anything (only active tickets carry
    `due_at`), so the due index serves the order."""
    return replace(flt, statuses=() if set(ACTIVE_STATUSES) <= set(flt.statuses) else flt.statuses)

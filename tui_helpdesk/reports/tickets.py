"""The `tickets` report: one row per ticket created in the period with its SLA figures, as
a single streamed SELECT (rows are read in batches as they are written out, so an export of
a million tickets runs in constant memory).

Working times come from the clocks' ledger (`sql.working_seconds`), joined once per clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, String, and_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.domain import EventKind
from tui_helpdesk.reports.model import Scope
from tui_helpdesk.reports.sql import iso_text
from tui_helpdesk.store.functions import elapsed_seconds
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Contact,
    Group,
    Organization,
    Ticket,
    TicketEvent,
)

BATCH = 5000

COLUMNS = [
    "ticket",
    "subject",
    "status",
    "priority",
    "channel",
    "category",
    "group",
    "assignee",
    "organization",
    "requester",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_policy",
    "frt_s",
    "frt_working_s",
    "fr_due_at",
    "fr_breached",
    "rt_s",
    "rt_working_s",
    "res_due_at",
    "res_breached",
    "reopened",
    "escalation_level",
    "csat",
]


# Columns the query itself makes (ISO text, numbers, enum values): exports need not look at
# them; the rest is the desk's own text (names, subjects) and booleans.
SAFE_COLUMNS = frozenset(COLUMNS) - {
    "subject",
    "category",
    "group",
    "assignee",
    "organization",
    "requester",
    "sla_policy",
    "fr_breached",
    "res_breached",
}


def _met(clock: str) -> Any:
    """Per ticket, what was left on a clock when it was met (the ledger's met entry)."""
    event = aliased(TicketEvent)
    remaining = event.detail["remaining_s"].as_integer()
    return (
        select(event.ticket_id.label("ticket_id"), remaining.label("remaining"))
        .where(
            event.kind == EventKind.SLA,
            event.field == clock,
            event.new == "met",
            remaining.is_not(None),
        )
        .subquery()
    )


def tickets_query(scope: Scope) -> Select[Any]:
    p = scope.period
    fr, res = _met("first_response"), _met("resolution")
    assignee = aliased(Agent)
    return (
        select(
            Ticket.key,
            Ticket.subject,
            type_coerce(Ticket.status, String()),
            type_coerce(Ticket.priority, String()),
            type_coerce(Ticket.channel, String()),
            Category.path,
            Group.name,
            assignee.login,
            Organization.name,
            Contact.email,
            iso_text(Ticket.created_at),
            iso_text(Ticket.first_response_at),
            iso_text(Ticket.resolved_at),
            iso_text(Ticket.closed_at),
            Ticket.sla_policy,
            elapsed_seconds(Ticket.first_response_at, Ticket.created_at),
            Ticket.first_response_target - fr.c.remaining,
            iso_text(Ticket.first_response_due_at),
            Ticket.first_response_breached,
            elapsed_seconds(Ticket.resolved_at, Ticket.created_at),
            Ticket.resolution_target - res.c.remaining,
            iso_text(Ticket.resolution_due_at),
            Ticket.resolution_breached,
            Ticket.sla_cycle,
            Ticket.escalation_level,
            Ticket.csat_score,
        )
        .select_from(Ticket)
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(Group, Group.id == Ticket.group_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(Organization, Organization.id == Ticket.organization_id)
        .outerjoin(Contact, Contact.id == Ticket.requester_id)
        .outerjoin(fr, fr.c.ticket_id == Ticket.id)
        # A reopened ticket's ledger holds its last cycle only (see sql.met_event).
        .outerjoin(res, and_(res.c.ticket_id == Ticket.id, Ticket.sla_cycle == 0))
        .where(scope.filter.where(), Ticket.created_at >= p.start, Ticket.created_at < p.end)
        .order_by(Ticket.created_at, Ticket.id)
    )


def ticket_rows(session: Session, scope: Scope) -> Iterator[tuple[Any, ...]]:
    """The rows, streamed from the database in batches (a server-side cursor on PostgreSQL).
    Timestamps arrive as ISO text and enums as their values: nothing per cell in Python but
    rounding the wall-clock seconds."""
    result = session.connection().execute(
        tickets_query(scope).execution_options(stream_results=True, yield_per=BATCH)
    )
    for row in result:
        values = list(row)
        for i in (15, 19):  # wall seconds: round like the other reports
            if values[i] is not None:
                values[i] = round(values[i], 1)
        values[23] = values[23] or 0  # reopenings: the SLA cycle
        yield tuple(values)

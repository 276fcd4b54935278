"""The summary's key figures of a period, each of the period's ticket ranges read once.

`services.reports.summary_figures` asks for them for the period and the one before it. The
figures mean what they mean in the reports they summarise (see `metrics` and
`breakdowns`): created, resolved, reopened and backlog as in the volume report; the median
working first response and resolution as in the response report; compliance of the clocks
decided in the period as in the SLA report; the share of the period's new tickets that were
escalated as in the escalations report (`breakdowns.escalated_tickets`); the average
satisfaction score of the answers received in the period; at risk and overdue now. Those
reports split each figure by rows and add tables the summary does not show: here each
figure is an aggregate over the period's range of one indexed timestamp (creation, first
response, resolution, survey answer), one query per range (the escalated tickets are
counted from the escalations, which are few).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind
from tui_helpdesk.reports.breakdowns import escalated_tickets
from tui_helpdesk.reports.metrics import backlog, live_risk, open_breaches
from tui_helpdesk.reports.model import Scope, pct, seconds
from tui_helpdesk.reports.sql import spreads, working_seconds
from tui_helpdesk.store.models import Ticket, TicketEvent


def _in_period(column: Any, scope: Scope) -> Any:
    return and_(scope.filter.where(), column >= scope.period.start, column < scope.period.end)


def _clock(session: Session, scope: Scope, clock: str) -> tuple[int, float | None, int, int]:
    """Tickets that reached the clock's goal in the period: how many, their median working
    time; and how many clocks were decided in the period and how many of those late (met,
    or breached and still running: `metrics.open_breaches`)."""
    first = clock == "first_response"
    at = Ticket.first_response_at if first else Ticket.resolved_at
    state = Ticket.first_response_state if first else Ticket.resolution_state
    late = Ticket.first_response_breached if first else Ticket.resolution_breached
    met = state == "met"
    source = select(
        literal(0),  # one key: the whole period
        working_seconds(clock),
        case((met, 1)),
        case((and_(met, late.is_(True)), 1)),
    ).where(_in_period(at, scope))
    deadline, still_open = open_breaches(scope, clock)
    open_n = (
        session.scalar(select(func.count()).where(_in_period(deadline, scope), still_open)) or 0
    )
    found = spreads(session, source, (0.5,), tallies=2).get(0)
    if found is None:
        return 0, None, open_n, open_n
    rows, (work, met_n, late_n) = found
    return rows, seconds(work.percentiles[0]), met_n.count + open_n, late_n.count + open_n


def totals(session: Session, scope: Scope) -> dict[str, Any]:
    """The figures `services.reports.SUMMARY_FIGURES` names, plus at risk and overdue now."""
    created, escalated_n = escalated_tickets(session, scope)
    _, frt_median, fr_met, fr_late = _clock(session, scope, "first_response")
    resolved, rt_median, res_met, res_late = _clock(session, scope, "resolution")
    reopened = session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == EventKind.REOPENED, _in_period(TicketEvent.at, scope))
    )
    csat_avg = session.scalar(
        select(func.avg(Ticket.csat_score)).where(
            Ticket.csat_score.is_not(None), _in_period(Ticket.csat_at, scope)
        )
    )
    return {
        "created": created,
        "resolved": resolved,
        "reopened": reopened or 0,
        "backlog": backlog(session, scope),
        "frt_median_working_s": frt_median,
        "rt_median_working_s": rt_median,
        "fr_compliance_pct": pct(fr_met - fr_late, fr_met),
        "res_compliance_pct": pct(res_met - res_late, res_met),
        "escalated_share_pct": pct(escalated_n, created),
        "csat_avg": None if csat_avg is None else round(float(csat_avg), 2),
        **live_risk(session, scope),
    }

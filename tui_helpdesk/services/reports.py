"""The one reporting service: the CLI (`helpdesk report`), the console's reports screen and
scheduled mail all build reports here, so their numbers are the same numbers.

- `scope` turns what a person typed (period phrase or dates, grouping, filters) into a
  `reports.model.Scope` in the desk's time zone;
- `build` computes a report of any kind but `tickets` (aggregate SQL in `reports/`);
- `export` streams a report's main table, or every ticket of the period, to a file;
- `drill_tickets` lists the tickets behind a row (the console's drill-down);
- `run_scheduled` renders a report definition for its period and queues it in the outbox
  with the file attached, once per (name, period).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from tui_helpdesk import heap
from tui_helpdesk.domain import Channel, OutboxState, Priority, Status
from tui_helpdesk.reports import breakdowns, metrics, summary
from tui_helpdesk.reports.export import Format, write, write_csv_batches
from tui_helpdesk.reports.model import Drill, Figure, Kind, Report, Scope, Table, rows_by
from tui_helpdesk.reports.periods import (
    Grouping,
    Period,
    PeriodError,
    buckets,
    iso,
    parse_period,
)
from tui_helpdesk.reports.schedule import Definition
from tui_helpdesk.reports.sql import ReportFilter
from tui_helpdesk.reports.tickets import COLUMNS as TICKET_COLUMNS
from tui_helpdesk.reports.tickets import (
    CSV_TEXT,
    CSV_WALL,
    SAFE_COLUMNS,
    ticket_batches,
    ticket_rows,
)
from tui_helpdesk.services.breaching import Horizons
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.notify import MESSAGE_ID_DOMAIN
from tui_helpdesk.services.views import DatabaseUnavailable
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Outbox, OutboxAttachment, ReportRun, Ticket, TicketTag

DASHBOARD_KINDS = tuple(k for k in Kind if k is not Kind.TICKETS)
DRILL_PAGE = 200


def scope(
    session: Session,
    now: datetime,
    *,
    start: str | None = None,
    end: str | None = None,
    grouping: Grouping | str = Grouping.DAY,
    filter: ReportFilter | None = None,
    zone: str | None = None,
    top: int = 10,
) -> Scope:
    """A report's scope from what was asked; bad periods are a ValidationError (exit 2)."""
    zone = zone or desk_settings(session).timezone
    try:
        period = parse_period(start, end, now, zone)
        grouping = Grouping(grouping)
        if grouping.is_time:
            buckets(period, grouping)  # refuses a decade by day here, as a usage error
    except PeriodError as exc:
        raise ValidationError(str(exc)) from None
    except ValueError:
        allowed = ", ".join(g.value for g in Grouping)
        raise ValidationError(f"unknown grouping {grouping!r} (one of {allowed})") from None
    at_risk = Horizons(session, now).clause()  # the queue's Breaching view, one rule
    return Scope(period, grouping, filter or ReportFilter(), now, at_risk, top)


# --- building -------------------------------------------------------------------------------


def build(session: Session, kind: Kind, scope: Scope) -> Report:
    """A report of `kind` over `scope` (use `export` for the `tickets` kind)."""
    report = Report(kind, scope)
    if kind is Kind.SUMMARY:
        report.figures = summary_figures(session, scope)
        report.tables = [_summary_table(report.figures)]
    elif kind is Kind.VOLUME:
        table, mix, totals, report.buckets = metrics.volume(session, scope)
        report.tables = [table, mix]
        report.figures = _figures(totals)
    elif kind is Kind.RESPONSE:
        table, medians = metrics.response(session, scope)
        report.tables = [table]
        report.figures = _figures(medians)
    elif kind is Kind.SLA:
        table, figures = metrics.sla(session, scope)
        report.tables = [table]
        report.figures = _figures(figures)
    elif kind is Kind.CUSTOMERS:
        report.tables = list(breakdowns.customers(session, scope))
    elif kind is Kind.CATEGORIES:
        report.tables = list(breakdowns.categories(session, scope))
    elif kind is Kind.ESCALATIONS:
        *tables, figures = breakdowns.escalations(session, scope)
        report.tables = list(tables)
        report.figures = _figures(figures)
    elif kind is Kind.AGENTS:
        report.tables = [breakdowns.agents(session, scope)]
    elif kind is Kind.CSAT:
        table, comments, figures = breakdowns.csat(session, scope)
        report.tables = [table, comments]
        report.figures = _figures(figures)
    else:
        raise ValidationError("the tickets report is an export: `helpdesk report export tickets`")
    return report


_BETTER = {
    "created": "down",
    "reopened": "down",
    "backlog": "down",
    "breaches": "down",
    "at_risk_now": "down",
    "overdue_now": "down",
    "frt_median_working_s": "down",
    "rt_median_working_s": "down",
    "escalated_share_pct": "down",
    "escalations": "down",
}


def _figure(name: str, value: Any, previous: Any = None) -> Figure:
    """A figure, its unit told by its name (`_s` seconds, `_pct` percent)."""
    unit = "s" if name.endswith("_s") else "%" if name.endswith("_pct") else ""
    return Figure(name, value, previous, unit, _BETTER.get(name, "up"))


def _figures(values: dict[str, Any]) -> list[Figure]:
    return [_figure(name, value) for name, value in values.items()]


SUMMARY_FIGURES = (
    "created",
    "resolved",
    "reopened",
    "backlog",
    "frt_median_working_s",
    "rt_median_working_s",
    "fr_compliance_pct",
    "res_compliance_pct",
    "escalated_share_pct",
    "csat_avg",
)


def summary_figures(session: Session, scope: Scope) -> list[Figure]:
    """The key figures of the period with the previous period's, for trend arrows; the live
    ones (at risk, overdue now) have no previous value."""
    now_figures = summary.totals(session, scope)
    before_scope = replace(scope, period=scope.period.previous(), now=None, at_risk=None)
    before = summary.totals(session, before_scope)
    figures = [_figure(name, now_figures.get(name), before.get(name)) for name in SUMMARY_FIGURES]
    figures += [_figure(name, now_figures.get(name)) for name in ("at_risk_now", "overdue_now")]
    return figures


SUMMARY_COLUMNS = ("metric", "value", "previous", "change_pct", "change_points", "trend", "unit")


def _summary_table(figures: Sequence[Figure]) -> Table:
    """The figures as exports write them: a share's change in points (`change_points`, as
    the screen and `report show` give it: "-5.6pp") beside the relative `change_pct` that
    every figure has, with the keys of the JSON document's figures."""
    table = Table("summary", list(SUMMARY_COLUMNS))
    for f in figures:
        table.add([f.name, f.value, f.previous, f.change, f.points, f.trend, f.unit])
    return table


# --- exports --------------------------------------------------------------------------------


def rows_of(
    session: Session, kind: Kind, scope: Scope
) -> tuple[list[str], Iterator[Any], frozenset[str]]:
    """Column names, rows and the columns that need no conversion, of what `export` writes:
    every ticket (streamed) for `tickets`, else the report's main table."""
    if kind is Kind.TICKETS:
        return list(TICKET_COLUMNS), ticket_rows(session, scope), SAFE_COLUMNS
    table = build(session, kind, scope).main
    return list(table.columns), iter(table.rows), frozenset()


def export(
    session: Session, kind: Kind, scope: Scope, fmt: Format, out: BinaryIO, *, bom: bool = False
) -> int:
    """Write a report to `out` in `fmt`; returns the number of rows written. The tickets
    report in CSV takes the fast path: the lines made by the database, read in raw
    batches (the same bytes as the typed rows through `write`)."""
    with heap.batch():  # rows streamed: no garbage cycles to collect until the end
        if kind is Kind.TICKETS and fmt is Format.CSV:
            return write_csv_batches(
                TICKET_COLUMNS,
                ticket_batches(session, scope),
                out,
                bom=bom,
                text=CSV_TEXT,
                rounded=CSV_WALL,
            )
        columns, rows, safe = rows_of(session, kind, scope)
        return write(fmt, columns, rows, out, bom=bom, safe=safe)


# --- drill-down -----------------------------------------------------------------------------


def drill_where(drill: Drill) -> Any:
    """A drill-down as one condition on tickets (the report filter, the window, the rest)."""
    flt = ReportFilter(
        group=drill.group,
        agent=drill.assignee,
        category=drill.category,
        channel=Channel(drill.channel) if drill.channel else None,
        organization=drill.organization,
        segment=drill.segment,
    )
    parts = [flt.where()]
    if drill.time_field == "sla":
        parts.append(
            or_(
                metrics.decided_within("first_response", drill.start, drill.end),
                metrics.decided_within("resolution", drill.start, drill.end),
            )
        )
    else:
        parts += metrics.within(getattr(Ticket, drill.time_field), drill.start, drill.end)
    if drill.statuses:
        parts.append(Ticket.status.in_([Status(s) for s in drill.statuses]))
    if drill.priorities:
        parts.append(Ticket.priority.in_([Priority(p) for p in drill.priorities]))
    if drill.tag:
        parts.append(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == drill.tag)))
    if drill.breached == "first_response":
        parts.append(Ticket.first_response_breached.is_(True))
    elif drill.breached == "resolution":
        parts.append(Ticket.resolution_breached.is_(True))
    return and_(*parts)


def drill_tickets(
    session: Session, drill: Drill, *, limit: int = 50, after_id: int | None = None
) -> tuple[list[Ticket], int | None]:
    """A page of the tickets behind a row, by id; the id to continue after, or None."""
    if not 1 <= limit <= DRILL_PAGE:
        raise ValidationError(f"limit must be between 1 and {DRILL_PAGE}")
    query = select(Ticket).where(drill_where(drill))
    if after_id is not None:
        query = query.where(Ticket.id > after_id)
    found = list(session.scalars(query.order_by(Ticket.id).limit(limit + 1)).unique())
    more = len(found) > limit
    page = found[:limit]
    return page, (page[-1].id if more and page else None)


# --- scheduled reports ----------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    name: str
    period: Period
    sent: bool  # False: already sent for this period
    outbox_id: int | None
    rows: int


def _body(definition: Definition, report_scope: Scope, figures: Sequence[Figure]) -> str:
    split = rows_by(definition.kind, report_scope.grouping)  # as `report show` says it
    what = f"{definition.kind.value}, {split}" if split else definition.kind.value
    lines = [
        f"Report: {definition.name} ({what})",
        f"Period: {iso(report_scope.period.start)} to {iso(report_scope.period.end)} "
        f"({report_scope.period.label}, {report_scope.period.zone})",
        "",
    ]
    for f in figures:
        change = f.change_text()
        change = f" ({change} vs previous)" if change else ""
        lines.append(f"  {f.label}: {f.shown(f.value)}{change}")
    lines += ["", f"The full report is attached ({definition.format.value})."]
    return "\n".join(lines) + "\n"


def already_ran(session: Session, name: str, period: Period) -> bool:
    return (
        session.scalar(
            select(ReportRun.id).where(
                ReportRun.name == name, ReportRun.period_start == period.start
            )
        )
        is not None
    )


def run_scheduled(session: Session, definition: Definition, now: datetime) -> RunOutcome:
    """Render `definition` for the period its phrase names at `now` and queue it in the
    outbox with the file attached; a period already sent is skipped. The run is recorded in
    the same transaction (unique per name and period start), so two overlapping runs send
    once: the loser's insert fails and it reports the period as already sent."""
    report_scope = scope(
        session,
        now,
        start=definition.period,
        grouping=definition.grouping,
        filter=definition.filter,
    )
    period = report_scope.period
    if already_ran(session, definition.name, period):
        return RunOutcome(definition.name, period, False, None, 0)
    buffer = io.BytesIO()
    rows = export(
        session, definition.kind, report_scope, definition.format, buffer, bom=definition.bom
    )
    figures = summary_figures(session, report_scope)
    stamp = period.start.astimezone(ZoneInfo(period.zone)).strftime("%Y%m%d")
    filename = f"{definition.name}-{stamp}.{definition.format.value}"
    subject = definition.subject or f"Report {definition.name}: {period.label}"
    outbox = Outbox(
        created_at=now,
        ticket_id=None,
        kind="report",
        to_addrs=list(definition.recipients),
        subject=subject,
        body=_body(definition, report_scope, figures),
        headers={"Auto-Submitted": "auto-generated"},  # delivery adds From (the desk's address)
        message_id=make_msgid(domain=MESSAGE_ID_DOMAIN),
        state=OutboxState.QUEUED,
        next_attempt_at=now,
    )
    outbox.attachments.append(
        OutboxAttachment(
            filename=filename,
            content_type=definition.format.content_type,
            content=buffer.getvalue(),
        )
    )
    try:
        with session.begin_nested():
            session.add(outbox)
            session.flush()
            session.add(
                ReportRun(
                    name=definition.name,
                    period_start=period.start,
                    period_end=period.end,
                    ran_at=now,
                    outbox_id=outbox.id,
                    detail={"kind": definition.kind.value, "rows": rows, "file": filename},
                )
            )
            session.flush()
    except IntegrityError:
        return RunOutcome(definition.name, period, False, None, 0)
    return RunOutcome(definition.name, period, True, outbox.id, rows)


def due(session: Session, definitions: Sequence[Definition], now: datetime) -> list[Definition]:
    """The definitions whose current period has not been sent yet."""
    out = []
    for definition in definitions:
        report_scope = scope(session, now, start=definition.period, grouping=definition.grouping)
        if not already_ran(session, definition.name, report_scope.period):
            out.append(definition)
    return out


def recent_runs(session: Session, limit: int = 50) -> list[ReportRun]:
    return list(
        session.scalars(
            select(ReportRun).order_by(ReportRun.ran_at.desc(), ReportRun.id.desc()).limit(limit)
        )
    )


# --- the console's dashboard ----------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    """What the reports screen shows for a period: the key figures with trends, volume per
    bucket, SLA compliance per group, top categories and customers, escalations by rule.
    Each table carries its drills (the tickets behind each row)."""

    scope: Scope
    figures: tuple[Figure, ...]
    volume: Table
    sla: Table
    categories: Table
    customers: Table
    escalations: Table


def dashboard(
    store: Store,
    now: datetime,
    *,
    period: str = "last-30d",
    grouping: Grouping | str = Grouping.DAY,
    zone: str | None = None,
) -> Dashboard:
    """Everything the reports screen shows, in one read (called from a console worker)."""
    try:
        with store.read() as session:
            base = scope(session, now, start=period, grouping=grouping, zone=zone, top=8)
            by_group = replace(base, grouping=Grouping.GROUP)
            volume, *_ = metrics.volume(session, base)
            sla, _ = metrics.sla(session, by_group)
            categories, _ = breakdowns.categories(session, base)
            customers, _ = breakdowns.customers(session, base)
            rules, *_ = breakdowns.escalations(session, base)
            figures = summary_figures(session, base)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseUnavailable(first[0] if first else type(exc).__name__) from None
    customers.rows, customers.drills = customers.rows[:8], customers.drills[:8]
    return Dashboard(base, tuple(figures), volume, sla, categories, customers, rules)


def export_to_file(
    store: Store, kind: Kind, report_scope: Scope, fmt: Format, path: Path, *, bom: bool = False
) -> int:
    """Write a report to `path` (through a temporary file, so no reader sees half of it);
    returns the rows written. Used by `helpdesk report export --out` and the console."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with store.read() as session, partial.open("wb") as handle:
            rows = export(session, kind, report_scope, fmt, handle, bom=bom)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ValidationError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows

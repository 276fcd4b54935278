"""What a report is, whatever its kind: key figures, tables of rows, and for each row the
tickets behind it (a `Drill`), as plain data the CLI, the exporters, the mail and the console
all render. Timestamps inside are aware UTC datetimes; durations are seconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui_helpdesk.reports.periods import Bucket, Grouping, Period, iso
from tui_helpdesk.reports.sql import ReportFilter
from tui_helpdesk.text import short_duration

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement


class Kind(enum.StrEnum):
    SUMMARY = "summary"
    VOLUME = "volume"
    RESPONSE = "response"
    SLA = "sla"
    CUSTOMERS = "customers"
    CATEGORIES = "categories"
    ESCALATIONS = "escalations"
    AGENTS = "agents"
    CSAT = "csat"
    TICKETS = "tickets"


# The reports whose rows are split as asked (`--by`, a definition's `grouping`, the console's
# `g`); every other report's rows are split by its own dimension, whatever was asked.
GROUPED = frozenset({Kind.VOLUME, Kind.RESPONSE, Kind.SLA})
_OWN_ROWS: dict[Kind, str | None] = {
    Kind.SUMMARY: None,  # key figures only
    Kind.CUSTOMERS: "organization",
    Kind.CATEGORIES: "category",
    Kind.ESCALATIONS: "rule",
    Kind.AGENTS: "agent",
    Kind.CSAT: "score",
    Kind.TICKETS: "ticket",
}


def rows_key(kind: Kind, grouping: Grouping) -> str | None:
    """What each row of a `kind` report (its main table, what an export writes) stands for:
    the grouping asked ("week", "category") for the grouped kinds, the report's own split
    for the others ("agent" for `agents`, whatever `grouping` is), None for the summary
    (figures only). `rows_by` of the JSON document, where `grouping` is what was asked."""
    return grouping.value if kind in GROUPED else _OWN_ROWS[kind]


def rows_by(kind: Kind, grouping: Grouping) -> str:
    """`rows_key` in words for headings: "by week", "by agent", "one row per ticket", ""
    for the summary. The one wording of `helpdesk report show`, the console's charts and
    the scheduled mail."""
    key = rows_key(kind, grouping)
    if key is None:
        return ""
    return "one row per ticket" if kind is Kind.TICKETS else f"by {key}"


@dataclass(frozen=True)
class Scope:
    """What a report is asked about: the period, how rows are split, which tickets, and `now`
    (for what is true now: open load, at-risk clocks)."""

    period: Period
    grouping: Grouping
    filter: ReportFilter = field(default_factory=ReportFilter)
    now: datetime | None = None
    # Which running deadlines are at risk at `now`: before their calendar's horizon, an hour
    # of working time on (`services.breaching.Horizons.clause`, the queue's Breaching view).
    at_risk: ColumnElement[bool] | None = None
    top: int = 10


@dataclass(frozen=True)
class Drill:
    """The tickets behind a figure, in the terms of the queue's `TicketFilter` (same field
    names: statuses, group, assignee, priorities, organization, category, channel, tag) plus
    what it lacks: a time window on one timestamp column and a breached clock.
    `services.reports.drill_tickets` lists them; the console opens them as a queue view."""

    # created_at, first_response_at, resolved_at, closed_at, csat_at; or "sla": an SLA clock
    # decided in the window (met in it, or breached with its deadline in it and running on)
    time_field: str = "created_at"
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()  # empty: any status
    group: str | None = None
    assignee: str | None = None  # a login, or "none"
    priorities: tuple[str, ...] = ()
    organization: str | None = None
    segment: str | None = None
    category: str | None = None
    channel: str | None = None
    tag: str | None = None
    breached: str | None = None  # "first_response" or "resolution"

    def doc(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, (), ""):
                continue
            out[f.name] = iso(value) if isinstance(value, datetime) else value
        return out


@dataclass
class Table:
    """Rows under stable column names; `drills[i]` is the tickets behind row i (or None)."""

    name: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    drills: list[Drill | None] = field(default_factory=list)

    def add(self, row: list[Any], drill: Drill | None = None) -> None:
        self.rows.append(row)
        self.drills.append(drill)

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


@dataclass(frozen=True)
class Figure:
    """A key figure, with the previous period's value for a trend arrow."""

    name: str
    value: float | int | None
    previous: float | int | None = None
    unit: str = ""  # "", "s", "%"
    better: str = "up"  # which way is good: "up", "down"

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None or self.previous == 0:
            return None
        return round((self.value - self.previous) * 100.0 / abs(self.previous), 1)

    @property
    def points(self) -> float | None:
        """A share's change in percentage points (62.5% before, 56.3% now: -6.2); None for
        other figures, whose change is relative (`change`)."""
        if self.unit != "%" or self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    def change_text(self, decimals: int = 1) -> str:
        """The change for people: a share's in points ("-6.2pp"), any other figure's
        relative to the previous value ("+12.5%"); "" when there is none."""
        if self.unit == "%":
            points = self.points
            return "" if points is None else f"{points:+.{decimals}f}pp"
        return "" if self.change is None else f"{self.change:+.{decimals}f}%"

    @property
    def trend(self) -> str:
        if self.value is None or self.previous is None or self.value == self.previous:
            return "flat"
        return "up" if self.value > self.previous else "down"

    @property
    def label(self) -> str:
        """The figure in words, for people (`name` is the stable key of --json and exports)."""
        return FIGURE_LABELS.get(self.name, self.name.replace("_", " "))

    def shown(self, value: float | None, decimals: int = 1) -> str:
        """`value` (this figure's or its previous one) for people: a duration as "3h20m", a
        share with `decimals`, "-" for none."""
        if value is None:
            return "-"
        if self.unit == "s":
            return short_duration(timedelta(seconds=float(value)))
        if self.unit == "%":
            return f"{value:.{decimals}f}%"
        return f"{value:g}" if isinstance(value, float) else str(value)


FIGURE_LABELS = {
    "created": "tickets created",
    "resolved": "tickets resolved",
    "reopened": "tickets reopened",
    "backlog": "open at the end (backlog)",
    "frt_median_working_s": "first response, median working time",
    "rt_median_working_s": "resolution, median working time",
    "fr_compliance_pct": "first responses in time",
    "res_compliance_pct": "resolutions in time",
    "escalated_share_pct": "tickets escalated",
    "csat_avg": "satisfaction, average of 1-5",
    "at_risk_now": "at risk now",
    "overdue_now": "overdue now",
}


@dataclass
class Report:
    kind: Kind
    scope: Scope
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def figure(self, name: str) -> Figure:
        for figure in self.figures:
            if figure.name == name:
                return figure
        raise KeyError(name)

    @property
    def main(self) -> Table:
        """The table an export writes (the first)."""
        return self.tables[0]

    @property
    def rows_by(self) -> str:
        """How its rows are split, in words ("by day", "by agent"; see `rows_by`)."""
        return rows_by(self.kind, self.scope.grouping)

    def doc(self) -> dict[str, Any]:
        """The report as one JSON document: stable keys, ISO 8601 UTC timestamps."""
        return {
            "kind": self.kind.value,
            "period": self.scope.period.doc(),
            "grouping": self.scope.grouping.value,  # as asked (kept for compatibility)
            "rows_by": rows_key(self.kind, self.scope.grouping),  # what a row stands for
            "filters": self.scope.filter.doc(),
            "figures": [
                {
                    "name": f.name,
                    "value": f.value,
                    "previous": f.previous,
                    "change_pct": f.change,
                    "change_points": f.points,
                    "trend": f.trend,
                    "unit": f.unit,
                }
                for f in self.figures
            ],
            "tables": {
                t.name: [
                    {c: cell(v) for c, v in zip(t.columns, row, strict=True)} for row in t.rows
                ]
                for t in self.tables
            },
        }


def cell(value: Any) -> Any:
    """A value as exports write it: timestamps ISO 8601 UTC, enums by value."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def pct(part: int | None, whole: int | None) -> float | None:
    if not whole:
        return None
    return round((part or 0) * 100.0 / whole, 1)


def seconds(value: object) -> float | None:
    return None if value is None else round(float(value), 1)  # type: ignore[arg-type]

"""The SQL pieces every report shares, written once for SQLite and PostgreSQL.

- `bucket_index`: the bucket of a timestamp as a balanced tree of CASEs over the bucket
  edges (UTC instants of local midnights), so rows are bucketed in the desk's time zone the
  same way on both back ends (SQLite has no time zones), in one scan.
- `percentiles`: median and p90 per key, interpolated like PostgreSQL's `percentile_cont`:
  on PostgreSQL that function, on SQLite the values sorted by the database and read one key
  at a time (memory holds one key's values).
- `dimension`: the column and joins of a grouping by group, agent, category and the like.
- `ReportFilter`: the filters of a report as WHERE clauses on tickets (names resolved in
  sub-selects, so the ticket table's indexes still serve the scan).
- `csv_join`: a stretch of a CSV line written by the database (the tickets export).
- `working_seconds`: a ticket's working time to first response or resolution as the SLA
  clocks counted it (target minus what was left when the clock was met, read from the
  ledger): the same rule as `services.customer_history`, so reports and live views agree.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from tui_helpdesk.domain import Channel, EventKind, Priority
from tui_helpdesk.reports.periods import Bucket, Grouping
from tui_helpdesk.store.base import UTCDateTime
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Group,
    Organization,
    Ticket,
    TicketEvent,
)

NONE_LABEL = "(none)"
PERCENTILES = (0.5, 0.9)


def bucket_index(value: Any, buckets: Sequence[Bucket]) -> ColumnElement[int]:
    """The index of the bucket a timestamp falls in, as a balanced tree of CASEs over the
    bucket edges: about log2(n) comparisons per row in one scan, the same SQL on both back
    ends (a range join to a table of buckets costs a comparison per row and bucket when
    the column has no index). Rows outside the buckets must be filtered out by the caller."""

    def tree(low: int, high: int) -> ColumnElement[int]:
        if low == high:
            return literal_column(str(int(low)), Integer)
        middle = (low + high + 1) // 2
        edge = literal(buckets[middle].start, UTCDateTime())
        return case((value < edge, tree(low, middle - 1)), else_=tree(middle, high))

    return tree(0, len(buckets) - 1)


# --- percentiles ---------------------------------------------------------------------------


def percentiles(
    session: Session, source: Select[Any], ps: Sequence[float] = PERCENTILES
) -> dict[Hashable, list[float | None]]:
    """`{key: [p for each of ps]}` over `source`, a select of two columns `k` and `v` (rows
    with v NULL are left out). Continuous percentiles, as `percentile_cont` computes them."""
    src = source.subquery()
    key, value = src.c.k, src.c.v
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        rows = session.execute(
            select(key, *(func.percentile_cont(p).within_group(value) for p in ps))
            .where(value.is_not(None))
            .group_by(key)
        )
        return {r[0]: [None if x is None else float(x) for x in r[1:]] for r in rows}
    # SQLite: the values sorted by key and value, read one key at a time (an ordered window
    # with `row_number` and `count` per key cost ~10x more in SQLite's window machinery).
    rows = session.execute(select(key, value).where(value.is_not(None)).order_by(key, value))
    return {
        k: _interpolated([float(v) for _, v in group], ps)
        for k, group in itertools.groupby(rows, key=itemgetter(0))
    }


def _interpolated(ordered: Sequence[float], ps: Sequence[float]) -> list[float | None]:
    """Continuous percentiles of sorted values: linear between the two nearest ranks."""
    out: list[float | None] = []
    for p in ps:
        position = p * (len(ordered) - 1)
        low = math.floor(position)
        a = ordered[low]
        b = ordered[low + 1] if low + 1 < len(ordered) else a
        out.append(a + (b - a) * (position - low))
    return out


# --- dimensions and filters ----------------------------------------------------------------


def dimension(grouping: Grouping) -> tuple[ColumnElement[Any], list[tuple[Any, Any]]]:
    """The key column of a ticket dimension and the outer joins it needs from `tickets`."""
    if grouping is Grouping.GROUP:
        return Group.name, [(Group, Group.id == Ticket.group_id)]
    if grouping is Grouping.AGENT:
        return Agent.login, [(Agent, Agent.id == Ticket.assignee_id)]
    if grouping is Grouping.CATEGORY:
        return Category.path, [(Category, Category.id == Ticket.category_id)]
    if grouping is Grouping.ORGANIZATION:
        return Organization.name, [(Organization, Organization.id == Ticket.organization_id)]
    if grouping is Grouping.SEGMENT:
        return Organization.segment, [(Organization, Organization.id == Ticket.organization_id)]
    if grouping is Grouping.PRIORITY:
        return Ticket.priority, []
    if grouping is Grouping.CHANNEL:
        return Ticket.channel, []
    return literal("all"), []


def with_joins(stmt: Select[Any], joins: list[tuple[Any, Any]]) -> Select[Any]:
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    return stmt


def key_label(value: object) -> str:
    """A dimension value as text: enums by value, NULL as "(none)"."""
    if value is None:
        return NONE_LABEL
    return str(getattr(value, "value", value))


@dataclass(frozen=True)
class ReportFilter:
    """Which tickets a report looks at (all, when empty). Names as the CLI takes them."""

    group: str | None = None
    agent: str | None = None  # a login, or "none" for unassigned
    category: str | None = None  # a path; includes sub-categories
    priority: Priority | None = None
    channel: Channel | None = None
    organization: str | None = None
    segment: str | None = None

    def where(self) -> ColumnElement[bool]:
        """The filter as one condition on `tickets` (merged tickets always left out)."""
        parts: list[ColumnElement[bool]] = [Ticket.merged_into_id.is_(None)]
        if self.group:
            parts.append(
                Ticket.group_id
                == select(Group.id).where(Group.name == self.group).scalar_subquery()
            )
        if self.agent == "none":
            parts.append(Ticket.assignee_id.is_(None))
        elif self.agent:
            parts.append(
                Ticket.assignee_id
                == select(Agent.id).where(Agent.login == self.agent).scalar_subquery()
            )
        if self.category:
            path = self.category
            parts.append(
                Ticket.category_id.in_(
                    select(Category.id).where(
                        or_(Category.path == path, Category.path.startswith(path + " > "))
                    )
                )
            )
        if self.priority:
            parts.append(Ticket.priority == self.priority)
        if self.channel:
            parts.append(Ticket.channel == self.channel)
        if self.organization:
            parts.append(
                Ticket.organization_id
                == select(Organization.id)
                .where(Organization.name == self.organization)
                .scalar_subquery()
            )
        if self.segment:
            parts.append(
                Ticket.organization_id.in_(
                    select(Organization.id).where(Organization.segment == self.segment)
                )
            )
        return and_(true(), *parts)

    def doc(self) -> dict[str, str]:
        return {
            name: key_label(value)
            for name, value in vars(self).items()
            if value is not None and value != ""
        }


# --- working time from the SLA ledger ------------------------------------------------------


def met_remaining() -> ColumnElement[int]:
    return TicketEvent.detail["remaining_s"].as_integer()


def met_event(clock: str) -> ColumnElement[bool]:
    """The ledger entry of a clock being met with time measured (not "already met")."""
    condition = and_(
        TicketEvent.kind == EventKind.SLA,
        TicketEvent.field == clock,
        TicketEvent.new == "met",
        met_remaining().is_not(None),
    )
    if clock == "resolution":
        # A reopened ticket's clock restarts: its ledger holds the last cycle only.
        condition = and_(condition, Ticket.sla_cycle == 0)
    return condition


def working_seconds(clock: str) -> ColumnElement[float]:
    """Working seconds to a clock's goal: its target minus what was left when met. Valid in
    a select joined `TicketEvent.ticket_id == Ticket.id` and filtered by `met_event(clock)`."""
    target = Ticket.first_response_target if clock == "first_response" else Ticket.resolution_target
    return cast(target - met_remaining(), Integer)


# --- timestamps as export text ------------------------------------------------------------


class iso_text(FunctionElement[str]):
    """`iso_text(ts)`: a timestamp as ISO 8601 UTC text (`2026-10-22T08:00:00Z`), made by
    the database, so a streamed export never builds a datetime per cell."""

    type = String()
    name = "iso_text"
    inherit_cache = True


@compiles(iso_text, "sqlite")
def _iso_sqlite(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {value})"


@compiles(iso_text, "postgresql")
def _iso_postgres(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"""to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


# --- CSV text made by the database ----------------------------------------------------------


class csv_join(FunctionElement[str]):
    """`csv_join(a, b, ...)`: the cells joined by commas into one text, a stretch of a CSV
    line, NULL cells empty, numbers in decimal: one call of `printf` (SQLite) or `format`
    (PostgreSQL), much cheaper than a chain of `||` on SQLite."""

    type = String()
    name = "csv_join"
    inherit_cache = True


def _csv_join(function: str, element: csv_join, compiler: SQLCompiler, **kw: Any) -> str:
    cells = [compiler.process(c, **kw) for c in element.clauses]
    template = compiler.process(literal_column("'" + ",".join(["%s"] * len(cells)) + "'"), **kw)
    return f"{function}({template}, {', '.join(cells)})"


@compiles(csv_join, "sqlite")
def _csv_join_sqlite(element: csv_join, compiler: SQLCompiler, **kw: Any) -> str:
    return _csv_join("printf", element, compiler, **kw)


@compiles(csv_join, "postgresql")
def _csv_join_postgres(element: csv_join, compiler: SQLCompiler, **kw: Any) -> str:
    return _csv_join("format", element, compiler, **kw)

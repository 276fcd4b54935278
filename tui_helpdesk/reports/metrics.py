"""Volume, response times and SLA compliance, split by time bucket or ticket dimension.

Definitions (all over tickets matching the report's filter, merged tickets left out):
- created / resolved / closed: tickets whose `created_at` / `resolved_at` / `closed_at` (the
  last resolution or closing) falls in the period; reopened: reopen events in the period;
  backlog: tickets created before the period's end and not resolved or closed by then
  (as their last resolution tells it);
- first response times: tickets first answered in the period; resolution times: tickets
  resolved in the period. Wall time from creation; working time as the SLA clock counted it
  (`sql.working_seconds`: target minus what was left when the clock was met), for tickets
  whose clock measured it (resolution: never reopened);
- SLA compliance: of the clocks decided in the period, the share met in time. A clock is
  decided when it is met (first answer, resolution), or, while it runs on breached, at the
  deadline it missed (`open_breaches`): a breach counts from the moment it is recorded, not
  only once the late answer comes (then it counts at the answer, like any met clock);
  breaches: the decided clocks not met in time. At risk now: running deadlines not yet
  past that the queue's Breaching view lists (an hour of working time on each ticket's
  calendar, `Scope.at_risk`); overdue now: running deadlines already past.
Every figure is one aggregate query (or a percentile query) per table: nothing loads tickets.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    true,
    values,
)
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES, Channel, EventKind
from tui_helpdesk.reports.model import Drill, Scope, Table, pct, seconds
from tui_helpdesk.reports.periods import Bucket, Grouping, buckets
from tui_helpdesk.reports.sql import (
    TOTAL,
    Spread,
    bucket_index,
    dimension,
    key_label,
    packed,
    raw_rows,
    spreads,
    unpacked_spreads,
    wall_time,
    with_joins,
    working_seconds,
)
from tui_helpdesk.store.models import Ticket, TicketEvent
from tui_helpdesk.store.types import UTCDateTime

BY_KEY = literal_column("k")  # GROUP BY the select's first column, by its label


class Keyed:
    """Selects split by the scope's grouping: `select(k, ...)` from tickets (or events
    joined to tickets) where a timestamp column lies in the period, `k` being the bucket
    index or the dimension value."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.session = session
        self.scope = scope
        self.buckets: list[Bucket] = (
            buckets(scope.period, scope.grouping) if scope.grouping.is_time else []
        )

    def select(
        self,
        time_col: Any,
        *columns: Any,
        events: bool = False,
        where: ColumnElement[bool] | None = None,
    ) -> Any:
        scope = self.scope
        if scope.grouping.is_time:
            key: Any = bucket_index(time_col, self.buckets)
            stmt = self._base(select(key.label("k"), *columns), events)
        else:
            key, joins = dimension(scope.grouping)
            stmt = with_joins(self._base(select(key.label("k"), *columns), events), joins)
        stmt = stmt.where(time_col >= scope.period.start, time_col < scope.period.end)
        return stmt.where(scope.filter.where(), where if where is not None else true())

    @staticmethod
    def _base(stmt: Any, events: bool) -> Any:
        if events:
            return stmt.select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        return stmt.select_from(Ticket)

    def aggregates(
        self,
        time_col: Any,
        *aggregates: Any,
        events: bool = False,
        where: ColumnElement[bool] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows `(k, *aggregates)` over the rows `select` picks, one per key found.

        On SQLite, split by time, each bucket's range is aggregated on its own (a scalar
        subquery per bucket and aggregate, over a VALUES list of the bucket edges): SQLite
        has no hashed grouping, so grouping sorts every row of the period, several times
        the cost of reading a bucket's range of an index that holds the columns (the
        covering indexes of 0011). The edges are the bucket index's own (`bucket_index`,
        the last bucket running to the period's end), so rows land in the same buckets.
        Buckets without rows give zeros where a grouping gives no row: callers read
        missing keys as zeros."""
        if not self._per_bucket():
            stmt = self.select(time_col, *aggregates, events=events, where=where)
            return [tuple(row) for row in self.session.execute(stmt.group_by(BY_KEY))]
        edges = self._edges()
        conditions = self._in_bucket(time_col, edges, where)
        found = [
            self._base(select(aggregate), events).where(conditions).scalar_subquery()
            for aggregate in aggregates
        ]
        return [tuple(row) for row in self.session.execute(select(edges.c.i, *found))]

    def spreads(
        self, time_col: Any, *columns: Any, total: bool | int = False
    ) -> dict[Hashable, tuple[int, tuple[Spread, ...]]]:
        """`sql.spreads` of the value `columns` over the rows `select` picks, per key.

        On SQLite, split by time, with integer values, per bucket as `aggregates` does: each
        bucket's range read by one scalar subquery that joins its values into one text
        (`sql.packed`), so no row is sorted by the database nor fetched one by one."""
        if not self._per_bucket() or not all(isinstance(c.type, Integer) for c in columns):
            return spreads(self.session, self.select(time_col, *columns), total=total)
        edges = self._edges()
        cell = (
            self._base(select(packed(columns)), False)
            .where(self._in_bucket(time_col, edges))
            .scalar_subquery()
        )
        rows = raw_rows(self.session, select(edges.c.i, cell))
        return unpacked_spreads(rows, len(columns), 0, total=total)

    def _per_bucket(self) -> bool:
        """Split by time on SQLite: each bucket's range read on its own (see `aggregates`)."""
        return self.scope.grouping.is_time and self.session.get_bind().dialect.name == "sqlite"

    def _edges(self) -> Any:
        """The buckets as a VALUES list `(i, lo, hi)`, the last one running to the period's
        end (as `bucket_index` does, so rows land in the same buckets)."""
        starts = [b.start for b in self.buckets]
        ends = [*starts[1:], self.scope.period.end]
        return (
            values(
                column("i", Integer),
                column("lo", UTCDateTime()),
                column("hi", UTCDateTime()),
                name="edges",
            )
            .data(list(zip(range(len(starts)), starts, ends, strict=True)))
            .cte("edges")
        )

    def _in_bucket(
        self, time_col: Any, edges: Any, where: ColumnElement[bool] | None = None
    ) -> ColumnElement[bool]:
        return and_(
            time_col >= edges.c.lo,
            time_col < edges.c.hi,
            self.scope.filter.where(),
            where if where is not None else true(),
        )

    def counts(self, time_col: Any, **kw: Any) -> dict[Hashable, int]:
        return {k: n for k, n in self.aggregates(time_col, func.count(), **kw)}

    def keys(self, *found: dict[Hashable, Any]) -> list[Hashable]:
        """Row keys in order: every bucket for a time grouping, else the values found,
        the largest first (by the first mapping), then by name."""
        if self.scope.grouping.is_time:
            return [b.index for b in self.buckets]
        seen: set[Hashable] = set()
        for mapping in found:
            seen.update(mapping)
        first = found[0] if found else {}
        return sorted(seen, key=lambda k: (-_num(first.get(k)), key_label(k)))

    def label(self, key: Hashable) -> str:
        if self.scope.grouping.is_time:
            return self.buckets[int(key)].label  # type: ignore[call-overload]
        return key_label(key)

    def drill(self, key: Hashable, time_field: str, **extra: Any) -> Drill:
        """The tickets behind one row: its bucket's window, or the period and its value."""
        scope = self.scope
        start, end = scope.period.start, scope.period.end
        narrowed: dict[str, Any] = {}
        if scope.grouping.is_time:
            bucket = self.buckets[int(key)]  # type: ignore[call-overload]
            start, end = bucket.start, bucket.end
        elif key is not None:
            narrowed = _drill_dimension(scope.grouping, key_label(key))
        f = scope.filter
        base: dict[str, Any] = {
            "group": f.group,
            "assignee": f.agent,
            "priorities": (f.priority.value,) if f.priority else (),
            "organization": f.organization,
            "segment": f.segment,
            "category": f.category,
            "channel": f.channel.value if f.channel else None,
        }
        base.update(narrowed)
        base.update(extra)
        return Drill(time_field=time_field, start=start, end=end, **base)


def _num(value: Any) -> float:
    """A row's size for ordering: a count, or the first of a tuple of counts."""
    if isinstance(value, tuple):
        value = value[0] if value else 0
    return float(value or 0)


def _drill_dimension(grouping: Grouping, value: str) -> dict[str, Any]:
    name = {
        Grouping.GROUP: "group",
        Grouping.AGENT: "assignee",
        Grouping.CATEGORY: "category",
        Grouping.ORGANIZATION: "organization",
        Grouping.SEGMENT: "segment",
        Grouping.CHANNEL: "channel",
    }.get(grouping)
    if grouping is Grouping.PRIORITY:
        return {"priorities": (value,)}
    if name is None:
        return {}
    if name == "assignee" and value == "(none)":
        return {"assignee": "none"}
    return {name: value}


# --- volume ---------------------------------------------------------------------------------


def volume(session: Session, scope: Scope) -> tuple[Table, Table, dict[str, int], list[Bucket]]:
    """Created, resolved, closed, reopened per row; the channel mix; period totals."""
    keyed = Keyed(session, scope)
    created: dict[Hashable, int] = {}
    channels: dict[Any, int] = {}
    if keyed.scope.grouping.is_time and session.get_bind().dialect.name == "sqlite":
        # Counted per bucket (see `Keyed.aggregates`), and per channel over the whole
        # period in one more read of its range (the mix is the period's, not the buckets').
        created = {k: n for k, n in keyed.aggregates(Ticket.created_at, func.count()) if n}
        p = scope.period
        mix = session.execute(
            select(*(func.count(case((Ticket.channel == c, 1))) for c in Channel)).where(
                Ticket.created_at >= p.start, Ticket.created_at < p.end, scope.filter.where()
            )
        ).one()
        channels = {c: n for c, n in zip(Channel, mix, strict=True) if n}
    else:
        # Created per row and per channel in one read of the period's range.
        for key, channel, n in session.execute(
            keyed.select(Ticket.created_at, Ticket.channel, func.count()).group_by(
                BY_KEY, Ticket.channel
            )
        ):
            created[key] = created.get(key, 0) + n
            channels[channel] = channels.get(channel, 0) + n
    resolved = keyed.counts(Ticket.resolved_at)
    closed = keyed.counts(Ticket.closed_at)
    reopened = keyed.counts(
        TicketEvent.at, events=True, where=TicketEvent.kind == EventKind.REOPENED
    )
    table = Table("volume", ["key", "created", "resolved", "closed", "reopened"])
    for key in keyed.keys(created, resolved, closed, reopened):
        table.add(
            [
                keyed.label(key),
                created.get(key, 0),
                resolved.get(key, 0),
                closed.get(key, 0),
                reopened.get(key, 0),
            ],
            keyed.drill(key, "created_at"),
        )
    mix = channel_mix(scope, channels)
    totals = {
        "created": sum(created.values()),
        "resolved": sum(resolved.values()),
        "closed": sum(closed.values()),
        "reopened": sum(reopened.values()),
        "backlog": backlog(session, scope),
    }
    return table, mix, totals, keyed.buckets


def channel_mix(scope: Scope, created: dict[Any, int]) -> Table:
    """The period's created tickets by channel, the most used first."""
    p = scope.period
    rows = sorted(created.items(), key=lambda item: (-item[1], key_label(item[0])))
    total = sum(n for _, n in rows)
    table = Table("channels", ["channel", "created", "share_pct"])
    for channel, n in rows:
        table.add(
            [key_label(channel), n, pct(n, total)],
            Drill(start=p.start, end=p.end, channel=key_label(channel)),
        )
    return table


def backlog(session: Session, scope: Scope) -> int:
    """Tickets open at the period's end: created before it and not done by it, done being
    the last resolution, else the closing (`coalesce(resolved_at, closed_at)`).

    Counted as three disjoint index ranges, not the whole history before the end: resolved
    at or after the end; never resolved and closed at or after the end; neither resolved nor
    closed (`ix_tickets_report_resolved` and `ix_tickets_closed` hold the columns, so no
    ticket row is read)."""
    end = scope.period.end
    created = Ticket.created_at < end
    branches = (
        and_(Ticket.resolved_at >= end, created),
        # Only the closing range is a range to read here: the other conditions as CASEs,
        # which no index serves (SQLite's estimates would pick every unresolved ticket's
        # row through `ix_tickets_resolved`, or the whole history by creation).
        and_(
            Ticket.closed_at >= end,
            _unindexed(Ticket.resolved_at.is_(None)),
            _unindexed(created),
        ),
        and_(Ticket.resolved_at.is_(None), Ticket.closed_at.is_(None), created),
    )
    counts = [
        select(func.count()).where(scope.filter.where(), branch).scalar_subquery()
        for branch in branches
    ]
    return int(session.scalar(select(counts[0] + counts[1] + counts[2])) or 0)


def _unindexed(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """The same condition, in a form no index serves (the planner reads another range)."""
    return case((condition, 1)) == 1


# --- response times ------------------------------------------------------------------------

RESPONSE_COLUMNS = [
    "key",
    "first_responses",
    "frt_median_working_s",
    "frt_p90_working_s",
    "frt_mean_working_s",
    "frt_median_s",
    "frt_p90_s",
    "frt_mean_s",
    "resolutions",
    "rt_median_working_s",
    "rt_p90_working_s",
    "rt_mean_working_s",
    "rt_median_s",
    "rt_p90_s",
    "rt_mean_s",
]


def _clock_figures(
    session: Session, keyed: Keyed, clock: str
) -> tuple[dict[Hashable, int], dict[Hashable, list[float | None]], float | None]:
    """Per key: how many tickets reached the clock's goal in the period, and [median, p90,
    mean] of the working time, then of the wall time, it took; and the median working time
    over every key. One query (`Keyed.spreads`): a period's tickets are read once. The
    wall time is exact (`sql.wall_time`: on SQLite to the millisecond, as its dates count)."""
    at = Ticket.first_response_at if clock == "first_response" else Ticket.resolved_at
    wall, per_second = wall_time(session, at, Ticket.created_at)
    # Over every key, only the working time's median is read.
    found = keyed.spreads(at, working_seconds(clock), wall, total=1)
    counts: dict[Hashable, int] = {}
    figures: dict[Hashable, list[float | None]] = {}
    median: float | None = None
    for key, (n, (work, elapsed)) in found.items():
        if key == TOTAL:
            median = seconds(work.percentiles[0])
            continue
        counts[key] = n
        figures[key] = [
            *(seconds(v) for v in work.percentiles),
            seconds(work.mean),
            *(_in_seconds(v, per_second) for v in elapsed.percentiles),
            _in_seconds(elapsed.mean, per_second),
        ]
    return counts, figures, median


def _in_seconds(value: float | None, per_second: int) -> float | None:
    return seconds(value if value is None or per_second == 1 else value / per_second)


def response(session: Session, scope: Scope) -> tuple[Table, dict[str, float | None]]:
    """The response table, and the period's median working first response and resolution
    over all its tickets (the summary's figures), from the same queries."""
    keyed = Keyed(session, scope)
    fr_n, fr, frt_median = _clock_figures(session, keyed, "first_response")
    rt_n, rt, rt_median = _clock_figures(session, keyed, "resolution")
    table = Table("response", list(RESPONSE_COLUMNS))
    empty: list[float | None] = [None] * 6
    for key in keyed.keys(fr_n, rt_n):
        table.add(
            [
                keyed.label(key),
                fr_n.get(key, 0),
                *fr.get(key, empty),
                rt_n.get(key, 0),
                *rt.get(key, empty),
            ],
            keyed.drill(key, "first_response_at"),
        )
    return table, {"frt_median_working_s": frt_median, "rt_median_working_s": rt_median}


# --- SLA compliance ------------------------------------------------------------------------

SLA_COLUMNS = [
    "key",
    "fr_measured",
    "fr_in_time",
    "fr_breached",
    "fr_compliance_pct",
    "res_measured",
    "res_in_time",
    "res_breached",
    "res_compliance_pct",
]


@dataclass(frozen=True)
class _ClockColumns:
    """A clock's columns on the ticket: when it was met, its state, breach flag and deadline."""

    at: Any
    state: Any
    flag: Any
    due: Any


def _clock_columns(clock: str) -> _ClockColumns:
    if clock == "first_response":
        return _ClockColumns(
            Ticket.first_response_at,
            Ticket.first_response_state,
            Ticket.first_response_breached,
            Ticket.first_response_due_at,
        )
    return _ClockColumns(
        Ticket.resolved_at,
        Ticket.resolution_state,
        Ticket.resolution_breached,
        Ticket.resolution_due_at,
    )


def open_breaches(scope: Scope, clock: str) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """The clock's open breaches: breached (as `helpdesk escalate` records it) and running
    on, each placed at the deadline it missed, until it is met. Returns that deadline (in a
    form no index reads) and the condition: add `deadline in the period`. Such a ticket is
    overdue, so it is read from the range of running deadlines up to the period's end (or
    now, if sooner): a few tickets, not the period's clocks (`ix_tickets_at_risk`)."""
    c = _clock_columns(clock)
    horizon = scope.period.end if scope.now is None else min(scope.now, scope.period.end)
    return func.coalesce(c.due, c.due), and_(
        Ticket.due_at <= horizon, c.state == "running", c.flag.is_(True)
    )


def decided_within(clock: str, start: datetime | None, end: datetime | None) -> ColumnElement[bool]:
    """The tickets whose clock `_compliance` counts as decided in [start, end) (a bound of
    None: open): met in it, or breached and running on with the deadline it missed in it.
    The SLA table's drill-down (`services.reports.drill_where`)."""
    c = _clock_columns(clock)
    return or_(
        and_(c.state == "met", *within(c.at, start, end)),
        and_(c.state == "running", c.flag.is_(True), *within(c.due, start, end)),
    )


def within(
    column: ColumnElement[Any], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    """`start <= column < end` as conditions, a bound of None left out."""
    parts = []
    if start is not None:
        parts.append(column >= start)
    if end is not None:
        parts.append(column < end)
    return parts


def _compliance(session: Session, keyed: Keyed, clock: str) -> dict[Hashable, tuple[int, int]]:
    """Per key: (clocks decided, of them breached): met in the period, or open breaches
    whose deadline passed in it (`decided_within` says the same as a condition)."""
    c = _clock_columns(clock)
    at, state, flag = c.at, c.state, c.flag
    rows = keyed.aggregates(
        at,
        func.count(),
        func.coalesce(func.sum(case((flag.is_(True), 1), else_=0)), 0),
        where=state == "met",
    )
    found = {k: (n, int(late)) for k, n, late in rows}
    # Few rows (overdue tickets): grouped in one query, not a range read per time bucket.
    deadline, still_open = open_breaches(keyed.scope, clock)
    late_now = keyed.select(deadline, func.count(), where=still_open).group_by(BY_KEY)
    for k, n in session.execute(late_now):
        if n:
            met, late = found.get(k, (0, 0))
            found[k] = (met + n, late + n)
    return found


def sla(session: Session, scope: Scope) -> tuple[Table, dict[str, Any]]:
    keyed = Keyed(session, scope)
    fr = _compliance(session, keyed, "first_response")
    res = _compliance(session, keyed, "resolution")
    table = Table("sla", list(SLA_COLUMNS))
    zero = (0, 0)
    for key in keyed.keys(fr, res):
        (fn, fl), (rn, rl) = fr.get(key, zero), res.get(key, zero)
        table.add(
            [
                keyed.label(key),
                fn,
                fn - fl,
                fl,
                pct(fn - fl, fn),
                rn,
                rn - rl,
                rl,
                pct(rn - rl, rn),
            ],
            keyed.drill(key, "sla"),
        )
    fn, fl = (sum(v[i] for v in fr.values()) for i in (0, 1))
    rn, rl = (sum(v[i] for v in res.values()) for i in (0, 1))
    figures = {
        "fr_compliance_pct": pct(fn - fl, fn),
        "res_compliance_pct": pct(rn - rl, rn),
        "breaches": fl + rl,
        **live_risk(session, scope),
    }
    return table, figures


def live_risk(session: Session, scope: Scope) -> dict[str, int]:
    """Running deadlines at `now`: past (overdue) and at risk (`Scope.at_risk`, not past)."""
    now = scope.now
    if now is None or scope.at_risk is None:
        return {"at_risk_now": 0, "overdue_now": 0}
    # Read as the range of deadlines up to the horizon, from `ix_tickets_at_risk`, which
    # holds what is tested (not by status: most open tickets, each looked up in the table).
    active = and_(scope.filter.where(), _unindexed(Ticket.status.in_(ACTIVE_STATUSES)))
    row = session.execute(
        select(
            func.coalesce(func.sum(case((Ticket.due_at <= now, 1), else_=0)), 0),
            func.count(),
        ).where(active, scope.at_risk)
    ).one()
    overdue = int(row[0])
    return {"overdue_now": overdue, "at_risk_now": int(row[1]) - overdue}

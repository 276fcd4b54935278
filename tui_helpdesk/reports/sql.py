"""The SQL pieces every report shares, written once for SQLite and PostgreSQL.

- `bucket_index`: the bucket of a timestamp as a balanced tree of CASEs over the bucket
  edges (UTC instants of local midnights), so rows are bucketed in the desk's time zone the
  same way on both back ends (SQLite has no time zones), in one scan.
- `spreads`: per key, the count, percentiles (interpolated like PostgreSQL's
  `percentile_cont`) and mean of several value columns in one query: on PostgreSQL those
  aggregates, on SQLite each key's integer values joined into one text by the database
  (other values: the rows read once), sorted in Python;
  `percentiles` is the one-column case.
- `dimension`: the column and joins of a grouping by group, agent, category and the like.
- `ReportFilter`: the filters of a report as WHERE clauses on tickets (names resolved in
  sub-selects, so the ticket table's indexes still serve the scan).
- `csv_join`: a stretch of a CSV line written by the database (the tickets export).
- `working_seconds`: a ticket's working time to first response or resolution as the SLA
  clocks counted it (target minus what was left when the clock was met, kept on the ticket
  and recorded in its ledger); `services.customer_history` uses it too, so reports and
  live views agree.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
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
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.functions import FunctionElement

from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.reports.periods import Bucket, Grouping
from tui_helpdesk.store.functions import elapsed_seconds
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Group,
    Organization,
    Ticket,
)
from tui_helpdesk.store.types import UTCDateTime

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

TOTAL: Hashable = ("total",)  # the key of the row over every key (`spreads(total=True)`)


@dataclass(frozen=True)
class Spread:
    """How a column's values spread (NULLs left out): how many, the percentiles asked for
    (continuous, as `percentile_cont` computes them) and the mean; None when there are none."""

    count: int
    percentiles: tuple[float | None, ...]
    mean: float | None


def spreads(
    session: Session,
    source: Select[Any],
    ps: Sequence[float] = PERCENTILES,
    *,
    total: bool | int = False,
    tallies: int = 0,
) -> dict[Hashable, tuple[int, tuple[Spread, ...]]]:
    """`{key: (rows, (spread of each value column, ...))}` over `source`, a select whose
    first column is the key and the others values (keys and values as the driver returns
    them: numbers and text), read in one query: PostgreSQL aggregates it
    (`percentile_cont`, `avg`); SQLite, which has no percentile function, returns each
    key's integer values joined into one text (`_concatenated_spreads`), or when some are
    not integers the rows once, grouped by key and sorted here in C-speed steps.
    `total`: a row over every key too, under `TOTAL` (PostgreSQL: `GROUPING SETS`, still
    one scan); a number: SQLite spreads only the first so many measured columns over
    every key (the others' total has their count alone). `tallies`: the last so many
    value columns are only counted (their spread has no percentiles and no mean), e.g.
    `case((condition, 1))` counts the rows where a condition holds."""
    src = source.subquery()
    key, *values = src.c
    measured = len(values) - tallies
    if session.get_bind().dialect.name == "postgresql":
        columns: list[Any] = [func.count()]
        for i, value in enumerate(values):
            columns.append(func.count(value))
            if i < measured:
                columns.append(func.avg(value))
                columns.append(_percentile_array(value, ps))
        if total:
            stmt = select(key, func.grouping(key), *columns).group_by(
                func.grouping_sets(tuple_(key), tuple_())
            )
        else:
            stmt = select(key, literal(0), *columns).group_by(key)
        width = 3
        out: dict[Hashable, tuple[int, tuple[Spread, ...]]] = {}
        for row in session.execute(stmt):
            cells = row[3:]
            found = [
                _spread(cells[at], cells[at + 1], _listed(cells[at + 2], ps))
                for at in range(0, width * measured, width)
            ]
            found += [_spread(n, None, ()) for n in cells[width * measured :]]
            out[TOTAL if row[1] else row[0]] = (int(row[2]), tuple(found))
        return out
    if all(isinstance(value.type, Integer) for value in values[:measured]):
        constant = source.selected_columns[0]
        if not isinstance(constant, BindParameter):
            constant = None
        return _concatenated_spreads(session, key, values, measured, ps, total, constant)
    # SQLite, some values not integers: the rows read straight from the driver's cursor (no
    # Row objects: keys and values need no conversion) in the order the index gives them,
    # grouped by key here (a stable sort in C: next to nothing when the key follows the
    # index, as time buckets do; the database would sort every row), each key's columns
    # taken apart and sorted in C, and the total's made of the keys' sorted runs (a merge).
    rows = raw_rows(session, select(key, *values))
    try:
        rows.sort(key=itemgetter(0))
    except TypeError:  # NULL keys among the others
        rows.sort(key=_null_first)

    def keyed() -> Iterator[tuple[Hashable, int, list[list[Any]], list[int]]]:
        for k, grouped in itertools.groupby(rows, itemgetter(0)):
            group = list(grouped)
            columns = [list(map(itemgetter(i), group)) for i in range(1, len(values) + 1)]
            lists = [_sorted_values(column) for column in columns[:measured]]
            tallies = [len(column) - column.count(None) for column in columns[measured:]]
            yield k, len(group), lists, tallies

    return _keyed_spreads(keyed(), measured, len(values) - measured, ps, total)


def _percentile_array(value: Any, ps: Sequence[float]) -> ColumnElement[Any]:
    """PostgreSQL: the percentiles `ps` of a column, several as an array from one sort of
    its values (`percentile_cont` of an array of fractions: the same interpolation as one
    call per fraction, which would sort the values once each), one as the plain call
    (read back by `_listed`)."""
    if len(ps) == 1:
        return func.percentile_cont(ps[0]).within_group(value)
    fractions = postgresql.array([literal(float(p)) for p in ps])
    return func.percentile_cont(fractions, type_=postgresql.ARRAY(Float())).within_group(value)


def _listed(cell: Any, ps: Sequence[float]) -> list[Any]:
    """The percentiles of a `_percentile_array` cell as a list (NULL: none for each)."""
    if cell is None:
        return [None for _ in ps]
    return cell if isinstance(cell, list) else [cell]


def _concatenated_spreads(
    session: Session,
    key: Any,
    values: Sequence[Any],
    measured: int,
    ps: Sequence[float],
    total: bool | int,
    constant: BindParameter[Any] | None,
) -> dict[Hashable, tuple[int, tuple[Spread, ...]]]:
    """`spreads` on SQLite when the measured columns are integers (working seconds): one row
    per key, the database counting the rows and the tallies and joining each measured
    column's values into one text (`group_concat`, NULLs left out), which Python splits,
    sorts and reads. A year of a big desk is a few rows instead of one Python tuple per
    ticket (a third of the time); integers survive the text exactly (floats would not:
    SQLite prints them with 15 digits, so float columns take the row by row way).
    `constant`: the key is this literal, one value for every row: no grouping (SQLite
    would sort the rows to group them all the same)."""
    columns: list[Any] = [func.count()]
    columns += [func.group_concat(value) for value in values[:measured]]
    columns += [func.count(value) for value in values[measured:]]
    if constant is not None:
        stmt = select(literal(constant.value), *columns)  # one row, even over no rows
    else:
        stmt = select(key, *columns).group_by(key)

    def keyed() -> Iterator[tuple[Hashable, int, list[list[Any]], list[int]]]:
        for k, n, *cells in raw_rows(session, stmt):
            if n:
                yield k, int(n), _joined_lists(cells[:measured]), [int(c) for c in cells[measured:]]

    return _keyed_spreads(keyed(), measured, len(values) - measured, ps, total)


class _Integers(list[int]):
    """Values read as integers only (`_mean` sums them exactly, as integers)."""


def _joined_lists(cells: Sequence[str | None]) -> list[list[Any]]:
    """Each measured column's joined values (`group_concat`), sorted. Read as a JSON array:
    the C parser, twice as fast as int()."""
    lists: list[list[Any]] = []
    for text in cells:
        values: list[Any] = json.loads(f"[{text}]") if text else []
        if text and "." not in text and "e" not in text:
            values = _Integers(values)
        values.sort()
        lists.append(values)
    return lists


def packed(values: Sequence[Any], tallies: int = 0) -> ColumnElement[str]:
    """SQLite: what `spreads` reads of a range of rows, as one text a scalar subquery can
    return: the row count, each measured column's integers joined (`group_concat`, NULLs
    left out) and each tallied column's count, separated by semicolons (`printf`; a NULL
    joins as nothing). Read back by `unpacked_spreads`."""
    measured = len(values) - tallies
    cells: list[Any] = [func.count()]
    cells += [func.group_concat(value) for value in values[:measured]]
    cells += [func.count(value) for value in values[measured:]]
    template = ";".join(["%d"] + ["%s"] * measured + ["%d"] * tallies)
    return func.printf(literal_column(f"'{template}'"), *cells, type_=String())


def unpacked_spreads(
    rows: Iterable[Sequence[Any]],
    measured: int,
    tallied: int,
    ps: Sequence[float] = PERCENTILES,
    *,
    total: bool | int = False,
) -> dict[Hashable, tuple[int, tuple[Spread, ...]]]:
    """`spreads` from rows `(key, packed text)` (`packed`); keys without rows are left out,
    as a grouping leaves them out."""

    def keyed() -> Iterator[tuple[Hashable, int, list[list[Any]], list[int]]]:
        for k, text in rows:
            n, *cells = text.split(";")
            if int(n):
                tallies = [int(c) for c in cells[measured:]]
                yield k, int(n), _joined_lists(cells[:measured]), tallies

    return _keyed_spreads(keyed(), measured, tallied, ps, total)


def _keyed_spreads(
    keyed: Iterable[tuple[Hashable, int, list[list[Any]], list[int]]],
    measured: int,
    tallied: int,
    ps: Sequence[float],
    total: bool | int,
) -> dict[Hashable, tuple[int, tuple[Spread, ...]]]:
    """`spreads` on SQLite from each key's rows, sorted values of each measured column and
    tallies; `total`: over every key too, the keys' sorted values merged (a sort of runs);
    a number: of the first so many measured columns only (the others' total spreads have
    their count alone: no values merged and sorted that nobody reads)."""
    out: dict[Hashable, tuple[int, tuple[Spread, ...]]] = {}
    merged = measured if total is True else int(total)
    every: list[list[Any]] = [_Integers() for _ in range(merged)]
    counts = [0] * measured
    all_rows, all_tallies = 0, [0] * tallied
    for k, n, lists, tallies in keyed:
        out[k] = (n, _concatenated(lists, tallies, ps))
        if total:
            all_rows += n
            for i, found in enumerate(lists):
                counts[i] += len(found)
                if i < merged:
                    if not isinstance(found, _Integers):
                        every[i] = list(every[i])  # some values not integers: `fsum`
                    every[i] += found
            all_tallies = [a + b for a, b in zip(all_tallies, tallies, strict=True)]
    if total:
        for column in every:
            column.sort()
        spread = _concatenated(every, all_tallies, ps)
        unmerged = tuple(_spread(n, None, [None for _ in ps]) for n in counts[merged:])
        out[TOTAL] = (all_rows, spread[:merged] + unmerged + spread[merged:])
    return out


def _concatenated(
    lists: Sequence[list[int]], tallies: Sequence[int], ps: Sequence[float]
) -> tuple[Spread, ...]:
    """The spreads of sorted value lists, then the tallies' counts."""
    found = [_ordered_spread(values, ps) for values in lists]
    return tuple(found + [_spread(n, None, ()) for n in tallies])


def raw_rows(session: Session, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of `stmt` as the driver returns them: plain tuples, no result processing
    (for numbers and text that need none), much cheaper per row than `Row` objects."""
    result = session.connection().execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _spread(count: Any, mean: Any, found: Sequence[Any]) -> Spread:
    return Spread(
        int(count),
        tuple(None if x is None else float(x) for x in found),
        None if mean is None else float(mean),
    )


def _sorted_values(column: Sequence[Any]) -> list[Any]:
    """A column's values sorted, NULLs left out."""
    return sorted(v for v in column if v is not None) if None in column else sorted(column)


def _null_first(row: Sequence[Any]) -> tuple[bool, Any]:
    return (row[0] is not None, row[0])


def _ordered_spread(values: Sequence[Any], ps: Sequence[float]) -> Spread:
    """The spread of sorted values, none of them NULL."""
    if not values:
        return Spread(0, tuple(None for _ in ps), None)
    return Spread(len(values), tuple(_interpolated(values, ps)), _mean(values))


def _mean(values: Sequence[Any]) -> float:
    """The mean, from the exact sum: integers summed as integers (several times faster than
    `fsum`, and the same quotient while the sum fits a float's 53 bits), else `fsum`."""
    if isinstance(values, _Integers):
        return sum(values) / len(values)
    return math.fsum(values) / len(values)


def percentiles(
    session: Session, source: Select[Any], ps: Sequence[float] = PERCENTILES
) -> dict[Hashable, list[float | None]]:
    """`{key: [p for each of ps]}` over `source`, a select of two columns `k` and `v` (rows
    with v NULL are left out). Continuous percentiles, as `percentile_cont` computes them."""
    src = source.subquery()
    found = spreads(session, select(src.c.k, src.c.v).where(src.c.v.is_not(None)), ps)
    return {k: list(spread.percentiles) for k, (_, (spread,)) in found.items()}


def _interpolated(ordered: Sequence[float], ps: Sequence[float]) -> list[float | None]:
    """Continuous percentiles of sorted values: linear between the two nearest ranks."""
    out: list[float | None] = []
    for p in ps:
        position = p * (len(ordered) - 1)
        low = math.floor(position)
        a = float(ordered[low])
        b = float(ordered[low + 1]) if low + 1 < len(ordered) else a
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


# --- working time, as the SLA clocks counted it --------------------------------------------


def working_seconds(clock: str) -> ColumnElement[int]:
    """Working seconds to a clock's goal: its target minus what was left when it was met
    (kept on the ticket, `rules.clock`); NULL unless the clock is met with time measured.
    For resolution, only on tickets never reopened: a reopened ticket's clock measures its
    last cycle alone, not the time the whole resolution took."""
    if clock == "first_response":
        state, target, left = (
            Ticket.first_response_state,
            Ticket.first_response_target,
            Ticket.first_response_remaining,
        )
        measured = state == "met"
    else:
        state, target, left = (
            Ticket.resolution_state,
            Ticket.resolution_target,
            Ticket.resolution_remaining,
        )
        measured = and_(state == "met", Ticket.sla_cycle == 0)
    return case((measured, target - left))


def wall_time(session: Session, later: Any, earlier: Any) -> tuple[ColumnElement[Any], int]:
    """The wall time from `earlier` to `later` as `spreads` reads it fastest, and how many of
    its units make a second. PostgreSQL: seconds (`elapsed_seconds`, exact). SQLite: whole
    milliseconds, as an integer: the difference of the instants its date functions read
    (`julianday`, to the millisecond), without the float noise of subtracting two day
    numbers, so `spreads` reads the values joined into a text, not a float per row."""
    if session.get_bind().dialect.name != "sqlite":
        return elapsed_seconds(later, earlier), 1
    days = func.julianday(later) - func.julianday(earlier)
    return cast(func.round(days * literal_column("86400000.0")), Integer), 1000


# --- timestamps as export text ------------------------------------------------------------


class iso_text(FunctionElement[str]):
    """`iso_text(ts)`: a timestamp as ISO 8601 UTC text (`2026-10-22T08:00:00Z`), made by
    the database, so a streamed export never builds a datetime per cell."""

    type = String()
    name = "iso_text"
    inherit_cache = True


@compiles(iso_text, "sqlite")
def _iso_sqlite(element: iso_text, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite holds a timestamp as the text `store.base.UTCDateTime` writes, always
    # `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: its date and time are cut out (what strftime
    # prints, without parsing each value: a sixth of the export query's time); NULL stays.
    (value,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"(substr({value}, 1, 10) || 'T' || substr({value}, 12, 8) || 'Z')"


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

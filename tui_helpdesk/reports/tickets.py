"""The `tickets` report: one row per ticket created in the period with its SLA figures, as
a single streamed SELECT (rows are read in batches as they are written out, so an export of
a million tickets runs in constant memory).

Working times are the clocks' own (`sql.working_seconds`: target minus what was left when
the clock was met, kept on the ticket): no join beyond the names of related rows.

The columns are defined once (`_SPEC`: name, kind, expression) and serve two row sources:
- `ticket_rows`: typed rows through SQLAlchemy (timestamps as datetimes), for every format;
- `ticket_batches`: raw DB-API batches (`fetchmany`, no Row objects, no per-cell result
  processing) of a variant of the query for the CSV fast path
  (`export.write_csv_batches`): each stretch of columns the query makes itself (key,
  enum values, ISO timestamps, numbers, flags) comes as one cell the database already
  wrote as CSV (`sql.csv_join`: one `printf`/`format` call), so a row is 14 cells, not
  26; the desk's text comes as stored and the wall seconds as doubles, which Python
  checks and rounds a column of a batch at a time, so the usual cell costs no Python of
  its own.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Select, String, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from tui_helpdesk.reports.model import Scope
from tui_helpdesk.reports.sql import csv_join, iso_text, working_seconds
from tui_helpdesk.store.functions import elapsed_seconds
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Contact,
    Group,
    Organization,
    Ticket,
)

BATCH = 5000


class Cell(enum.Enum):
    """What a column holds, which says what an export must do with it."""

    PLAIN = "plain"  # made by the query (key, enum values, numbers): written as is
    TIME = "time"  # a timestamp: typed rows give datetimes, the CSV fast path ISO text
    TEXT = "text"  # the desk's own text: cleaned, and neutralised for spreadsheets
    WALL = "wall"  # wall-clock seconds (float): rounded to 0.1 s like the other reports
    FLAG = "flag"  # a boolean
    CYCLE = "cycle"  # the SLA cycle: reopenings, NULL as 0


@dataclass(frozen=True)
class _Joined:
    """The aliases a column expression may refer to (built per query)."""

    assignee: Any


_Expr = Callable[[_Joined], ColumnElement[Any]]

_SPEC: list[tuple[str, Cell, _Expr]] = [
    ("ticket", Cell.PLAIN, lambda j: Ticket.key),
    ("subject", Cell.TEXT, lambda j: Ticket.subject),
    ("status", Cell.PLAIN, lambda j: type_coerce(Ticket.status, String())),
    ("priority", Cell.PLAIN, lambda j: type_coerce(Ticket.priority, String())),
    ("channel", Cell.PLAIN, lambda j: type_coerce(Ticket.channel, String())),
    ("category", Cell.TEXT, lambda j: Category.path),
    ("group", Cell.TEXT, lambda j: Group.name),
    ("assignee", Cell.TEXT, lambda j: j.assignee.login),
    ("organization", Cell.TEXT, lambda j: Organization.name),
    # The address, else the number or the name: a caller known only by phone is not blank.
    ("requester", Cell.TEXT, lambda j: func.coalesce(Contact.email, Contact.phone, Contact.name)),
    ("created_at", Cell.TIME, lambda j: Ticket.created_at),
    ("first_response_at", Cell.TIME, lambda j: Ticket.first_response_at),
    ("resolved_at", Cell.TIME, lambda j: Ticket.resolved_at),
    ("closed_at", Cell.TIME, lambda j: Ticket.closed_at),
    ("sla_policy", Cell.TEXT, lambda j: Ticket.sla_policy),
    (
        "frt_s",
        Cell.WALL,
        lambda j: elapsed_seconds(Ticket.first_response_at, Ticket.created_at),
    ),
    ("frt_working_s", Cell.PLAIN, lambda j: working_seconds("first_response")),
    ("fr_due_at", Cell.TIME, lambda j: Ticket.first_response_due_at),
    ("fr_breached", Cell.FLAG, lambda j: Ticket.first_response_breached),
    ("rt_s", Cell.WALL, lambda j: elapsed_seconds(Ticket.resolved_at, Ticket.created_at)),
    ("rt_working_s", Cell.PLAIN, lambda j: working_seconds("resolution")),
    ("res_due_at", Cell.TIME, lambda j: Ticket.resolution_due_at),
    ("res_breached", Cell.FLAG, lambda j: Ticket.resolution_breached),
    ("reopened", Cell.CYCLE, lambda j: Ticket.sla_cycle),
    ("escalation_level", Cell.PLAIN, lambda j: Ticket.escalation_level),
    ("csat", Cell.PLAIN, lambda j: Ticket.csat_score),
]

COLUMNS = [name for name, _, _ in _SPEC]

# Columns the query itself makes (numbers, enum values): exports need not look at them; the
# rest is the desk's own text (names, subjects), timestamps and booleans.
SAFE_COLUMNS = frozenset(
    name for name, kind, _ in _SPEC if kind not in (Cell.TEXT, Cell.TIME, Cell.FLAG)
)
_WALL = tuple(i for i, (_, kind, _) in enumerate(_SPEC) if kind is Cell.WALL)
_CYCLE = tuple(i for i, (_, kind, _) in enumerate(_SPEC) if kind is Cell.CYCLE)


def _csv_cell(kind: Cell, expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """A column as the CSV fast path reads it: the desk's text as stored, NULL as empty
    text (written the same; checked in Python, `export.write_csv_batches`); the wall
    seconds as a double (PostgreSQL's epoch is numeric, which the typed path turns into
    the same float the cast makes), rounded in Python exactly as the typed path rounds;
    timestamps as ISO text (`sql.iso_text`); the rest as `csv_join` writes it (NULL empty,
    numbers in decimal), flags as `true`/`false`."""
    if kind is Cell.TIME:
        return iso_text(expr)
    if kind is Cell.WALL:
        return cast(expr, Float())
    if kind is Cell.TEXT:
        return func.coalesce(expr, "")
    if kind is Cell.FLAG:
        return case((expr.is_(True), "true"), (expr.is_(False), "false"))
    if kind is Cell.CYCLE:
        return func.coalesce(expr, 0)
    return expr


def _runs() -> list[list[int]]:
    """The columns as the CSV fast path reads them: each text and wall column alone, each
    stretch of the others between them as one cell the database joins (`csv_join`), so
    the driver makes few strings per row and Python looks at none of them."""
    runs: list[list[int]] = []
    for i, (_, kind, _) in enumerate(_SPEC):
        if runs and _plain(kind) and _plain(_SPEC[runs[-1][-1]][1]):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _plain(kind: Cell) -> bool:
    return kind not in (Cell.TEXT, Cell.WALL)


_RUNS = _runs()
CSV_TEXT = tuple(n for n, run in enumerate(_RUNS) if _SPEC[run[0]][1] is Cell.TEXT)
CSV_WALL = tuple(n for n, run in enumerate(_RUNS) if _SPEC[run[0]][1] is Cell.WALL)


def _columns(joined: _Joined, csv: bool) -> list[ColumnElement[Any]]:
    if not csv:
        return [make(joined) for _, _, make in _SPEC]
    cells = [_csv_cell(kind, make(joined)) for _, kind, make in _SPEC]
    return [
        csv_join(*(cells[i] for i in run)) if _plain(_SPEC[run[0]][1]) else cells[run[0]]
        for run in _RUNS
    ]


def tickets_query(scope: Scope, *, csv: bool = False) -> Select[Any]:
    """The report's SELECT; `csv`: the variant the CSV fast path reads, a cell per run of
    `_RUNS` (text at the positions `CSV_TEXT`, wall seconds at `CSV_WALL`)."""
    p = scope.period
    joined = _Joined(aliased(Agent))
    assignee = joined.assignee
    return (
        select(*_columns(joined, csv))
        .select_from(Ticket)
        .outerjoin(Category, Category.id == Ticket.category_id)
        .outerjoin(Group, Group.id == Ticket.group_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(Organization, Organization.id == Ticket.organization_id)
        .outerjoin(Contact, Contact.id == Ticket.requester_id)
        .where(scope.filter.where(), Ticket.created_at >= p.start, Ticket.created_at < p.end)
        .order_by(Ticket.created_at, Ticket.id)
    )


def ticket_rows(session: Session, scope: Scope) -> Iterator[tuple[Any, ...]]:
    """The rows, streamed from the database in batches (a server-side cursor on PostgreSQL).
    Timestamps arrive as datetimes (XLSX writes them as such, the text formats as ISO text)
    and enums as their values: nothing else per cell in Python but rounding the wall-clock
    seconds."""
    result = session.connection().execute(
        tickets_query(scope).execution_options(stream_results=True, yield_per=BATCH)
    )
    for row in result:
        values = list(row)
        for i in _WALL:  # wall seconds: round like the other reports
            if values[i] is not None:
                values[i] = round(values[i], 1)
        for i in _CYCLE:  # reopenings: the SLA cycle
            values[i] = values[i] or 0
        yield tuple(values)


def ticket_batches(
    session: Session, scope: Scope, size: int = BATCH
) -> Iterator[list[tuple[Any, ...]]]:
    """The raw rows of `tickets_query(csv=True)` in lists of up to `size`, straight from
    the DB-API cursor (a server-side cursor on PostgreSQL, so memory holds one batch), for
    `export.write_csv_batches(COLUMNS, ..., text=CSV_TEXT, rounded=CSV_WALL)`."""
    result = session.connection().execute(
        tickets_query(scope, csv=True).execution_options(stream_results=True)
    )
    try:
        # The first batch through the result: with `stream_results` it holds a row it read
        # ahead; once that is given out, the driver's cursor has the rest.
        first = result.fetchmany(size)
        if first:
            yield first
        if len(first) < size:
            return
        cursor = result.cursor
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        result.close()

"""Rows written together: a batch job that changes thousands of tickets in one transaction
(`helpdesk escalate`) adds its new audit events, notes and outbox mail inside
`batched_inserts`; they are then kept as plain values and written with one multi-row INSERT
per table when the block ends, instead of being flushed one by one by the unit of work
(which, to learn each new row's id that nobody reads, inserts them one statement at a time
on SQLite, and one round trip at a time on PostgreSQL).

Outside such a block `add_row` is `session.add`. Inside it, the objects added are never
flushed, so they get no id, and nothing in the block may read them back. Objects are given by
their column values (ids, not related objects).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from tui_helpdesk.store.base import Base

_PENDING = "batching.pending_rows"

Pending = dict[type[Base], list[dict[str, Any]]]


def batching(session: Session) -> bool:
    return session.info.get(_PENDING) is not None


def add_row(session: Session, row: Base) -> None:
    """Add a new row: at once, or at the end of the enclosing `batched_inserts` block."""
    pending: Pending | None = session.info.get(_PENDING)
    if pending is None:
        session.add(row)
    else:
        pending.setdefault(type(row), []).append(_values(row))


def add_values(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """`add_row` for a row given as its column values (no object is built when batching)."""
    pending: Pending | None = session.info.get(_PENDING)
    if pending is None:
        session.add(model(**values))
    else:
        pending.setdefault(model, []).append(values)


@contextmanager
def batched_inserts(session: Session) -> Iterator[None]:
    """Rows added in the block are inserted together when it ends without an error (an
    error leaves them unwritten: the caller rolls its transaction back anyway)."""
    if session.info.get(_PENDING) is not None:  # already batching: the outer block writes
        yield
        return
    pending: Pending = {}
    session.info[_PENDING] = pending
    try:
        yield
    finally:
        session.info.pop(_PENDING, None)
    for model, rows in pending.items():
        # Every row with every key, None included: the ORM then sends the rows as one
        # executemany; left to itself it omits the None values, and rows whose None values
        # differ fall into separate statements (thousands of them in an escalation batch).
        session.execute(insert(model).execution_options(render_nulls=True), rows)


def _values(row: Base) -> dict[str, Any]:
    """The column values set on a new object; columns left unset get their defaults."""
    state = row.__dict__
    return {
        attr.key: state[attr.key] for attr in inspect(type(row)).column_attrs if attr.key in state
    }

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
from typing import Any, cast

from sqlalchemy import Table, insert, inspect
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
        _insert_rows(session, model, rows)


def _insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT per set of keys (one in practice: `record` and `add_row` give
    every row of a table the same keys), as Core statements on the table: the ORM's bulk
    INSERT would read each row again to find what to send. Every key is sent, None
    included; a column a row does not name gets its default, as from the ORM."""
    table = cast(Table, model.__table__)
    columns = _column_keys(model)
    connection = session.connection()
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_keys.setdefault(tuple(row), []).append(row)
    for keys, group in by_keys.items():
        if any(columns.get(key, key) != key for key in keys):
            group = [{columns.get(key, key): value for key, value in row.items()} for row in group]
        connection.execute(insert(table), group)


_COLUMN_KEYS: dict[type[Base], dict[str, str]] = {}


def _column_keys(model: type[Base]) -> dict[str, str]:
    """Attribute name -> column key of a model's columns (the same names in our models)."""
    found = _COLUMN_KEYS.get(model)
    if found is None:
        found = {attr.key: attr.columns[0].key for attr in inspect(model).column_attrs}
        _COLUMN_KEYS[model] = found
    return found


def _values(row: Base) -> dict[str, Any]:
    """The column values set on a new object; columns left unset get their defaults."""
    state = row.__dict__
    return {
        attr.key: state[attr.key] for attr in inspect(type(row)).column_attrs if attr.key in state
    }

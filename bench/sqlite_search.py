"""SQLite: the desk's full-text indexes built beside the load, in a process of their own.

On SQLite the FTS5 tables are fed by triggers, so indexing every message would run in the one
process that writes the desk, and that process is the generator's critical path (it copies
every part in, then builds the secondary indexes). Instead, bench.generate drops the search
triggers for the load, and a `SearchBuilder` process indexes the same rows, in the same
order, into FTS5 tables declared alike in a scratch file: the reference rows first, then
each part as it comes. FTS5 keeps an index wholly in its shadow tables (`<name>_data`,
`_idx`, `_docsize`, `_config`; the content stays in the desk's own tables), so `install`
copies those into the desk, and the triggers are created again as they were. The result is
the index the triggers would have built (a test compares).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.rows import Deferred

FTS5_AUTOMERGE = 4  # FTS5's default
BUILDER_SCHEMA = "search"


@dataclass(frozen=True)
class SearchIndex:
    """One FTS5 table: its DDL, the table it indexes (and that table's column of the rowid)
    and the columns it takes."""

    name: str
    ddl: str
    table: str
    rowid: str
    columns: tuple[str, ...]


def _options(ddl: str) -> dict[str, str]:
    """The `key = 'value'` options of an FTS5 declaration."""
    options = {}
    for option in ddl.split("(", 1)[1].rstrip(")").split(","):
        key, equals, value = option.partition("=")
        if equals:
            options[key.strip()] = value.strip().strip("'\"")
    return options


def read_indexes(connection: sqlite3.Connection, names: Sequence[str]) -> list[SearchIndex]:
    indexes = []
    for name in names:
        (ddl,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        columns = tuple(row[1] for row in connection.execute(f"PRAGMA table_info({name})"))
        options = _options(ddl)
        if "content" not in options:
            raise ValueError(f"not an external-content FTS5 table: {ddl}")
        rowid = options.get("content_rowid", "rowid")
        indexes.append(SearchIndex(name, ddl, options["content"], rowid, columns))
    return indexes


def drop_triggers(connection: sqlite3.Connection, indexes: Sequence[SearchIndex]) -> list[str]:
    """Drops the triggers of the indexed tables (inside the load's transaction); returns
    their definitions, in order, for `install`."""
    tables = [index.table for index in indexes]
    found = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
        f"({', '.join('?' for _ in tables)}) ORDER BY rowid",
        tables,
    ).fetchall()
    for name, _sql in found:
        connection.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in found]


def _automerge(connection: sqlite3.Connection, indexes: Sequence[SearchIndex], level: int) -> None:
    """FTS5 merges index segments as rows arrive; off during the load (a quarter faster,
    the segments are merged when full anyway), back to the default after."""
    for index in indexes:
        connection.execute(
            f"INSERT INTO {index.name} ({index.name}, rank) VALUES ('automerge', {level})"
        )


def _build(
    path: str,
    indexes: Sequence[SearchIndex],
    reference: Deferred,
    parts: Any,  # multiprocessing queue of (part, scratch file), None at the end
    part_tables: Sequence[str],
) -> None:
    """In the builder process: index the reference rows, then each part as it comes."""
    by_table = {index.table: index for index in indexes}
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    for index in indexes:
        connection.execute(index.ddl)
    connection.execute("BEGIN")
    _automerge(connection, indexes, 0)
    for table, columns, rows in reference.pending:
        index = by_table.get(table)
        if index is None:
            continue
        at = [columns.index(c) for c in (index.rowid, *index.columns)]
        names = ", ".join(index.columns)
        marks = ", ".join("?" for _ in at)
        connection.executemany(
            f"INSERT INTO {index.name} (rowid, {names}) VALUES ({marks})",
            ([row[i] for i in at] for row in rows),
        )
    while (item := parts.get()) is not None:
        part, part_path = item
        connection.execute(f"ATTACH DATABASE ? AS part{part}", (part_path,))
        for table in part_tables:
            index = by_table.get(table)
            if index is not None:
                names = ", ".join(index.columns)
                connection.execute(
                    f"INSERT INTO {index.name} (rowid, {names}) "
                    f"SELECT {index.rowid}, {names} FROM part{part}.{table} "
                    f"ORDER BY {index.rowid}"
                )
    _automerge(connection, indexes, FTS5_AUTOMERGE)
    connection.execute("COMMIT")
    connection.close()


class SearchBuilder:
    """The builder process. `add` hands it a part's scratch file (in part order), `finish`
    waits for it."""

    def __init__(
        self,
        path: str,
        indexes: Sequence[SearchIndex],
        reference: Deferred,
        part_tables: Sequence[str],
    ) -> None:
        self.path = path
        self.indexes = list(indexes)
        context = multiprocessing.get_context("fork")  # the reference rows stay in memory
        self._parts: Any = context.Queue()
        self._process = context.Process(
            target=_build,
            args=(path, self.indexes, reference, self._parts, tuple(part_tables)),
            name="search-index",
            daemon=True,
        )
        self._process.start()

    def add(self, part: int, path: str) -> None:
        self._parts.put((part, path))

    def finish(self) -> None:
        self._parts.put(None)
        self._process.join()
        if self._process.exitcode != 0:
            raise RuntimeError(f"building the search indexes failed ({self._process.exitcode})")

    def stop(self) -> None:
        """After a failure elsewhere: the builder ends, its work is lost."""
        if self._process.is_alive():
            self._process.kill()
        self._process.join()

    def install(self, connection: sqlite3.Connection, triggers: Sequence[str]) -> None:
        """Copy the built indexes' shadow tables into the desk (inside the load's
        transaction) and create the triggers again. The scratch file stays attached as
        `search` until the caller detaches it after the commit."""
        connection.execute(f"ATTACH DATABASE ? AS {BUILDER_SCHEMA}", (self.path,))
        for index in self.indexes:
            shadows = [
                row[0]
                for row in connection.execute(
                    f"SELECT name FROM {BUILDER_SCHEMA}.sqlite_master "
                    "WHERE type = 'table' AND name LIKE ? ESCAPE '\\' ORDER BY name",
                    (index.name.replace("_", "\\_") + "\\_%",),
                )
            ]
            for shadow in shadows:
                connection.execute(f"DELETE FROM main.{shadow}")
                connection.execute(
                    f"INSERT INTO main.{shadow} SELECT * FROM {BUILDER_SCHEMA}.{shadow}"
                )
        for sql in triggers:
            connection.execute(sql)

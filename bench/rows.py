"""Rows as the bulk loaders take them: value formats per driver and a table writer.

Shared by the generator's parts (bench.reference, bench.tickets) and bench.generate, which
owns the connections. Timestamps are whole UTC seconds on the hot path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

CHUNK = 20_000  # rows buffered per table before a write


class Formats:
    """Values as each driver takes them in bulk. Timestamps are whole UTC seconds, rendered
    from cached day and time-of-day strings (formatting datetimes is the hot spot otherwise):
    SQLAlchemy's SQLite text form, or PostgreSQL's text form for COPY."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.suffix = ".000000" if backend == "sqlite" else "+00"
        self._days: dict[int, str] = {}
        self._hms = [
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def ts(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, second = divmod(seconds, 86400)
        day_text = self._days.get(day)
        if day_text is None:
            day_text = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
            self._days[day] = day_text
        return f"{day_text} {self._hms[second]}{self.suffix}"

    def dt(self, value: datetime | None) -> str | None:
        """An aware datetime (the rules' results); whole seconds take the fast path."""
        if value is None:
            return None
        if value.microsecond == 0:
            return self.ts(int(value.timestamp()))
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text if self.backend == "sqlite" else f"{text}+00"

    def json(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def bool(self, value: bool) -> Any:
        return (1 if value else 0) if self.backend == "sqlite" else value


class Writer:
    """Appends rows to tables: `executemany` on SQLite, `COPY` on PostgreSQL."""

    def __init__(self, driver_connection: Any, backend: str) -> None:
        self.driver = driver_connection
        self.backend = backend
        self.rows = 0

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        names = ", ".join(f'"{c}"' for c in columns)
        cursor = self.driver.cursor()
        try:
            if self.backend == "sqlite":
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            else:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()


class Deferred(Writer):
    """Keeps the rows written to it, to be written later through a real writer (so rows can
    be made before the database is free to take them)."""

    def __init__(self) -> None:
        super().__init__(None, "deferred")
        self.pending: list[tuple[str, Sequence[str], Sequence[tuple[Any, ...]]]] = []

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            self.rows += len(rows)
            self.pending.append((table, columns, rows))

    def write_into(self, writer: Writer) -> None:
        for table, columns, rows in self.pending:
            writer.write(table, columns, rows)
        self.pending.clear()

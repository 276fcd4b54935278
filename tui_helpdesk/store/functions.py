"""SQL functions the two back ends spell differently, as SQLAlchemy constructs, and the
escaping of text matched literally by LIKE (light: the CLI's start-up imports this).

Used by the services' aggregate queries (customer history, the reports) and look-ups.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class elapsed_seconds(FunctionElement[float]):
    """`elapsed_seconds(later, earlier)`: seconds between two timestamp columns, as a float.
    SQLite stores timestamps as ISO text (naive UTC, see `store.base.UTCDateTime`), so it
    goes through julianday(); PostgreSQL subtracts and takes the epoch of the interval."""

    type = Float()
    name = "elapsed_seconds"
    inherit_cache = True


@compiles(elapsed_seconds, "sqlite")
def _elapsed_sqlite(element: elapsed_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(elapsed_seconds, "postgresql")
def _elapsed_postgres(element: elapsed_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


def like_escape(value: str) -> str:
    """`value` matched literally by LIKE/ILIKE ... ESCAPE '\\'."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

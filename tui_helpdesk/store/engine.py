"""Engine and session factory, built once from settings at start-up (never at import).

SQLite gets WAL, foreign keys and a busy timeout on every connection; PostgreSQL goes through
psycopg 3. Callers own their units of work: `with factory.begin() as session: ...`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:  # the driver loads with the first SQLite engine, not for PostgreSQL
    import sqlite3

    from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000


def normalise_url(url: str) -> str:
    """Accept the plain `postgresql://` spelling and route it to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _prepare_sqlite_file(Path(parsed.database).expanduser())
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # No column is HSTORE: without this, the engine's first connection asks the server for
    # the hstore type (one more round trip and type lookup in every process).
    kwargs.setdefault("use_native_hstore", False)
    return create_engine(url, **kwargs)


def _prepare_sqlite_file(path: Path) -> None:
    """The file's directory made; a new file made readable by its owner alone (whoever can
    open it can act as anyone on the desk). SQLite gives its `-wal` and `-shm` files the
    mode of the database file. An existing file keeps the mode its admin gave it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        path.touch(mode=0o600, exist_ok=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN: the driver's implicit transactions
        # would otherwise defeat BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a read that later upgrades to a write could otherwise
        # fail with SQLITE_BUSY without waiting. Read-only work uses `read_only=True` sessions.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """One database: its engine and the units of work opened on it.

    `write()` is a transaction that commits on success (on SQLite it takes the write lock at
    BEGIN, so two writers queue instead of failing); `read()` is a snapshot that never writes.
    Each call gives a new session; sessions are never shared between threads.
    """

    def __init__(
        self, url: str, *, info: dict[str, Any] | None = None, **engine_kwargs: Any
    ) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        # `info` is copied into every session: what the edge knows that services need, such
        # as the desk's mail address and templates (`services.mail_setup.mail_info`).
        self._info = info or {}

    @cached_property
    def _factory(self) -> sessionmaker[Session]:
        # The ORM is imported with the first session, so that work done in Core alone (cron's
        # escalation run with nothing due) starts without it.
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False, info=self._info)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._factory.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._factory() as session:
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def read_core(self) -> Iterator[Connection]:
        """`read()` without the ORM: a Core connection on a snapshot that never writes."""
        with self.engine.connect() as connection:
            connection.execution_options(sqlite_begin="DEFERRED")
            try:
                yield connection
            finally:
                connection.rollback()

    def dispose(self) -> None:
        self.engine.dispose()

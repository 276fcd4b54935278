"""The engine's connection settings, checked on real connections."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tui_helpdesk.store.engine import SQLITE_BUSY_TIMEOUT_MS, Store, normalise_url


def test_sqlite_pragmas_on_every_connection(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    try:
        for _ in range(2):  # a second, pooled or fresh, connection has them too
            with store.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert (
                    connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                    == SQLITE_BUSY_TIMEOUT_MS
                )
        with store.read() as session:
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        store.dispose()


def test_sqlite_foreign_keys_are_enforced(sqlite_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    store = Store(sqlite_url)
    try:
        with pytest.raises(IntegrityError), store.write() as session:
            session.execute(
                text(
                    "INSERT INTO messages (ticket_id, kind, body, created_at)"
                    " VALUES (999, 'note', 'orphan', '2026-11-23 09:30:00')"
                )
            )
    finally:
        store.dispose()


def test_sqlite_file_directory_is_created(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/a/b/desk.db")
    try:
        with store.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert (tmp_path / "a" / "b" / "desk.db").exists()
        assert store.backend == "sqlite"
    finally:
        store.dispose()


def test_a_new_sqlite_desk_is_its_owners_alone(tmp_path: Path) -> None:
    """A new file (and its write-ahead log) is readable by its owner only, whatever the
    umask; an existing file keeps the mode it was given."""
    store = Store(f"sqlite:///{tmp_path}/desk.db")
    try:
        with store.write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
        assert modes == {"desk.db": 0o600, "desk.db-wal": 0o600, "desk.db-shm": 0o600}
    finally:
        store.dispose()
    shared = tmp_path / "shared.db"
    shared.touch(mode=0o660)
    shared.chmod(0o660)
    Store(f"sqlite:///{shared}").dispose()
    assert shared.stat().st_mode & 0o777 == 0o660


def test_postgres_url_goes_through_psycopg() -> None:
    assert normalise_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert normalise_url("postgres://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_store_backends(store: Store) -> None:
    assert store.backend in ("sqlite", "postgresql")
    with store.write() as session:
        session.execute(text("UPDATE counters SET value = value + 1 WHERE name = 'ticket'"))
    with store.read() as session:
        assert session.execute(text("SELECT value FROM counters")).scalar_one() == 1

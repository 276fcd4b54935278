"""`runtime.temporary`: which real driver errors cron should retry (exit 75), which not (1)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import postgres_admin_url
from tui_helpdesk.cli.runtime import temporary


def _error(url: str, statement: str = "SELECT count(*) FROM sqlite_master") -> DBAPIError:
    """The error SQLAlchemy raises running `statement` on `url`."""
    engine = create_engine(url, connect_args={"timeout": 0} if url.startswith("sqlite") else {})
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{statement!r} on {url} did not fail")


def _sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    return path


def test_sqlite_busy_and_unopenable_are_temporary(tmp_path: Path) -> None:
    path = _sqlite_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another run is writing
    try:
        busy = _error(f"sqlite:///{path}", "INSERT INTO t VALUES (1)")
    finally:
        holder.close()
    assert "database is locked" in str(busy.orig) and temporary(busy)
    cannot_open = _error(f"sqlite:///{tmp_path / 'not-mounted-yet' / 'desk.db'}")
    assert "unable to open database file" in str(cannot_open.orig) and temporary(cannot_open)


def test_sqlite_errors_the_next_run_meets_again_are_not(tmp_path: Path) -> None:
    path = _sqlite_file(tmp_path)
    read_only = _error(f"sqlite:///file:{path}?mode=ro&uri=true", "INSERT INTO t VALUES (1)")
    assert "readonly database" in str(read_only.orig)
    no_table = _error(f"sqlite:///{path}", "SELECT * FROM nowhere")
    assert "no such table" in str(no_table.orig)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database, just words\n" * 100)
    not_a_database = _error(f"sqlite:///{text_file}")
    assert "file is not a database" in str(not_a_database.orig)
    for permanent in (read_only, no_table, not_a_database):
        assert not temporary(permanent), permanent.orig


def test_postgresql_unreachable_is_temporary_an_error_of_sql_is_not() -> None:
    assert temporary(_error("postgresql+psycopg://helpdesk@127.0.0.1:1/desk", "SELECT 1"))
    admin = postgres_admin_url()  # skips without a server
    assert admin is not None
    no_table = _error(admin, "SELECT * FROM no_such_table_here")
    assert getattr(no_table.orig, "sqlstate", None) == "42P01"
    assert not temporary(no_table)


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [("08006", True), ("57P01", True), ("53300", True), ("42703", False), ("23505", False)],
)
def test_postgresql_sqlstates(sqlstate: str, expected: bool) -> None:
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy.exc import OperationalError

    orig = psycopg.errors.lookup(sqlstate)("server said so")
    assert orig.sqlstate == sqlstate
    assert temporary(OperationalError("SELECT 1", None, orig)) is expected

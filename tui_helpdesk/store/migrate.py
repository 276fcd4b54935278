"""Schema migrations: the alembic scripts shipped inside the package, run programmatically.

`helpdesk init` and `helpdesk db upgrade` call `upgrade()`; tests call it to build databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from tui_helpdesk.store.engine import Store

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@contextmanager
def _migrating(store: Store) -> Iterator[Connection]:
    """A connection in one transaction for migrations. On SQLite, foreign keys are off while
    migrations run: a batch migration rebuilds a table by copy, drop and rename, and dropping
    a table with foreign keys on would delete every row that references it through ON DELETE
    CASCADE (a ticket's messages). The references are checked before commit instead."""
    with store.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection if sqlite else None
        if raw is not None:
            # On the driver connection, outside any transaction: inside one it is ignored.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if raw is not None:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"migration left a broken reference: {tuple(broken)}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to `revision`; returns (before, after)."""
    before = current_revision(store)
    config = _config()
    with _migrating(store) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return before, current_revision(store)


def downgrade(store: Store, revision: str) -> tuple[str | None, str | None]:
    """Take the schema back to `revision` ("base" drops every table); returns (before, after).
    For developers and tests: data in dropped tables is lost."""
    before = current_revision(store)
    config = _config()
    with _migrating(store) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return before, current_revision(store)


def revise(store: Store, message: str) -> None:
    """Developer helper: autogenerate a new migration against `store` (at head)."""
    config = _config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)

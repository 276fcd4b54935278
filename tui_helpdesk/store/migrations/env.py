"""Alembic environment: runs on the connection handed over by `store.migrate`."""

from __future__ import annotations

from alembic import context

from tui_helpdesk.store import models  # noqa: F401  (registers every table)
from tui_helpdesk.store.base import Base
from tui_helpdesk.store.search_schema import is_search_object

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Full-text search objects are managed by hand-written migrations.
    return not is_search_object(name, type_)


def run_migrations() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

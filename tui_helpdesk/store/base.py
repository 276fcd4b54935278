"""The declarative base, naming convention and column types shared by every model.

Constraint names are fixed by convention so that alembic batch migrations on SQLite can
address them. Timestamps are `store.types.UTCDateTime`, always timezone-aware UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Enum, Index, MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.compiler import DDLCompiler

from tui_helpdesk.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def str_enum(enum_cls: type[enum.Enum], length: int = 16) -> Enum:
    """A portable enum column: VARCHAR of the member values, no native type to migrate."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of the rows matching `where` (SQL both back ends read alike). The predicate
    is kept in the index's `info` and written by `CreateIndex` below, rather than given as
    `sqlite_where` and `postgresql_where`: those names load their dialect's package to be
    checked, so declaring the models would import PostgreSQL's dialect on SQLite."""
    return Index(name, *columns, info={"where": where})


@compiles(CreateIndex)
def _create_index(element: CreateIndex, compiler: DDLCompiler, **kw: Any) -> str:
    """CREATE INDEX as the dialect writes it, with a partial index's WHERE (`partial_index`)."""
    ddl = compiler.visit_create_index(element, **kw)
    where = element.element.info.get("where")
    return ddl if where is None else f"{ddl} WHERE {where}"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}

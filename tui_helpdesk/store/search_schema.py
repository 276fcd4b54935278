"""Which schema objects belong to full-text search, and are therefore not models.

The search indexes are written by hand in migrations, per back end: SQLite FTS5 tables
(external content, kept in sync by triggers) with their shadow and vocabulary tables;
PostgreSQL generated `search_vector` columns, their GIN indexes, and the `search_terms`
vocabulary for typo correction (migration 0004); a B-tree on `lower(contacts.name)` for names
starting with what was typed, and a GIN index on the article tags as `jsonb` for `tag:`
filters (0007). All their indexes are named `ix_search_...` (the benchmark generator drops
and rebuilds them around its bulk load). Alembic's autogenerate and the drift test skip them
with `is_search_object`, so they never show up as "tables to drop".

A later migration that rebuilds `articles`, `tickets`, `messages` or `contacts` on SQLite (a
batch copy-and-rename) drops their triggers with them: it must create them again.
"""

from __future__ import annotations

import re

_SEARCH_TABLE = re.compile(r"^(?:\w+_fts(?:_\w+)?|search_terms)$")
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX_PREFIX = "ix_search_"


def is_search_object(name: str | None, type_: str) -> bool:
    """True for a full-text search table, column or index (see the module docstring)."""
    if name is None:
        return False
    if type_ == "table":
        return bool(_SEARCH_TABLE.match(name))
    if type_ == "column":
        return name == SEARCH_COLUMN
    if type_ == "index":
        return name.startswith(SEARCH_INDEX_PREFIX)
    return False

"""Search tuning on PostgreSQL: two more search indexes (see `store.search_schema`).

Revision ID: 0007
Revises: 0006

- `ix_search_contacts_name_prefix`: `lower(name)` in a B-tree with `text_pattern_ops`, so
  "the name starts with ..." is an index range (the pg_trgm index finds every name holding
  the text's trigrams anywhere, then reads them all to keep the few that start with it:
  ~10,000 rows for the start of a common surname at 200,000 contacts).
- `ix_search_articles_tags`: the article tags as `jsonb` in a GIN index (`jsonb_path_ops`),
  so a `tag:` filter is an index condition ANDed with the full-text match instead of a
  JSON parse of every matching article.

SQLite needs neither: its FTS5 tables serve both lookups.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_search_contacts_name_prefix", "contacts (lower(name) text_pattern_ops)"),
    ("ix_search_articles_tags", "articles USING gin ((CAST(tags AS jsonb)) jsonb_path_ops)"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, definition in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, _definition in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")

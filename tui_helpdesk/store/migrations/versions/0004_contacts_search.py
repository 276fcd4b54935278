"""Contacts with several emails and phones, merged duplicates, and full-text search.

Revision ID: 0004
Revises: 0003

- `messages.author_contact_id` is indexed (merging contacts moves their messages).
- `contact_emails` / `contact_phones` hold every address and number of a contact (the
  primary ones stay in `contacts.email` / `contacts.phone` and are listed too);
  `contacts.merged_into_id` marks a duplicate folded into another contact.
- Full-text search (see `store.search_schema`). SQLite: FTS5 external-content tables over
  articles (title, body, tags), ticket subjects and message bodies (Porter stemming, Unicode,
  diacritics folded, prefix indexes for search-as-you-type) and a trigram table over contact
  names (typo-tolerant caller lookup), kept in sync by triggers; fts5vocab tables expose the
  indexed words for typo correction. PostgreSQL: generated `search_vector` columns with GIN
  indexes, pg_trgm indexes on contact names and on `search_terms`, the words of articles and
  ticket subjects (learnt by a trigger) that typo correction draws on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_STEMMED = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"

# (FTS table, content table, indexed columns, FTS options)
_SQLITE_FTS = (
    ("articles_fts", "articles", ("title", "body", "tags"), _STEMMED),
    ("tickets_fts", "tickets", ("subject",), _STEMMED),
    ("messages_fts", "messages", ("body",), _STEMMED),
    ("contacts_fts", "contacts", ("name",), "tokenize = 'trigram'"),
)
_SQLITE_VOCAB = ("articles_fts", "tickets_fts")

# (table, tsvector expression)
_PG_VECTORS = (
    (
        "articles",
        "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(tags::text, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(body, '')), 'C')",
    ),
    ("tickets", "to_tsvector('english', coalesce(subject, ''))"),
    ("messages", "to_tsvector('english', coalesce(body, ''))"),
)
# Tables whose words typo correction learns, and the columns that feed their vectors.
_PG_LEARNED = (("articles", "title, body"), ("tickets", "subject"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # An inline REFERENCES: SQLite adds it with the column, without rebuilding the table.
        op.execute(
            "ALTER TABLE contacts ADD COLUMN merged_into_id INTEGER "
            "CONSTRAINT fk_contacts_merged_into_id_contacts REFERENCES contacts (id)"
        )
    else:
        op.add_column("contacts", sa.Column("merged_into_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_contacts_merged_into_id_contacts"),
            "contacts",
            "contacts",
            ["merged_into_id"],
            ["id"],
        )
    op.create_table(
        "contact_emails",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_emails_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_contact_emails")),
    )
    op.create_index(
        op.f("ix_contact_emails_contact_id"), "contact_emails", ["contact_id"], unique=False
    )
    op.create_table(
        "contact_phones",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_phones_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "phone", name=op.f("pk_contact_phones")),
    )
    op.create_index(op.f("ix_contact_phones_phone"), "contact_phones", ["phone"], unique=False)
    # Merging contacts moves the messages they wrote.
    op.create_index(
        op.f("ix_messages_author_contact_id"), "messages", ["author_contact_id"], unique=False
    )
    op.execute(
        "INSERT INTO contact_emails (email, contact_id) "
        "SELECT email, id FROM contacts WHERE email IS NOT NULL"
    )
    op.execute(
        "INSERT INTO contact_phones (contact_id, phone) "
        "SELECT id, phone FROM contacts WHERE phone IS NOT NULL"
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_search_up()
    else:
        _postgres_search_up()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_search_down()
    else:
        _postgres_search_down()
    op.drop_index(op.f("ix_messages_author_contact_id"), table_name="messages")
    op.drop_index(op.f("ix_contact_phones_phone"), table_name="contact_phones")
    op.drop_table("contact_phones")
    op.drop_index(op.f("ix_contact_emails_contact_id"), table_name="contact_emails")
    op.drop_table("contact_emails")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("merged_into_id")


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_search_up() -> None:
    for fts, table, columns, options in _SQLITE_FTS:
        names = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content = '{table}', "
            f"content_rowid = 'id', {options})"
        )
        insert = f"INSERT INTO {fts} (rowid, {names}) VALUES (new.id, {new});"
        delete = f"INSERT INTO {fts} ({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END")
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} "
            f"BEGIN {delete} {insert} END"
        )
        op.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
    for fts in _SQLITE_VOCAB:
        op.execute(f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')")


def _sqlite_search_down() -> None:
    for fts in _SQLITE_VOCAB:
        op.execute(f"DROP TABLE IF EXISTS {fts}_vocab")
    for fts, _table, _columns, _options in _SQLITE_FTS:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres_search_up() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, vector in _PG_VECTORS:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({vector}) STORED"
        )
        op.execute(f"CREATE INDEX ix_search_{table} ON {table} USING gin (search_vector)")
    op.execute("CREATE INDEX ix_search_contacts_name ON contacts USING gin (name gin_trgm_ops)")
    op.execute("CREATE TABLE search_terms (term text PRIMARY KEY)")
    op.execute("CREATE INDEX ix_search_terms_trgm ON search_terms USING gin (term gin_trgm_ops)")
    # Words in sorted order, so two transactions learning the same new words cannot deadlock.
    op.execute(
        """
        CREATE FUNCTION search_terms_learn() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_terms (term)
            SELECT lexeme FROM unnest(NEW.search_vector)
            WHERE length(lexeme) BETWEEN 3 AND 40
            ORDER BY lexeme
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
        $$
        """
    )
    for table, columns in _PG_LEARNED:
        op.execute(
            f"CREATE TRIGGER {table}_search_terms AFTER INSERT OR UPDATE OF {columns} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION search_terms_learn()"
        )
        op.execute(
            f"INSERT INTO search_terms (term) SELECT DISTINCT lexeme FROM {table}, "
            "unnest(search_vector) WHERE length(lexeme) BETWEEN 3 AND 40 ON CONFLICT DO NOTHING"
        )


def _postgres_search_down() -> None:
    for table, _columns in _PG_LEARNED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_search_terms ON {table}")
    op.execute("DROP FUNCTION IF EXISTS search_terms_learn()")
    op.execute("DROP TABLE IF EXISTS search_terms")
    op.execute("DROP INDEX IF EXISTS ix_search_contacts_name")
    for table, _vector in _PG_VECTORS:
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")

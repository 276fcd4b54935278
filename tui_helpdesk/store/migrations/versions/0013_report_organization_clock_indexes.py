"""Reports: each organization's met clocks of a period, read from indexes alone.

Revision ID: 0013
Revises: 0012

- `ix_tickets_org_first_response` and `ix_tickets_org_resolved` (new, partial: answered,
  resolved tickets only, as `ix_tickets_report_first_response` and
  `ix_tickets_report_resolved`): the organization first, then the clock's time and what
  the customers report tests of it (merge, state, breach, creation). The report counts
  each organization's first responses and resolutions met in a period; SQLite groups by
  sorting (a year of a million-ticket desk: 400,000 rows per clock), so there each
  organization's counts are read from its own range of these, a seek per organization.
  Only answered and resolved tickets are in them, so the writes of running clocks
  (escalation's breaches, the queue's changes) never touch them.

On SQLite, when the database keeps planner statistics (`sqlite_stat1`), the two indexes get
theirs. The downgrade drops them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_org_first_response": (
        [
            "organization_id",
            "first_response_at",
            "merged_into_id",
            "first_response_state",
            "first_response_breached",
            "created_at",
        ],
        "first_response_at IS NOT NULL",
    ),
    "ix_tickets_org_resolved": (
        [
            "organization_id",
            "resolved_at",
            "merged_into_id",
            "resolution_state",
            "resolution_breached",
            "created_at",
        ],
        "resolved_at IS NOT NULL",
    ),
}


def upgrade() -> None:
    for name, (columns, where) in INDEXES.items():
        predicate = sa.text(where)
        op.create_index(
            name, "tickets", columns, sqlite_where=predicate, postgresql_where=predicate
        )
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    ):
        for name in INDEXES:
            op.execute(f"ANALYZE {name}")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")

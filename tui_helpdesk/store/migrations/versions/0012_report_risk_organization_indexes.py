"""Reports: the running deadlines at risk, and each organization's tickets by creation, read
from indexes alone.

Revision ID: 0012
Revises: 0011

- `ix_tickets_at_risk` (new, partial: running deadlines only): `due_at` with the SLA
  calendar, status and merge of each ticket, what "at risk now" and "overdue now" (summary
  and SLA reports) test. They read the deadlines up to the latest calendar's horizon, most
  of a desk's open tickets; through `ix_tickets_status_updated` each one cost a look-up of
  its row for the calendar (0.5 s on PostgreSQL for 80,000 open tickets, 60 ms with this).
- `ix_tickets_organization_id`: widened by the creation time (and the merge), so the
  customers report counts each organization's tickets of a period from its own range
  (SQLite groups by sorting: 400,000 rows for a year of a million-ticket desk). It still
  serves the look-ups by organization it served.

On SQLite, when the database keeps planner statistics (`sqlite_stat1`, as a generated or
analysed desk does), the two indexes get theirs, so the planner weighs them with the rest.
The downgrade puts the narrow index back and drops the new one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

AT_RISK = ["due_at", "sla_calendar", "status", "merged_into_id"]
ORGANIZATION = ["organization_id", "created_at", "merged_into_id"]


def upgrade() -> None:
    running = sa.text("due_at IS NOT NULL")
    op.create_index(
        "ix_tickets_at_risk",
        "tickets",
        AT_RISK,
        sqlite_where=running,
        postgresql_where=running,
    )
    op.drop_index("ix_tickets_organization_id", table_name="tickets")
    op.create_index("ix_tickets_organization_id", "tickets", ORGANIZATION)
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    ):
        op.execute("ANALYZE ix_tickets_at_risk")
        op.execute("ANALYZE ix_tickets_organization_id")


def downgrade() -> None:
    op.drop_index("ix_tickets_organization_id", table_name="tickets")
    op.create_index("ix_tickets_organization_id", "tickets", ["organization_id"])
    op.drop_index("ix_tickets_at_risk", table_name="tickets")

"""Reports: the clocks breached and still running, read from the running deadlines' index.

Revision ID: 0014
Revises: 0013

- `ix_tickets_at_risk` (partial: running deadlines only) widened by each clock's state,
  breach flag and deadline. The SLA, summary and customers reports count a breach from the
  moment it is recorded (`reports.metrics.open_breaches`): such a clock runs on past its
  deadline, so its ticket is overdue and in this index's range up to now. With the clocks'
  columns in the index those tickets' rows are not read (on a generated million-ticket desk
  tens of thousands of overdue tickets, most of them not breached clocks' tickets).

On SQLite, when the database keeps planner statistics (`sqlite_stat1`), the index gets its
own. The downgrade puts the narrower index of 0012 back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

NARROW = ["due_at", "sla_calendar", "status", "merged_into_id"]
WIDE = [
    *NARROW,
    "first_response_state",
    "first_response_breached",
    "first_response_due_at",
    "resolution_state",
    "resolution_breached",
    "resolution_due_at",
]


def _at_risk(columns: list[str]) -> None:
    op.drop_index("ix_tickets_at_risk", table_name="tickets")
    running = sa.text("due_at IS NOT NULL")
    op.create_index(
        "ix_tickets_at_risk", "tickets", columns, sqlite_where=running, postgresql_where=running
    )


def upgrade() -> None:
    _at_risk(WIDE)
    bind = op.get_bind()
    if (
        bind.dialect.name == "sqlite"
        and bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    ):
        op.execute("ANALYZE ix_tickets_at_risk")


def downgrade() -> None:
    _at_risk(NARROW)

"""Covering indexes for the reports: a year of a big desk is read from the indexes alone.

Revision ID: 0011
Revises: 0010

Every report reads the tickets of a period as the index range of one timestamp (creation,
first response, resolution, closing, survey answer) and needs a few columns of each: the
clock's state, target, time left and breach flag, the wall time from creation, the assignee,
the organization, and always `merged_into_id` (merged tickets are left out). Looking each
ticket up in the table cost about a microsecond a row on SQLite (a year of a million-ticket
desk is ~400,000 rows per range, read several times per report); with those columns in the
index the ranges are read from the index alone (PostgreSQL: index-only scans, as far as the
visibility map allows).

- `ix_tickets_report_first_response`, `ix_tickets_report_resolved`: new, partial (answered,
  resolved tickets only), so the running clocks of open tickets, which change often, are not
  in them; the plain `ix_tickets_first_response` and `ix_tickets_resolved` stay for the
  queries that look for unanswered or unresolved tickets.
- `ix_tickets_created`, `ix_tickets_closed`, `ix_tickets_csat_at`: the same leading column,
  widened by columns that rarely change (what volume, categories, customers, the backlog and
  satisfaction read), so they serve the same queries as before.
- `ix_tickets_status_updated`: widened by what reports read of the open tickets (their load
  per agent and organization, the deadlines at risk now); every update of a ticket moves its
  entry anyway (`updated_at`), so the extra columns cost the writes nothing.

The downgrade puts the narrow indexes back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FIRST_RESPONSE = [
    "first_response_at",
    "merged_into_id",
    "first_response_state",
    "first_response_breached",
    "first_response_target",
    "first_response_remaining",
    "created_at",
    "assignee_id",
    "organization_id",
]
RESOLVED = [
    "resolved_at",
    "merged_into_id",
    "resolution_state",
    "resolution_breached",
    "sla_cycle",
    "resolution_target",
    "resolution_remaining",
    "created_at",
    "assignee_id",
    "organization_id",
]
CREATED = [
    "created_at",
    "merged_into_id",
    "channel",
    "category_id",
    "organization_id",
    "requester_id",
]
CLOSED = ["closed_at", "merged_into_id", "resolved_at", "created_at"]
CSAT = ["csat_at", "merged_into_id", "csat_score"]
STATUS = [
    "status",
    "updated_at",
    "id",
    "merged_into_id",
    "due_at",
    "assignee_id",
    "organization_id",
    "created_at",
]


def _partial(column: str) -> dict[str, sa.TextClause]:
    condition = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


def upgrade() -> None:
    op.create_index(
        "ix_tickets_report_first_response",
        "tickets",
        FIRST_RESPONSE,
        **_partial("first_response_at"),
    )
    op.create_index("ix_tickets_report_resolved", "tickets", RESOLVED, **_partial("resolved_at"))
    op.drop_index("ix_tickets_created", table_name="tickets")
    op.create_index("ix_tickets_created", "tickets", CREATED)
    op.drop_index("ix_tickets_closed", table_name="tickets")
    op.create_index("ix_tickets_closed", "tickets", CLOSED)
    op.drop_index("ix_tickets_csat_at", table_name="tickets")
    op.create_index("ix_tickets_csat_at", "tickets", CSAT, **_partial("csat_at"))
    op.drop_index("ix_tickets_status_updated", table_name="tickets")
    op.create_index("ix_tickets_status_updated", "tickets", STATUS)


def downgrade() -> None:
    op.drop_index("ix_tickets_status_updated", table_name="tickets")
    op.create_index("ix_tickets_status_updated", "tickets", ["status", "updated_at", "id"])
    op.drop_index("ix_tickets_csat_at", table_name="tickets")
    op.create_index("ix_tickets_csat_at", "tickets", ["csat_at"], **_partial("csat_at"))
    op.drop_index("ix_tickets_closed", table_name="tickets")
    op.create_index("ix_tickets_closed", "tickets", ["closed_at"])
    op.drop_index("ix_tickets_created", table_name="tickets")
    op.create_index("ix_tickets_created", "tickets", ["created_at"])
    op.drop_index("ix_tickets_report_resolved", table_name="tickets")
    op.drop_index("ix_tickets_report_first_response", table_name="tickets")

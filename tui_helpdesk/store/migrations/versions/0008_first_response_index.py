"""Tickets by the time of their first response: the response and SLA reports read a
period's first responses as an index range, in time proportional to the period rather than
to the desk's whole history.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_first_response", "tickets", ["first_response_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_first_response", table_name="tickets")

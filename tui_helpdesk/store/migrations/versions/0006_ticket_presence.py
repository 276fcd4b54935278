"""Who has a ticket open, and who is typing on it: one row per agent and ticket, refreshed
while the ticket is on the agent's screen.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_presence",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column(
            "activity",
            sa.Enum("viewing", "typing", name="activity", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_ticket_presence_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_presence_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "agent_id", name=op.f("pk_ticket_presence")),
    )
    op.create_index(op.f("ix_ticket_presence_agent_id"), "ticket_presence", ["agent_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_presence_agent_id"), table_name="ticket_presence")
    op.drop_table("ticket_presence")

"""SLA clock state on tickets, escalation timers, the escalations fired, and when an agent
was last given a ticket by automatic assignment.

Revision ID: 0003
Revises: 0002

Existing tickets keep their deadlines; their clock states are derived from what the ticket
shows (met once answered or resolved, running while a deadline is set), and every active ticket
with a deadline becomes a candidate for the next `helpdesk escalate`, which then records what
is due exactly.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ACTIVE = "('new', 'open', 'pending', 'on_hold')"


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite supports it): no table rebuild, however large the desk.
    op.add_column("tickets", sa.Column("sla_calendar", sa.String(length=64), nullable=True))
    op.add_column(
        "tickets", sa.Column("sla_cycle", sa.Integer(), server_default="0", nullable=False)
    )
    for clock in ("first_response", "resolution"):
        op.add_column("tickets", sa.Column(f"{clock}_state", sa.String(length=16), nullable=True))
        op.add_column("tickets", sa.Column(f"{clock}_target", sa.Integer(), nullable=True))
        op.add_column("tickets", sa.Column(f"{clock}_remaining", sa.Integer(), nullable=True))
        op.add_column(
            "tickets",
            sa.Column(
                f"{clock}_breached",
                sa.Boolean(),
                server_default=sa.text("false"),
                nullable=False,
            ),
        )
    op.add_column(
        "tickets", sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "tickets", sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "tickets", sa.Column("unassigned_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "agents", sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_tickets_next_escalation", "tickets", ["next_escalation_at", "id"], unique=False
    )
    op.execute(
        "UPDATE tickets SET"
        " first_response_state = CASE WHEN first_response_due_at IS NULL THEN NULL"
        "  WHEN first_response_at IS NOT NULL THEN 'met'"
        f"  WHEN status IN {_ACTIVE} THEN 'running' ELSE 'stopped' END,"
        " resolution_state = CASE WHEN resolution_due_at IS NULL THEN NULL"
        f"  WHEN status IN {_ACTIVE} THEN 'running' ELSE 'met' END,"
        " first_response_breached = CASE WHEN first_response_at > first_response_due_at"
        "  THEN true ELSE false END,"
        " resolution_breached = CASE WHEN resolved_at > resolution_due_at THEN true ELSE false END,"
        " last_activity_at = updated_at,"
        f" unassigned_since = CASE WHEN assignee_id IS NULL AND status IN {_ACTIVE}"
        "  THEN created_at END,"
        " next_escalation_at = due_at"
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_escalations_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint(
            "ticket_id", "rule", "cycle", name=op.f("uq_escalations_ticket_id_rule_cycle")
        ),
    )


def downgrade() -> None:
    op.drop_table("escalations")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_next_escalation")
        for column in (
            "unassigned_since",
            "last_activity_at",
            "next_escalation_at",
            "resolution_breached",
            "resolution_remaining",
            "resolution_target",
            "resolution_state",
            "first_response_breached",
            "first_response_remaining",
            "first_response_target",
            "first_response_state",
            "sla_cycle",
            "sla_calendar",
        ):
            batch_op.drop_column(column)

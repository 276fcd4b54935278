"""Mail and reports: files attached to outbox mail, scheduled report runs (one per report
and period), when a ticket's satisfaction answer came in, and the indexes reports read a
period through (events by kind, closings, answers, escalations).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("csat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "outbox_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_attachments_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attachments")),
    )
    op.create_index(op.f("ix_outbox_attachments_outbox_id"), "outbox_attachments", ["outbox_id"])
    op.create_table(
        "report_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_report_runs_outbox_id_outbox"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_runs")),
        sa.UniqueConstraint("name", "period_start", name=op.f("uq_report_runs_name_period_start")),
    )

    op.create_index("ix_ticket_events_kind_at", "ticket_events", ["kind", "at"])
    op.create_index("ix_tickets_closed", "tickets", ["closed_at"])
    op.create_index(
        "ix_tickets_csat_at",
        "tickets",
        ["csat_at"],
        sqlite_where=sa.text("csat_at IS NOT NULL"),
        postgresql_where=sa.text("csat_at IS NOT NULL"),
    )
    op.create_index("ix_escalations_at", "escalations", ["at"])
    op.create_index(
        "ix_ticket_events_sla_met",
        "ticket_events",
        ["ticket_id", "field"],
        sqlite_where=sa.text("kind = 'sla' AND new = 'met'"),
        postgresql_where=sa.text("kind = 'sla' AND new = 'met'"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_events_sla_met", table_name="ticket_events")
    op.drop_index("ix_escalations_at", table_name="escalations")
    op.drop_index("ix_tickets_csat_at", table_name="tickets")
    op.drop_index("ix_tickets_closed", table_name="tickets")
    op.drop_index("ix_ticket_events_kind_at", table_name="ticket_events")
    op.drop_table("report_runs")
    op.drop_index(op.f("ix_outbox_attachments_outbox_id"), table_name="outbox_attachments")
    op.drop_table("outbox_attachments")
    op.drop_column("tickets", "csat_at")

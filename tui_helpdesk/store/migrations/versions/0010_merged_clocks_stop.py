"""A merged ticket's resolution clock stops instead of being met.

Revision ID: 0010
Revises: 0009

Merging closes the source ticket, and its resolution clock used to count that as the goal
met, so reports counted merges as resolutions in time. `rules/clock.py` now stops the clocks
of a ticket merged while unresolved (its conversation goes on in the target). The upgrade
does the same for the tickets merged before it: a met resolution clock of a merged ticket
never resolved becomes stopped, keeping the working time it had left (0009 kept it on met
clocks; its target when none was measured) and no deadline. The downgrade marks them met
again, as they were.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_MERGED_UNRESOLVED = "merged_into_id IS NOT NULL AND resolved_at IS NULL"


def upgrade() -> None:
    op.execute(
        "UPDATE tickets SET resolution_state = 'stopped', resolution_due_at = NULL,"
        " resolution_remaining = COALESCE(resolution_remaining, resolution_target)"
        f" WHERE {_MERGED_UNRESOLVED} AND resolution_state = 'met'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE tickets SET resolution_state = 'met'"
        f" WHERE {_MERGED_UNRESOLVED} AND resolution_state = 'stopped'"
    )

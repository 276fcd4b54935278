"""Met clocks keep the working time that was left when they were met.

Revision ID: 0009
Revises: 0008

`rules/clock.py` now keeps, on a clock that becomes met, the working time it had left (the
value its "met" ledger entry records), so `tickets.first_response_remaining` and
`tickets.resolution_remaining` hold it and reports compute working times from the ticket
row (target minus remaining) instead of reading the JSON detail of every ledger entry.

The upgrade fills them in for the clocks met before it, from the same ledger entry: the
clock's last "met" entry (the last step recorded; for resolution that is the current
cycle's, since a reopened ticket's clock is met again only in its new cycle). An entry of a
clock met before it was measured ("already met") has no remaining time and leaves NULL. One
UPDATE per back end, set-based: PostgreSQL joins the last entries (DISTINCT ON), SQLite
looks each one up through `ix_ticket_events_sla_met`. The downgrade clears them again
(before 0009 a met clock had no remaining time).

Also an index on the replies of each ticket (the agents report counts them per resolved
ticket).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CLOCKS = ("first_response", "resolution")
MET = "'met'"  # literals, so that the partial index on met entries applies
_CLOCK_NAMES = ", ".join(f"'{clock}'" for clock in CLOCKS)


def _sqlite_last_met(clock: str) -> str:
    return (
        "(SELECT json_extract(e.detail, '$.remaining_s') FROM ticket_events e WHERE e.id = ("
        "SELECT max(m.id) FROM ticket_events m WHERE m.ticket_id = tickets.id"
        f" AND m.kind = 'sla' AND m.new = {MET} AND m.field = '{clock}'))"
    )


def _sqlite_upgrade() -> str:
    sets = ", ".join(
        f"{clock}_remaining = CASE WHEN {clock}_state = {MET}"
        f" THEN {_sqlite_last_met(clock)} ELSE {clock}_remaining END"
        for clock in CLOCKS
    )
    return f"UPDATE tickets SET {sets} WHERE {_any_met()}"


def _postgresql_upgrade() -> str:
    last = (
        "SELECT DISTINCT ON (ticket_id, field) ticket_id, field,"
        " CAST(detail ->> 'remaining_s' AS integer) AS remaining"
        f" FROM ticket_events WHERE kind = 'sla' AND new = {MET}"
        f" AND field IN ({_CLOCK_NAMES})"
        " ORDER BY ticket_id, field, id DESC"
    )
    per_ticket = ", ".join(
        f"max(remaining) FILTER (WHERE field = '{clock}') AS {clock}" for clock in CLOCKS
    )
    sets = ", ".join(
        f"{clock}_remaining = CASE WHEN t.{clock}_state = {MET}"
        f" THEN m.{clock} ELSE t.{clock}_remaining END"
        for clock in CLOCKS
    )
    return (
        f"UPDATE tickets AS t SET {sets}"
        f" FROM (SELECT ticket_id, {per_ticket} FROM ({last}) AS l GROUP BY ticket_id) AS m"
        f" WHERE m.ticket_id = t.id AND ({_any_met('t.')})"
    )


def _any_met(prefix: str = "") -> str:
    return " OR ".join(f"{prefix}{clock}_state = {MET}" for clock in CLOCKS)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(_sqlite_upgrade() if sqlite else _postgresql_upgrade())
    replies = sa.text("kind = 'reply'")
    op.create_index(
        "ix_messages_ticket_reply",
        "messages",
        ["ticket_id"],
        sqlite_where=replies,
        postgresql_where=replies,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_ticket_reply", table_name="messages")
    sets = ", ".join(
        f"{clock}_remaining = CASE WHEN {clock}_state = {MET} THEN NULL ELSE {clock}_remaining END"
        for clock in CLOCKS
    )
    op.execute(f"UPDATE tickets SET {sets} WHERE {_any_met()}")

"""Who else has a ticket open right now, and who is typing on it (`ticket_presence`).

The ticket screen calls `announce` every `HEARTBEAT` while a ticket is on the agent's screen
(VIEWING, or TYPING while the reply or note editor was edited in the last few seconds),
`others` to show who else is there, and `leave` when the screen closes. A row not refreshed
within `FRESH` (two heartbeats and some slack) belongs to a console that went away without
leaving (killed, network lost): `others` ignores it, and `announce` deletes every row older
than `PRUNE_AFTER` in the same short transaction (one set-based DELETE on a table that holds
one row per open ticket screen); `prune` does the same for maintenance jobs.

Every write is its own short unit of work, marked silent (`store.changes.silent`): presence
is no change of the desk, so it wakes no console's live refresh. Tickets are named by their
key ("HD-12", as `views.TicketDetail.key`), agents by their login; an unknown ticket or agent
writes nothing. Deleting a ticket or an agent deletes its rows (the foreign keys cascade).
A database error is `views.DatabaseUnavailable`, one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Executable, delete, literal, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Activity
from tui_helpdesk.services.views import database_error
from tui_helpdesk.store.changes import silent
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent, Ticket, TicketPresence
from tui_helpdesk.text import clean

HEARTBEAT = timedelta(seconds=10)  # how often an open ticket screen says it is there
FRESH = 2 * HEARTBEAT + timedelta(seconds=5)  # a row older than this is a console gone away
PRUNE_AFTER = timedelta(minutes=10)  # stale rows older than this are deleted


@dataclass(frozen=True)
class Colleague:
    """Another agent on the same ticket, as the ticket screen shows them."""

    login: str
    name: str  # agent data: plain text, never markup
    activity: Activity
    seen_at: datetime


@contextmanager
def _unit(store: Store, *, write: bool) -> Iterator[Session]:
    """A short unit of work; a write is silent (no change of the desk)."""
    try:
        with store.write() if write else store.read() as session:
            if write:
                silent(session)
            yield session
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc


def _upsert(
    session: Session, ticket: str, agent: str, activity: Activity, now: datetime
) -> Executable:
    """INSERT ... SELECT ... ON CONFLICT DO UPDATE: the agent's row on the ticket, created or
    refreshed in one statement (nothing when the ticket or the agent is unknown)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = TicketPresence.__table__
    source = (
        select(
            Ticket.id,
            Agent.id,
            literal(activity, table.c.activity.type),
            literal(now, table.c.seen_at.type),
        )
        .select_from(Ticket)
        .join(Agent, true())
        .where(Ticket.key == ticket, Agent.login == agent)
    )
    statement = insert(table).from_select(["ticket_id", "agent_id", "activity", "seen_at"], source)
    return statement.on_conflict_do_update(
        index_elements=[table.c.ticket_id, table.c.agent_id],
        set_={"activity": statement.excluded.activity, "seen_at": statement.excluded.seen_at},
    )


def _prune(session: Session, now: datetime) -> int:
    done = session.execute(delete(TicketPresence).where(TicketPresence.seen_at < now - PRUNE_AFTER))
    return int(getattr(done, "rowcount", 0) or 0)


def announce(store: Store, ticket: str, agent: str, activity: Activity, now: datetime) -> None:
    """`agent` has `ticket` on screen, doing `activity`, as of `now`; rows stale for longer
    than `PRUNE_AFTER` go in the same transaction."""
    with _unit(store, write=True) as session:
        session.execute(_upsert(session, ticket, agent, activity, now))
        _prune(session, now)


def leave(store: Store, ticket: str, agent: str) -> None:
    """`agent` closed `ticket` (or moved to another one): their row goes."""
    ticket_id = select(Ticket.id).where(Ticket.key == ticket).scalar_subquery()
    agent_id = select(Agent.id).where(Agent.login == agent).scalar_subquery()
    with _unit(store, write=True) as session:
        session.execute(
            delete(TicketPresence).where(
                TicketPresence.ticket_id == ticket_id, TicketPresence.agent_id == agent_id
            )
        )


def others(store: Store, ticket: str, agent: str, now: datetime) -> tuple[Colleague, ...]:
    """The agents other than `agent` seen on `ticket` within `FRESH` of `now`, by name."""
    query = (
        select(Agent.login, Agent.name, TicketPresence.activity, TicketPresence.seen_at)
        .join(Agent, Agent.id == TicketPresence.agent_id)
        .join(Ticket, Ticket.id == TicketPresence.ticket_id)
        .where(
            Ticket.key == ticket,
            Agent.login != agent,
            TicketPresence.seen_at >= now - FRESH,
        )
        .order_by(Agent.name, Agent.login)
    )
    with _unit(store, write=False) as session:
        return tuple(
            Colleague(
                login=row.login,
                name=clean(row.name or row.login, single_line=True),
                activity=row.activity,
                seen_at=row.seen_at,
            )
            for row in session.execute(query)
        )


def prune(store: Store, now: datetime) -> int:
    """Delete every presence row older than `PRUNE_AFTER` (maintenance); how many went."""
    with _unit(store, write=True) as session:
        return _prune(session, now)

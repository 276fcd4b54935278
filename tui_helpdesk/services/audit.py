"""The audit trail: one append-only `TicketEvent` per change, written in the caller's
transaction by the service that makes the change (never by a screen or a CLI body).

A batch job that changes thousands of tickets in one transaction (`helpdesk escalate`)
records inside `batched_events`: the events are then kept as plain rows and written with
one multi-row INSERT when the block ends, instead of one ORM object each (which the unit of
work would insert one by one to learn each new id that nobody reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind
from tui_helpdesk.services.context import Actor
from tui_helpdesk.store.models import Ticket, TicketEvent


def record(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    kind: EventKind,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    rule: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    values: dict[str, Any] = {
        "ticket_id": ticket.id,
        "at": now,
        "actor_agent_id": actor.agent_id,
        "actor": actor.login,
        "kind": kind,
        "field": field,
        "old": None if old is None else str(old),
        "new": None if new is None else str(new),
        "rule": rule,
        "detail": detail,
    }
    pending: list[dict[str, Any]] | None = session.info.get(_PENDING)
    if pending is not None and ticket.id is not None:
        pending.append(values)
    else:
        session.add(TicketEvent(**values))


_PENDING = "audit.pending_events"


@contextmanager
def batched_events(session: Session) -> Iterator[None]:
    """Events recorded in the block are written together when it ends without an error
    (an error leaves them unwritten: the caller rolls its transaction back anyway). Nothing
    in the block may read the events it records."""
    if session.info.get(_PENDING) is not None:  # already batching: the outer block writes
        yield
        return
    pending: list[dict[str, Any]] = []
    session.info[_PENDING] = pending
    try:
        yield
    finally:
        session.info.pop(_PENDING, None)
    if pending:
        session.execute(insert(TicketEvent), pending)

"""The audit trail: one append-only `TicketEvent` per change, written in the caller's
transaction by the service that makes the change (never by a screen or a CLI body)."""

from __future__ import annotations

from datetime import datetime

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
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        actor_agent_id=actor.agent_id,
        actor=actor.login,
        kind=kind,
        field=field,
        old=None if old is None else str(old),
        new=None if new is None else str(new),
        rule=rule,
        detail=detail,
    )
    session.add(event)
    return event

"""The audit trail: one append-only `TicketEvent` per change, written in the caller's
transaction by the service that makes the change (never by a screen or a CLI body). Inside
`services.batching.batched_inserts` (a batch job) the events are written together at the end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind
from tui_helpdesk.services.batching import add_values
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
    add_values(session, TicketEvent, values)

"""Helpers for the service tests: create a ticket on the small desk in one unit of work, and
read back its state and audit trail in another (so each assertion sees what was committed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import NOW, Desk
from tui_helpdesk.domain import EventKind
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.serialize import ticket_doc

Event = tuple[str, str, str | None, str | None, str | None]  # kind, actor, field, old, new


@dataclass(frozen=True)
class Seen:
    """A committed ticket, as plain values: its JSON document and its audit trail."""

    key: str
    status: str
    version: int
    doc: dict[str, Any]
    events: list[Event]

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


MakeTicket = Callable[..., str]
Look = Callable[[str], Seen]


@pytest.fixture
def make_ticket(desk_store: Desk) -> MakeTicket:
    def make(
        subject: str = "Printer on fire",
        *,
        actor: Actor | None = None,
        at: datetime = NOW,
        **fields: Any,
    ) -> str:
        fields.setdefault("requester", "anna@acme.example")
        fields.setdefault("body", "It is smoking.")
        with desk_store.store.write() as session:
            ticket = tickets.create_ticket(
                session, actor or desk_store.agent, at, tickets.NewTicket(subject, **fields)
            )
            return ticket.key

    return make


@pytest.fixture
def look(desk_store: Desk) -> Look:
    def read(key: str) -> Seen:
        with desk_store.store.read() as session:
            ticket = tickets.get_ticket(session, key)
            doc = ticket_doc(ticket)
            doc["updated_by"] = ticket.updated_by.login if ticket.updated_by else None
            events = [
                (e.kind.value, e.actor, e.field, e.old, e.new)
                for e in tickets.ticket_events(session, ticket)
            ]
            return Seen(ticket.key, ticket.status.value, ticket.version, doc, events)

    return read


def events_of(seen: Seen, kind: EventKind) -> list[Event]:
    return [e for e in seen.events if e[0] == kind.value]

"""The JSON shapes: stable key sets and ISO 8601 UTC timestamps ending in `Z`."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from tests.conftest import NOW, Desk
from tests.services.conftest import MakeTicket
from tui_helpdesk.domain import Status
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.services.serialize import (
    agent_doc,
    contact_doc,
    event_doc,
    group_doc,
    iso,
    message_doc,
    organization_doc,
    ticket_doc,
)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

TICKET_KEYS = {
    "number",
    "subject",
    "status",
    "priority",
    "category",
    "channel",
    "requester",
    "organization",
    "group",
    "assignee",
    "level",
    "tags",
    "created_by",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_policy",
    "escalation_level",
    "merged_into",
    "csat",
    "version",
}


def test_iso() -> None:
    assert iso(None) is None
    assert iso(NOW) == "2026-11-23T09:30:00Z"
    rome = timezone(timedelta(hours=1))
    assert iso(datetime(2026, 11, 23, 10, 30, 0, 250000, tzinfo=rome)) == (
        "2026-11-23T09:30:00.250000Z"
    )


def test_documents(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(
        category="Technical > Network", requester="anna@acme.example", tags=["vpn", "b"]
    )
    later = NOW + timedelta(minutes=3)
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, later, key, "Hello", status=Status.PENDING)
        tickets.add_note(session, desk_store.agent, later, key, "psst")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        doc = ticket_doc(ticket)
        assert set(doc) == TICKET_KEYS
        assert doc["number"] == key
        assert doc["requester"] == {"name": "Anna", "email": "anna@acme.example", "phone": None}
        assert (doc["status"], doc["priority"], doc["channel"]) == ("pending", "high", "cli")
        assert (doc["category"], doc["organization"], doc["group"], doc["level"]) == (
            "Technical > Network",
            "Acme",
            "L1",
            1,
        )
        assert doc["tags"] == ["b", "vpn"]
        # bob took the ticket by replying (`assign_on_reply`).
        assert (doc["created_by"], doc["assignee"], doc["version"]) == ("bob", "bob", 3)
        assert doc["escalation_level"] == 0
        for name in ("created_at", "updated_at", "first_response_at"):
            assert ISO_Z.match(doc[name]), (name, doc[name])
        assert doc["first_response_at"] == "2026-11-23T09:33:00Z"
        assert doc["resolved_at"] is None and doc["merged_into"] is None
        json.dumps(doc)  # plain data only

        messages = [message_doc(m) for m in tickets.ticket_messages(session, ticket)]
        keys = {"id", "kind", "public", "author", "channel", "created_at", "body", "attachments"}
        assert all(set(m) == keys and m["attachments"] == [] for m in messages)
        customer, reply, note = messages
        assert customer["author"] == {
            "type": "contact",
            "name": "Anna",
            "email": "anna@acme.example",
            "recorded_by": "bob",
        }
        assert (customer["kind"], customer["public"], customer["channel"]) == (
            "customer",
            True,
            "cli",
        )
        assert reply["author"] == {"type": "agent", "login": "bob", "name": "Bob Agent"}
        assert (reply["kind"], reply["public"]) == ("reply", True)
        assert (note["kind"], note["public"], note["body"]) == ("note", False, "psst")
        assert all(ISO_Z.match(m["created_at"]) for m in messages)

        events = [event_doc(e) for e in tickets.ticket_events(session, ticket)]
        keys = {"at", "actor", "kind", "field", "old", "new", "rule", "detail"}
        assert all(set(e) == keys for e in events)
        assert all(ISO_Z.match(e["at"]) for e in events)
        assert events[0]["kind"] == "created" and events[0]["detail"]["tags"] == ["b", "vpn"]
        assert {
            "at": "2026-11-23T09:33:00Z",
            "actor": "bob",
            "kind": "status",
            "field": "status",
            "old": "open",  # opened when bob took it by replying
            "new": "pending",
            "rule": None,
            "detail": None,
        } in events
        json.dumps({"ticket": doc, "messages": messages, "events": events})


def test_directory_documents(desk_store: Desk) -> None:
    with desk_store.store.read() as session:
        agent = agent_doc(directory.get_agent(session, "bob"))
        assert agent == {
            "login": "bob",
            "name": "Bob Agent",
            "email": "bob@desk.example",
            "role": "agent",
            "active": True,
            "presence": "available",
            "capacity": 20,
            "skills": [],
            "languages": [],
            "groups": ["L1"],
        }
        assert group_doc(directory.get_group(session, "L1")) == {
            "name": "L1",
            "level": 1,
            "next_level": "L2",
            "lead": "admin",
            "email": None,
            "members": ["admin", "bob"],
        }
        assert organization_doc(directory.get_organization(session, "Acme")) == {
            "name": "Acme",
            "domains": ["acme.example"],
            "segment": "premium",
            "sla_policy": None,
            "region": None,
            "notes": None,
        }
    with desk_store.store.write() as session:
        contact = directory.add_contact(
            session,
            NOW,
            directory.ContactDraft(email="Anna@Acme.example", phone="02 1234 5678"),
            "IT",
        )
        doc = contact_doc(contact)
        assert set(doc) == {
            "id",
            "name",
            "email",
            "emails",
            "phone",
            "phones",
            "organization",
            "language",
            "vip",
            "merged_into",
        }
        assert (doc["email"], doc["phone"], doc["organization"]) == (
            "anna@acme.example",
            "+390212345678",
            "Acme",
        )
        assert (doc["emails"], doc["phones"], doc["merged_into"]) == (
            ["anna@acme.example"],
            ["+390212345678"],
            None,
        )

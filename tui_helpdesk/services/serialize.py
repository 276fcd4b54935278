"""Plain-data documents of tickets and their parts, for `--json` output and exports.

Keys are stable; timestamps are ISO 8601 UTC with `Z`. Text is returned as stored: it is the
printer's job (CLI, console) to keep customer text inert when it is shown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tui_helpdesk.store.models import (
    Agent,
    Contact,
    Group,
    Message,
    Organization,
    Ticket,
    TicketEvent,
)


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def contact_doc(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "organization": contact.organization.name if contact.organization else None,
        "language": contact.language,
        "vip": contact.vip,
    }


def ticket_doc(ticket: Ticket) -> dict[str, Any]:
    requester = ticket.requester
    return {
        "number": ticket.key,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "category": ticket.category.path if ticket.category else None,
        "channel": ticket.channel.value,
        "requester": {"name": requester.name, "email": requester.email, "phone": requester.phone},
        "organization": ticket.organization.name if ticket.organization else None,
        "group": ticket.group.name if ticket.group else None,
        "assignee": ticket.assignee.login if ticket.assignee else None,
        "level": ticket.level,
        "tags": ticket.tags,
        "created_by": ticket.created_by.login if ticket.created_by else None,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "resolved_at": iso(ticket.resolved_at),
        "closed_at": iso(ticket.closed_at),
        "first_response_due_at": iso(ticket.first_response_due_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
        "sla_policy": ticket.sla_policy,
        "escalation_level": ticket.escalation_level,
        "merged_into": ticket.merged_into.key if ticket.merged_into else None,
        "csat": ticket.csat_score,
        "version": ticket.version,
    }


def message_doc(message: Message) -> dict[str, Any]:
    author: dict[str, Any] | None = None
    if message.author_contact is not None:
        author = {
            "type": "contact",
            "name": message.author_contact.name,
            "email": message.author_contact.email,
        }
        if message.author_agent is not None:
            author["recorded_by"] = message.author_agent.login
    elif message.author_agent is not None:
        author = {
            "type": "agent",
            "login": message.author_agent.login,
            "name": message.author_agent.name,
        }
    return {
        "id": message.id,
        "kind": message.kind.value,
        "public": message.kind.is_public,
        "author": author,
        "channel": message.channel.value if message.channel else None,
        "created_at": iso(message.created_at),
        "body": message.body,
    }


def event_doc(event: TicketEvent) -> dict[str, Any]:
    return {
        "at": iso(event.at),
        "actor": event.actor,
        "kind": event.kind.value,
        "field": event.field,
        "old": event.old,
        "new": event.new,
        "rule": event.rule,
        "detail": event.detail,
    }


def agent_doc(agent: Agent) -> dict[str, Any]:
    return {
        "login": agent.login,
        "name": agent.name,
        "email": agent.email,
        "role": agent.role.value,
        "active": agent.active,
        "presence": agent.presence.value,
        "capacity": agent.capacity,
        "skills": agent.skills,
        "languages": list(agent.languages),
        "groups": [g.name for g in agent.groups],
    }


def group_doc(group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "level": group.level,
        "next_level": group.next_level.name if group.next_level else None,
        "lead": group.lead.login if group.lead else None,
        "email": group.email,
        "members": [m.login for m in group.members],
    }


def organization_doc(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "domains": org.domains,
        "segment": org.segment,
        "sla_policy": org.sla_policy,
        "region": org.region,
        "notes": org.notes,
    }

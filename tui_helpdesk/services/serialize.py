"""Plain-data documents of tickets and their parts, for `--json` output and exports.

Keys are stable; timestamps are ISO 8601 UTC with `Z`. Text is returned as stored: it is the
printer's job (CLI, console) to keep customer text inert when it is shown.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # serialize is imported by services that customers imports; `iso` is all
    # some commands need (cron's escalation with nothing due), without the mapped models.
    from tui_helpdesk.services.customer_history import History
    from tui_helpdesk.services.customers import CallerMatch, MergePlan
    from tui_helpdesk.store.models import (
        Agent,
        Attachment,
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
    """A contact: `email` / `phone` are the primary ones, `emails` / `phones` all of them
    (primary first); `merged_into` is the id of the contact a merged duplicate went into."""
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "emails": contact.emails,
        "phones": contact.phones,
        "organization": contact.organization.name if contact.organization else None,
        "language": contact.language,
        "vip": contact.vip,
        "merged_into": contact.merged_into_id,
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
        "attachments": [attachment_doc(a) for a in message.attachments],
    }


def attachment_doc(attachment: Attachment) -> dict[str, Any]:
    """One stored attachment, without its bytes (`helpdesk ticket attachment` writes those).
    The file name is the customer's: cleaned of control characters. `stored` is false for
    one over the size limit, of which only the name, type and size were kept."""
    from tui_helpdesk.text import clean

    return {
        "id": attachment.id,
        "message_id": attachment.message_id,
        "filename": clean(attachment.filename, single_line=True),
        "content_type": attachment.content_type,
        "size": attachment.size,
        "stored": attachment.content is not None,
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


# --- customers ----------------------------------------------------------------------------


def caller_doc(match: CallerMatch) -> dict[str, Any]:
    """A contact found by `customers.find_callers`, with why and how well it matched."""
    org = match.organization
    return {
        **contact_doc(match.contact),
        "reason": match.reason,
        "score": match.score,
        "organization": org.name if org else None,
        "segment": org.segment if org else None,
    }


def history_doc(history: History) -> dict[str, Any]:
    """A contact's or an organization's history: figures (seconds), recent tickets, and for
    an organization its contacts count and top requesters."""
    figures = asdict(history.figures)
    for key in ("last_contact_at", "oldest_open_at"):
        figures[key] = iso(figures[key])
    doc: dict[str, Any] = {
        "figures": figures,
        "tickets": [ticket_doc(t) for t in history.recent],
        "next_cursor": history.next_cursor.encode() if history.next_cursor else None,
    }
    if history.contacts is not None:
        doc["contacts"] = history.contacts
        doc["top_requesters"] = [
            {"id": c.id, "name": c.name, "email": c.email, "tickets": n}
            for c, n in history.top_requesters
        ]
    return doc


def merge_doc(plan: MergePlan, dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "keep": contact_doc(plan.keep),
        "duplicate": contact_doc(plan.duplicate),
        "tickets": plan.tickets,
        "messages": plan.messages,
        "emails": plan.emails,
        "phones": plan.phones,
        "filled": plan.filled,
    }

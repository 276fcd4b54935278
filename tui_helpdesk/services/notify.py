"""Notifications to people about a ticket: rows in the outbox (DESIGN §6), written in the same
transaction as the change that caused them. Nothing is sent from here: the mail sender
delivers queued rows and marks them.

Escalation rules and manual escalations call `notify`, naming who should hear of it by role
(assignee, group lead, group, requester) or by address; `recipients` resolves the roles.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid

from sqlalchemy.orm import Session

from tui_helpdesk.domain import OutboxState
from tui_helpdesk.rules.escalation import NotifyTarget
from tui_helpdesk.store.models import Outbox, Ticket

MESSAGE_ID_DOMAIN = "helpdesk.invalid"  # until the mail settings name the desk's own domain


def recipients(ticket: Ticket, to: NotifyTarget | str) -> list[str]:
    """The addresses behind a notification target; empty when nobody has an address."""
    if isinstance(to, NotifyTarget):
        if to is NotifyTarget.ASSIGNEE:
            found = [ticket.assignee.email] if ticket.assignee else []
        elif to is NotifyTarget.GROUP_LEAD:
            lead = ticket.group.lead if ticket.group else None
            found = [lead.email] if lead else []
        elif to is NotifyTarget.GROUP:
            group = ticket.group
            if group is None:
                found = []
            elif group.email:
                found = [group.email]
            else:
                found = [agent.email for agent in group.members if agent.active]
        else:
            found = [ticket.requester.email] if ticket.requester else []
    else:
        found = [to]
    return sorted({address.lower() for address in found if address})


def notify(
    session: Session,
    ticket: Ticket,
    now: datetime,
    to: list[str],
    subject: str,
    body: str,
    *,
    kind: str = "notify",
) -> Outbox:
    """Queue one message about `ticket` to `to`."""
    row = Outbox(
        created_at=now,
        ticket_id=ticket.id,
        kind=kind,
        to_addrs=to,
        subject=f"[{ticket.key}] {subject}",
        body=body,
        headers={"Auto-Submitted": "auto-generated", "X-Helpdesk-Ticket": ticket.key},
        message_id=make_msgid(domain=MESSAGE_ID_DOMAIN),
        state=OutboxState.QUEUED,
        next_attempt_at=now,
    )
    session.add(row)
    return row

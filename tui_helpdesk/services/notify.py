"""Notifications to people about a ticket: rows in the outbox (DESIGN §6), written in the same
transaction as the change that caused them. Nothing is sent from here: the mail sender
delivers queued rows and marks them.

Escalation rules and manual escalations call `notify`, naming who should hear of it by role
(assignee, group lead, group, requester) or by address; `recipients` resolves the roles.
`notify_assigned` tells an agent a ticket was assigned to them (by someone else or a rule).
The Message-ID (with the desk's domain), the template and the ticket tag in the subject come
from `services.outgoing`, as for mail to customers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from tui_helpdesk.rules.escalation import NotifyTarget
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.outgoing import (
    AUTOMATIC,
    MAX_REFERENCES,
    PLACEHOLDER_DOMAIN,
    Thread,
    mail_context,
    queue,
    template_values,
)
from tui_helpdesk.store.models import Outbox, Ticket

# The domain of Message-IDs written by a session that does not know the desk's address (see
# `outgoing.mail_context`); `outgoing.new_message_id(session)` uses the desk's own.
MESSAGE_ID_DOMAIN = PLACEHOLDER_DOMAIN


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


# The Message-IDs of a ticket's earlier notifications, newest first: built once (a batch
# job notifies thousands of times).
_EARLIER = (
    select(Outbox.message_id)
    .where(Outbox.ticket_id == bindparam("ticket"), Outbox.kind == bindparam("kind"))
    .order_by(Outbox.id.desc())
    .limit(MAX_REFERENCES)
)


# Earlier notifications read ahead for a batch of tickets (`prime_threads`), kept with the
# session: (ticket id, kind) -> their Message-IDs, oldest first.
_THREADS = "notify.threads"


def prime_threads(session: Session, ticket_ids: Iterable[int], kind: str = "notify") -> None:
    """Read the earlier notifications of many tickets in one query, for a batch job that
    notifies about each: `notify` then threads from these, and from what it queued itself in
    the batch (rows a batch writes at its end, which a query would not see)."""
    ids = list(ticket_ids)
    ranked = (
        select(
            Outbox.ticket_id,
            Outbox.message_id,
            func.row_number()
            .over(partition_by=Outbox.ticket_id, order_by=Outbox.id.desc())
            .label("newest"),
        )
        .where(Outbox.ticket_id.in_(ids), Outbox.kind == kind)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.ticket_id, ranked.c.message_id)
        .where(ranked.c.newest <= MAX_REFERENCES)
        .order_by(ranked.c.ticket_id, ranked.c.newest.desc())
    )
    threads: dict[tuple[int, str], list[str]] = session.info.setdefault(_THREADS, {})
    for ticket_id in ids:
        threads[(ticket_id, kind)] = []
    for ticket_id, message_id in rows:
        threads[(ticket_id, kind)].append(message_id)


def _earlier(session: Session, ticket: Ticket, kind: str) -> list[str]:
    """The Message-IDs of the ticket's earlier notifications of `kind`, oldest first."""
    primed = session.info.get(_THREADS, {}).get((ticket.id, kind))
    if primed is not None:
        return primed
    return list(session.scalars(_EARLIER, {"ticket": ticket.id, "kind": kind}))[::-1]


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
    """Queue one message about `ticket` to `to`, written with the `notify` template (`subject`
    and `body` are its {title} and {body}). Notifications of one ticket thread together in
    the agents' mail: each refers to the ones before it."""
    # Nothing is flushed by the reads here: a ticket in the middle of a change is saved
    # once, by its caller.
    with session.no_autoflush:
        title, text = (
            mail_context(session)
            .template_set()
            .render("notify", template_values(session, ticket, title=subject, body=body))
        )
        earlier = _earlier(session, ticket, kind)
    thread = Thread(earlier[-1], " ".join(earlier)) if earlier else Thread(None, None)
    row = queue(
        session,
        ticket,
        now,
        kind=kind,
        to=to,
        subject=title or subject,
        body=text,
        headers={"Auto-Submitted": "auto-generated", **AUTOMATIC, **thread.headers()},
    )
    threads = session.info.get(_THREADS)
    if threads is not None and (ticket.id, kind) in threads:
        threads[(ticket.id, kind)] = [*earlier, row.message_id][-MAX_REFERENCES:]
    return row


def notify_assigned(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, *, rule: str | None = None
) -> Outbox | None:
    """Tell a ticket's new assignee it is theirs; nothing when they took it themselves, are
    inactive or have no address. Called where an assignment is made (a new ticket's
    assignee, `ticket_changes.apply_assignment`); `rule` names the automation that chose."""
    agent = ticket.assignee
    if agent is None or not agent.email or not agent.active or agent.id == actor.agent_id:
        return None
    by = f"rule {rule}" if rule else (actor.name or actor.login)
    return notify(
        session,
        ticket,
        now,
        [agent.email.lower()],
        f"Assigned to you: {ticket.subject}",
        f"{ticket.key} ({ticket.priority}, {ticket.status}) was assigned to you by {by}.",
    )

"""Mail to customers, queued in the outbox in the transaction of the change that causes it
(DESIGN §6): the acknowledgement of a new ticket, an agent's public reply, the satisfaction
survey of a resolved ticket. Nothing is sent here: `services.delivery` sends queued rows.

`services.tickets` calls `acknowledge`, `queue_reply` and `queue_survey`; `services.notify`
uses the Message-ID and template helpers for mail to agents.

Nothing automatic (an acknowledgement, a survey) goes to a robot: a requester whose address
is a robot's (`robot_sender`, the same rule by which `channels.parse` calls incoming mail
automatic), or whose ticket was opened by automatic mail (`answers_a_robot`). An agent's own
reply is deliberate and is queued regardless.

Who we are (the desk's address, hence the Message-ID domain) and the templates in use come
from the config, which services never read: the edge that opens sessions puts a `MailContext`
in `session.info` (`bind_mail`, or the `services.mail_setup.mail_info` dict given to the
session factory). A session without one writes with the built-in templates and a placeholder
domain, which still threads (our Message-IDs are stored and matched exactly) but names no
real host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import Select, Text, bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Channel, MessageKind, OutboxState, Status
from tui_helpdesk.services.batching import add_row
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.mail_setup import MAIL_KEY
from tui_helpdesk.services.templates import TemplateSet, builtin_templates, load_templates
from tui_helpdesk.store.models import InboundMail, Message, Outbox, Ticket

PLACEHOLDER_DOMAIN = "helpdesk.invalid"  # RFC 2606: never a real host
RATE_WINDOW = timedelta(hours=1)
MAX_REFERENCES = 20  # RFC 5322 lets us trim References: keep the first and the latest
CUSTOMER_KINDS = ("ack", "reply", "survey")  # outbox kinds that belong to the customer thread
ROBOT_LOCALS = frozenset({"mailer-daemon", "postmaster"})  # addresses only machines write from
OPENING_DECISIONS = ("new-ticket", "follow-up")  # intake decisions that create a ticket


@dataclass(frozen=True)
class MailContext:
    """What the queueing services need to know of the config's `[mail]` table."""

    address: str | None = None
    templates: TemplateSet | None = None

    @property
    def domain(self) -> str:
        if self.address and "@" in self.address:
            return self.address.rsplit("@", 1)[1].strip(" >").lower() or PLACEHOLDER_DOMAIN
        return PLACEHOLDER_DOMAIN

    def template_set(self) -> TemplateSet:
        return self.templates or builtin_templates()


def mail_context_for(address: str | None, templates: Path | None = None) -> MailContext:
    """A context from the config's mail settings (`MailSettings.address`, `.templates`):
    the override templates are loaded and checked here, once, so a bad file is an error at
    start-up (a `TemplateError` naming the file)."""
    return MailContext(address=address, templates=load_templates(templates))


def bind_mail(session: Session, context: MailContext) -> None:
    session.info[MAIL_KEY] = context


def mail_context(session: Session) -> MailContext:
    """The session's mail context. The edge may put a zero-argument callable in its place
    (so a command that writes no mail never loads templates): it is called once, here."""
    found = session.info.get(MAIL_KEY)
    if callable(found) and not isinstance(found, MailContext):
        found = found()
        session.info[MAIL_KEY] = found
    return found if isinstance(found, MailContext) else MailContext()


def new_message_id(session: Session, ticket_key: str | None = None) -> str:
    """A fresh Message-ID of ours: `<time.pid.random.hd-42@desk-domain>`."""
    tag = ticket_key.lower() if ticket_key else None
    return make_msgid(idstring=tag, domain=mail_context(session).domain)


def tagged(ticket: Ticket, subject: str) -> str:
    """The subject with the ticket tag `[HD-42]` in front (once), which intake matches."""
    tag = f"[{ticket.key}]"
    return subject if tag in subject else f"{tag} {subject}".strip()


def template_values(session: Session, ticket: Ticket, **extra: str) -> dict[str, str]:
    requester = ticket.requester
    return {
        "ticket": ticket.key,
        "subject": ticket.subject,
        "desk": desk_settings(session).name,
        "requester_name": (requester.name if requester else "") or "",
        "requester_email": (requester.email if requester else "") or "",
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        **extra,
    }


# --- threading --------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    in_reply_to: str | None
    references: str | None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.in_reply_to:
            out["In-Reply-To"] = self.in_reply_to
        if self.references:
            out["References"] = self.references
        return out


def trim_references(ids: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(ids))
    if len(unique) <= MAX_REFERENCES:
        return unique
    return [unique[0], *unique[-(MAX_REFERENCES - 1) :]]


def _thread_query() -> Select[tuple[str | None, str | None, bool]]:
    """The messages and customer outbox rows of the ticket `:ticket` that have a Message-ID,
    in thread order."""
    ticket = bindparam("ticket")
    messages = select(
        Message.message_id.label("mid"),
        Message.references.label("refs"),
        Message.created_at.label("at"),
        Message.id.label("seq"),
        (Message.kind == MessageKind.CUSTOMER).label("customer"),
    ).where(Message.ticket_id == ticket, Message.message_id.is_not(None))
    outbox = select(
        Outbox.message_id.label("mid"),
        literal(None, Text).label("refs"),
        Outbox.created_at.label("at"),
        Outbox.id.label("seq"),
        literal(False).label("customer"),
    ).where(Outbox.ticket_id == ticket, Outbox.kind.in_(CUSTOMER_KINDS))
    both = union_all(messages, outbox).subquery()
    return select(both.c.mid, both.c.refs, both.c.customer).order_by(
        both.c.at, both.c.customer.desc(), both.c.seq
    )


# Built once: every reply, acknowledgement and survey asks it.
_THREAD = _thread_query()


def customer_thread(session: Session, ticket: Ticket) -> Thread:
    """The thread a mail to the customer continues: In-Reply-To the customer's latest mail
    (else our latest mail to them), References what that mail referred to and every
    Message-ID of the conversation up to it, oldest first. One query over the ticket's
    messages and customer outbox rows."""
    rows = session.execute(_THREAD, {"ticket": ticket.id}).all()
    if not rows:
        return Thread(None, None)
    customer = [i for i, row in enumerate(rows) if row.customer]
    parent = customer[-1] if customer else len(rows) - 1
    earlier = (rows[parent].refs or "").split()
    chain = trim_references([*earlier, *(row.mid for row in rows[: parent + 1])])
    return Thread(rows[parent].mid, " ".join(chain))


# --- queueing ---------------------------------------------------------------------------


def queue(
    session: Session,
    ticket: Ticket,
    now: datetime,
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    headers: Mapping[str, str],
    message_id: str | None = None,
    message: Message | None = None,
) -> Outbox:
    """One outbox row about `ticket`, due now."""
    row = Outbox(
        created_at=now,
        ticket_id=ticket.id,
        message_row_id=message.id if message is not None else None,
        kind=kind,
        to_addrs=list(to),
        subject=tagged(ticket, subject)[:998],
        body=body,
        headers={"X-Helpdesk-Ticket": ticket.key, **headers},
        message_id=message_id or new_message_id(session, ticket.key),
        state=OutboxState.QUEUED,
        attempts=0,
        next_attempt_at=now,
    )
    add_row(session, row)
    return row


AUTOMATIC = {"X-Auto-Response-Suppress": "All"}  # and Outlook's auto-replies stay quiet


def robot_sender(address: str | None) -> str | None:
    """The robot behind `address` (its local part: "mailer-daemon", "postmaster"), or None.
    Mail from one is automatic (`channels.parse`); nothing automatic is sent to one. Bounces
    often come from a bare `MAILER-DAEMON`, with no domain: the whole name is the local part."""
    if not address:
        return None
    local = address.strip().strip("<>").split("@", 1)[0].strip().lower()
    return local if local in ROBOT_LOCALS else None


def answers_a_robot(session: Session, ticket: Ticket) -> str | None:
    """Why automatic mail to the requester of `ticket` would answer a robot, or None: the
    requester's address is a robot's, or the ticket was opened by automatic mail (intake
    keeps why a mail is automatic in its `inbound_mail` record)."""
    email = ticket.requester.email if ticket.requester else None
    robot = robot_sender(email)
    if robot is not None:
        return f"{email} is a {robot} address"
    if ticket.channel is not Channel.EMAIL:
        return None  # opened by an agent, not by mail
    opening = session.scalar(
        select(InboundMail.detail)
        .where(InboundMail.ticket_id == ticket.id, InboundMail.decision.in_(OPENING_DECISIONS))
        .limit(1)
    )
    why = (opening or {}).get("automatic")
    return f"the ticket came from automatic mail ({why})" if why else None


@dataclass(frozen=True)
class Acknowledgement:
    row: Outbox | None
    reason: str  # "queued", or why not: for the ticket's audit trail


def acknowledge(
    session: Session, ticket: Ticket, now: datetime, *, automatic: bool, internal: bool
) -> Acknowledgement:
    """Queue the acknowledgement of a new ticket to its requester, unless the ticket came
    from automatic mail or the requester is a robot (never answer a robot), is internal, the
    requester has no address, the desk turned acknowledgements off, or this sender already
    got the hour's quota."""
    desk = desk_settings(session)
    email = ticket.requester.email if ticket.requester else None
    if automatic:
        return Acknowledgement(None, "not sent: the mail was automatic")
    robot = robot_sender(email)
    if robot is not None:
        return Acknowledgement(None, f"not sent: {email} is a {robot} address")
    if not desk.acknowledge:
        return Acknowledgement(None, "not sent: acknowledgements are off (desk.acknowledge)")
    if internal:
        return Acknowledgement(None, "not sent: internal ticket")
    if not email:
        return Acknowledgement(None, "not sent: the requester has no email address")
    recent = session.scalar(
        select(func.count())
        .select_from(Outbox)
        .join(Ticket, Ticket.id == Outbox.ticket_id)
        .where(
            Outbox.kind == "ack",
            Ticket.requester_id == ticket.requester_id,
            Outbox.created_at > now - RATE_WINDOW,
        )
    )
    if (recent or 0) >= desk.acknowledge_per_hour:
        return Acknowledgement(
            None,
            f"not sent: {email} already got {recent} acknowledgement(s) this hour "
            f"(desk.acknowledge_per_hour = {desk.acknowledge_per_hour})",
        )
    subject, body = (
        mail_context(session).template_set().render("ack", template_values(session, ticket))
    )
    row = queue(
        session,
        ticket,
        now,
        kind="ack",
        to=[email],
        subject=subject,
        body=body,
        headers={
            "Auto-Submitted": "auto-replied",
            **AUTOMATIC,
            **customer_thread(session, ticket).headers(),
        },
    )
    return Acknowledgement(row, "queued")


def queue_reply(
    session: Session, ticket: Ticket, message: Message, now: datetime, agent_name: str | None
) -> Outbox | None:
    """Queue an agent's public reply to the requester, threaded under the conversation; the
    reply's Message row gets our Message-ID, its thread headers and `delivery_state` queued.
    None when the requester has no email address (a phone caller): nothing to send."""
    email = ticket.requester.email if ticket.requester else None
    if not email:
        return None
    thread = customer_thread(session, ticket)
    message_id = new_message_id(session, ticket.key)
    subject, body = (
        mail_context(session)
        .template_set()
        .render(
            "reply",
            template_values(session, ticket, body=message.body, agent_name=agent_name or ""),
        )
    )
    message.message_id = message_id
    message.in_reply_to = thread.in_reply_to
    message.references = thread.references
    message.delivery_state = OutboxState.QUEUED
    return queue(
        session,
        ticket,
        now,
        kind="reply",
        to=[email],
        subject=subject,
        body=body,
        headers=thread.headers(),
        message_id=message_id,
        message=message,
    )


def queue_survey(session: Session, ticket: Ticket, now: datetime) -> Outbox | None:
    """Queue the satisfaction survey of a just-resolved ticket; None when the desk sends no
    surveys, the requester has no address or is a robot, the ticket came from automatic
    mail (`answers_a_robot`), or a survey of this ticket is still waiting to go out
    (resolved, reopened and resolved again within minutes asks once)."""
    email = ticket.requester.email if ticket.requester else None
    if ticket.status is not Status.RESOLVED or not email or not desk_settings(session).survey:
        return None
    if answers_a_robot(session, ticket) is not None:
        return None
    waiting = session.scalar(
        select(Outbox.id).where(
            Outbox.ticket_id == ticket.id,
            Outbox.kind == "survey",
            Outbox.state == OutboxState.QUEUED,
        )
    )
    if waiting is not None:
        return None
    subject, body = (
        mail_context(session).template_set().render("survey", template_values(session, ticket))
    )
    return queue(
        session,
        ticket,
        now,
        kind="survey",
        to=[email],
        subject=subject,
        body=body,
        headers={
            "Auto-Submitted": "auto-generated",
            **AUTOMATIC,
            **customer_thread(session, ticket).headers(),
        },
    )

"""The ticket lifecycle: create, reply, note, customer messages, status, reopen (DESIGN §3),
and the one place callers import ticket services from (assignment, classification and merge
live in `ticket_changes`; loading, saving and the audit trail in `ticket_core`).

Every function takes the caller's session, the acting `Actor` and `now`, changes the ticket,
writes its audit events in the same transaction, and returns what it changed. Callers that
show a ticket to a person and then save a change pass `expected_version`: if the ticket
changed in between, `Conflict` names who changed it and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Channel, EventKind, MessageKind, Priority, Status
from tui_helpdesk.rules.document import DeskSettings
from tui_helpdesk.rules.identity import email_domain, looks_like_email
from tui_helpdesk.rules.numbering import format_key
from tui_helpdesk.rules.workflow import allowed_targets, can_transition
from tui_helpdesk.services.assignment import RULE as ASSIGN_RULE
from tui_helpdesk.services.assignment import assigns_automatically, pick_assignee
from tui_helpdesk.services.batching import add_row
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.directory import (
    ContactDraft,
    add_contact,
    contact_label,
    find_contact_by_identity,
    get_agent,
    get_category,
    get_contact,
    get_group,
    get_organization,
    organization_for_domain,
)
from tui_helpdesk.services.errors import (
    InvalidTransition,
    NotFound,
    ServiceError,
    ValidationError,
)
from tui_helpdesk.services.notify import notify_assigned
from tui_helpdesk.services.outgoing import acknowledge, queue_reply, queue_survey
from tui_helpdesk.services.routing import decision_detail, route_new_ticket
from tui_helpdesk.services.sla import record_ledger, update_clocks
from tui_helpdesk.services.ticket_changes import (
    UNSET,
    apply_assignment,
    assign,
    change_category,
    change_priority,
    change_subject,
    change_tags,
    load_open_for_change,
    merge,
)
from tui_helpdesk.services.ticket_changes import _Unset as _Unset
from tui_helpdesk.services.ticket_core import (
    MAX_SUBJECT,
    TICKET_COUNTER,
    _group_for_assignee,
    _is_member,
    _load_for_change,
    _load_for_message,
    _set_status,
    get_ticket,
    hold,
    next_ticket_number,
    normalise_subject,
    normalise_tags,
    record,
    save,
    ticket_events,
    ticket_messages,
    touch,
)
from tui_helpdesk.store.models import (
    Agent,
    Attachment,
    Contact,
    Group,
    Message,
    Ticket,
    TicketTag,
)

# The lifecycle's public face: assignment, classification and merge live in
# `ticket_changes`, the shared loading/saving/audit helpers in `ticket_core`.
__all__ = [
    "MAX_SUBJECT",
    "TICKET_COUNTER",
    "UNSET",
    "CustomerMessageResult",
    "NewTicket",
    "add_customer_message",
    "add_note",
    "assign",
    "change_category",
    "change_priority",
    "change_requester",
    "change_status",
    "change_subject",
    "change_tags",
    "check_identity",
    "create_ticket",
    "get_ticket",
    "merge",
    "next_ticket_number",
    "normalise_subject",
    "normalise_tags",
    "record",
    "reopen",
    "reply",
    "resolve_requester",
    "save",
    "ticket_attachment",
    "ticket_events",
    "ticket_messages",
]


# --- create -------------------------------------------------------------------------------


@dataclass
class NewTicket:
    subject: str
    body: str | None = None
    channel: Channel = Channel.CLI
    requester: str | None = None  # email address or phone number of the caller
    requester_name: str | None = None
    # A contact already picked (the console's caller lookup): wins over `requester`, so a
    # number several contacts share still files the ticket under the one picked.
    requester_id: int | None = None
    organization: str | None = None
    category: str | None = None
    priority: Priority | None = None
    group: str | None = None
    assignee: str | None = None
    tags: Sequence[str] = ()
    custom_fields: dict[str, Any] = field(default_factory=dict)
    # Mail intake: the first message's headers (so replies thread), and whether the mail was
    # automatic (an auto-reply or a bounce is never answered with an acknowledgement).
    mail: MailHeaders | None = None
    automatic: bool = False


@dataclass(frozen=True)
class MailHeaders:
    """The threading headers of a message that came or went by email."""

    message_id: str | None = None
    in_reply_to: str | None = None
    references: str | None = None


def check_identity(identity: str) -> None:
    """Refuse text that can be neither an email address nor a phone number (no "@" and no
    digit), saying what was expected, not only that it is no phone number."""
    if not looks_like_email(identity) and not any(ch.isdigit() for ch in identity):
        raise ValidationError(
            f"{identity.strip()!r} is neither an email address nor a phone number"
        )


def resolve_requester(
    session: Session,
    actor: Actor,
    now: datetime,
    desk: DeskSettings,
    identity: str | None,
    name: str | None,
    organization: str | None,
) -> Contact:
    """The contact behind an email or phone: found, or created (with the organization given,
    or the one owning the email's domain). With no identity, the acting agent is the
    requester (an internal ticket)."""
    if identity is None or not identity.strip():
        if not actor.is_agent:
            raise ValidationError("a requester (email or phone) is required")
        agent = get_agent(session, actor.login)
        if not agent.email:
            raise ValidationError(
                "give the caller's email or phone with --requester "
                f"(agent {agent.login} has no email to stand in as requester)"
            )
        identity, name = agent.email, name or agent.name
    check_identity(identity)
    contact = find_contact_by_identity(session, identity, desk.phone_region)
    if contact is None:
        draft = ContactDraft(name=name, organization=organization)
        if looks_like_email(identity):
            draft.email = identity
        else:
            draft.phone = identity
        contact = add_contact(session, now, draft, desk.phone_region)
    elif contact.organization_id is None and contact.email:
        org = organization_for_domain(session, email_domain(contact.email))
        if org is not None:
            contact.organization = org
    return contact


def create_ticket(session: Session, actor: Actor, now: datetime, new: NewTicket) -> Ticket:
    subject = normalise_subject(new.subject)
    desk = desk_settings(session)
    if new.requester_id is not None:
        requester = get_contact(session, new.requester_id)
        if requester.merged_into_id is not None:
            raise ValidationError(
                f"contact #{requester.id} was merged into #{requester.merged_into_id}"
            )
    else:
        requester = resolve_requester(
            session, actor, now, desk, new.requester, new.requester_name, new.organization
        )
    organization = (
        get_organization(session, new.organization) if new.organization else requester.organization
    )
    # Routes classify what the caller left open: explicit fields win.
    routing = route_new_ticket(
        session, new.channel, requester.email, subject, (new.body or "").strip()
    )
    category = get_category(session, new.category) if new.category else routing.category
    priority = (
        new.priority
        or routing.priority
        or (category.default_priority if category else None)
        or Priority.NORMAL
    )
    group: Group | None = get_group(session, new.group) if new.group else routing.group
    assignee = get_agent(session, new.assignee) if new.assignee else None
    if assignee is not None and not assignee.active:
        raise ValidationError(f"agent {assignee.login!r} is deactivated")
    if assignee is not None:
        group = _group_for_assignee(assignee, group)
    default_group = category.default_group if category is not None else None
    # The category's group is only a default: an assignee from another group keeps theirs.
    if group is None and default_group is not None:
        group = default_group if assignee is None or _is_member(assignee, default_group) else None
    if group is None and assignee is None and desk.default_group is not None:
        group = get_group(session, desk.default_group)  # the desk's triage queue
    tags = normalise_tags([*new.tags, *routing.tags])
    custom_fields = dict(new.custom_fields)
    if routing.skills:
        custom_fields["skills"] = sorted({*custom_fields.get("skills", []), *routing.skills})
    picked_why = None
    if assignee is None and group is not None and assigns_automatically(session, group):
        assignee, picked_why = pick_assignee(session, group, custom_fields.get("skills", []), now)

    number = next_ticket_number(session)
    ticket = Ticket(
        number=number,
        key=format_key(desk.ticket_prefix, number),
        subject=subject,
        status=Status.OPEN if assignee else Status.NEW,
        priority=priority,
        category=category,
        channel=new.channel,
        requester=requester,
        organization=organization,
        created_by_id=actor.agent_id,
        updated_by_id=actor.agent_id,
        group=group,
        assignee=assignee,
        level=group.level if group else None,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        custom_fields=custom_fields,
    )
    ticket.tag_rows = [TicketTag(tag=t) for t in tags]
    session.add(ticket)
    # The clocks start before the first flush, so the new ticket is written once (version 1).
    sla, ledger = update_clocks(session, ticket, now)
    session.flush()
    hold(session, ticket)  # a row this transaction created is its own until it commits
    if new.body and new.body.strip():
        session.add(
            Message(
                ticket_id=ticket.id,
                kind=MessageKind.CUSTOMER,
                author_contact_id=requester.id,
                # An agent typing for a caller is recorded as who wrote it down.
                author_agent_id=actor.agent_id,
                body=new.body.strip("\n"),
                channel=new.channel,
                created_at=now,
                **_headers(new.mail),
            )
        )
    internal = new.requester_id is None and not (new.requester or "").strip()
    ack = acknowledge(session, ticket, now, automatic=new.automatic, internal=internal)
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.CREATED,
        new=ticket.key,
        detail={
            "channel": new.channel.value,
            "requester": requester.email or requester.phone,
            "on_behalf_of": requester.name if actor.is_agent else None,
            "priority": priority.value,
            "category": category.path if category else None,
            "group": group.name if group else None,
            "assignee": assignee.login if assignee else None,
            "tags": tags,
            "acknowledgement": ack.reason,
        },
    )
    given = {
        "category": new.category is not None,
        "priority": new.priority is not None,
        "group": new.group is not None,
    }
    for decision in routing.decisions:
        skipped = routing.skipped.get(decision.rule)
        # What the caller gave explicitly won: the history shows only what the route set.
        detail = {k: v for k, v in decision_detail(decision, skipped).items() if not given.get(k)}
        if any(value for key, value in detail.items() if key != "skipped") or skipped:
            record(session, ticket, actor, now, EventKind.ROUTED, rule=decision.rule, detail=detail)
    if picked_why is not None:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.ASSIGNEE,
            field="assignee",
            new=assignee.login if assignee else None,
            rule=ASSIGN_RULE,
            detail={"reason": picked_why},
        )
    record_ledger(session, ticket, actor, now, ledger, sla)
    if assignee is not None:
        notify_assigned(session, ticket, actor, now, rule=ASSIGN_RULE if picked_why else None)
    session.flush()
    return ticket


# --- the requester ------------------------------------------------------------------------


def change_requester(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    identity: str,
    *,
    name: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Make someone else the ticket's requester: the contact with this email or phone,
    created (with `name`) if there is none, as `create_ticket` finds one. The ticket's
    organization becomes the new requester's, and its SLA clocks follow (another
    organization may have another contract). What was sent stays sent; replies from now on
    go to the new requester."""
    ticket = load_open_for_change(session, ref, expected_version)
    if not (identity or "").strip():
        raise ValidationError("give the new requester's email or phone")
    desk = desk_settings(session)
    contact = resolve_requester(session, actor, now, desk, identity, name, None)
    if contact.id == ticket.requester_id:
        return ticket
    before = ticket.requester
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.REQUESTER,
        field="requester",
        old=contact_label(before) if before else None,
        new=contact_label(contact),
    )
    ticket.requester = contact
    if contact.organization_id != ticket.organization_id:
        old_org = ticket.organization.name if ticket.organization else None
        ticket.organization = contact.organization
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.REQUESTER,
            field="organization",
            old=old_org,
            new=contact.organization.name if contact.organization else None,
        )
    touch(session, ticket, actor, now)  # the clocks: the organization's contract may differ
    save(session, ticket)
    return ticket


# --- conversation -------------------------------------------------------------------------


def _headers(mail: MailHeaders | None) -> dict[str, str | None]:
    if mail is None:
        return {}
    return {
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": mail.references,
    }


def _ensure_open_for_messages(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        target = ticket.merged_into
        raise InvalidTransition(
            f"{ticket.key} was merged into {target.key if target else 'another ticket'}; "
            "write there instead"
        )
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"{ticket.key} is closed: reopen it first")


def _clean_body(body: str) -> str:
    if not body or not body.strip():
        raise ValidationError("the message is empty")
    return body.strip("\n")


def reply(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    body: str,
    *,
    expected_version: int | None = None,
    seen_event: int | None = None,
    status: Status | None = None,
) -> Message:
    """A public reply to the customer. The first one stamps the first response; a reply to a
    new ticket opens it; `status` then moves it on (e.g. to pending). Against a version that
    moved on it is refused only if the conversation or the status moved (`seen_event`: the
    newest audit event the author was shown, when known; `ticket_core._load_for_message`)."""
    ticket = _load_for_message(session, ref, expected_version, seen_event)
    _ensure_open_for_messages(ticket)
    text = _clean_body(body)
    if status is not None and status is not ticket.status:
        # Refuse before anything is added: a refused reply leaves no half of itself behind.
        _check_transition(ticket, status)
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.REPLY,
        author_agent_id=actor.agent_id,
        body=text,
        created_at=now,
    )
    session.add(message)
    session.flush()  # the reply's id, for its outbox row
    mail = queue_reply(session, ticket, message, now, actor.name or actor.login)
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.REPLY,
        detail={"mail": mail.message_id, "to": mail.to_addrs} if mail else None,
    )
    ticket.last_activity_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        record(session, ticket, actor, now, EventKind.FIRST_RESPONSE, new=now.isoformat())
    if ticket.assignee_id is None:
        _take_on_reply(session, ticket, actor, now)
    if ticket.status is Status.NEW and status is None:
        _set_status(session, ticket, actor, now, Status.OPEN)
    resolving = status is Status.RESOLVED and ticket.status is not Status.RESOLVED
    if status is not None and status is not ticket.status:
        _transition(session, ticket, actor, now, status)
    touch(session, ticket, actor, now)
    save(session, ticket)
    if resolving:
        _survey(session, ticket, now)
    return message


ASSIGN_ON_REPLY = "assign-on-reply"


def _take_on_reply(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> None:
    """The replier takes an unassigned ticket (`[desk] assign_on_reply`), if it sits in
    one of their groups or in none: a reply to another team's ticket leaves it in their
    queue. Audited with the setting's name as the rule."""
    if actor.agent_id is None:
        return
    with session.no_autoflush:  # the ticket is written once, by the reply's `save`
        if not desk_settings(session).assign_on_reply:
            return
        agent = session.get(Agent, actor.agent_id)
        if agent is None or not agent.active:
            return
        if ticket.group is not None and not _is_member(agent, ticket.group):
            return
        apply_assignment(session, ticket, actor, now, agent=agent.login, rule=ASSIGN_ON_REPLY)


def add_note(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    body: str,
    *,
    expected_version: int | None = None,
    seen_event: int | None = None,
    rule: str | None = None,
) -> Message:
    """An internal note: never shown to the customer, never a first response. `rule` names
    the automation that wrote it, if any. Refused as a reply is (`reply`)."""
    ticket = _load_for_message(session, ref, expected_version, seen_event)
    if ticket.merged_into_id is not None:
        _ensure_open_for_messages(ticket)
    message = write_note(session, ticket, actor, now, body, rule=rule)
    touch(session, ticket, actor, now)
    save(session, ticket)
    return message


def write_note(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    body: str,
    *,
    rule: str | None = None,
) -> Message:
    """`add_note` on a loaded, locked ticket, without marking or saving it."""
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.NOTE,
        author_agent_id=actor.agent_id,
        body=_clean_body(body),
        created_at=now,
    )
    add_row(session, message)  # with a batch job's other rows, when it writes in batches
    # A note written by a rule says what it wrote in the history (an agent's note is in the
    # thread, next to the history, in its author's own words).
    record(
        session, ticket, actor, now, EventKind.NOTE, new=message.body if rule else None, rule=rule
    )
    return message


@dataclass(frozen=True)
class CustomerMessageResult:
    ticket: Ticket
    message: Message
    follow_up_of: Ticket | None = None  # set when a closed ticket got a new linked ticket


def add_customer_message(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    author: Contact,
    body: str,
    *,
    channel: Channel = Channel.EMAIL,
    automatic: bool = False,
    mail: MailHeaders | None = None,
) -> CustomerMessageResult:
    """A message from the customer. It reopens a pending or resolved ticket (not when it is
    automatic mail); on a closed ticket it reopens within the desk's reopen window, else a
    new ticket linked to the old one takes it."""
    text = _clean_body(body)
    ticket = get_ticket(session, ref, for_update=True)
    hops = 0
    while ticket.merged_into_id is not None and hops < 10:
        # A merged ticket's conversation goes on in its target (which may itself be merged).
        ticket = get_ticket(session, ticket.merged_into.number, for_update=True)  # type: ignore[union-attr]
        hops += 1
    desk = desk_settings(session)
    if ticket.status is Status.CLOSED and not automatic:
        if _within_reopen_window(ticket, now, desk):
            _reopen(session, ticket, actor, now, reason="customer replied")
        else:
            return _follow_up(session, actor, now, ticket, author, text, channel, desk, mail)
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.CUSTOMER,
        author_contact_id=author.id,
        body=text,
        channel=channel,
        created_at=now,
        **_headers(mail),
    )
    session.add(message)
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.CUSTOMER_MESSAGE,
        detail={"from": author.email or author.phone, "automatic": automatic},
    )
    if not automatic:
        ticket.last_activity_at = now
        if ticket.status is Status.PENDING:
            _set_status(session, ticket, actor, now, Status.OPEN)
        elif ticket.status is Status.RESOLVED:
            _reopen(session, ticket, actor, now, reason="customer replied")
    touch(session, ticket, actor, now)
    save(session, ticket)
    return CustomerMessageResult(ticket, message)


def _follow_up(
    session: Session,
    actor: Actor,
    now: datetime,
    closed: Ticket,
    author: Contact,
    text: str,
    channel: Channel,
    desk: DeskSettings,
    mail: MailHeaders | None,
) -> CustomerMessageResult:
    """A reply to a ticket closed beyond the reopen window: a new ticket takes it, linked both
    ways (a custom field and an event on each ticket)."""
    identity = author.email or author.phone
    assert identity is not None  # a contact always has one or the other
    follow_up = create_ticket(
        session,
        actor,
        now,
        NewTicket(
            subject=closed.subject,
            body=text,
            channel=channel,
            requester=identity,
            category=closed.category.path if closed.category else None,
            priority=closed.priority,
            group=closed.group.name if closed.group else None,
            custom_fields={"follow_up_of": closed.key},
            mail=mail,
        ),
    )
    reason = f"reply after the {desk.reopen_window_days}-day reopen window"
    record(
        session,
        follow_up,
        actor,
        now,
        EventKind.FOLLOW_UP,
        field="follow_up_of",
        new=closed.key,
        detail={"reason": reason},
    )
    # The closed ticket itself stays as it was (no version bump): only its history says where
    # the conversation went on.
    record(
        session,
        closed,
        actor,
        now,
        EventKind.FOLLOW_UP,
        field="follow_up",
        new=follow_up.key,
        detail={"reason": reason},
    )
    session.flush()
    message = session.scalars(
        select(Message).where(Message.ticket_id == follow_up.id).order_by(Message.id)
    ).first()
    assert message is not None  # create_ticket stored the (non-empty) body
    return CustomerMessageResult(follow_up, message, follow_up_of=closed)


# --- status -------------------------------------------------------------------------------


def _check_transition(ticket: Ticket, target: Status) -> None:
    if not can_transition(ticket.status, target):
        allowed = ", ".join(s.value for s in allowed_targets(ticket.status))
        if ticket.status is Status.CLOSED:
            allowed = "none: a closed ticket is reopened, or a follow-up ticket created"
        raise InvalidTransition(
            f"{ticket.key} cannot go from {ticket.status.value} to {target.value} "
            f"(allowed: {allowed or 'none'})"
        )


def _transition(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, target: Status
) -> None:
    _check_transition(ticket, target)
    if ticket.status is Status.RESOLVED and target is Status.OPEN:
        _reopen(session, ticket, actor, now, reason="reopened by agent")
    else:
        _set_status(session, ticket, actor, now, target)


def change_status(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    target: Status,
    *,
    expected_version: int | None = None,
) -> Ticket:
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.status is target:
        return ticket
    if ticket.merged_into_id is not None:
        _ensure_open_for_messages(ticket)
    _transition(session, ticket, actor, now, target)
    touch(session, ticket, actor, now)
    save(session, ticket)
    if target is Status.RESOLVED:
        _survey(session, ticket, now)
    return ticket


def _survey(session: Session, ticket: Ticket, now: datetime) -> None:
    """Queue the survey of a ticket just resolved, after it is saved: the survey's queries
    must not flush the ticket a second time (one change, one version)."""
    queue_survey(session, ticket, now)
    session.flush()


def _within_reopen_window(ticket: Ticket, now: datetime, desk: DeskSettings) -> bool:
    closed_at = ticket.closed_at or ticket.updated_at
    return now - closed_at <= timedelta(days=desk.reopen_window_days)


def _reopen(session: Session, ticket: Ticket, actor: Actor, now: datetime, reason: str) -> None:
    old = ticket.status
    _set_status(session, ticket, actor, now, Status.OPEN)
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.REOPENED,
        field="status",
        old=old.value,
        new=Status.OPEN.value,
        detail={"reason": reason},
    )


def reopen(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Reopen a resolved ticket, or a closed one within the desk's reopen window."""
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.merged_into_id is not None:
        _ensure_open_for_messages(ticket)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise InvalidTransition(f"{ticket.key} is {ticket.status.value}, not resolved or closed")
    if ticket.status is Status.CLOSED:
        desk = desk_settings(session)
        if not _within_reopen_window(ticket, now, desk):
            raise InvalidTransition(
                f"{ticket.key} was closed more than {desk.reopen_window_days} days ago: "
                "create a follow-up ticket instead"
            )
    _reopen(session, ticket, actor, now, reason=reason or "reopened by agent")
    touch(session, ticket, actor, now)
    save(session, ticket)
    return ticket


def ticket_attachment(session: Session, ref: str | int, attachment_id: int) -> Attachment:
    """One of a ticket's attachments, with its content: `NotFound` when no message of the
    ticket has one of that id, and an error when only its name was kept (it was over the
    size limit when the mail came in)."""
    ticket = get_ticket(session, ref)
    found = session.scalar(
        select(Attachment)
        .join(Message, Attachment.message_id == Message.id)
        .where(Message.ticket_id == ticket.id, Attachment.id == attachment_id)
    )
    if found is None:
        raise NotFound(f"{ticket.key} has no attachment {attachment_id}")
    if found.content is None:
        raise ServiceError(
            f"attachment {attachment_id} was over the size limit: only its name was kept"
        )
    return found

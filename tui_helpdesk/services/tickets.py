"""The ticket lifecycle: create, reply, note, assign, status, priority, category, tags,
merge, reopen (DESIGN §3).

Every function takes the caller's session, the acting `Actor` and `now`, changes the ticket,
writes its audit events in the same transaction, and returns what it changed. Callers that
show a ticket to a person and then save a change pass `expected_version`: if the ticket
changed in between, `Conflict` names who changed it and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from tui_helpdesk.domain import ACTIVE_STATUSES, Channel, EventKind, MessageKind, Priority, Status
from tui_helpdesk.rules.document import DeskSettings
from tui_helpdesk.rules.identity import email_domain, looks_like_email
from tui_helpdesk.rules.numbering import format_key, parse_ref
from tui_helpdesk.rules.workflow import allowed_targets, can_transition
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.directory import (
    ContactDraft,
    add_contact,
    find_contact_by_identity,
    get_agent,
    get_category,
    get_group,
    get_organization,
    organization_for_domain,
)
from tui_helpdesk.services.errors import Conflict, InvalidTransition, NotFound, ValidationError
from tui_helpdesk.store.models import (
    Agent,
    Contact,
    Counter,
    Group,
    Message,
    Ticket,
    TicketEvent,
    TicketTag,
)

TICKET_COUNTER = "ticket"
MAX_SUBJECT = 500
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,63}$")


# --- loading ------------------------------------------------------------------------------


def get_ticket(session: Session, ref: str | int, *, for_update: bool = False) -> Ticket:
    """A ticket by "HD-12", "12", "#12" or number. `for_update` locks the row (PostgreSQL;
    SQLite write transactions already hold the database lock)."""
    if isinstance(ref, int):
        prefix, number = None, ref
    else:
        parsed = parse_ref(ref)
        if parsed is None:
            raise ValidationError(f"not a ticket number: {ref!r} (write HD-12, 12 or #12)")
        prefix, number = parsed
    query = select(Ticket).where(Ticket.number == number)
    if for_update:
        query = query.with_for_update(of=Ticket)
    ticket = session.scalar(query)
    if ticket is None or (prefix is not None and not ticket.key.upper().startswith(prefix + "-")):
        raise NotFound(f"no ticket {ref}")
    return ticket


def _load_for_change(session: Session, ref: str | int, expected_version: int | None) -> Ticket:
    ticket = get_ticket(session, ref, for_update=True)
    if expected_version is not None and ticket.version != expected_version:
        raise _conflict(session, ticket, expected_version)
    return ticket


def _conflict(session: Session, ticket: Ticket, expected_version: int | None) -> Conflict:
    last = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(1)
    ).first()
    change = None
    if last is not None:
        change = last.kind.value
        if last.field:
            change = f"{last.field}: {last.old or '-'} -> {last.new or '-'}"
    return Conflict(
        ticket.key,
        expected_version,
        ticket.version,
        last.actor if last else (ticket.updated_by.login if ticket.updated_by else None),
        last.at if last else ticket.updated_at,
        change,
    )


def save(session: Session, ticket: Ticket) -> None:
    """Flush a changed ticket; a concurrent update of the same version becomes `Conflict`."""
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(ticket.key, ticket.version, None, None, None, None) from None


# --- audit --------------------------------------------------------------------------------


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


def _touch(ticket: Ticket, actor: Actor, now: datetime) -> None:
    """Mark the ticket changed. The row is always rewritten, so its version moves on even when
    only child rows (tags, messages) changed."""
    ticket.updated_at = now
    ticket.updated_by_id = actor.agent_id
    flag_modified(ticket, "updated_at")


# --- numbering ----------------------------------------------------------------------------


def next_ticket_number(session: Session) -> int:
    """Take the next number. The counter row is updated in the caller's transaction, so two
    concurrent creators queue on it and never get the same number."""
    value = session.execute(
        update(Counter)
        .where(Counter.name == TICKET_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one_or_none()
    if value is None:
        raise RuntimeError("ticket counter missing: run `helpdesk db upgrade`")
    return value


# --- create -------------------------------------------------------------------------------


@dataclass
class NewTicket:
    subject: str
    body: str | None = None
    channel: Channel = Channel.CLI
    requester: str | None = None  # email address or phone number of the caller
    requester_name: str | None = None
    organization: str | None = None
    category: str | None = None
    priority: Priority | None = None
    group: str | None = None
    assignee: str | None = None
    tags: Sequence[str] = ()


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
    subject = " ".join(new.subject.split())
    if not subject:
        raise ValidationError("a ticket needs a subject")
    if len(subject) > MAX_SUBJECT:
        raise ValidationError(f"subject too long ({len(subject)} > {MAX_SUBJECT} characters)")
    desk = desk_settings(session)
    requester = resolve_requester(
        session, actor, now, desk, new.requester, new.requester_name, new.organization
    )
    organization = (
        get_organization(session, new.organization) if new.organization else requester.organization
    )
    category = get_category(session, new.category) if new.category else None
    priority = new.priority or (category.default_priority if category else None) or Priority.NORMAL
    group: Group | None = get_group(session, new.group) if new.group else None
    if group is None and category is not None:
        group = category.default_group
    assignee = get_agent(session, new.assignee) if new.assignee else None
    if assignee is not None:
        group = _group_for_assignee(assignee, group)
    tags = normalise_tags(new.tags)

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
        custom_fields={},
    )
    ticket.tag_rows = [TicketTag(tag=t) for t in tags]
    session.add(ticket)
    session.flush()
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
            )
        )
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
        },
    )
    session.flush()
    return ticket


def _is_member(agent: Agent, group: Group) -> bool:
    return any(g.id == group.id for g in agent.groups)


def _group_for_assignee(agent: Agent, group: Group | None) -> Group | None:
    """The group a ticket should sit in once `agent` owns it: the given group if the agent
    belongs to it, else the agent's only group. Refuses an agent outside the given group."""
    if group is not None:
        if not _is_member(agent, group):
            raise ValidationError(
                f"{agent.login} is not a member of group {group.name!r} "
                "(assign within the group, or move the ticket with --group)"
            )
        return group
    if len(agent.groups) == 1:
        return agent.groups[0]
    return None


# --- conversation -------------------------------------------------------------------------


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
    status: Status | None = None,
) -> Message:
    """A public reply to the customer. The first one stamps the first response; a reply to a
    new ticket opens it; `status` then moves it on (e.g. to pending)."""
    ticket = _load_for_change(session, ref, expected_version)
    _ensure_open_for_messages(ticket)
    text = _clean_body(body)
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.REPLY,
        author_agent_id=actor.agent_id,
        body=text,
        created_at=now,
    )
    session.add(message)
    record(session, ticket, actor, now, EventKind.REPLY)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        record(session, ticket, actor, now, EventKind.FIRST_RESPONSE, new=now.isoformat())
    if ticket.status is Status.NEW and status is None:
        _set_status(session, ticket, actor, now, Status.OPEN)
    if status is not None and status is not ticket.status:
        _transition(session, ticket, actor, now, status)
    _touch(ticket, actor, now)
    save(session, ticket)
    return message


def add_note(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    body: str,
    *,
    expected_version: int | None = None,
) -> Message:
    """An internal note: never shown to the customer, never a first response."""
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.merged_into_id is not None:
        _ensure_open_for_messages(ticket)
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.NOTE,
        author_agent_id=actor.agent_id,
        body=_clean_body(body),
        created_at=now,
    )
    session.add(message)
    record(session, ticket, actor, now, EventKind.NOTE)
    _touch(ticket, actor, now)
    save(session, ticket)
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
) -> CustomerMessageResult:
    """A message from the customer. It reopens a pending or resolved ticket (not when it is
    automatic mail); on a closed ticket it reopens within the desk's reopen window, else a
    new ticket linked to the old one takes it."""
    ticket = get_ticket(session, ref, for_update=True)
    if ticket.merged_into is not None:
        ticket = ticket.merged_into
    text = _clean_body(body)
    desk = desk_settings(session)
    if ticket.status is Status.CLOSED and not automatic:
        if _within_reopen_window(ticket, now, desk):
            _reopen(session, ticket, actor, now, reason="customer replied")
        else:
            follow_up = create_ticket(
                session,
                actor,
                now,
                NewTicket(
                    subject=ticket.subject,
                    body=text,
                    channel=channel,
                    requester=author.email or author.phone,
                    category=ticket.category.path if ticket.category else None,
                    priority=ticket.priority,
                    group=ticket.group.name if ticket.group else None,
                ),
            )
            follow_up.custom_fields = {"follow_up_of": ticket.key}
            record(
                session,
                follow_up,
                actor,
                now,
                EventKind.REOPENED,
                field="follow_up_of",
                new=ticket.key,
                detail={"reason": "reply after the reopen window"},
            )
            first = session.scalars(
                select(Message).where(Message.ticket_id == follow_up.id)
            ).first()
            assert first is not None
            return CustomerMessageResult(follow_up, first, follow_up_of=ticket)
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.CUSTOMER,
        author_contact_id=author.id,
        body=text,
        channel=channel,
        created_at=now,
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
        if ticket.status is Status.PENDING:
            _set_status(session, ticket, actor, now, Status.OPEN)
        elif ticket.status is Status.RESOLVED:
            _reopen(session, ticket, actor, now, reason="customer replied")
    _touch(ticket, actor, now)
    save(session, ticket)
    return CustomerMessageResult(ticket, message)


# --- status -------------------------------------------------------------------------------


def _set_status(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    target: Status,
    rule: str | None = None,
) -> None:
    old = ticket.status
    ticket.status = target
    if target is Status.RESOLVED:
        ticket.resolved_at = now
    elif target is Status.CLOSED:
        ticket.closed_at = now
    elif target in ACTIVE_STATUSES and old in (Status.RESOLVED, Status.CLOSED):
        ticket.resolved_at = None
        ticket.closed_at = None
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.STATUS,
        field="status",
        old=old.value,
        new=target.value,
        rule=rule,
    )


def _transition(
    session: Session, ticket: Ticket, actor: Actor, now: datetime, target: Status
) -> None:
    if not can_transition(ticket.status, target):
        allowed = ", ".join(s.value for s in allowed_targets(ticket.status)) or "none"
        raise InvalidTransition(
            f"{ticket.key} cannot go from {ticket.status.value} to {target.value} "
            f"(allowed: {allowed})"
        )
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
    _touch(ticket, actor, now)
    save(session, ticket)
    return ticket


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
    _touch(ticket, actor, now)
    save(session, ticket)
    return ticket


# --- assignment and classification --------------------------------------------------------


class _Unset:
    pass


UNSET = _Unset()


def assign(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    *,
    agent: str | _Unset | None = UNSET,
    group: str | _Unset | None = UNSET,
    expected_version: int | None = None,
    rule: str | None = None,
) -> Ticket:
    """Set the assignee (`agent=None` unassigns) and/or the group. An assignee must belong to
    the ticket's group; moving a ticket to a group its assignee is not in unassigns it. The
    support level follows the group."""
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"{ticket.key} is closed")
    new_group = ticket.group
    if not isinstance(group, _Unset):
        new_group = get_group(session, group) if group else None
    new_agent = ticket.assignee
    if not isinstance(agent, _Unset):
        new_agent = get_agent(session, agent) if agent else None
        if new_agent is not None and not new_agent.active:
            raise ValidationError(f"agent {new_agent.login!r} is deactivated")
        if new_agent is not None:
            # An explicit assignee must fit the group (or brings their only group along).
            new_group = _group_for_assignee(new_agent, new_group)
    elif new_agent is not None and new_group is not None and not _is_member(new_agent, new_group):
        new_agent = None  # the ticket moved to a group its assignee is not in

    if (new_group.id if new_group else None) != ticket.group_id:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.GROUP,
            field="group",
            old=ticket.group.name if ticket.group else None,
            new=new_group.name if new_group else None,
            rule=rule,
        )
        ticket.group = new_group
        new_level = new_group.level if new_group else None
        if new_level != ticket.level:
            record(
                session,
                ticket,
                actor,
                now,
                EventKind.LEVEL,
                field="level",
                old=ticket.level,
                new=new_level,
                rule=rule,
            )
            ticket.level = new_level
    if (new_agent.id if new_agent else None) != ticket.assignee_id:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.ASSIGNEE,
            field="assignee",
            old=ticket.assignee.login if ticket.assignee else None,
            new=new_agent.login if new_agent else None,
            rule=rule,
        )
        ticket.assignee = new_agent
        if new_agent is not None and ticket.status is Status.NEW:
            _set_status(session, ticket, actor, now, Status.OPEN, rule=rule)
    _touch(ticket, actor, now)
    save(session, ticket)
    return ticket


def change_priority(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    priority: Priority,
    *,
    expected_version: int | None = None,
    rule: str | None = None,
) -> Ticket:
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"{ticket.key} is closed")
    if ticket.priority is not priority:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.PRIORITY,
            field="priority",
            old=ticket.priority.value,
            new=priority.value,
            rule=rule,
        )
        ticket.priority = priority
        _touch(ticket, actor, now)
        save(session, ticket)
    return ticket


def change_category(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    category: str | None,
    *,
    expected_version: int | None = None,
    rule: str | None = None,
) -> Ticket:
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"{ticket.key} is closed")
    new = get_category(session, category) if category else None
    if (new.id if new else None) != ticket.category_id:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.CATEGORY,
            field="category",
            old=ticket.category.path if ticket.category else None,
            new=new.path if new else None,
            rule=rule,
        )
        ticket.category = new
        _touch(ticket, actor, now)
        save(session, ticket)
    return ticket


def normalise_tags(tags: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for raw in tags:
        tag = raw.strip().lower().replace(" ", "-")
        if not tag:
            continue
        if not _TAG.match(tag):
            raise ValidationError(
                f"invalid tag {raw!r}: letters, digits and _ . : / - (up to 64 characters)"
            )
        out.add(tag)
    return sorted(out)


def change_tags(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    expected_version: int | None = None,
    rule: str | None = None,
) -> Ticket:
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"{ticket.key} is closed")
    before = ticket.tags
    wanted = (set(before) | set(normalise_tags(add))) - set(normalise_tags(remove))
    after = sorted(wanted)
    if after != before:
        ticket.tag_rows = [row for row in ticket.tag_rows if row.tag in wanted] + [
            TicketTag(tag=t) for t in after if t not in before
        ]
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.TAGS,
            field="tags",
            old=" ".join(before),
            new=" ".join(after),
            rule=rule,
        )
        _touch(ticket, actor, now)
        save(session, ticket)
    return ticket


# --- merge --------------------------------------------------------------------------------


def merge(
    session: Session,
    actor: Actor,
    now: datetime,
    source_ref: str | int,
    target_ref: str | int,
) -> tuple[Ticket, Ticket]:
    """Merge `source` into `target`: its messages move to the target (set-based), its tags
    join the target's, and the source is closed with a link to the target."""
    source = get_ticket(session, source_ref, for_update=True)
    target = get_ticket(session, target_ref, for_update=True)
    if source.id == target.id:
        raise InvalidTransition("cannot merge a ticket into itself")
    if source.merged_into_id is not None:
        raise InvalidTransition(f"{source.key} is already merged into {source.merged_into.key}")  # type: ignore[union-attr]
    if target.merged_into_id is not None or target.status is Status.CLOSED:
        raise InvalidTransition(f"{target.key} is closed: merge into an open ticket")
    session.execute(
        update(Message).where(Message.ticket_id == source.id).values(ticket_id=target.id)
    )
    session.add(
        Message(
            ticket_id=target.id,
            kind=MessageKind.SYSTEM,
            author_agent_id=actor.agent_id,
            body=f"{source.key} ({source.subject}) was merged into this ticket.",
            created_at=now,
        )
    )
    extra_tags = [t for t in source.tags if t not in target.tags]
    if extra_tags:
        target.tag_rows = [*target.tag_rows, *(TicketTag(tag=t) for t in extra_tags)]
    old_status = source.status
    source.status = Status.CLOSED
    source.closed_at = now
    source.merged_into = target
    record(
        session,
        source,
        actor,
        now,
        EventKind.MERGED,
        field="merged_into",
        new=target.key,
        detail={"status_before": old_status.value},
    )
    record(
        session,
        source,
        actor,
        now,
        EventKind.STATUS,
        field="status",
        old=old_status.value,
        new=Status.CLOSED.value,
    )
    record(
        session,
        target,
        actor,
        now,
        EventKind.MERGED_FROM,
        field="merged_from",
        new=source.key,
        detail={"tags_added": extra_tags},
    )
    _touch(source, actor, now)
    _touch(target, actor, now)
    session.expire(source, ["tag_rows"])
    save(session, target)
    return source, target


# --- reading a ticket ---------------------------------------------------------------------


def ticket_messages(session: Session, ticket: Ticket, limit: int | None = None) -> list[Message]:
    query = (
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.created_at, Message.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def ticket_events(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(
        session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.at, TicketEvent.id)
        )
    )

"""Changing who owns a ticket and how it is classified: assign (agent and/or group),
priority, category, tags, and merging one ticket into another. Each change is audited with
actor, old and new; a change that changes nothing writes nothing. Re-exported by `tickets`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ACTIVE_STATUSES, EventKind, MessageKind, Priority, Status
from tui_helpdesk.services.assignment import RULE as ASSIGN_RULE
from tui_helpdesk.services.assignment import assigns_automatically, needed_skills, pick_assignee
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.directory import (
    get_agent,
    get_category,
    get_group,
)
from tui_helpdesk.services.errors import InvalidTransition, ValidationError
from tui_helpdesk.services.notify import notify_assigned
from tui_helpdesk.services.sla import FIRED_KEY, prime_fired, record_ledger, update_clocks
from tui_helpdesk.services.ticket_core import (
    _conflict,
    _group_for_assignee,
    _is_member,
    _load_for_change,
    _set_status,
    get_ticket,
    mark_changed,
    normalise_subject,
    normalise_tags,
    record,
    save,
    save_many,
    touch,
)
from tui_helpdesk.store.models import (
    Message,
    Ticket,
    TicketTag,
)

# --- an organization's tickets ------------------------------------------------------------

RESYNC_BATCH = 500


def resync_organization(session: Session, actor: Actor, now: datetime, org_id: int) -> int:
    """Bring the clocks and escalation timers of an organization's active tickets up to date
    after its segment or contract changed (`directory.edit_organization`): each ticket whose
    clocks moved (another policy, new targets) gets the ledger's account of the step and a
    new version, as any change does, and so does one whose next escalation moved (rules
    may name the segment); the others are left as they are. Locked and written a
    batch at a time, in the caller's transaction. Returns how many tickets changed."""
    changed_count = 0
    after = 0
    try:
        while True:
            page = list(
                session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.organization_id == org_id,
                        Ticket.status.in_(ACTIVE_STATUSES),
                        Ticket.id > after,
                    )
                    .order_by(Ticket.id)
                    .limit(RESYNC_BATCH)
                    .with_for_update(of=Ticket)
                )
            )
            if not page:
                break
            after = page[-1].id
            prime_fired(session, page)
            changed = []
            for ticket in page:
                timer = ticket.next_escalation_at
                sla, entries = update_clocks(session, ticket, now)
                if entries or ticket.next_escalation_at != timer:
                    record_ledger(session, ticket, actor, now, entries, sla)
                    mark_changed(ticket, actor, now)
                    changed.append(ticket)
                else:
                    # Its clocks stand: what else `update_clocks` caught up on is left for
                    # the ticket's next change, not written in this admin's name.
                    session.expunge(ticket)
            save_many(session, changed)
            changed_count += len(changed)
            if len(page) < RESYNC_BATCH:
                break
    finally:
        session.info.pop(FIRED_KEY, None)  # the cache of this job's pages only
    return changed_count


# --- assignment and classification --------------------------------------------------------


class _Unset:
    pass


UNSET = _Unset()


def load_open_for_change(session: Session, ref: str | int, expected_version: int | None) -> Ticket:
    """The ticket to change, locked and version-checked; closed tickets take no changes."""
    ticket = _load_for_change(session, ref, expected_version)
    if ticket.status is Status.CLOSED:
        raise InvalidTransition(f"{ticket.key} is closed")
    return ticket


def _save_field_change(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    kind: EventKind,
    field: str,
    old: object,
    new: object,
    rule: str | None,
) -> None:
    """Audit one changed field, then mark the ticket changed and save it."""
    record(session, ticket, actor, now, kind, field=field, old=old, new=new, rule=rule)
    touch(session, ticket, actor, now)
    save(session, ticket)


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
    """Set the assignee (`agent=None` unassigns) and/or the group (`group=None` takes the
    ticket out of any group). An assignee must belong to the ticket's group (the one given,
    else the current one); a ticket in no group takes its new assignee's only group. Moving a
    ticket to a group its assignee is not in unassigns it. The support level follows the
    group. Assigning what is already assigned changes nothing (no event, same version)."""
    ticket = load_open_for_change(session, ref, expected_version)
    if apply_assignment(session, ticket, actor, now, agent=agent, group=group, rule=rule):
        touch(session, ticket, actor, now)
        save(session, ticket)
    return ticket


def apply_assignment(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    *,
    agent: str | _Unset | None = UNSET,
    group: str | _Unset | None = UNSET,
    rule: str | None = None,
) -> bool:
    """`assign` on a ticket already loaded and locked: change and audit, without marking or
    saving it (the caller does, once, after all its changes). Returns whether it changed."""
    group_given = not isinstance(group, _Unset)
    new_group = ticket.group
    if not isinstance(group, _Unset):
        new_group = get_group(session, group) if group else None
    new_agent = ticket.assignee
    if not isinstance(agent, _Unset):
        new_agent = get_agent(session, agent) if agent else None
        if new_agent is not None and not new_agent.active:
            raise ValidationError(f"agent {new_agent.login!r} is deactivated")
        if new_agent is not None and (new_group is not None or not group_given):
            # An explicit assignee must fit the group (or brings their only group along).
            new_group = _group_for_assignee(new_agent, new_group)
    elif new_agent is not None and new_group is not None and not _is_member(new_agent, new_group):
        new_agent = None  # the ticket moved to a group its assignee is not in

    group_changes = (new_group.id if new_group else None) != ticket.group_id
    picked_why = None
    if (
        group_changes
        and new_agent is None
        and isinstance(agent, _Unset)
        and assigns_automatically(session, new_group)
    ):
        assert new_group is not None
        new_agent, picked_why = pick_assignee(session, new_group, needed_skills(ticket), now)
    agent_changes = (new_agent.id if new_agent else None) != ticket.assignee_id
    if not group_changes and not agent_changes:
        return False
    if group_changes:
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
    if agent_changes or picked_why is not None:
        record(
            session,
            ticket,
            actor,
            now,
            EventKind.ASSIGNEE,
            field="assignee",
            old=ticket.assignee.login if ticket.assignee else None,
            new=new_agent.login if new_agent else None,
            rule=ASSIGN_RULE if picked_why is not None else rule,
            detail={"reason": picked_why} if picked_why is not None else None,
        )
        ticket.assignee = new_agent
        if new_agent is not None and ticket.status is Status.NEW:
            _set_status(session, ticket, actor, now, Status.OPEN, rule=rule)
        if agent_changes and new_agent is not None:
            notify_assigned(
                session, ticket, actor, now, rule=ASSIGN_RULE if picked_why is not None else rule
            )
    return True


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
    ticket = load_open_for_change(session, ref, expected_version)
    if apply_priority(session, ticket, actor, now, priority, rule=rule):
        touch(session, ticket, actor, now)
        save(session, ticket)
    return ticket


def apply_priority(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    priority: Priority,
    *,
    rule: str | None = None,
) -> bool:
    """`change_priority` on a loaded, locked ticket, without marking or saving it."""
    if ticket.priority is priority:
        return False
    old = ticket.priority.value
    ticket.priority = priority
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.PRIORITY,
        field="priority",
        old=old,
        new=priority.value,
        rule=rule,
    )
    return True


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
    ticket = load_open_for_change(session, ref, expected_version)
    new = get_category(session, category) if category else None
    if (new.id if new else None) != ticket.category_id:
        old = ticket.category.path if ticket.category else None
        ticket.category = new
        _save_field_change(
            session,
            ticket,
            actor,
            now,
            EventKind.CATEGORY,
            "category",
            old,
            new.path if new else None,
            rule,
        )
    return ticket


def change_subject(
    session: Session,
    actor: Actor,
    now: datetime,
    ref: str | int,
    subject: str,
    *,
    expected_version: int | None = None,
) -> Ticket:
    """Give a ticket another subject (as `create_ticket` takes one: one line, not empty);
    the search indexes follow the column. Mail already sent keeps its subject; what is sent
    from now on has the new one."""
    ticket = load_open_for_change(session, ref, expected_version)
    new = normalise_subject(subject)
    if new != ticket.subject:
        old, ticket.subject = ticket.subject, new
        _save_field_change(
            session, ticket, actor, now, EventKind.SUBJECT, "subject", old, new, None
        )
    return ticket


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
    ticket = load_open_for_change(session, ref, expected_version)
    if apply_tags(session, ticket, actor, now, add=add, remove=remove, rule=rule):
        touch(session, ticket, actor, now)
        save(session, ticket)
    return ticket


def apply_tags(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    now: datetime,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    rule: str | None = None,
) -> bool:
    """`change_tags` on a loaded, locked ticket, without marking or saving it."""
    before = ticket.tags
    wanted = (set(before) | set(normalise_tags(add))) - set(normalise_tags(remove))
    after = sorted(wanted)
    if after == before:
        return False
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
    return True


# --- merge --------------------------------------------------------------------------------


def merge(
    session: Session,
    actor: Actor,
    now: datetime,
    source_ref: str | int,
    target_ref: str | int,
    *,
    expected_version: int | None = None,
    target_version: int | None = None,
) -> tuple[Ticket, Ticket]:
    """Merge `source` into `target`: its messages move to the target (set-based), its tags
    join the target's, and the source is closed with a link to the target. Events on both
    tickets say what happened. `expected_version` / `target_version` guard against changes
    made since the caller showed the two tickets."""
    source = get_ticket(session, source_ref)
    target = get_ticket(session, target_ref)
    if source.id == target.id:
        raise InvalidTransition("cannot merge a ticket into itself")
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    first, second = sorted((source, target), key=lambda t: t.id)
    _load_for_change(session, first.number, None)
    _load_for_change(session, second.number, None)
    if expected_version is not None and source.version != expected_version:
        raise _conflict(session, source, expected_version)
    if target_version is not None and target.version != target_version:
        raise _conflict(session, target, target_version)
    if source.merged_into_id is not None:
        into = source.merged_into
        raise InvalidTransition(
            f"{source.key} is already merged into {into.key if into else 'another ticket'}"
        )
    if target.merged_into_id is not None or target.status is Status.CLOSED:
        raise InvalidTransition(f"{target.key} is closed: merge into an open ticket")
    if source.status is Status.CLOSED:
        # A closed ticket's conversation is a finished record; a follow-up links instead.
        raise InvalidTransition(f"{source.key} is closed: only tickets still in work merge")
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
    before_tags = target.tags
    extra_tags = [t for t in source.tags if t not in before_tags]
    if extra_tags:
        target.tag_rows = [*target.tag_rows, *(TicketTag(tag=t) for t in extra_tags)]
    old_status = source.status
    source.status = Status.CLOSED
    source.closed_at = now
    source.merged_into = target
    source.merged_into_id = target.id  # now, not at the flush: the clocks stop on it below
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
    if extra_tags:
        record(
            session,
            target,
            actor,
            now,
            EventKind.TAGS,
            field="tags",
            old=" ".join(before_tags),
            new=" ".join(target.tags),
        )
    touch(session, source, actor, now)
    touch(session, target, actor, now)
    save(session, target)
    return source, target

"""What the console's ticket screen can do to a ticket, as plain functions of the `Store`.

Each write opens its own unit of work (`store.write()`), resolves the acting agent from the
login (`directory.actor_for`), calls the lifecycle service with the version the agent was
shown (`expected_version`), and returns a small `ActionResult` (the new version and one line
to tell the agent). Someone else's change in between raises `Conflict` (nothing written); a
refused change raises the service's own `ServiceError`; a database failure comes back as
`views.DatabaseUnavailable`, so the screen never sees SQLAlchemy.

The choice lists (assignees, categories, escalation targets, allowed statuses, priorities)
are frozen rows of cleaned plain text for the console's pickers.

Called by `tui_helpdesk.screens.ticket` and the queue's bulk actions (`services.bulk`) from
thread workers only (never the UI thread).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Priority, Status, lower_level
from tui_helpdesk.rules.workflow import allowed_targets
from tui_helpdesk.services import conflicts, directory, escalation, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import (
    Conflict,
    InvalidTransition,
    ValidationError,
)
from tui_helpdesk.services.views import _zone, database_error
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent, Ticket
from tui_helpdesk.text import clean

__all__ = [
    "ActionResult",
    "Choice",
    "EscalationChoices",
    "MergeParties",
    "add_note",
    "assign",
    "assign_to_me",
    "assignee_choices",
    "category_choices",
    "change_category",
    "change_priority",
    "change_requester",
    "change_status",
    "change_subject",
    "change_tags",
    "edit_tags",
    "escalate",
    "escalation_choices",
    "explain_conflict",
    "merge_parties",
    "normalise_subject",
    "parse_requester",
    "parse_tags",
    "priority_choices",
    "reopen",
    "reply",
    "status_choices",
    "status_label",
    "status_of",
]

T = TypeVar("T")


@dataclass(frozen=True)
class ActionResult:
    key: str
    version: int  # the ticket's version after the action
    summary: str  # one line for a notification, e.g. "assigned to cleo"
    changed: bool = True  # False: it already was so; nothing was written


@dataclass(frozen=True)
class Choice:
    """One row of a picker: `value` is what the action is given ("" stands for none)."""

    value: str
    label: str
    detail: str = ""
    current: bool = False
    group: str | None = None  # an assignee from another group: the group the ticket moves to


@dataclass(frozen=True)
class EscalationChoices:
    group: str  # the ticket's group now ("" if none)
    next_level: str | None  # the group one level up, if the current group has one
    groups: tuple[Choice, ...]  # the other groups it can be moved to


# --- units of work ------------------------------------------------------------------------


@contextmanager
def writing(store: Store, login: str) -> Iterator[tuple[Session, Actor]]:
    try:
        with store.write() as session:
            yield session, directory.actor_for(session, login)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc


def _read(store: Store, work: Callable[[Session], T]) -> T:
    try:
        with store.read() as session:
            return work(session)
    except SQLAlchemyError as exc:
        raise database_error(exc) from exc


def _result(ticket: Ticket, before: int, summary: str) -> ActionResult:
    changed = ticket.version != before
    return ActionResult(
        ticket.key, ticket.version, summary if changed else "nothing changed", changed
    )


# --- labels -------------------------------------------------------------------------------


def status_label(status: Status) -> str:
    """How the console spells a status ("on hold"), as `views` shows it."""
    return status.value.replace("_", " ")


def status_of(shown: str) -> Status:
    """The status behind its console label (the inverse of `status_label`)."""
    return Status(shown.strip().replace(" ", "_"))


def _agent_label(agent: Agent | None) -> str:
    if agent is None:
        return "nobody"
    name = clean(agent.name, single_line=True)
    return f"{agent.login} ({name})" if name and name != agent.login else agent.login


# --- conversation -------------------------------------------------------------------------


def reply(
    store: Store,
    login: str,
    ref: str,
    body: str,
    *,
    expected_version: int,
    now: datetime,
    seen_event: int | None = None,
    status: Status | None = None,
) -> ActionResult:
    """Send a public reply; `status` then moves the ticket on (e.g. to pending). Refused
    only if the conversation or the status moved since the ticket shown (`seen_event`: its
    newest audit event), not for another change of its fields."""
    with writing(store, login) as (session, actor):
        tickets.reply(
            session,
            actor,
            now,
            ref,
            body,
            expected_version=expected_version,
            seen_event=seen_event,
            status=status,
        )
        ticket = tickets.get_ticket(session, ref)  # the one the reply loaded (identity map)
        then = f", now {status_label(ticket.status)}" if status is not None else ""
        return ActionResult(ticket.key, ticket.version, f"reply sent{then}")


def add_note(
    store: Store,
    login: str,
    ref: str,
    body: str,
    *,
    expected_version: int,
    now: datetime,
    seen_event: int | None = None,
) -> ActionResult:
    """Add an internal note (never shown to the customer); refused as a reply is."""
    with writing(store, login) as (session, actor):
        tickets.add_note(
            session,
            actor,
            now,
            ref,
            body,
            expected_version=expected_version,
            seen_event=seen_event,
        )
        ticket = tickets.get_ticket(session, ref)
        return ActionResult(ticket.key, ticket.version, "note added")


# --- assignment ---------------------------------------------------------------------------


def assign(
    store: Store,
    login: str,
    ref: str,
    *,
    agent: str | None,
    group: str | None = None,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    """Assign to `agent` (None unassigns); `group` also moves the ticket there (an assignee
    from another group, as `assignee_choices` offers them)."""
    with writing(store, login) as (session, actor):
        ticket = tickets.assign(
            session,
            actor,
            now,
            ref,
            agent=agent,
            group=group if group is not None else tickets.UNSET,
            expected_version=expected_version,
        )
        summary = f"assigned to {_agent_label(ticket.assignee)}" if agent else "unassigned"
        if group is not None:
            summary += f" in {clean(group, single_line=True)}"
        return _result(ticket, expected_version, summary)


def assign_to_me(
    store: Store, login: str, ref: str, *, expected_version: int, now: datetime
) -> ActionResult:
    """Take the ticket. Refused (with what to do instead) when it sits in a group the agent
    is not in: taking it would silently move it between groups."""
    with writing(store, login) as (session, actor):
        ticket = tickets.get_ticket(session, ref, for_update=True)
        me = directory.get_agent(session, actor.login)
        # A changed ticket is the service's to report (as a Conflict naming who changed it).
        fresh = ticket.version == expected_version
        if fresh and ticket.group is not None and all(g.id != ticket.group_id for g in me.groups):
            raise InvalidTransition(
                f"{ticket.key} is in {clean(ticket.group.name, single_line=True)}, which you "
                "are not in: pick an assignee and group (A) or escalate it (e)"
            )
        ticket = tickets.assign(
            session, actor, now, ref, agent=actor.login, expected_version=expected_version
        )
        return _result(ticket, expected_version, "assigned to you")


def assignee_choices(store: Store, ref: str) -> tuple[Choice, ...]:
    """Active agents who can take the ticket: members of its group first (or everyone, for
    a ticket in no group), then agents of other groups, once per group, with the group the
    ticket would move to; "nobody" last, if it is assigned."""

    def work(session: Session) -> tuple[Choice, ...]:
        ticket = tickets.get_ticket(session, ref)
        fit: list[Choice] = []
        moves: list[Choice] = []
        for agent in directory.list_agents(session):
            if not agent.active:
                continue
            name = _agent_label(agent)
            groups = [clean(g.name, single_line=True) for g in agent.groups]
            current = agent.id == ticket.assignee_id
            if ticket.group is None or any(g.id == ticket.group_id for g in agent.groups):
                fit.append(Choice(agent.login, name, ", ".join(groups), current))
                continue
            for group in agent.groups:
                moves.append(
                    Choice(
                        agent.login,
                        name,
                        f"moves it to {clean(group.name, single_line=True)}",
                        group=group.name,
                    )
                )
        nobody = [Choice("", "nobody", "unassign")] if ticket.assignee_id is not None else []
        return (*fit, *moves, *nobody)

    return _read(store, work)


# --- status -------------------------------------------------------------------------------


def status_choices(current: Status) -> tuple[Choice, ...]:
    """The statuses the workflow allows from `current`, in workflow order."""
    return tuple(Choice(s.value, status_label(s)) for s in allowed_targets(current))


def change_status(
    store: Store, login: str, ref: str, status: Status, *, expected_version: int, now: datetime
) -> ActionResult:
    with writing(store, login) as (session, actor):
        ticket = tickets.change_status(
            session, actor, now, ref, status, expected_version=expected_version
        )
        return _result(ticket, expected_version, f"status: {status_label(ticket.status)}")


def reopen(
    store: Store, login: str, ref: str, *, expected_version: int, now: datetime
) -> ActionResult:
    """Reopen a resolved ticket, or a closed one within the desk's reopen window."""
    with writing(store, login) as (session, actor):
        ticket = tickets.reopen(session, actor, now, ref, expected_version=expected_version)
        return _result(ticket, expected_version, "reopened")


# --- classification -----------------------------------------------------------------------


def priority_choices(current: Priority) -> tuple[Choice, ...]:
    """Every priority, most urgent first (the current one marked)."""
    return tuple(
        Choice(p.value, p.value, current=p is current)
        for p in sorted(Priority, key=lambda p: p.rank, reverse=True)
    )


def change_priority(
    store: Store,
    login: str,
    ref: str,
    priority: Priority,
    *,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    with writing(store, login) as (session, actor):
        ticket = tickets.change_priority(
            session, actor, now, ref, priority, expected_version=expected_version
        )
        return _result(ticket, expected_version, f"priority: {ticket.priority.value}")


def category_choices(store: Store, ref: str) -> tuple[Choice, ...]:
    """Every category by path, then "none" if the ticket has one."""

    def work(session: Session) -> tuple[Choice, ...]:
        ticket = tickets.get_ticket(session, ref)
        rows = tuple(
            Choice(
                c.path,
                clean(c.path, single_line=True),
                f"default group {clean(c.default_group.name, single_line=True)}"
                if c.default_group
                else "",
                current=c.id == ticket.category_id,
            )
            for c in directory.list_categories(session)
        )
        none = (Choice("", "none", "no category"),) if ticket.category_id is not None else ()
        return rows + none

    return _read(store, work)


def change_category(
    store: Store,
    login: str,
    ref: str,
    category: str | None,
    *,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    with writing(store, login) as (session, actor):
        ticket = tickets.change_category(
            session, actor, now, ref, category or None, expected_version=expected_version
        )
        shown = clean(ticket.category.path, single_line=True) if ticket.category else "none"
        home = ticket.category.default_group if ticket.category else None
        if home is not None and home.id != ticket.group_id:
            # A category places new tickets only: say where this one would have gone.
            shown += f" (its tickets go to {clean(home.name, single_line=True)}: A to move it)"
        return _result(ticket, expected_version, f"category: {shown}")


def normalise_subject(text: str) -> str:
    """A subject as typed, as it would be stored; `ValidationError` if it cannot be. Pure:
    the subject editor checks it before anything is sent."""
    return tickets.normalise_subject(text)


def change_subject(
    store: Store,
    login: str,
    ref: str,
    subject: str,
    *,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    with writing(store, login) as (session, actor):
        ticket = tickets.change_subject(
            session, actor, now, ref, subject, expected_version=expected_version
        )
        return _result(ticket, expected_version, "subject changed")


_NAMED = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<identity>[^<>]*)>\s*$")


def parse_requester(text: str) -> tuple[str, str | None]:
    """What the requester editor was given: an email or phone, or `Name <email or phone>`
    (the name is for a contact not known yet). Returns (identity, name or None); a
    `ValidationError` for an empty line. Pure: checked before anything is sent."""
    named = _NAMED.match(text)
    identity, name = (named["identity"], named["name"]) if named else (text, None)
    identity = identity.strip()
    if not identity:
        raise ValidationError("type the requester's email or phone (or Name <email>)")
    tickets.check_identity(identity)
    return identity, (name or None)


def change_requester(
    store: Store,
    login: str,
    ref: str,
    identity: str,
    name: str | None,
    *,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    with writing(store, login) as (session, actor):
        ticket = tickets.change_requester(
            session, actor, now, ref, identity, name=name, expected_version=expected_version
        )
        who = clean(ticket.requester.name, single_line=True)
        return _result(ticket, expected_version, f"requester: {who}")


def parse_tags(text: str) -> tuple[str, ...]:
    """Tags as typed (space or comma separated), normalised; `ValidationError` names a bad
    one. Pure: the tags editor checks what was typed before anything is sent."""
    return tuple(tickets.normalise_tags(text.replace(",", " ").split()))


def change_tags(
    store: Store,
    login: str,
    ref: str,
    *,
    shown: Sequence[str],
    wanted: Iterable[str],
    expected_version: int,
    now: datetime,
) -> ActionResult:
    """Make the tags `wanted`, given the tags the agent was `shown` (what was removed from
    those is removed, what is new is added)."""
    want = set(tickets.normalise_tags(wanted))
    had = set(shown)
    with writing(store, login) as (session, actor):
        ticket = tickets.change_tags(
            session,
            actor,
            now,
            ref,
            add=sorted(want - had),
            remove=sorted(had - want),
            expected_version=expected_version,
        )
        return _result(ticket, expected_version, f"tags: {' '.join(ticket.tags) or 'none'}")


def edit_tags(
    store: Store,
    login: str,
    ref: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    expected_version: int,
    now: datetime,
) -> ActionResult:
    """Add and remove tags without knowing the others (the queue's bulk tagging)."""
    with writing(store, login) as (session, actor):
        ticket = tickets.change_tags(
            session, actor, now, ref, add=add, remove=remove, expected_version=expected_version
        )
        return _result(ticket, expected_version, f"tags: {' '.join(ticket.tags) or 'none'}")


# --- escalation ---------------------------------------------------------------------------


def escalation_choices(store: Store, ref: str) -> EscalationChoices:
    """Where the ticket can be escalated: one level up (if its group has a next level), or
    any other group but a lower support level (moving down is an assignment, not an
    escalation)."""

    def work(session: Session) -> EscalationChoices:
        ticket = tickets.get_ticket(session, ref)
        here = ticket.group
        up = here.next_level if here is not None else None
        level = ticket.level
        groups = tuple(
            Choice(
                g.name,
                clean(g.name, single_line=True),
                f"level {g.level}" if g.level is not None else "",
            )
            for g in directory.list_groups(session)
            # Its own group is no target; the next level is offered as "up one level".
            if g not in (here, up) and not lower_level(g.level, level)
        )
        return EscalationChoices(
            group=clean(here.name, single_line=True) if here else "",
            next_level=up.name if up is not None else None,
            groups=groups,
        )

    return _read(store, work)


def escalate(
    store: Store,
    login: str,
    ref: str,
    *,
    reason: str,
    to_group: str | None = None,
    expected_version: int,
    now: datetime,
) -> ActionResult:
    """Escalate by hand with a reason: up one level, or to `to_group`. The group lead hears
    of it (an outbox message) and the history says who and why."""
    if not reason.strip():
        raise ValidationError("say why you escalate (the reason goes to the group lead)")
    with writing(store, login) as (session, actor):
        escalation.escalate_ticket(
            session,
            actor,
            now,
            ref,
            level_up=to_group is None,
            to_group=to_group,
            reason=reason,
            expected_version=expected_version,
        )
        ticket = tickets.get_ticket(session, ref)
        where = clean(ticket.group.name, single_line=True) if ticket.group else "no group"
        return ActionResult(ticket.key, ticket.version, f"escalated to {where}")


# --- merging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeParties:
    """Whose tickets a merge joins: each ticket's key and customer ("Mario Rossi, Acme")."""

    source: str
    target: str
    source_customer: str
    target_customer: str
    same_customer: bool  # same requester and same organization


def _customer(ticket: Ticket) -> str:
    person = ticket.requester
    name = clean(person.name or person.email or person.phone or "", single_line=True)
    name = name or f"contact {person.id}"
    if ticket.organization is not None:
        return f"{name}, {clean(ticket.organization.name, single_line=True)}"
    return name


def merge_parties(store: Store, ref: str, target: str) -> MergeParties:
    """The two sides of merging `ref` into `target`, for the console to ask before it merges
    one customer's conversation into another's ticket. Raises `NotFound` for an unknown
    target and `InvalidTransition` for a merge into itself, before anything is asked."""

    def work(session: Session) -> MergeParties:
        source = tickets.get_ticket(session, ref)
        into = tickets.get_ticket(session, target.strip())
        if source.id == into.id:
            raise InvalidTransition("cannot merge a ticket into itself")
        return MergeParties(
            source.key,
            into.key,
            _customer(source),
            _customer(into),
            source.requester_id == into.requester_id
            and source.organization_id == into.organization_id,
        )

    return _read(store, work)


# --- a save that came too late ------------------------------------------------------------


def explain_conflict(
    store: Store,
    login: str,
    conflict: Conflict,
    *,
    seen_event: int | None,
    now: datetime,
    timezone: str | None = None,
) -> str:
    """What the agent is told when a save meets someone else's change (`Conflict`): every
    change made since the ticket they were shown (the audit events after `seen_event`, the
    newest event they were shown), each with who made it and when, in the agent's time zone
    (the personal setting, else the agent's, else the desk's, as the rest of the console).
    The words are `services.conflicts.explain`, shared with the bulk changes and the CLI."""

    def work(session: Session) -> str:
        agent_zone = session.scalar(select(Agent.timezone).where(Agent.login == login))
        zone = _zone(timezone, agent_zone, desk_settings(session).timezone)
        return conflicts.explain(
            session,
            conflict,
            zone=zone,
            now=now,
            seen_event=seen_event,
            more_hint=" (history: h)",
        )

    return _read(store, work)

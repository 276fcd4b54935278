"""Bulk changes from the queue: one action on the tickets an agent marked.

Each ticket is changed in its own unit of work through the same `console_actions` functions
the ticket screen uses, with the version the agent was shown: a ticket someone else changed
meanwhile is left as they made it, never overwritten, and reported with every change made
since the version the agent was shown, in their zone (`services.conflicts`, the words the
ticket screen and the CLI use);
a change the workflow refuses for one ticket is reported for that ticket and the others
still go through. A database failure stops the batch: the tickets not yet tried are reported
as such. The selection is what the agent saw on screen (one loaded list), so the per-ticket
loop is bounded by it.

Called by the queue screen from a thread worker.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Priority
from tui_helpdesk.services import conflicts
from tui_helpdesk.services import console_actions as actions
from tui_helpdesk.services.console_actions import ActionResult, Choice
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import Conflict, ServiceError, ValidationError
from tui_helpdesk.services.views import DatabaseUnavailable, _reading, _zone
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent
from tui_helpdesk.text import clean

MAX_BULK = 500  # one loaded list at most


class BulkKind(enum.StrEnum):
    ASSIGN = "assign"  # value: a login, "" unassigns
    STATUS = "status"  # value: a status
    PRIORITY = "priority"  # value: a priority
    ADD_TAGS = "add_tags"  # value: tags, space separated
    REMOVE_TAGS = "remove_tags"


@dataclass(frozen=True)
class BulkAction:
    kind: BulkKind
    value: str


@dataclass(frozen=True)
class Target:
    key: str
    version: int  # the version the agent was shown


@dataclass(frozen=True)
class Outcome:
    key: str
    ok: bool
    summary: str  # "priority: urgent", "nothing changed", or why it was refused
    changed: bool = False


@dataclass(frozen=True)
class BulkReport:
    outcomes: tuple[Outcome, ...]

    @property
    def changed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.ok and o.changed)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def summary(self) -> str:
        """One line first ("4 changed, 1 unchanged, 2 refused"), then one per refused ticket."""
        unchanged = sum(1 for o in self.outcomes if o.ok and not o.changed)
        head = [f"{len(self.changed)} changed"]
        if unchanged:
            head.append(f"{unchanged} already so")
        if self.failed:
            head.append(f"{len(self.failed)} not changed")
        lines = [", ".join(head)]
        lines += [f"{o.key}: {o.summary}" for o in self.failed[:8]]
        if len(self.failed) > 8:
            lines.append(f"… and {len(self.failed) - 8} more")
        return "\n".join(lines)


def _one(
    store: Store, login: str, action: BulkAction, target: Target, now: datetime
) -> ActionResult:
    common = {"expected_version": target.version, "now": now}
    if action.kind is BulkKind.ASSIGN:
        return actions.assign(store, login, target.key, agent=action.value or None, **common)
    if action.kind is BulkKind.STATUS:
        return actions.change_status(
            store, login, target.key, actions.status_of(action.value), **common
        )
    if action.kind is BulkKind.PRIORITY:
        return actions.change_priority(store, login, target.key, Priority(action.value), **common)
    tags = actions.parse_tags(action.value)
    if action.kind is BulkKind.ADD_TAGS:
        return actions.edit_tags(store, login, target.key, add=tags, **common)
    return actions.edit_tags(store, login, target.key, remove=tags, **common)


def check(action: BulkAction) -> None:
    """Refuse a malformed action before any ticket is touched (`ValidationError`)."""
    try:
        if action.kind is BulkKind.STATUS:
            actions.status_of(action.value)
        elif action.kind is BulkKind.PRIORITY:
            Priority(action.value)
        elif not actions.parse_tags(action.value):
            raise ValidationError("no tags given")
    except ValueError:
        raise ValidationError(f"{action.kind.value}: unknown value {action.value!r}") from None


def apply(
    store: Store,
    login: str,
    action: BulkAction,
    targets: Sequence[Target],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    timezone: str | None = None,
) -> BulkReport:
    """Apply `action` to each target, each in its own transaction; see the module doc.
    `timezone`: the agent's personal display zone, if set (else the agent's, the desk's)."""
    if len(targets) > MAX_BULK:
        raise ValidationError(f"at most {MAX_BULK} tickets at once")
    check(action)
    outcomes: list[Outcome] = []
    for done, target in enumerate(targets):
        try:
            result = _one(store, login, action, target, now)
        except DatabaseUnavailable as exc:
            outcomes.append(Outcome(target.key, False, str(exc)))
            outcomes += [Outcome(t.key, False, "not tried") for t in targets[done + 1 :]]
            break
        except Conflict as exc:
            outcomes.append(
                Outcome(target.key, False, _explained(store, login, exc, now, timezone))
            )
        except ServiceError as exc:
            outcomes.append(Outcome(target.key, False, str(exc)))
        else:
            outcomes.append(Outcome(result.key, True, result.summary, result.changed))
        if progress is not None:
            progress(done + 1)
    return BulkReport(tuple(outcomes))


def _explained(
    store: Store, login: str, conflict: Conflict, now: datetime, timezone: str | None
) -> str:
    """A conflict in the shared words, or its own message when they cannot be read."""
    try:
        with _reading(store) as session:
            agent_zone = session.scalar(select(Agent.timezone).where(Agent.login == login))
            zone = _zone(timezone, agent_zone, desk_settings(session).timezone)
            return conflicts.explain_line(session, conflict, zone=zone, now=now)
    except DatabaseUnavailable:
        return str(conflict)


def agent_choices(store: Store) -> tuple[Choice, ...]:
    """Active agents to assign marked tickets to (each ticket's group rules still apply),
    then "nobody"."""

    def work(session: Session) -> tuple[Choice, ...]:
        agents = session.scalars(
            select(Agent).where(Agent.active.is_(True)).order_by(Agent.login)
        ).all()
        rows = tuple(
            Choice(
                a.login,
                a.login,
                ", ".join(clean(g.name, single_line=True) for g in a.groups),
            )
            for a in agents
        )
        return (*rows, Choice("", "nobody", "unassign"))

    with _reading(store) as session:
        return work(session)

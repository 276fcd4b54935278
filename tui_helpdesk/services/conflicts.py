"""A save refused because someone else saved first (`errors.Conflict`), told in words: every
change made since what the agent was shown, each with who made it and when, in their zone.

One implementation for every place a conflict reaches a person: the ticket screen
(`console_actions.explain_conflict`), the queue's bulk changes (`services.bulk`) and the CLI
(`helpdesk ticket ... --expected-version`, `cli.ticket`). What was shown is known either as
the newest audit event (`seen_event`, the ticket screen) or only as a version (the queue and
the CLI): then the newest `current - expected` saves are the ones missed (every save moves
the version once and writes its events at one instant, by one actor).

Reads only, in the caller's session; customer text in old and new values is cleaned of
control sequences. Pure text out: the callers decide how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import EventKind, Status
from tui_helpdesk.services.errors import Conflict
from tui_helpdesk.services.history_text import describe_event
from tui_helpdesk.services.ticket_core import NOT_SAVES, saves_of
from tui_helpdesk.store.models import Ticket, TicketEvent
from tui_helpdesk.text import clean

CONFLICT_CHANGES = 12  # changes listed one by one; more are counted
# What an event without a field says (the SLA steps and the first response follow from the
# change someone made, which is what is named).
_SAID = {
    EventKind.REPLY: "replied to the customer",
    EventKind.NOTE: "added an internal note",
    EventKind.CUSTOMER_MESSAGE: "the customer wrote",
    EventKind.MERGED_FROM: "merged a ticket into it",
    EventKind.CREATED: "created it",
}
_SKIPPED = (EventKind.SLA, EventKind.FIRST_RESPONSE, EventKind.LEVEL)
_STATUSES = {s.value for s in Status}


@dataclass(frozen=True)
class Change:
    """One save someone else made: its events in words ("status open → pending")."""

    at: datetime
    actor: str
    said: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    """What happened to the ticket since the agent's load, newest last."""

    key: str
    changes: tuple[Change, ...]  # at most CONFLICT_CHANGES
    more: int  # saves beyond those listed
    conflict: Conflict  # its own account of the last change, when none could be read


def _status_text(value: str | None) -> str:
    # As the console spells a status ("on hold").
    return value.replace("_", " ") if value in _STATUSES and value else value or "none"


def said(event: TicketEvent) -> str:
    """One change in words: "status open → pending", "tags +vip -spam", "added a note"."""
    if event.kind in _SAID and not event.field:
        return _SAID[event.kind]
    if event.field == "tags":
        old, new = set((event.old or "").split()), (event.new or "").split()
        changes = [f"+{t}" for t in new if t not in old]
        changes += [f"-{t}" for t in sorted(old - set(new))]
        return f"tags {' '.join(changes) or 'unchanged'}"
    if event.field == "status":
        return f"status {_status_text(event.old)} → {_status_text(event.new)}"
    if event.field and event.kind is not EventKind.ESCALATED:
        return f"{event.field} {event.old or 'none'} → {event.new or 'none'}"
    return describe_event(event) or event.kind.value.replace("_", " ")


def _saves(events: list[TicketEvent]) -> list[Change]:
    """One change per save (`ticket_core.saves_of`), oldest first."""
    changes = []
    for group in saves_of(events):
        shown = [clean(said(e), single_line=True) for e in group if e.kind not in _SKIPPED]
        actor = clean(group[0].actor, single_line=True)
        changes.append(Change(group[0].at, actor, tuple(shown or ["updated it"])))
    return changes


def account(session: Session, conflict: Conflict, *, seen_event: int | None = None) -> Account:
    """The saves made since what the agent was shown: after `seen_event` when known, else
    as many as the version moved (at least the last one)."""
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.key == conflict.key))
    if ticket_id is None:
        return Account(conflict.key, (), 0, conflict)
    if seen_event is not None:
        since = (
            TicketEvent.ticket_id == ticket_id,
            TicketEvent.id > seen_event,
            TicketEvent.kind.not_in(_SKIPPED),
        )
        # The newest saves are listed (the one that refused this save among them); the
        # older ones are counted.
        newest = session.scalars(
            select(TicketEvent)
            .where(*since)
            .order_by(TicketEvent.id.desc())
            .limit((CONFLICT_CHANGES + 1) * 8)
        ).all()
        changes = _saves(list(reversed(newest)))
        saves = select(TicketEvent.actor, TicketEvent.at).where(*since).distinct().subquery()
        total = session.scalar(select(func.count()).select_from(saves)) or len(changes)
        listed = tuple(changes[-CONFLICT_CHANGES:])
        return Account(conflict.key, listed, max(0, total - len(listed)), conflict)
    expected, current = conflict.expected_version, conflict.current_version
    missed = current - expected if expected is not None and current is not None else 1
    missed = max(1, missed)
    # Newest first, enough rows for the saves listed (a save writes a few events).
    newest = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.not_in(NOT_SAVES))
        .order_by(TicketEvent.id.desc())
        .limit(min(missed, CONFLICT_CHANGES + 1) * 8)
    ).all()
    changes = _saves(list(reversed(newest)))[-missed:]
    # Fewer saves read than the version moved: the older ones are counted, not listed.
    hidden = missed - len(changes)
    listed = tuple(changes[-CONFLICT_CHANGES:])
    return Account(conflict.key, listed, hidden + len(changes) - len(listed), conflict)


def _when(at: datetime, zone: ZoneInfo, now: datetime | None) -> str:
    """The time in `zone`: HH:MM today (when `now` is given), else with the date."""
    shown = at.astimezone(zone)
    if now is not None and shown.date() == now.astimezone(zone).date():
        return f"{shown:%H:%M}"
    return f"{shown:%Y-%m-%d %H:%M}"


def change_lines(
    found: Account, zone: ZoneInfo, now: datetime | None = None, more_hint: str = ""
) -> list[str]:
    """ "10:05 cleo: priority normal → urgent", one per save, then "and N more"; without
    any read, the conflict's own account ("by cleo at 10:05 (status: open -> pending)")."""
    if not found.changes:
        conflict = found.conflict
        who = clean(conflict.changed_by or "someone else", single_line=True)
        when = f" at {_when(conflict.changed_at, zone, now)}" if conflict.changed_at else ""
        what = f" ({clean(conflict.change, single_line=True)})" if conflict.change else ""
        return [f"by {who}{when}{what}"]
    lines = [f"{_when(c.at, zone, now)} {c.actor}: {', '.join(c.said)}" for c in found.changes]
    if found.more:
        lines.append(f"and {found.more} more{more_hint}")
    return lines


def explain(
    session: Session,
    conflict: Conflict,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
    seen_event: int | None = None,
    since: str = "you opened it",
    then: str = "The ticket now shows their changes: try again on it.",
    more_hint: str = "",
) -> str:
    """The refusal in full, one save a line:

        HD-12 was changed since you opened it; nothing of yours was saved:
          10:05 cleo: priority normal → urgent
          10:07 admin: status open → pending, tags +vip
        The ticket now shows their changes: try again on it.

    Times in `zone`, the time alone for today when `now` is given (else with the date)."""
    found = account(session, conflict, seen_event=seen_event)
    head = f"{conflict.key} was changed since {since}; nothing of yours was saved:"
    return "\n".join(
        [head, *(f"  {line}" for line in change_lines(found, zone, now, more_hint)), then]
    )


def explain_line(
    session: Session,
    conflict: Conflict,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
    head: str = "changed since you loaded it, left as is",
    tail: str = "",
) -> str:
    """The same in one line, for a list of tickets (the queue's bulk changes) or a command's
    one-line error: "<head>: 10:05 cleo: priority normal → urgent; 10:07 …<tail>"."""
    found = account(session, conflict)
    return f"{head}: {'; '.join(change_lines(found, zone, now))}{tail}"

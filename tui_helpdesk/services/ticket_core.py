"""What every ticket service shares: loading a ticket for a change (locked, version
checked), saving it with optimistic locking, the audit trail, numbering, tag and group-fit
rules, and the status setter. Used by `tickets` (lifecycle) and `ticket_changes`
(assignment, classification, merge); callers outside the services use `tickets`, which
re-exports what they need.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, inspect, or_, select, update
from sqlalchemy.orm import MANYTOONE, Session, SessionTransaction
from sqlalchemy.orm.attributes import NO_VALUE, flag_modified
from sqlalchemy.orm.exc import StaleDataError

from tui_helpdesk.domain import ACTIVE_STATUSES, EventKind, Status
from tui_helpdesk.rules.numbering import parse_ref
from tui_helpdesk.rules.tags import InvalidTag, normalise_tag
from tui_helpdesk.services.audit import record
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import Conflict, NotFound, ValidationError
from tui_helpdesk.services.sla import sync_sla
from tui_helpdesk.store.models import (
    Agent,
    Counter,
    Group,
    Message,
    Ticket,
    TicketEvent,
)

TICKET_COUNTER = "ticket"


# --- loading ------------------------------------------------------------------------------


def ticket_ref(ref: str | int) -> tuple[str | None, int]:
    """(prefix or None, number) of "HD-12", "12", "#12" or a number; a clear error else."""
    if isinstance(ref, int):
        return None, ref
    parsed = parse_ref(ref)
    if parsed is None:
        raise ValidationError(f"not a ticket number: {ref!r} (write HD-12, 12 or #12)")
    return parsed


def check_found(ref: str | int, prefix: str | None, key: str | None) -> None:
    """Raise NotFound unless a ticket was found (`key`) under the prefix `ref` gave."""
    if key is None or (prefix is not None and not key.upper().startswith(prefix + "-")):
        raise NotFound(f"no ticket {ref}")


def get_ticket(session: Session, ref: str | int, *, for_update: bool = False) -> Ticket:
    """A ticket by "HD-12", "12", "#12" or number. `for_update` locks the row (PostgreSQL;
    SQLite write transactions already hold the database lock)."""
    prefix, number = ticket_ref(ref)
    if for_update:
        held = _held_ticket(session, number)
        if held is not None:
            # Locked by this transaction already: nobody else can have changed the row since,
            # so the copy in this session is the committed version (with this session's own
            # changes, written first as the query's autoflush would).
            check_found(ref, prefix, held.key)
            if session.autoflush:
                session.flush()
            _forget_lazy_loads(session, held)
            return held
    query = select(Ticket).where(Ticket.number == number)
    if for_update:
        # Refresh a copy already in this session: after waiting for the lock, the caller must
        # see the committed version, or a concurrent change would surface only at flush time
        # (as a conflict that cannot say who made it).
        query = query.with_for_update(of=Ticket).execution_options(populate_existing=True)
    ticket = session.scalar(query)
    check_found(ref, prefix, ticket.key if ticket else None)
    assert ticket is not None
    if for_update:
        hold(session, ticket)
    return ticket


# --- tickets this transaction holds --------------------------------------------------------

# session.info: {ticket number: (the transaction or savepoint that locked it, the ticket)}, the
# ticket by weak reference: this never keeps an object alive in the session's identity map.
_HELD_KEY = "helpdesk.held_tickets"


def hold(session: Session, ticket: Ticket) -> None:
    """Note that this session's transaction holds the ticket's row (locked by it, or created
    in it) and that `ticket` is its committed version: while the object lives in the session,
    `get_ticket(for_update=True)` returns it as it is and `save` need not lock it again, until
    the transaction (or the savepoint it was noted in) ends. A savepoint rolled back releases
    the locks taken in it."""
    held: dict[int, tuple[SessionTransaction, weakref.ref[Ticket]]]
    held = session.info.setdefault(_HELD_KEY, {})
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is not None:
        held[ticket.number] = (transaction, weakref.ref(ticket))


def _held_ticket(session: Session, number: int) -> Ticket | None:
    """The ticket `hold` noted under `number`, if its transaction (or savepoint) is still the
    current one or encloses it and the ticket is still in this session, unexpired."""
    entry = session.info.get(_HELD_KEY, {}).get(number)
    if entry is None:
        return None
    transaction, ref = entry
    ticket = ref()
    if ticket is None:
        return None
    current = session.get_nested_transaction() or session.get_transaction()
    while current is not None and current is not transaction:
        current = current.parent
    state = inspect(ticket)
    if current is None or state.session is not session or not state.persistent:
        return None
    return None if state.expired_attributes else ticket


# mapped class -> (its relationships loaded on access, those loaded with it by a join)
_LOADING: dict[type, tuple[list[str], list[str]]] = {}


def _forget_lazy_loads(session: Session, ticket: Ticket) -> None:
    """Do to a held ticket what loading it again (`populate_existing`) does besides reading
    its row: the relationships loaded on access, of the ticket and of what is loaded with it
    (requester, group, assignee, ...), are read afresh when next used. Their loads, and the
    autoflushes they make, happen as they would after the query, so what a change writes, and
    when, does not depend on whether its ticket was held."""
    stack: list[object] = [ticket]
    while stack:
        instance = stack.pop()
        cls = type(instance)
        loading = _LOADING.get(cls)
        if loading is None:
            relationships = inspect(cls).relationships
            loading = (
                [r.key for r in relationships if r.lazy == "select"],
                [r.key for r in relationships if r.lazy == "joined" and not r.uselist],
            )
            _LOADING[cls] = loading
        lazy, joined = loading
        if lazy and inspect(instance).persistent:
            session.expire(instance, lazy)
        stack.extend(related for key in joined if (related := getattr(instance, key)) is not None)


def _load_for_change(session: Session, ref: str | int, expected_version: int | None) -> Ticket:
    ticket = get_ticket(session, ref, for_update=True)
    if expected_version is not None and ticket.version != expected_version:
        raise _conflict(session, ticket, expected_version)
    return ticket


# Events written beside the ticket's saves, which move no version: a mail that could not
# be delivered (or was queued again), a knowledge article drafted from the ticket.
NOT_SAVES = (EventKind.MAIL, EventKind.ARTICLE)


def saves_of(events: Iterable[TicketEvent]) -> list[list[TicketEvent]]:
    """The events in the order given (none of `NOT_SAVES`), grouped by save: a save moves
    the version once and writes its events at one instant, by one actor."""
    saves: list[list[TicketEvent]] = []
    for event in events:
        if saves and (saves[-1][0].actor, saves[-1][0].at) == (event.actor, event.at):
            saves[-1].append(event)
        else:
            saves.append([event])
    return saves


# What a reply or note is written against: the conversation and the state of the ticket.
_CONVERSATION = (
    EventKind.REPLY,
    EventKind.CUSTOMER_MESSAGE,
    EventKind.STATUS,
    EventKind.REOPENED,
    EventKind.MERGED,
    EventKind.MERGED_FROM,
    EventKind.CSAT,  # the customer answered the survey (maybe with a comment, or closing it)
)
_MISSED_SAVES_READ = 12  # by version alone, more missed saves than this refuse a message


def conversation_moved(
    session: Session,
    ticket_id: int,
    expected_version: int,
    current_version: int,
    *,
    seen_event: int | None = None,
) -> bool:
    """Whether the saves made since the author's load (after `seen_event` when known, else
    the newest `current - expected`) touched the conversation or the status: a message, a
    note written by a person, a status change, a merge or a survey answer. A change of
    priority, tags, assignee, group or category, an escalation or an automation's note did
    not. Undecided is moved."""
    if seen_event is None:
        missed = current_version - expected_version
        if not 0 < missed <= _MISSED_SAVES_READ:
            return True
        limit = missed * 8
        newest = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind.not_in(NOT_SAVES))
            .order_by(TicketEvent.id.desc())
            .limit(limit)
        ).all()
        saves = saves_of(newest)  # newest first
        if len(saves) < missed or (len(saves) == missed and len(newest) == limit):
            return True  # the oldest missed save may not have been read whole
        seen_event = min(e.id for e in saves[missed - 1]) - 1
    moved = exists().where(
        TicketEvent.ticket_id == ticket_id,
        TicketEvent.id > seen_event,
        or_(
            TicketEvent.kind.in_(_CONVERSATION),
            and_(TicketEvent.kind == EventKind.NOTE, TicketEvent.rule.is_(None)),
        ),
    )
    return bool(session.scalar(select(moved)))


def _load_for_message(
    session: Session, ref: str | int, expected_version: int | None, seen_event: int | None
) -> Ticket:
    """`_load_for_change` for a reply or a note: refused only when the conversation or the
    status moved since the author's load (`conversation_moved`), not when someone
    changed the ticket's fields or an escalation notified someone meanwhile."""
    ticket = get_ticket(session, ref, for_update=True)
    if (
        expected_version is not None
        and ticket.version != expected_version
        and conversation_moved(
            session, ticket.id, expected_version, ticket.version, seen_event=seen_event
        )
    ):
        raise _conflict(session, ticket, expected_version)
    return ticket


def _conflict(
    session: Session,
    ticket: Ticket,
    expected_version: int | None,
    current_version: int | None = None,
) -> Conflict:
    """The conflict to raise, naming the last change recorded on the ticket (by insertion
    order: `at` is the caller's `now`, which replays may set in the past). SLA ledger steps
    are left out: they follow from the change someone made, which is what to name."""
    with session.no_autoflush:  # what this session has pending must not be written now
        last = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind != EventKind.SLA)
            .order_by(TicketEvent.id.desc())
            .limit(1)
        ).first()
        fallback_who = ticket.updated_by.login if ticket.updated_by else None
    change = None
    if last is not None:
        change = last.kind.value
        if last.field:
            change = f"{last.field}: {last.old or '-'} -> {last.new or '-'}"
    return Conflict(
        ticket.key,
        expected_version,
        current_version if current_version is not None else ticket.version,
        last.actor if last else fallback_who,
        last.at if last else ticket.updated_at,
        change,
    )


def save(session: Session, ticket: Ticket) -> None:
    """Flush a changed ticket. If its row moved past the version this session loaded (another
    unit of work saved it meanwhile), raise `Conflict` naming who changed it; nothing of this
    session's changes is written."""
    state = inspect(ticket)
    if state.persistent and _held_ticket(session, ticket.number) is not ticket:
        with session.no_autoflush:
            # Lock and read the committed version first: a plain flush would only tell that
            # the row moved (StaleDataError), after which the session can no longer ask by whom.
            current = session.scalar(
                select(Ticket.version).where(Ticket.id == ticket.id).with_for_update()
            )
        if current is not None and current != ticket.version:
            raise _conflict(session, ticket, ticket.version, current)
        if current is not None:
            hold(session, ticket)  # locked now, at the version this session holds
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(ticket.key, ticket.version, None, None, None, None) from None


def save_many(session: Session, tickets: Sequence[Ticket]) -> None:
    """Flush many changed, locked tickets at once (a batch job), then the rest of the session.

    Each ticket's changed columns are written with its version check, as the ORM's flush
    does (`WHERE id = :id AND version = :version`, the version moved on), but the rows go
    out as one executemany UPDATE per set of changed columns: the ORM sends a statement per
    row for tables with a version counter. A row that moved past the version read raises
    `StaleDataError`, like the flush. The tickets written this way leave the session
    (detached, as they are after it ends): the caller must not change them again. A ticket
    the plain UPDATE does not express (changed tags or other related rows, a related object
    not yet stored, a changed key or version) is left to the ORM's flush."""
    plan = _ticket_writes()
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    written: list[Ticket] = []
    for ticket in tickets:
        values = _changed_columns(ticket, plan)
        if values is None:
            continue
        version = ticket.version
        row = {**values, "version": version + 1, "_id": ticket.id, "_version": version}
        groups.setdefault(tuple(values), []).append(row)
        written.append(ticket)
    if groups:
        table = cast(Table, Ticket.__table__)
        statement = update(table).where(
            table.c.id == bindparam("_id"), table.c.version == bindparam("_version")
        )
        connection = session.connection()
        for rows in groups.values():
            result = connection.execute(statement, rows)
            if result.rowcount != len(rows):
                raise StaleDataError(
                    f"UPDATE statement on table 'tickets' expected to update {len(rows)} "
                    f"row(s); {result.rowcount} were matched."
                )
        # Written: the session's flush must not write them again.
        for ticket in written:
            session.expunge(ticket)
    session.flush()


@dataclass(frozen=True)
class _TicketWrites:
    """How a ticket's attributes map to its columns, for `save_many`."""

    columns: dict[str, str]  # column attribute -> column key
    # many-to-one relationship -> (foreign key attribute, its column, the related attribute)
    references: dict[str, tuple[tuple[str, str, str], ...]]


_WRITES: list[_TicketWrites] = []


def _ticket_writes() -> _TicketWrites:
    if not _WRITES:
        mapper = inspect(Ticket)
        columns = {
            attr.key: attr.columns[0].key for attr in mapper.column_attrs if len(attr.columns) == 1
        }
        by_column = {column: key for key, column in columns.items()}
        references: dict[str, tuple[tuple[str, str, str], ...]] = {}
        for relation in mapper.relationships:
            if relation.direction is not MANYTOONE or relation.secondary is not None:
                continue
            pairs = []
            for local, remote in relation.local_remote_pairs or ():
                if local.key not in by_column or local.table is not Ticket.__table__:
                    break
                remote_attr = relation.mapper.get_property_by_column(remote).key
                pairs.append((by_column[local.key], local.key, remote_attr))
            else:
                references[relation.key] = tuple(pairs)
        _WRITES.append(_TicketWrites(columns, references))
    return _WRITES[0]


def _changed_columns(ticket: Ticket, plan: _TicketWrites) -> dict[str, Any] | None:
    """The column values a ticket's UPDATE sets (as the ORM's flush would: the attributes
    whose value changed, flagged ones too); None when it has nothing to write or is left to
    the ORM."""
    state = inspect(ticket)
    if not state.persistent or state.expired_attributes:
        return None
    current = state.dict
    values: dict[str, Any] = {}
    references: list[str] = []
    for key, before in state.committed_state.items():
        column = plan.columns.get(key)
        if column is not None:
            if key not in current:
                return None
            value = current[key]
            if before is NO_VALUE or before != value:  # NO_VALUE: flagged as modified
                values[column] = value
        elif key in plan.references:
            references.append(key)
        else:
            return None  # a collection (tags): the ORM writes its rows
    for key in references:  # a related object wins over its foreign key, as in the ORM
        target = current.get(key)
        if target is not None and inspect(target).key is None:
            return None  # not stored yet: it has no id
        for attr, column, remote in plan.references[key]:
            value = getattr(target, remote) if target is not None else None
            if value != current.get(attr):
                values[column] = value
    if not values or "version" in values or "id" in values:
        return None  # nothing, or a change of the key or the version itself: the ORM's
    return values


# --- change marking ---------------------------------------------------------------------


def touch(session: Session, ticket: Ticket, actor: Actor, now: datetime) -> None:
    """Mark the ticket changed and bring its SLA clocks and escalation timers up to date.
    Every change calls it last, before `save`. The row is always rewritten, so its version
    moves on even when only child rows (tags, messages) changed."""
    sync_sla(session, ticket, actor, now)
    mark_changed(ticket, actor, now)


def mark_changed(ticket: Ticket, actor: Actor, now: datetime) -> None:
    """Who changed the ticket last and when; the row is rewritten (its version moves on)."""
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


# --- fit and tags -------------------------------------------------------------------------


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


MAX_SUBJECT = 500


def normalise_subject(subject: str) -> str:
    """A subject as stored: one line, each run of white space one space; a
    `ValidationError` when that leaves nothing or more than `MAX_SUBJECT` characters."""
    subject = " ".join(subject.split())
    if not subject:
        raise ValidationError("a ticket needs a subject")
    if len(subject) > MAX_SUBJECT:
        raise ValidationError(f"subject too long ({len(subject)} > {MAX_SUBJECT} characters)")
    return subject


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """The tags as stored, each once, sorted (the rule is `rules.tags.normalise_tag`)."""
    out: set[str] = set()
    for raw in tags:
        try:
            tag = normalise_tag(raw)
        except InvalidTag as exc:
            raise ValidationError(str(exc)) from None
        if tag:
            out.add(tag)
    return sorted(out)


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

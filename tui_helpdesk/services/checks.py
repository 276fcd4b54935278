"""Consistency checks of a desk's database (`helpdesk db check`).

Each check is one set-based query counting the rows that break an invariant, so it runs in
seconds on millions of tickets and reads nothing into Python but counts and a few examples.
Used after bulk loads (the benchmark generator), upgrades and restores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.domain import Status
from tui_helpdesk.rules.clock import ClockState
from tui_helpdesk.rules.document import stored_problems
from tui_helpdesk.services.desk import active_rule_set
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.store.base import Base
from tui_helpdesk.store.models import (
    Contact,
    ContactEmail,
    ContactPhone,
    Counter,
    Organization,
    Ticket,
    TicketEvent,
)

EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    description: str
    violations: int
    examples: tuple[str, ...] = ()
    noun: str = "row"  # what `violations` counts

    @property
    def ok(self) -> bool:
        return self.violations == 0


def _ticket_check(
    session: Session, name: str, description: str, broken: ColumnElement[bool]
) -> CheckResult:
    count = session.scalar(select(func.count()).select_from(Ticket).where(broken)) or 0
    examples: tuple[str, ...] = ()
    if count:
        examples = tuple(
            session.scalars(select(Ticket.key).where(broken).order_by(Ticket.id).limit(EXAMPLES))
        )
    return CheckResult(name, description, count, examples)


def _foreign_keys(session: Session) -> list[CheckResult]:
    """Every foreign key value has its parent row (whatever the back end enforced)."""
    results = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            (column,) = fk.columns
            (element,) = fk.elements
            parent = aliased(element.column.table)
            parent_column = parent.c[element.column.name]
            orphans = (
                select(func.count())
                .select_from(table)
                .outerjoin(parent, column == parent_column)
                .where(column.is_not(None), parent_column.is_(None))
            )
            count = session.scalar(orphans) or 0
            results.append(
                CheckResult(
                    f"fk:{table.name}.{column.name}",
                    f"{table.name}.{column.name} points at an existing "
                    f"{element.column.table.name} row",
                    count,
                )
            )
    return results


def run_checks(session: Session) -> list[CheckResult]:
    results = _foreign_keys(session)

    counter = session.scalar(select(Counter.value).where(Counter.name == "ticket"))
    highest = session.scalar(select(func.max(Ticket.number))) or 0
    results.append(
        CheckResult(
            "counter:ticket",
            "the ticket counter is at or above the highest ticket number (numbers never reused)",
            0 if counter is not None and counter >= highest else 1,
            ()
            if counter is not None and counter >= highest
            else (f"counter={counter}, highest number={highest}",),
        )
    )
    results.append(
        _ticket_check(
            session,
            "ticket:key",
            "each ticket's key ends with its number",
            not_(Ticket.key.like(literal("%-") + cast(Ticket.number, String))),
        )
    )
    finished = Ticket.status.in_([Status.RESOLVED, Status.CLOSED])
    results += [
        _ticket_check(
            session,
            "ticket:resolved_at",
            "resolved and closed tickets have a resolution time (merged ones excepted), "
            "and no other ticket has one",
            or_(
                and_(finished, Ticket.resolved_at.is_(None), Ticket.merged_into_id.is_(None)),
                and_(not_(finished), Ticket.resolved_at.is_not(None)),
            ),
        ),
        _ticket_check(
            session,
            "ticket:closed_at",
            "closed tickets, and only they, have a closing time",
            or_(
                and_(Ticket.status == Status.CLOSED, Ticket.closed_at.is_(None)),
                and_(Ticket.status != Status.CLOSED, Ticket.closed_at.is_not(None)),
            ),
        ),
        _ticket_check(
            session,
            "ticket:merged",
            "merged tickets are closed",
            and_(Ticket.merged_into_id.is_not(None), Ticket.status != Status.CLOSED),
        ),
        _ticket_check(
            session,
            "ticket:timeline",
            "no ticket was answered, resolved or updated before it was created",
            or_(
                Ticket.first_response_at < Ticket.created_at,
                Ticket.resolved_at < Ticket.created_at,
                Ticket.updated_at < Ticket.created_at,
            ),
        ),
    ]
    return (
        results
        + _sla_checks(session)
        + [
            _active_rules(session),
            _contracts(session),
            _contact_identities(session),
            _search_index(session),
        ]
    )


# --- full-text search (migration 0004, store.search) ---------------------------------------

# (FTS5 table, the table it indexes)
_SQLITE_INDEXES = (
    ("articles_fts", "articles"),
    ("tickets_fts", "tickets"),
    ("messages_fts", "messages"),
    ("contacts_fts", "contacts"),
)
_PG_TRIGGERS = ("articles_search_terms", "tickets_search_terms")


def _search_index(session: Session) -> CheckResult:
    """SQLite: every row is in its full-text index once (the index's per-document sizes
    against the table). PostgreSQL's vectors are generated columns, always in step; what can
    go missing there (a restore without triggers) is the learning of words for typo
    correction."""
    examples: list[str] = []
    if session.get_bind().dialect.name == "sqlite":
        for fts, table in _SQLITE_INDEXES:
            indexed = session.execute(text(f"SELECT count(*) FROM {fts}_docsize")).scalar()
            rows = session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            if indexed != rows:
                examples.append(f"{fts}: {indexed} indexed, {rows} rows in {table}")
        return CheckResult(
            "search:index",
            "every article, ticket subject, message and contact name is in its search index",
            len(examples),
            tuple(examples),
        )
    found = set(
        session.scalars(
            text("SELECT tgname FROM pg_trigger WHERE tgname IN :names").bindparams(
                bindparam("names", expanding=True)
            ),
            {"names": list(_PG_TRIGGERS)},
        )
    )
    examples = [f"trigger {name} is missing" for name in _PG_TRIGGERS if name not in found]
    return CheckResult(
        "search:index",
        "the triggers that learn the words of articles and subjects (typo correction) exist",
        len(examples),
        tuple(examples),
    )


# --- SLA clocks (rules/clock.py, kept by services/sla.py) ------------------------------------

# Plain strings: the state columns are VARCHARs, and drivers may dump enums by name.
_RUNNING, _PAUSED, _STOPPED, _MET = (
    ClockState.RUNNING.value,
    ClockState.PAUSED.value,
    ClockState.STOPPED.value,
    ClockState.MET.value,
)


def _in_state(state: ColumnElement[str | None], value: str) -> ColumnElement[bool]:
    """True or false, never NULL (a ticket without clocks is in no state): safe under NOT."""
    return and_(state.is_not(None), state == value)


@dataclass(frozen=True)
class _Clock:
    """The columns of one clock."""

    name: str  # as the ledger names it (`TicketEvent.field`)
    state: ColumnElement[str | None]
    target: ColumnElement[int | None]
    due_at: ColumnElement[Any]
    remaining: ColumnElement[int | None]
    states: tuple[str, ...]  # the states this clock can take
    expected: ColumnElement[str]  # the state rules/clock.py gives it for the ticket as it is


def _clocks() -> tuple[_Clock, _Clock]:
    finished = Ticket.status.in_([Status.RESOLVED, Status.CLOSED])
    merged = Ticket.merged_into_id.is_not(None)
    # rules/clock.py `_wanted`: a first response is met once answered, stopped when resolved
    # or merged unanswered, paused while pending; resolution is stopped when merged, met when
    # resolved, paused while pending or on hold.
    first_response = _Clock(
        "first_response",
        Ticket.first_response_state,
        Ticket.first_response_target,
        Ticket.first_response_due_at,
        Ticket.first_response_remaining,
        (_RUNNING, _PAUSED, _STOPPED, _MET),
        case(
            (Ticket.first_response_at.is_not(None), literal(_MET)),
            (or_(finished, merged), literal(_STOPPED)),
            (Ticket.status == Status.PENDING, literal(_PAUSED)),
            else_=literal(_RUNNING),
        ),
    )
    resolution = _Clock(
        "resolution",
        Ticket.resolution_state,
        Ticket.resolution_target,
        Ticket.resolution_due_at,
        Ticket.resolution_remaining,
        (_RUNNING, _PAUSED, _STOPPED, _MET),
        case(
            (and_(merged, Ticket.resolved_at.is_(None)), literal(_STOPPED)),
            (finished, literal(_MET)),
            (Ticket.status.in_([Status.PENDING, Status.ON_HOLD]), literal(_PAUSED)),
            else_=literal(_RUNNING),
        ),
    )
    return first_response, resolution


def _left_when_met(clock: str) -> ColumnElement[int | None]:
    """What the clock's last "met" ledger entry says was left (`remaining_s`, none for a
    clock met before it was measured): the entry of the step that met it, which for
    resolution is the current cycle's. Found through `ix_ticket_events_sla_met` (literal
    values, so that the partial index applies; the latest is its last row by id)."""
    entry = aliased(TicketEvent)
    return (
        select(entry.detail["remaining_s"].as_integer())
        .where(
            entry.ticket_id == Ticket.id,
            entry.kind == literal_column("'sla'"),
            entry.new == literal_column("'met'"),
            entry.field == literal_column(f"'{clock}'"),
        )
        .order_by(entry.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _sla_checks(session: Session) -> list[CheckResult]:
    first, resolution = clocks = _clocks()
    finished = Ticket.status.in_([Status.RESOLVED, Status.CLOSED])
    paused = or_(*(_in_state(clock.state, _PAUSED) for clock in clocks))
    # The earliest deadline of a running clock (rules/clock.py `Sla.due_at`).
    both_running = and_(first.state == _RUNNING, resolution.state == _RUNNING)
    earliest_running_due = case(
        (
            both_running,
            case((first.due_at <= resolution.due_at, first.due_at), else_=resolution.due_at),
        ),
        (first.state == _RUNNING, first.due_at),
        (resolution.state == _RUNNING, resolution.due_at),
        else_=null(),
    )
    checks = [
        (
            "sla:state",
            "clock states are running, paused, stopped (first response, or a merged "
            "ticket's resolution) or met, "
            "and a clock has a state exactly when it has a target",
            or_(
                *(
                    or_(
                        clock.state.not_in(clock.states),
                        and_(clock.state.is_(None), clock.target.is_not(None)),
                        and_(clock.state.is_not(None), clock.target.is_(None)),
                    )
                    for clock in clocks
                )
            ),
        ),
        (
            "sla:policy",
            "a ticket with an SLA policy has its calendar and both clocks; one without has none",
            or_(
                and_(
                    Ticket.sla_policy.is_not(None),
                    or_(
                        Ticket.sla_calendar.is_(None),
                        first.state.is_(None),
                        resolution.state.is_(None),
                    ),
                ),
                and_(
                    Ticket.sla_policy.is_(None),
                    or_(
                        Ticket.sla_calendar.is_not(None),
                        first.state.is_not(None),
                        resolution.state.is_not(None),
                    ),
                ),
            ),
        ),
        (
            "sla:running",
            "a running clock has a due time and no remaining time",
            or_(
                *(
                    and_(
                        clock.state == _RUNNING,
                        or_(clock.due_at.is_(None), clock.remaining.is_not(None)),
                    )
                    for clock in clocks
                )
            ),
        ),
        (
            "sla:waiting",
            "a paused or stopped clock keeps its remaining time and has no due time",
            or_(
                *(
                    and_(
                        clock.state.in_([_PAUSED, _STOPPED]),
                        or_(clock.remaining.is_(None), clock.due_at.is_not(None)),
                    )
                    for clock in clocks
                )
            ),
        ),
        (
            "sla:met",
            "a met clock keeps the working time that was left when it was met, as its "
            "ledger's last met entry records it (none when met before it was measured)",
            or_(
                *(
                    and_(
                        clock.state == _MET,
                        clock.remaining.is_distinct_from(_left_when_met(clock.name)),
                    )
                    for clock in clocks
                )
            ),
        ),
        (
            "sla:status",
            "clock states follow the ticket: first response met once answered, stopped when "
            "resolved or merged unanswered, paused while pending; resolution stopped when "
            "merged, met when resolved, paused while pending or on hold; else running",
            or_(*(clock.state != clock.expected for clock in clocks)),
        ),
        (
            "sla:due",
            "the ticket's due time is the earliest due time of its running clocks",
            Ticket.due_at.is_distinct_from(earliest_running_due),
        ),
        (
            "sla:finished",
            "only active tickets have a due time or a running clock",
            and_(
                finished,
                or_(
                    Ticket.due_at.is_not(None),
                    first.state == _RUNNING,
                    resolution.state == _RUNNING,
                ),
            ),
        ),
        (
            "sla:paused",
            "a ticket has a pause time exactly when one of its clocks is paused",
            or_(
                and_(Ticket.sla_paused_at.is_not(None), not_(paused)),
                and_(Ticket.sla_paused_at.is_(None), paused),
            ),
        ),
        (
            "sla:unassigned",
            "only active tickets without an assignee have an unassigned-since time",
            and_(
                Ticket.unassigned_since.is_not(None),
                or_(Ticket.assignee_id.is_not(None), finished),
            ),
        ),
    ]
    return [_ticket_check(session, name, text, broken) for name, text, broken in checks]


# --- rules ------------------------------------------------------------------------------------


def _active_rules(session: Session) -> CheckResult:
    """The active version passes today's checks of a rules file. A version applied by an
    older release is read as it was applied (`rules_from_document`), so the desk keeps
    working, but what those checks now refuse (a segment no organization can have, "1h90m",
    a tag no ticket can carry) is probably not what the admin meant: said here, each error."""
    rule_set = active_rule_set(session)
    problems = stored_problems(rule_set.document, f"version {rule_set.version}") if rule_set else []
    return CheckResult(
        "rules:active",
        "the active rules pass the checks of a rules file "
        "(else re-apply a corrected rules file with `helpdesk rules apply FILE`)",
        len(problems),
        tuple(problems[:EXAMPLES]),
        noun="error",
    )


# --- organizations ----------------------------------------------------------------------------


def _contracts(session: Session) -> CheckResult:
    """An organization's contract names a policy of the active rules (`org add` refuses
    others, but an applied version may drop one): else its tickets silently get whichever
    policy matches them. Nothing to check before any rules are applied."""
    broken: ColumnElement[bool] = Organization.sla_policy.is_not(None)
    policies = [policy.name for policy in active_rules(session).sla]
    if active_rule_set(session) is None:
        broken = literal(False)
    elif policies:
        broken = and_(broken, Organization.sla_policy.not_in(policies))
    count = session.scalar(select(func.count()).select_from(Organization).where(broken)) or 0
    examples: tuple[str, ...] = ()
    if count:
        rows = session.execute(
            select(Organization.name, Organization.sla_policy)
            .where(broken)
            .order_by(Organization.name)
            .limit(EXAMPLES)
        )
        examples = tuple(f"{name} (SLA policy {policy!r})" for name, policy in rows)
    return CheckResult(
        "org:sla_policy",
        "each organization's contract names an SLA policy of the active rules",
        count,
        examples,
    )


# --- contacts ---------------------------------------------------------------------------------


def _contact_identities(session: Session) -> CheckResult:
    """Lookups go through `contact_emails` / `contact_phones`, the contact's own columns hold
    the primary ones: they must agree, and a merged duplicate must not be found any more."""
    has_email = exists().where(ContactEmail.contact_id == Contact.id)
    has_phone = exists().where(ContactPhone.contact_id == Contact.id)
    broken = or_(
        and_(
            Contact.email.is_not(None),
            not_(has_email.where(ContactEmail.email == Contact.email)),
        ),
        and_(
            Contact.phone.is_not(None),
            not_(has_phone.where(ContactPhone.phone == Contact.phone)),
        ),
        and_(
            Contact.merged_into_id.is_not(None),
            or_(has_email, has_phone, Contact.email.is_not(None), Contact.phone.is_not(None)),
        ),
    )
    count = session.scalar(select(func.count()).select_from(Contact).where(broken)) or 0
    examples: tuple[str, ...] = ()
    if count:
        ids = session.scalars(select(Contact.id).where(broken).order_by(Contact.id).limit(EXAMPLES))
        examples = tuple(f"contact #{i}" for i in ids)
    return CheckResult(
        "contact:identity",
        "each contact's primary email and phone are among its own addresses and numbers, "
        "and merged contacts own none",
        count,
        examples,
    )

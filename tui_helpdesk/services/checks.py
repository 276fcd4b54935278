"""Consistency checks of a desk's database (`helpdesk db check`).

Each check is one set-based query counting the rows that break an invariant, so it runs in
seconds on millions of tickets and reads nothing into Python but counts and a few examples.
Used after bulk loads (the benchmark generator), upgrades and restores.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, and_, cast, func, literal, not_, or_, select
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.domain import ACTIVE_STATUSES, Status
from tui_helpdesk.store.base import Base
from tui_helpdesk.store.models import Counter, Ticket

EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    description: str
    violations: int
    examples: tuple[str, ...] = ()

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
        _ticket_check(
            session,
            "sla:finished",
            "resolved and closed tickets have no running deadline",
            and_(finished, Ticket.due_at.is_not(None)),
        ),
        _ticket_check(
            session,
            "sla:paused",
            "only pending and on-hold tickets are paused",
            and_(
                Ticket.sla_paused_at.is_not(None),
                not_(Ticket.status.in_([Status.PENDING, Status.ON_HOLD])),
            ),
        ),
        _ticket_check(
            session,
            "sla:due",
            "a running deadline is the first-response target while "
            "unanswered, else the resolution target",
            and_(
                Ticket.due_at.is_not(None),
                Ticket.status.in_(ACTIVE_STATUSES),
                or_(
                    and_(
                        Ticket.first_response_at.is_(None),
                        Ticket.due_at != Ticket.first_response_due_at,
                    ),
                    and_(
                        Ticket.first_response_at.is_not(None),
                        Ticket.due_at != Ticket.resolution_due_at,
                    ),
                ),
            ),
        ),
    ]
    return results

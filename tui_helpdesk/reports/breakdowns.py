"""Who and what the tickets are about: customers, categories and tags, escalations, agents,
satisfaction. Each function is a few aggregate queries over the period; definitions:

- customers: tickets created in the period per organization, those still open now, SLA
  compliance of the clocks met in the period; top requesters by tickets created;
- categories and tags: tickets created in the period against the previous period;
- escalations: escalation records made in the period, by rule (manual ones as "(manual)"),
  by the ticket's escalation level and group, with the median wall time from the ticket's
  creation; the share of tickets created in the period that were escalated;
- agents (the current assignee): handled = tickets resolved in the period, first-contact
  resolutions = those resolved with one public agent reply and never reopened, median working
  first response of tickets first answered in the period, open load now;
- satisfaction: answers received in the period (`csat_at`), their average and distribution,
  surveys sent (outbox rows of kind "survey") and the response rate, the latest comments.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.domain import ACTIVE_STATUSES, MessageKind
from tui_helpdesk.reports.metrics import open_breaches
from tui_helpdesk.reports.model import Drill, Scope, Table, pct, seconds
from tui_helpdesk.reports.periods import Period
from tui_helpdesk.reports.sql import key_label, percentiles, working_seconds
from tui_helpdesk.store.functions import elapsed_seconds
from tui_helpdesk.store.models import (
    Agent,
    Category,
    Contact,
    Escalation,
    Group,
    Message,
    Organization,
    Outbox,
    Ticket,
    TicketTag,
)

MANUAL = "(manual)"


def _in(column: Any, period: Period) -> Any:
    return and_(column >= period.start, column < period.end)


# --- customers ------------------------------------------------------------------------------


def customers(session: Session, scope: Scope) -> tuple[Table, Table]:
    p, where = scope.period, scope.filter.where()
    # The tickets that count for anything: created before the period's end and created,
    # answered or resolved in it, or open now. Each figure is counted per organization over
    # its own index range (created, open now, first responses met, resolutions met), which
    # holds the columns it needs, and the four are added up per organization: no ticket
    # row is read (a union of the ranges would read each ticket's row).
    # Grouped by the organization's id (`+ 0`: not read through its index), then named.
    org_id = (Ticket.organization_id + 0).label("org_id")
    before_end = Ticket.created_at < p.end
    sqlite = session.get_bind().dialect.name == "sqlite"

    names = ("created", "open_now", "fn", "fl", "rn", "rl")
    T = Ticket  # short, for the table of parts below

    def labelled(place: int, found: list[Any]) -> list[Any]:
        """`found` in the columns' places from `place` on, 0 elsewhere."""
        columns: list[Any] = [literal_column("0") for _ in names]
        columns[place : place + len(found)] = found
        return [column.label(name) for column, name in zip(columns, names, strict=True)]

    def counted(place: int, when: Any, *among: Any) -> list[Any]:
        """Per organization, the tickets matching `when` and, after that count, how many of
        them match each of `among`. SQLite groups by sorting (a year of a big desk: 400,000
        rows), so there each organization's counts are read from its own range of an index
        that leads with the organization (`ix_tickets_organization_id`,
        `ix_tickets_org_first_response`, `ix_tickets_org_resolved`), and the tickets
        without one from theirs: a seek per organization, no sort."""
        if not sqlite:
            sums = (func.coalesce(func.sum(case((c, 1), else_=0)), 0) for c in among)
            found = labelled(place, [func.count(), *sums])
            return [select(org_id, *found).where(where, when).group_by(org_id)]
        org = aliased(Organization)  # not the filter's own (a sub-select on organizations)

        def n(match: Any, *more: Any) -> Any:
            found = select(func.count()).select_from(Ticket)
            return found.where(where, match, when, *more).scalar_subquery()

        def of(match: Any) -> list[Any]:
            return labelled(place, [n(match), *(n(match, c) for c in among)])

        by_org = select(org.id.label("org_id"), *of(Ticket.organization_id == org.id))
        no_org = select(literal(None, Integer), *of(Ticket.organization_id.is_(None)))
        return [by_org, no_org]

    def met(place: int, state: Any, at: Any, flag: Any) -> list[Any]:
        """The clocks met in the period: how many, and how many of them late."""
        return counted(place, and_(state == "met", _in(at, p), before_end), flag.is_(True))

    # Open now: a few percent of a desk, grouped by sorting on either back end.
    open_now = labelled(1, [func.count()])
    parts = union_all(
        *counted(0, _in(Ticket.created_at, p)),
        select(org_id, *open_now)
        .where(where, Ticket.status.in_(ACTIVE_STATUSES), before_end)
        .group_by(org_id),
        *met(2, T.first_response_state, T.first_response_at, T.first_response_breached),
        *met(4, T.resolution_state, T.resolved_at, T.resolution_breached),
    ).subquery()
    org, *figures = parts.c
    per_org = (
        select(
            org.label("org_id"),
            # Integers again (PostgreSQL sums bigints as numeric).
            *(cast(func.sum(f), Integer).label(n) for f, n in zip(figures, names, strict=True)),
        )
        .group_by(org)
        .subquery()
    )
    c = per_org.c
    rows = session.execute(
        select(Organization.name, c.created, c.open_now, c.fn, c.fl, c.rn, c.rl)
        .select_from(per_org)
        .outerjoin(Organization, Organization.id == c.org_id)
        .order_by(c.created.desc(), Organization.name)
    ).all()
    table = Table(
        "customers",
        ["organization", "tickets", "open_now", "fr_compliance_pct", "res_compliance_pct"],
    )
    # The open breaches of the period (`metrics.open_breaches`): decided clocks, late.
    late_now = {
        clock: dict(
            session.execute(
                select(Organization.name, func.count())
                .select_from(Ticket)
                .outerjoin(Organization, Organization.id == Ticket.organization_id)
                .where(where, _in(deadline, p), still_open)
                .group_by(Organization.name)
            ).all()
        )
        for clock in ("first_response", "resolution")
        for deadline, still_open in [open_breaches(scope, clock)]
    }
    for name, n, open_n, fn, fl, rn, rl in rows:
        if not n and not open_n:
            continue
        fo, ro = late_now["first_response"].get(name, 0), late_now["resolution"].get(name, 0)
        fn, fl, rn, rl = (fn or 0) + fo, (fl or 0) + fo, (rn or 0) + ro, (rl or 0) + ro
        table.add(
            [key_label(name), int(n or 0), int(open_n or 0), pct(fn - fl, fn), pct(rn - rl, rn)],
            Drill(start=p.start, end=p.end, organization=name) if name else None,
        )
    table.rows, table.drills = table.rows[: scope.top * 5], table.drills[: scope.top * 5]
    # Counted per requester and organization id over the period's range, then named: only
    # the counts as large as the `top`-th largest (the top rows are among them whatever
    # the order of ties), not every requester of the period.
    requester_id, ticket_org = (Ticket.requester_id + 0).label("rid"), org_id.label("oid")
    per_requester = (
        select(requester_id, ticket_org, func.count().label("n"))
        .where(where, _in(Ticket.created_at, p))
        .group_by(requester_id, ticket_org)
        .cte("per_requester")
    )
    r = per_requester.c
    least = select(r.n).order_by(r.n.desc()).offset(max(scope.top, 1) - 1).limit(1)
    leaders = (
        select(r.rid, r.oid, r.n).where(r.n >= func.coalesce(least.scalar_subquery(), 0)).subquery()
    )
    r = leaders.c
    top = session.execute(
        select(Contact.name, Contact.email, Organization.name, r.n)
        .select_from(leaders)
        .join(Contact, Contact.id == r.rid)
        .outerjoin(Organization, Organization.id == r.oid)
        .order_by(r.n.desc(), Contact.name)
        .limit(scope.top)
    ).all()
    requesters = Table("requesters", ["contact", "email", "organization", "tickets"])
    for name, email, org, n in top:
        requesters.add([name, email, org, n])
    return table, requesters


# --- categories and tags --------------------------------------------------------------------


def _trend_table(
    name: str, key: str, now_counts: dict[Hashable, int], before: dict[Hashable, int], top: int
) -> Table:
    table = Table(name, [key, "tickets", "previous", "change_pct"])
    order = sorted(now_counts, key=lambda k: (-now_counts[k], key_label(k)))[:top]
    for k in order:
        n, b = now_counts[k], before.get(k, 0)
        table.add([key_label(k), n, b, pct(n - b, b) if b else None])
    return table


def categories(session: Session, scope: Scope) -> tuple[Table, Table]:
    where = scope.filter.where()

    def by_category(period: Period) -> dict[Hashable, int]:
        # Counted per category id over the creation range (`+ 0`: not read through the
        # category index; `ix_tickets_created` holds the column, so no ticket row is read),
        # then named: a few rows to join instead of a category lookup per ticket.
        category_id = (Ticket.category_id + 0).label("cid")
        per_id = (
            select(category_id, func.count().label("n"))
            .where(where, _in(Ticket.created_at, period))
            .group_by(category_id)
            .subquery()
        )
        rows = session.execute(
            select(Category.path, per_id.c.n)
            .select_from(per_id)
            .outerjoin(Category, Category.id == per_id.c.cid)
        )
        return {k: n for k, n in rows}

    def by_tag(period: Period) -> dict[Hashable, int]:
        rows = session.execute(
            select(TicketTag.tag, func.count())
            .join(Ticket, Ticket.id == TicketTag.ticket_id)
            .where(where, _in(Ticket.created_at, period))
            .group_by(TicketTag.tag)
        )
        return {k: n for k, n in rows}

    p, before = scope.period, scope.period.previous()
    cats = _trend_table("categories", "category", by_category(p), by_category(before), scope.top)
    cats.drills = [
        Drill(start=p.start, end=p.end, category=row[0]) if row[0] != "(none)" else None
        for row in cats.rows
    ]
    tags = _trend_table("tags", "tag", by_tag(p), by_tag(before), scope.top)
    tags.drills = [Drill(start=p.start, end=p.end, tag=row[0]) for row in tags.rows]
    return cats, tags


# --- escalations -----------------------------------------------------------------------------


def escalations(session: Session, scope: Scope) -> tuple[Table, Table, Table, dict[str, Any]]:
    p, where = scope.period, scope.filter.where()
    to_escalation = elapsed_seconds(Escalation.at, Ticket.created_at)

    def split(key: Any, name: str, joins: list[tuple[Any, Any]]) -> Table:
        stmt = select(
            key.label("k"), func.count(), func.count(func.distinct(Escalation.ticket_id))
        ).select_from(Escalation)
        stmt = stmt.join(Ticket, Ticket.id == Escalation.ticket_id)
        for target, on in joins:
            stmt = stmt.outerjoin(target, on)
        stmt = stmt.where(where, _in(Escalation.at, p))
        counts = session.execute(stmt.group_by(key).order_by(func.count().desc(), key)).all()
        src = select(key.label("k"), to_escalation.label("v")).select_from(Escalation)
        src = src.join(Ticket, Ticket.id == Escalation.ticket_id)
        for target, on in joins:
            src = src.outerjoin(target, on)
        medians = percentiles(session, src.where(where, _in(Escalation.at, p)), (0.5,))
        table = Table(name, [name.rstrip("s"), "escalations", "tickets", "median_to_escalation_s"])
        for k, n, tickets in counts:
            label = MANUAL if name == "rules" and k is None else key_label(k)
            table.add([label, n, tickets, seconds((medians.get(k) or [None])[0])])
        return table

    by_rule = split(Escalation.rule, "rules", [])
    by_level = split(Ticket.escalation_level, "levels", [])
    by_group = split(Group.name, "groups", [(Group, Group.id == Ticket.group_id)])
    for table in (by_level, by_group):
        table.columns[0] = {"levels": "level", "groups": "group"}[table.name]
    created, escalated = escalated_tickets(session, scope)
    figures = {
        "escalations": sum(r[1] for r in by_rule.rows),
        "escalated_share_pct": pct(escalated, created),
    }
    return by_rule, by_level, by_group, figures


def escalated_tickets(session: Session, scope: Scope) -> tuple[int, int]:
    """The period's new tickets: how many, and how many of them were ever escalated.

    Counted from both sides: the tickets over the creation range, the escalated ones from
    the escalations (each ticket once), joined to their ticket by key. Escalations are few
    next to tickets, so that reads far less than probing the escalations of each new
    ticket (on PostgreSQL a subplan run per ticket: over 400,000 for a year of a big desk)."""
    in_period = and_(scope.filter.where(), _in(Ticket.created_at, scope.period))
    if session.get_bind().dialect.name == "sqlite":
        # SQLite reads the range once for both: the join would read it again, probing the
        # escalations of each ticket all the same (PostgreSQL plans the join better).
        ever = case((Ticket.id.in_(select(Escalation.ticket_id)), 1))
        found = session.execute(select(func.count(), func.count(ever)).where(in_period)).one()
        return int(found[0]), int(found[1])
    created = session.scalar(select(func.count()).select_from(Ticket).where(in_period))
    escalated = session.scalar(
        select(func.count(func.distinct(Escalation.ticket_id)))
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .where(in_period)
    )
    return int(created or 0), int(escalated or 0)


# --- agents ---------------------------------------------------------------------------------


def _by_assignee(session: Session, *sums: Any, where: Any) -> list[Any]:
    """Per agent login, aggregates over the tickets `where` selects. Aggregated by the
    assignee's id first (grouped by an expression, `+ 0`, so that SQLite reads the tickets
    through the index of `where`, a period's range or the active statuses, not every
    ticket through the assignee index to spare the grouping's sort), then named (tickets
    without an assignee find no agent)."""
    agent_id = (Ticket.assignee_id + 0).label("agent_id")
    per_id = (
        select(agent_id, *(s.label(f"s{i}") for i, s in enumerate(sums)))
        .where(where)
        .group_by(agent_id)
        .subquery()
    )
    values = [per_id.c[f"s{i}"] for i in range(len(sums))]
    return list(
        session.execute(select(Agent.login, *values).join(per_id, per_id.c.agent_id == Agent.id))
    )


def agents(session: Session, scope: Scope) -> Table:
    p, where = scope.period, scope.filter.where()
    resolved = and_(where, _in(Ticket.resolved_at, p))
    # First contact: never reopened and exactly one reply. The tickets with one reply are
    # found once, set-based, among the replies of tickets from the first one resolved in
    # the period on (ticket ids follow creation), not counted per ticket (a probe of the
    # replies' index for each of a year's resolutions). The kind is written into the
    # statement, not bound: SQLite uses the partial index of replies
    # (`ix_messages_ticket_reply`, `kind = 'reply'`) only for a literal. The first id is
    # a bound only (the report's own filter is applied to the tickets themselves), taken
    # from the resolution range of `ix_tickets_resolved`, which holds the ids (`+ 0`: not
    # PostgreSQL's walk of the primary key from the first ticket on, probing each row).
    first_id = (
        select(func.min(Ticket.id + 0))
        .where(_in(Ticket.resolved_at, p))
        .correlate(None)
        .scalar_subquery()
    )
    one_reply = (
        select(Message.ticket_id)
        .where(
            Message.kind == literal_column(f"'{MessageKind.REPLY.value}'"),
            Message.ticket_id >= first_id,
        )
        .group_by(Message.ticket_id)
        .having(func.count() == 1)
    )
    first_contact = and_(Ticket.sla_cycle == 0, Ticket.id.in_(one_reply))
    handled = _by_assignee(
        session,
        func.count(),
        func.coalesce(func.sum(case((first_contact, 1), else_=0)), 0),
        where=resolved,
    )
    load = _by_assignee(
        session, func.count(), where=and_(where, Ticket.status.in_(ACTIVE_STATUSES))
    )
    # By the assignee's id (`+ 0`: read through the period's range, not every ticket of
    # each agent through the assignee index), then named.
    src = select(
        (Ticket.assignee_id + 0).label("k"), working_seconds("first_response").label("v")
    ).where(where, _in(Ticket.first_response_at, p), Ticket.assignee_id.is_not(None))
    by_id = percentiles(session, src, (0.5,))
    names = dict(session.execute(select(Agent.id, Agent.login).where(Agent.id.in_(by_id))).all())
    medians = {names[i]: found for i, found in by_id.items() if i in names}
    done = {k: (n, int(f)) for k, n, f in handled}
    open_load = dict(load)
    table = Table(
        "agents", ["agent", "handled", "first_contact", "fcr_pct", "frt_median_working_s", "open"]
    )
    logins = sorted(
        set(done) | set(open_load) | set(medians), key=lambda k: (-done.get(k, (0,))[0], k)
    )
    for login in logins:
        n, fcr = done.get(login, (0, 0))
        table.add(
            [
                login,
                n,
                fcr,
                pct(fcr, n),
                seconds((medians.get(login) or [None])[0]),
                open_load.get(login, 0),
            ],
            Drill(time_field="resolved_at", start=p.start, end=p.end, assignee=login),
        )
    return table


# --- satisfaction ----------------------------------------------------------------------------


def csat(session: Session, scope: Scope) -> tuple[Table, Table, dict[str, Any]]:
    p, where = scope.period, scope.filter.where()
    answered = and_(where, Ticket.csat_score.is_not(None), _in(Ticket.csat_at, p))
    dist = dict(
        session.execute(
            select(Ticket.csat_score, func.count()).where(answered).group_by(Ticket.csat_score)
        ).all()
    )
    avg = session.scalar(select(func.avg(Ticket.csat_score)).where(answered))
    sent = session.scalar(
        select(func.count())
        .select_from(Outbox)
        .join(Ticket, Ticket.id == Outbox.ticket_id)
        .where(where, Outbox.kind == "survey", _in(Outbox.created_at, p))
    )
    responses = sum(dist.values())
    table = Table("csat", ["score", "responses", "share_pct"])
    for score in range(5, 0, -1):
        n = dist.get(score, 0)
        table.add(
            [score, n, pct(n, responses)],
            Drill(time_field="csat_at", start=p.start, end=p.end),
        )
    comments = Table("comments", ["ticket", "score", "at", "comment"])
    for key, score, at, comment in session.execute(
        select(Ticket.key, Ticket.csat_score, Ticket.csat_at, Ticket.csat_comment)
        .where(answered, Ticket.csat_comment.is_not(None), Ticket.csat_comment != literal(""))
        .order_by(Ticket.csat_at.desc(), Ticket.id.desc())
        .limit(scope.top)
    ):
        comments.add([key, score, at, comment])
    figures = {
        "csat_avg": None if avg is None else round(float(avg), 2),
        "csat_responses": responses,
        "surveys_sent": int(sent or 0),
        "csat_response_rate_pct": pct(responses, int(sent or 0)),
    }
    return table, comments, figures

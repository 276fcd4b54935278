"""The escalation run and manual escalation, on both back ends: every trigger, the actions,
once per ticket/rule/cycle, dry run writing nothing, failures isolated per ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, func, inspect, select, update
from sqlalchemy.orm.exc import StaleDataError

from tests.conftest import NOW, Desk, statements
from tui_helpdesk.domain import MessageKind, Priority, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, escalation, tickets
from tui_helpdesk.services.errors import InvalidTransition, ValidationError
from tui_helpdesk.services.ticket_core import save_many
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent, Escalation, Outbox, Ticket, TicketEvent

RULES = """
[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "standard"
calendar = "always"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "4h", high = "8h", normal = "16h", low = "40h" }

[[escalation]]
name = "warn-first-response"
on = "first_response"
at = "80%"
where = { priority = ["high", "urgent"] }
actions = ["notify:assignee", "notify:group_lead"]

[[escalation]]
name = "first-response-missed"
on = "first_response"
at = "breach"
actions = ["raise_priority", "level_up", "notify:group_lead", "note:First response target missed"]

[[escalation]]
name = "resolution-missed"
on = "resolution"
at = "breach"
actions = ["tag:late"]

[[escalation]]
name = "urgent-unassigned"
on = "unassigned"
at = "15m"
where = { priority = ["urgent"] }
actions = ["tag:needs-owner"]

[[escalation]]
name = "idle-day"
on = "idle"
at = "24h"
actions = ["notify:group"]

[[escalation]]
name = "customer-asked"
on = "customer_request"
actions = ["set_priority:urgent", "notify:group_lead"]
"""


def _apply(desk_store: Desk, text: str = RULES) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(text))


def _create(desk_store: Desk, subject: str = "Printer down", **fields: Any) -> str:
    fields.setdefault("requester", "carla@acme.example")
    with desk_store.store.write() as session:
        ticket = tickets.create_ticket(
            session, desk_store.agent, NOW, tickets.NewTicket(subject=subject, **fields)
        )
        return ticket.key


def _run(store: Store, at: datetime, **kwargs: Any) -> escalation.RunResult:
    return escalation.run_escalations(store, at, **kwargs)


def _ticket(store: Store, key: str) -> Ticket:
    """The ticket as stored, loaded whole (a write unit keeps it readable after commit)."""
    with store.write() as session:
        ticket = tickets.get_ticket(session, key)
        _ = ticket.tags, ticket.group
        return ticket


def _count(store: Store, model: type[Any]) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def ruled(desk_store: Desk) -> Desk:
    _apply(desk_store)
    return desk_store


def test_an_assignee_who_leads_the_group_gets_one_notification_per_rule(ruled: Desk) -> None:
    _create(ruled, priority=Priority.HIGH, group="L1", assignee="admin")  # admin leads L1
    before = _count(ruled.store, Outbox)
    warned = _run(ruled.store, NOW + timedelta(minutes=100))
    assert [(a.action, a.after) for a in warned.actions] == [
        ("notify:assignee", "admin@desk.example"),
        ("notify:group_lead", None),  # the same person, told once already
    ]
    with ruled.store.read() as session:
        notified = select(Outbox.to_addrs).where(Outbox.kind == "notify").order_by(Outbox.id)
        assert [list(to) for to in session.scalars(notified)][-1] == ["admin@desk.example"]
    assert _count(ruled.store, Outbox) == before + 1


def test_warning_then_breach_fire_once_each(ruled: Desk) -> None:
    key = _create(ruled, priority=Priority.HIGH, group="L1", assignee="bob")
    store = ruled.store
    assert _run(store, NOW + timedelta(minutes=90)).actions == []  # 75% of 2h used

    warned = _run(store, NOW + timedelta(minutes=100))  # 83%
    assert [(a.rule, a.action, a.after) for a in warned.actions] == [
        ("warn-first-response", "notify:assignee", "bob@desk.example"),
        ("warn-first-response", "notify:group_lead", "admin@desk.example"),
    ]
    with store.read() as session:  # the ticket's acknowledgement to carla is not counted
        notified = select(func.count()).select_from(Outbox).where(Outbox.kind == "notify")
        assert session.scalar(notified) == 2
    assert _run(store, NOW + timedelta(minutes=101)).actions == []  # once per cycle

    breached = _run(store, NOW + timedelta(hours=2, minutes=1))
    assert [(a.action, a.before, a.after) for a in breached.actions] == [
        ("raise_priority", "high", "urgent"),
        ("level_up", "L1", "L2"),
        ("notify:group_lead", None, None),  # L2 has no lead: nobody to tell
        ("note:First response target missed", None, "First response target missed"),
    ]
    assert breached.breaches == 1 and breached.escalated == 1
    ticket = _ticket(store, key)
    assert (ticket.priority, ticket.group.name, ticket.level) == (Priority.URGENT, "L2", 2)
    assert ticket.assignee_id is None  # bob is not in L2
    assert ticket.first_response_breached and ticket.escalation_level == 1
    # Again and again: nothing more; the ticket stays off the candidate list until next due.
    again = _run(store, NOW + timedelta(hours=2, minutes=2))
    assert again.actions == [] and again.breaches == 0
    with store.read() as session:
        rules = session.scalars(select(Escalation.rule).order_by(Escalation.id)).all()
        events = session.scalars(
            select(TicketEvent.rule).where(TicketEvent.rule.is_not(None))
        ).all()
    assert rules == ["warn-first-response", "first-response-missed"]
    assert "first-response-missed" in events


def test_notifications_of_one_run_thread_together(ruled: Desk) -> None:
    """The run writes its mail at the end of a batch; a ticket notified twice in one batch
    still gets the second notification threaded under the first, and a later run's under
    both."""
    _create(ruled, priority=Priority.HIGH, group="L1", assignee="bob")
    _run(ruled.store, NOW + timedelta(minutes=100))  # warn: notify assignee, then group lead
    _run(ruled.store, NOW + timedelta(days=2))  # idle: notify the group (now L2: cleo)
    with ruled.store.read() as session:
        mails = list(
            session.scalars(select(Outbox).where(Outbox.kind == "notify").order_by(Outbox.id))
        )
        first, second, *later = [(m.message_id, m.headers) for m in mails]
    assert "In-Reply-To" not in first[1]
    assert second[1]["In-Reply-To"] == first[0] and second[1]["References"] == first[0]
    assert later and later[0][1]["References"].startswith(f"{first[0]} {second[0]}")


def test_a_batch_writes_each_table_in_one_statement(ruled: Desk) -> None:
    """Events of every shape (with and without old values, details, rules), notes and mail
    of a whole batch go out as one multi-row INSERT per table, not a statement per row."""
    for priority in (Priority.HIGH, Priority.URGENT, Priority.NORMAL):
        _create(ruled, priority=priority, group="L1", assignee="bob")
    _create(ruled, priority=Priority.URGENT)  # unassigned: tagged
    with statements(ruled.store) as sent:
        result = _run(ruled.store, NOW + timedelta(days=2))
    inserts = [st.split()[2] for st in sent if st.startswith("INSERT INTO")]
    assert result.escalated == 4 and result.action_count > 10
    assert sorted(inserts) == ["escalations", "messages", "outbox", "ticket_events", "ticket_tags"]


def test_reply_in_time_means_no_first_response_escalation(ruled: Desk) -> None:
    key = _create(ruled, priority=Priority.HIGH, group="L1", assignee="bob")
    with ruled.store.write() as session:
        tickets.reply(session, ruled.agent, NOW + timedelta(minutes=30), key, "On it.")
    result = _run(ruled.store, NOW + timedelta(hours=3))
    assert [a.rule for a in result.actions] == []
    assert not _ticket(ruled.store, key).first_response_breached


def test_pending_pauses_the_clocks_and_their_rules(ruled: Desk) -> None:
    key = _create(ruled, priority=Priority.HIGH, group="L1", assignee="bob")
    with ruled.store.write() as session:
        tickets.reply(
            session, ruled.agent, NOW + timedelta(minutes=10), key, "Logs?", status=Status.PENDING
        )
    # Resolution (8h) is paused with 7h50m left: a week later nothing has breached.
    assert _run(ruled.store, NOW + timedelta(days=7)).actions == []
    with ruled.store.write() as session:
        customer = tickets.get_ticket(session, key).requester
        tickets.add_customer_message(
            session, ruled.agent, NOW + timedelta(days=7), key, customer, "Here they are"
        )
    ticket = _ticket(ruled.store, key)
    assert ticket.status is Status.OPEN
    assert ticket.resolution_due_at == NOW + timedelta(days=7, hours=7, minutes=50)
    late = _run(ruled.store, NOW + timedelta(days=7, hours=8))
    assert [a.rule for a in late.actions] == ["resolution-missed"]


def test_reopen_starts_a_new_cycle_and_rules_fire_again(ruled: Desk) -> None:
    key = _create(ruled, priority=Priority.URGENT, group="L1", assignee="bob")
    store = ruled.store
    with store.write() as session:
        tickets.reply(session, ruled.agent, NOW + timedelta(minutes=5), key, "Fixed?")
    assert [a.rule for a in _run(store, NOW + timedelta(hours=5)).actions] == ["resolution-missed"]
    with store.write() as session:
        tickets.change_status(session, ruled.agent, NOW + timedelta(hours=6), key, Status.RESOLVED)
        tickets.reopen(session, ruled.agent, NOW + timedelta(hours=7), key)
    ticket = _ticket(store, key)
    assert ticket.sla_cycle == 1 and ticket.resolution_state == "running"
    assert ticket.resolution_due_at == NOW + timedelta(hours=11)
    assert [a.rule for a in _run(store, NOW + timedelta(hours=12)).actions] == ["resolution-missed"]
    with store.read() as session:
        cycles = session.scalars(select(Escalation.cycle).order_by(Escalation.id)).all()
    assert cycles == [0, 1]


def test_unassigned_and_idle_triggers(ruled: Desk) -> None:
    urgent = _create(ruled, "Site down", priority=Priority.URGENT, group="L1")
    quiet = _create(ruled, "Question", priority=Priority.LOW, group="L1", assignee="bob")
    with ruled.store.write() as session:
        tickets.reply(session, ruled.agent, NOW + timedelta(minutes=1), quiet, "Looking.")
    first = _run(ruled.store, NOW + timedelta(minutes=16))
    assert [(a.ticket, a.rule) for a in first.actions] == [(urgent, "urgent-unassigned")]
    assert "needs-owner" in _ticket(ruled.store, urgent).tags
    later = _run(ruled.store, NOW + timedelta(hours=25, minutes=2))
    fired = {(a.ticket, a.rule) for a in later.actions}
    assert (quiet, "idle-day") in fired
    notified = [a for a in later.actions if a.ticket == quiet and a.rule == "idle-day"]
    assert notified[0].after == "admin@desk.example, bob@desk.example"  # L1's members


def test_dry_run_writes_nothing(ruled: Desk) -> None:
    for _ in range(3):
        _create(ruled, priority=Priority.URGENT, group="L1")
    before = _dump(ruled.store)
    planned = _run(ruled.store, NOW + timedelta(hours=3), dry_run=True)
    assert _dump(ruled.store) == before
    assert planned.escalated == 3 and planned.breaches == 3  # first response (1h) only
    applied = _run(ruled.store, NOW + timedelta(hours=3))
    # The plan named what the run then did (the run also tags what raising made urgent).
    assert {(a.ticket, a.rule, a.action) for a in planned.actions} <= {
        (a.ticket, a.rule, a.action) for a in applied.actions
    }


def test_a_failing_ticket_is_rolled_back_alone(ruled: Desk) -> None:
    _apply(
        ruled,
        RULES + '\n[[escalation]]\nname = "to-cleo"\non = "first_response"\nat = "50%"\n'
        'where = { group = ["L2"] }\nactions = ["tag:seen", "assign:cleo"]\n',
    )
    ok = _create(ruled, "Fine", priority=Priority.URGENT, group="L1", assignee="bob")
    bad = _create(ruled, "Broken", priority=Priority.LOW, group="L2")
    with ruled.store.write() as session:
        cleo = session.scalar(select(Agent).where(Agent.login == "cleo"))
        assert cleo is not None
        cleo.active = False  # assigning to a deactivated agent is refused
    result = _run(ruled.store, NOW + timedelta(hours=5))  # 62% of bad's 8h target
    assert result.failed == [
        (bad, "rule to-cleo: agent 'cleo' is deactivated"),
    ]
    assert "seen" not in _ticket(ruled.store, bad).tags  # its first action was undone too
    assert _ticket(ruled.store, ok).first_response_breached
    with ruled.store.read() as session:
        failed = session.scalars(select(Escalation).where(Escalation.rule == "to-cleo")).all()
        # Recorded as fired, with the error and no actions: cron does not retry it every run.
        assert [
            (row.actions, "failed: agent 'cleo' is deactivated" in (row.reason or ""))
            for row in failed
        ] == [([], True)]
        history = session.scalars(
            select(TicketEvent.field).where(TicketEvent.rule == "to-cleo")
        ).all()
        assert history == ["failed"]
    again = _run(ruled.store, NOW + timedelta(hours=5, minutes=5))
    assert again.failed == []


def test_unknown_rule_is_refused(ruled: Desk) -> None:
    with pytest.raises(ValidationError, match="no escalation rule 'nope'"):
        _run(ruled.store, NOW, rule="nope")


def test_only_the_named_rule_runs(ruled: Desk) -> None:
    _create(ruled, priority=Priority.HIGH, group="L1", assignee="bob")
    result = _run(ruled.store, NOW + timedelta(minutes=100), rule="warn-first-response")
    assert result.actions
    assert {a.rule for a in result.actions} == {"warn-first-response"}


def test_manual_level_up_and_functional_move(ruled: Desk) -> None:
    key = _create(ruled, group="L1", assignee="bob")
    with ruled.store.write() as session:
        lines = escalation.escalate_ticket(session, ruled.agent, NOW, key, reason="needs an expert")
    assert (lines[0].action, lines[0].before, lines[0].after) == (
        "level_up",
        "L1",
        "L2",
    )
    with ruled.store.write() as session, pytest.raises(InvalidTransition, match="no next level"):
        escalation.escalate_ticket(session, ruled.agent, NOW, key)
    # Functional: to a team; never down a level (that is an assignment).
    with ruled.store.write() as session, pytest.raises(InvalidTransition, match="lower support"):
        escalation.escalate_ticket(session, ruled.agent, NOW, key, to_group="L1")
    with ruled.store.write() as session:
        directory.add_group(session, NOW, directory.GroupDraft("Network"))
    with ruled.store.write() as session:
        escalation.escalate_ticket(session, ruled.agent, NOW, key, to_group="Network")
    ticket = _ticket(ruled.store, key)
    assert (ticket.group.name, ticket.escalation_level) == ("Network", 2)
    with ruled.store.read() as session:
        rows = session.scalars(select(Escalation).order_by(Escalation.id)).all()
        seen = [(r.rule, r.trigger, r.actor, r.reason) for r in rows]
    assert seen == [
        (None, "manual", "bob", "needs an expert"),
        (None, "manual", "bob", "by hand"),
    ]
    # The reason given is an internal note where the ticket arrives; none without one.
    with ruled.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        notes = [
            (m.author_agent.login if m.author_agent else None, m.body)
            for m in tickets.ticket_messages(session, ticket)
            if m.kind is MessageKind.NOTE
        ]
    assert notes == [("bob", "Escalated to L2: needs an expert")]


def test_customer_request_fires_its_rules_once_per_cycle(ruled: Desk) -> None:
    key = _create(ruled, group="L1", assignee="bob")
    for _ in range(2):
        with ruled.store.write() as session:
            escalation.escalate_ticket(session, ruled.agent, NOW, key, customer_request=True)
    ticket = _ticket(ruled.store, key)
    assert ticket.customer_escalation and ticket.priority is Priority.URGENT
    with ruled.store.read() as session:
        rules = session.scalars(select(Escalation.rule).order_by(Escalation.id)).all()
    assert rules == [None, "customer-asked", None]


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.read() as session:
        meta = MetaData()
        meta.reflect(session.connection())
        return {
            name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
            for name, table in meta.tables.items()
        }


def test_a_ticket_that_comes_due_again_in_the_run_counts_once(ruled: Desk) -> None:
    # Unassigned and high: the breach raises it to urgent, which the "urgent-unassigned"
    # rule matches (unassigned since creation), so the ticket is due again at once; with
    # batches of one ticket the same run reads it again and fires that rule too.
    key = _create(ruled, priority=Priority.HIGH, group="L1")
    result = _run(ruled.store, NOW + timedelta(hours=3), batch=1)
    assert [a.rule for a in result.actions if a.ticket == key][-1] == "urgent-unassigned"
    assert result.escalated == 1


def test_a_batch_writes_its_tickets_together_with_their_versions(ruled: Desk) -> None:
    """Tickets changed the same way go out in one UPDATE (executemany keyed on id and
    version), not one statement each; every row's version moves on by one."""
    keys = [_create(ruled, priority=Priority.NORMAL, group="L1", assignee="bob") for _ in range(3)]
    versions = {key: _ticket(ruled.store, key).version for key in keys}
    with statements(ruled.store) as sent:
        result = _run(ruled.store, NOW + timedelta(hours=4, minutes=1))  # first response breached
    updates = [st for st in sent if st.startswith("UPDATE tickets")]
    assert result.escalated == 3 and result.breaches == 3
    assert len(updates) == 1 and "version" in updates[0]
    for key in keys:
        ticket = _ticket(ruled.store, key)
        assert ticket.version == versions[key] + 1
        assert (ticket.priority, ticket.group.name, ticket.escalation_level) == (
            Priority.HIGH,
            "L2",
            1,
        )
        assert ticket.first_response_breached and ticket.next_escalation_at is not None


def test_a_batch_write_keeps_the_version_check(ruled: Desk) -> None:
    """A ticket whose row moved past the version read is not overwritten: the write fails,
    as the ORM's flush does."""
    key = _create(ruled, group="L1")
    with ruled.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        table = Ticket.__table__
        # Someone else's change, behind the loaded object's back (plain SQL: the session's
        # copy keeps the version it read).
        session.connection().execute(
            update(table).where(table.c.id == ticket.id).values(version=table.c.version + 1)
        )
        ticket.priority = Priority.URGENT
        with pytest.raises(StaleDataError):
            save_many(session, [ticket])
        session.rollback()
    assert _ticket(ruled.store, key).priority is Priority.NORMAL


def test_a_batch_write_skips_nothing_the_orm_would_do() -> None:
    """`save_many` writes tickets with a plain UPDATE: that is the ORM's flush only while the
    ticket mapping has no update hooks and no column computes a value on update. A model
    change that adds one must teach `save_many` first."""
    mapper = inspect(Ticket)
    assert not list(mapper.dispatch.before_update) and not list(mapper.dispatch.after_update)
    computed = [c.name for c in Ticket.__table__.columns if c.onupdate or c.server_onupdate]
    assert computed == []

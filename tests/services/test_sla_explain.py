"""`explain_sla` on both back ends: tickets made and moved through services at fixed
instants (office hours in Rome), then the explanation checked: the policy and why, each
segment with its kind and durations, targets, due times, met or breached, escalations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import Desk
from tui_helpdesk.domain import Priority, Status
from tui_helpdesk.rules.calendar import working_time_between
from tui_helpdesk.rules.clock import ClockName, ClockState
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, sla, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.queue import TicketRow
from tui_helpdesk.services.sla_explain import (
    ClockReport,
    SegmentKind,
    SlaExplanation,
    explain_sla,
    explanation_doc,
    span,
)
from tui_helpdesk.services.ticket_panel import ticket_panel
from tui_helpdesk.services.views import Countdowns, SlaState
from tui_helpdesk.store.models import Escalation, Ticket

ROME = ZoneInfo("Europe/Rome")
H = timedelta(hours=1)
M = timedelta(minutes=1)
WEEKDAY_HOURS = "\n".join(
    f'hours.{day} = ["09:00-13:00", "14:00-18:00"]' for day in ("mon", "tue", "wed", "thu", "fri")
)
RULES = f"""
[desk]
ticket_prefix = "HD"
phone_region = "IT"
timezone = "Europe/Rome"

[calendars.office]
timezone = "Europe/Rome"
{WEEKDAY_HOURS}
holidays = ["2026-12-08"]

[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "premium"
calendar = "always"
where = {{ segment = ["premium"], priority = ["urgent"] }}
first_response = {{ urgent = "30m", high = "1h", normal = "2h", low = "4h" }}
resolution     = {{ urgent = "4h", high = "8h", normal = "16h", low = "40h" }}

[[sla]]
name = "standard"
calendar = "office"
first_response = {{ urgent = "1h", high = "2h", normal = "4h", low = "8h" }}
resolution     = {{ urgent = "8h", high = "16h", normal = "36h", low = "72h" }}

[[escalation]]
name = "warn-resolution"
on = "resolution"
at = "50%"
actions = ["notify:assignee"]

[[escalation]]
name = "resolution-missed"
on = "resolution"
at = "breach"
actions = ["tag:late"]
"""
INTAKE = Actor.system("intake")


def rome(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Rome wall time in 2026 (November unless said), as the UTC instant services take."""
    return datetime(2026, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


@pytest.fixture
def office(desk_store: Desk) -> Desk:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, rome(1, 0), parse_rules(RULES))
    return desk_store


def create(d: Desk, at: datetime, **fields: object) -> str:
    fields.setdefault("requester", "anna@acme.example")  # Acme: the premium segment
    with d.store.write() as session:
        return tickets.create_ticket(
            session, d.agent, at, tickets.NewTicket("VPN drops", body="Help", **fields)
        ).key


def customer_writes(d: Desk, key: str, at: datetime) -> None:
    with d.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        tickets.add_customer_message(session, INTAKE, at, key, ticket.requester, "Still broken")


def explain(d: Desk, key: str, now: datetime) -> SlaExplanation:
    with d.store.read() as session:
        return explain_sla(session, key, now)


def clock(e: SlaExplanation, name: ClockName) -> ClockReport:
    (report,) = [c for c in e.clocks if c.name is name]
    return report


Shape = tuple[SegmentKind, datetime, datetime, timedelta]


def shape(report: ClockReport) -> list[Shape]:
    return [(s.kind, s.start, s.end, s.working) for s in report.segments]


RUN, OUT, PAUSED = SegmentKind.RUNNING, SegmentKind.OUTSIDE_HOURS, SegmentKind.PAUSED


def test_pending_pauses_and_resolve_meets_in_time(office: Desk) -> None:
    # Monday 23 November, 10:30 in Rome: a normal ticket, standard policy (4h / 36h).
    key = create(office, rome(23, 10, 30))
    with office.store.write() as session:
        tickets.reply(
            session, office.agent, rome(23, 12), key, "Which client?", status=Status.PENDING
        )
    customer_writes(office, key, rome(24, 10))  # Tuesday: back to open, the clock resumes
    with office.store.write() as session:
        tickets.change_status(session, office.agent, rome(25, 16), key, Status.RESOLVED)

    e = explain(office, key, rome(26, 10))
    assert (e.policy.name, e.policy.reason) == ("standard", "standard: matches every ticket")
    assert e.policy.chosen_at == rome(23, 10, 30)
    assert e.policy.rules_now is None
    assert e.calendar is not None
    assert (e.calendar.name, e.calendar.timezone, e.calendar.known) == (
        "office",
        "Europe/Rome",
        True,
    )
    assert e.calendar.hours["mon"] == ("09:00-13:00", "14:00-18:00")
    assert "sat" not in e.calendar.hours
    assert e.calendar.holidays == ("2026-12-08",)

    first = clock(e, ClockName.FIRST_RESPONSE)
    assert first.state is ClockState.MET and not first.breached
    assert shape(first) == [(RUN, rome(23, 10, 30), rome(23, 12), 90 * M)]
    assert (first.target, first.used, first.remaining) == (4 * H, 90 * M, 150 * M)
    assert first.due_at == rome(23, 15, 30)  # 10:30-13:00 and 14:00-15:30
    assert first.percent_used == 37
    assert first.outcome == "met in time, 2h30m working time to spare"

    resolution = clock(e, ClockName.RESOLUTION)
    assert shape(resolution) == [
        (RUN, rome(23, 10, 30), rome(23, 12), 90 * M),
        (PAUSED, rome(23, 12), rome(24, 10), timedelta(0)),
        (RUN, rome(24, 10), rome(24, 13), 3 * H),
        (OUT, rome(24, 13), rome(24, 14), timedelta(0)),
        (RUN, rome(24, 14), rome(24, 18), 4 * H),
        (OUT, rome(24, 18), rome(25, 9), timedelta(0)),
        (RUN, rome(25, 9), rome(25, 13), 4 * H),
        (OUT, rome(25, 13), rome(25, 14), timedelta(0)),
        (RUN, rome(25, 14), rome(25, 16), 2 * H),
    ]
    assert resolution.segments[1].reason == "status pending"
    assert not any(s.ongoing for s in resolution.segments)
    assert resolution.state is ClockState.MET and not resolution.breached
    assert (resolution.used, resolution.remaining) == (14 * H + 30 * M, 21 * H + 30 * M)
    # Paused with 34h30m left on Monday at 12:00, resumed Tuesday 10:00: due next Monday.
    assert resolution.due_at == rome(30, 12, 30)
    assert resolution.outcome == "met in time, 21h30m working time to spare"
    assert [(s.clock, s.action) for s in e.ledger] == [
        (None, "policy"),
        (ClockName.FIRST_RESPONSE, "start"),
        (ClockName.RESOLUTION, "start"),
        (ClockName.FIRST_RESPONSE, "met"),
        (ClockName.RESOLUTION, "pause"),
        (ClockName.RESOLUTION, "resume"),
        (ClockName.RESOLUTION, "met"),
    ]
    assert e.escalations == () and e.upcoming == ()  # a resolved ticket escalates no more


def test_late_first_response_and_escalations(office: Desk) -> None:
    # Monday 16:00, a high-priority ticket (its category's default): first response in 2h.
    key = create(office, rome(23, 16), category="Technical > Network")
    with office.store.write() as session:
        tickets.reply(session, office.agent, rome(24, 10, 20), key, "Looking into it")
    with office.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        session.add(
            Escalation(
                ticket_id=ticket.id,
                rule="warn-resolution",
                cycle=0,
                trigger="resolution",
                at=rome(24, 16),
                actor="system",
                reason="50% of the resolution target used",
                actions=["notify:assignee"],
            )
        )

    e = explain(office, key, rome(24, 17))
    first = clock(e, ClockName.FIRST_RESPONSE)
    assert shape(first) == [
        (RUN, rome(23, 16), rome(23, 18), 2 * H),
        (OUT, rome(23, 18), rome(24, 9), timedelta(0)),
        (RUN, rome(24, 9), rome(24, 10, 20), 80 * M),
    ]
    assert first.breached and first.breached_by == 80 * M
    assert first.outcome == "met late: breached by 1h20m working time"
    assert first.due_at == rome(23, 18)
    assert [s.action for s in e.ledger if s.clock is ClockName.FIRST_RESPONSE] == [
        "start",
        "breach",
        "met",
    ]

    resolution = clock(e, ClockName.RESOLUTION)
    assert resolution.state is ClockState.RUNNING and not resolution.breached
    assert resolution.segments[-1].ongoing and resolution.segments[-1].end == rome(24, 17)
    assert (resolution.used, resolution.remaining) == (9 * H, 7 * H)
    assert resolution.percent_used == 56
    assert resolution.due_at == rome(25, 16)  # Tuesday 17-18, Wednesday 9-13 and 14-16
    assert resolution.outcome == "running: 7h working time left"

    (fired,) = e.escalations
    assert (fired.rule, fired.cycle, fired.at, fired.actions) == (
        "warn-resolution",
        0,
        rome(24, 16),
        ("notify:assignee",),
    )
    # The warning fired in this cycle; the breach rule is still to come, at the deadline.
    assert [(u.rule, u.at, u.reason) for u in e.upcoming] == [
        ("resolution-missed", rome(25, 16), "resolution target breached")
    ]


def test_priority_change_moves_to_another_policy_and_calendar(office: Desk) -> None:
    key = create(office, rome(23, 17))  # normal: standard, office hours
    with office.store.write() as session:
        tickets.change_priority(session, office.agent, rome(23, 20), key, Priority.URGENT)

    e = explain(office, key, rome(23, 21))
    assert (e.policy.name, e.policy.reason) == (
        "premium",
        "premium: priority is urgent and segment is premium",
    )
    assert e.calendar is not None and e.calendar.always_open
    resolution = clock(e, ClockName.RESOLUTION)
    # The evening counted nothing on the office calendar, and everything once premium.
    assert shape(resolution) == [
        (RUN, rome(23, 17), rome(23, 18), H),
        (OUT, rome(23, 18), rome(23, 20), timedelta(0)),
        (RUN, rome(23, 20), rome(23, 21), H),
    ]
    assert [s.calendar for s in resolution.segments] == ["office", "office", "always"]
    assert (resolution.target, resolution.used, resolution.remaining) == (4 * H, 2 * H, 2 * H)
    assert resolution.due_at == rome(23, 23)
    retargets = [s for s in e.ledger if s.action == "retarget"]
    assert {s.reason for s in retargets} == {"policy standard -> premium"}

    # First response: 1h used on the office calendar is already past the new 30m target.
    first = clock(e, ClockName.FIRST_RESPONSE)
    assert first.breached and first.used == 2 * H
    assert first.breached_by == 90 * M
    assert first.outcome == "breached by 1h30m working time, still running"
    assert first.note is None  # the stored deadline agrees with the segments


def test_reopen_starts_a_new_resolution_cycle(office: Desk) -> None:
    key = create(office, rome(23, 10))
    with office.store.write() as session:
        tickets.reply(session, office.agent, rome(23, 11), key, "Fixed", status=Status.RESOLVED)
    customer_writes(office, key, rome(24, 15))  # reopens: cycle 1

    e = explain(office, key, rome(24, 17))
    assert e.cycle == 1
    resolution = clock(e, ClockName.RESOLUTION)
    assert [(s.kind, s.cycle, s.working) for s in resolution.segments] == [
        (RUN, 0, H),
        (RUN, 1, 2 * H),
    ]
    assert resolution.started_at == rome(24, 15)
    assert (resolution.used, resolution.remaining) == (2 * H, 34 * H)  # this cycle only
    assert clock(e, ClockName.FIRST_RESPONSE).state is ClockState.MET


def test_a_ticket_open_for_months_keeps_every_segment(office: Desk) -> None:
    start, now = rome(1, 9, month=6), rome(23, 12)
    key = create(office, start, priority=Priority.LOW)
    e = explain(office, key, now)
    resolution = clock(e, ClockName.RESOLUTION)
    assert len(resolution.segments) > 300  # two per working day, and the weekends
    with office.store.read() as session:
        calendar = sla.active_rules(session).calendars["office"]
    assert resolution.used == working_time_between(calendar, start, now)
    assert resolution.breached and resolution.breached_by == resolution.used - 72 * H
    assert resolution.outcome.startswith("breached by ") and "still running" in resolution.outcome


def test_no_policy_says_why(desk_store: Desk) -> None:
    # The small desk's rules define no SLA: no clocks, and the explanation says so.
    key = create(desk_store, rome(23, 10))
    e = explain(desk_store, key, rome(23, 11))
    assert e.clocks == () and e.calendar is None
    assert (e.policy.name, e.policy.reason) == (None, "the active rules define no SLA policy")


def test_rules_applied_later_are_noted(office: Desk) -> None:
    key = create(office, rome(23, 10))
    with office.store.write() as session:
        desk.apply_rules(
            session,
            office.admin,
            rome(23, 11),
            parse_rules(
                RULES.replace('name = "premium"', 'name = "gold"').replace(
                    'segment = ["premium"], priority = ["urgent"]', 'segment = ["premium"]'
                )
            ),
        )
    e = explain(office, key, rome(23, 12))
    assert e.policy.name == "standard"
    assert e.policy.rules_now == "the active rules would now choose gold: segment is premium"


def test_json_document(office: Desk) -> None:
    key = create(office, rome(23, 10, 30))
    doc = explanation_doc(explain(office, key, rome(23, 14, 30)))
    assert list(doc) == [
        "number",
        "subject",
        "status",
        "priority",
        "now",
        "policy",
        "calendar",
        "cycle",
        "clocks",
        "ledger",
        "escalations",
        "upcoming",
        "escalation_level",
        "next_escalation_at",
    ]
    assert doc["now"] == "2026-11-23T13:30:00Z"
    assert doc["calendar"]["hours"]["fri"] == ["09:00-13:00", "14:00-18:00"]
    first = doc["clocks"][0]
    assert (first["name"], first["state"], first["target_s"], first["used_s"]) == (
        "first_response",
        "running",
        4 * 3600,
        3 * 3600,
    )
    assert (first["remaining_s"], first["due_at"], first["breached_by_s"]) == (
        3600,
        "2026-11-23T14:30:00Z",
        None,
    )
    assert [s["kind"] for s in first["segments"]] == ["running", "outside_hours", "running"]
    assert first["segments"][-1] == {
        "kind": "running",
        "start": "2026-11-23T13:00:00Z",
        "end": "2026-11-23T13:30:00Z",
        "working_s": 1800,
        "reason": None,
        "cycle": 0,
        "calendar": "office",
        "ongoing": True,
    }
    assert doc["ledger"][0]["action"] == "policy" and doc["ledger"][0]["clock"] is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(timedelta(seconds=20), "20s"), (45 * M, "45m"), (80 * M, "1h20m"), (36 * H, "36h")],
)
def test_span(value: timedelta, text: str) -> None:
    assert span(value) == text
    assert span(-value) == text


def test_a_deadline_at_closing_time_reads_overdue_out_of_hours(office: Desk) -> None:
    # Due at 18:00, when the office closes: at 21:00 it is breached although no working time
    # has passed since. Every view says overdue; none says "0s".
    key = create(office, rome(23, 14))
    now = rome(23, 21)
    first = clock(explain(office, key, now), ClockName.FIRST_RESPONSE)
    assert first.due_at == rome(23, 18)
    assert first.outcome == "breached at the deadline, no working time since, still running"
    panel = ticket_panel(office.store, key, now=now, suggestions=False)
    header = {view.name: (view.text, view.state) for view in panel.clocks}
    assert header["first response"] == ("overdue (out of hours)", SlaState.BREACHED)
    with office.store.read() as session:
        row = TicketRow.of(session.scalars(select(Ticket).where(Ticket.key == key)).one())
        assert Countdowns(session, now, [row]).of(row) == ("overdue", SlaState.BREACHED)
    # An hour into the next working day, the amount is back.
    with office.store.read() as session:
        assert Countdowns(session, rome(24, 10), [row]).of(row) == ("-1h", SlaState.BREACHED)
    # Waiting on the customer from then on: paused late, still never "-0s".
    with office.store.write() as session:
        tickets.change_status(session, office.agent, now, key, Status.PENDING)
    panel = ticket_panel(office.store, key, now=now, suggestions=False)
    header = {view.name: (view.text, view.state) for view in panel.clocks}
    assert header["first response"] == ("paused, overdue", SlaState.BREACHED)
    with office.store.read() as session:
        row = TicketRow.of(session.scalars(select(Ticket).where(Ticket.key == key)).one())
        assert Countdowns(session, now, [row]).of(row) == ("‖late", SlaState.BREACHED)

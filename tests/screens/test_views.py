"""The console's data facade: pages of views (one spans all the agent's groups), rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk
from tests.screens.conftest import make_ticket
from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.reports.model import Kind
from tui_helpdesk.rules.clock import calendar_for, signed_working_time
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, reports, ticket_changes, tickets
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.services.saved_views import (
    SavedView,
    format_filter,
    load,
    parse_filter,
    save,
    views_path,
    with_view,
)
from tui_helpdesk.services.sla import active_rules
from tui_helpdesk.services.views import (
    QueuePage,
    SlaState,
    View,
    count_view,
    countdown,
    describe_changes,
    queue_page,
    relative_age,
    ticket_detail,
)
from tui_helpdesk.store.models import Ticket
from tui_helpdesk.text import short_duration


def _walk(desk: Desk, view: View, limit: int) -> list[QueuePage]:
    pages = [queue_page(desk.store, "bob", view, now=NOW, limit=limit)]
    while pages[-1].next is not None:
        pages.append(
            queue_page(desk.store, "bob", view, now=NOW, after=pages[-1].next, limit=limit)
        )
    return pages


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_my_groups_spans_every_group_in_due_order(desk_store: Desk, limit: int) -> None:
    with desk_store.store.write() as session:
        directory.add_group(session, NOW, directory.GroupDraft("Team", members=["bob"]))
    due = {
        make_ticket(desk_store, "L1 a", group="L1", due_in=timedelta(hours=3)): 3,
        make_ticket(desk_store, "Team a", group="Team", due_in=timedelta(hours=1)): 1,
        make_ticket(desk_store, "L1 b", group="L1", due_in=timedelta(hours=2)): 2,
        make_ticket(desk_store, "Team b", group="Team", due_in=timedelta(hours=4)): 4,
    }
    no_deadline = [
        make_ticket(desk_store, "L1 c", group="L1"),
        make_ticket(desk_store, "Team c", group="Team"),
    ]
    make_ticket(desk_store, "L2", group="L2")  # not bob's
    make_ticket(desk_store, "Taken", group="L1", assignee="admin")  # not unassigned

    pages = _walk(desk_store, View.MY_GROUPS, limit)
    shown = [row.key for page in pages for row in page.rows]
    assert shown == [*sorted(due, key=due.__getitem__), *no_deadline]
    assert all(len(page.rows) <= limit for page in pages)
    assert count_view(desk_store.store, "bob", View.MY_GROUPS, now=NOW) == 6


def test_rows_are_display_ready(desk_store: Desk) -> None:
    breached = make_ticket(desk_store, "late", assignee="bob", due_in=-timedelta(minutes=5))
    at_risk = make_ticket(desk_store, "soon", assignee="bob", due_in=timedelta(minutes=45))
    fine = make_ticket(desk_store, "fine", assignee="bob", due_in=timedelta(hours=26))
    none = make_ticket(desk_store, "none", assignee="bob", at=NOW - timedelta(hours=3))
    page = queue_page(desk_store.store, "bob", View.MY_OPEN, now=NOW)
    rows = {row.key: row for row in page.rows}
    # Working time on the ticket's calendar (none here: every hour counts), as the header.
    assert (rows[breached].sla, rows[breached].sla_state) == ("-5m", SlaState.BREACHED)
    assert (rows[at_risk].sla, rows[at_risk].sla_state) == ("45m", SlaState.AT_RISK)
    assert (rows[fine].sla, rows[fine].sla_state) == ("26h", SlaState.OK)
    assert (rows[none].sla, rows[none].sla_state) == ("—", SlaState.NONE)
    assert rows[none].updated == "3h"
    assert rows[fine].requester == "Mario Rossi" and rows[fine].organization == "Acme"
    assert rows[fine].group == "L1" and rows[fine].assignee == "bob"


def test_text_filter_and_unknown_ticket(desk_store: Desk) -> None:
    vpn = make_ticket(desk_store, "VPN drops")
    make_ticket(desk_store, "Printer")
    page = queue_page(desk_store.store, "bob", View.ALL_OPEN, now=NOW, text="  vpn ")
    assert [row.key for row in page.rows] == [vpn]
    assert count_view(desk_store.store, "bob", View.ALL_OPEN, text="vpn", now=NOW) == 1
    with pytest.raises(NotFound, match="no ticket HD-404"):
        ticket_detail(desk_store.store, "bob", "HD-404", now=NOW)


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (timedelta(seconds=40), "40s"),
        (timedelta(minutes=59), "59m"),
        (timedelta(hours=3, minutes=20), "3h20m"),
        (timedelta(hours=36), "36h"),  # working hours: no days
        (-timedelta(hours=1, minutes=20), "1h20m"),  # the sign is the caller's
        (timedelta(hours=99, minutes=59), "99h59m"),
        (timedelta(hours=1234, minutes=5), "1234h"),  # fits the column
    ],
)
def test_countdown(left: timedelta, text: str) -> None:
    assert countdown(left) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=59), "0m"),
        (timedelta(minutes=59), "59m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=3, minutes=20), "3h20m"),
        (timedelta(days=2, hours=4, minutes=9), "2d4h"),
        (timedelta(days=30), "4w"),
    ],
)
def test_short_duration(delta: timedelta, text: str) -> None:
    assert short_duration(delta) == text


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=30), "now"),
        (timedelta(minutes=12), "12m"),
        (timedelta(hours=3, minutes=59), "3h"),
        (timedelta(days=5), "5d"),
        (timedelta(days=13), "13d"),
        (timedelta(days=15), "2w"),
        (timedelta(days=800), "2y"),
    ],
)
def test_relative_age(ago: timedelta, text: str) -> None:
    assert relative_age(NOW - ago, NOW) == text


# --- Breaching soon, saved views, what changed --------------------------------------------

OFFICE_RULES = """
[calendars.office]
timezone = "UTC"
hours.mon = ["09:00-13:00", "14:00-18:00"]
hours.tue = ["09:00-13:00", "14:00-18:00"]
hours.wed = ["09:00-13:00", "14:00-18:00"]
hours.thu = ["09:00-13:00", "14:00-18:00"]
hours.fri = ["09:00-13:00", "14:00-18:00"]
"""
FRIDAY_LATE = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)


def _deadline(desk: Desk, key: str, due: datetime, calendar: str | None) -> None:
    with desk.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        ticket.due_at, ticket.sla_calendar = due, calendar


def test_breaching_soon_counts_working_time_per_calendar(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(OFFICE_RULES))
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    due = {
        "overdue": (FRIDAY_LATE - timedelta(minutes=30), None),
        "office Monday 9:00": (monday_9, "office"),  # 30 working minutes on Friday + 0 on Mon
        "office Monday 10:00": (monday_9 + timedelta(hours=1), "office"),  # 90 working minutes
        "always 18:00": (FRIDAY_LATE + timedelta(minutes=30), None),
        "always Saturday": (FRIDAY_LATE + timedelta(hours=18), None),
        "unknown calendar 18:10": (FRIDAY_LATE + timedelta(minutes=40), "gone"),
    }
    keys = {}
    for subject, (at, calendar) in due.items():
        keys[subject] = make_ticket(desk_store, subject)
        _deadline(desk_store, keys[subject], at, calendar)
    make_ticket(desk_store, "no deadline")

    wanted = ["overdue", "always 18:00", "unknown calendar 18:10", "office Monday 9:00"]
    for limit in (1, 2, 50):
        shown, after = [], None
        while True:
            page = queue_page(
                desk_store.store, "bob", View.BREACHING, now=FRIDAY_LATE, after=after, limit=limit
            )
            shown += page.rows
            if page.next is None:
                break
            after = page.next
        assert [r.key for r in shown] == [keys[s] for s in wanted]
    assert count_view(desk_store.store, "bob", View.BREACHING, now=FRIDAY_LATE) == 4
    states = {r.subject: r.sla_state for r in shown}
    assert states["office Monday 9:00"] is SlaState.AT_RISK  # 63 wall-clock hours away
    assert states["overdue"] is SlaState.BREACHED
    # The countdowns are working time on each ticket's calendar (the unknown one: always).
    texts = {r.subject: r.sla for r in shown}
    assert texts == {
        "overdue": "-30m",
        "always 18:00": "30m",
        "unknown calendar 18:10": "40m",
        "office Monday 9:00": "30m",
    }
    # Elsewhere the same colour: Monday 10:00 is 64 hours away and more than an hour of work.
    rows = queue_page(desk_store.store, "bob", View.ALL_OPEN, now=FRIDAY_LATE).rows
    colours = {r.subject: r.sla_state for r in rows}
    assert colours["office Monday 10:00"] is SlaState.OK
    assert {r.subject: r.sla for r in rows}["office Monday 10:00"] == "1h30m"
    assert colours["office Monday 9:00"] is SlaState.AT_RISK
    # The / field narrows it like any view.
    narrowed = queue_page(desk_store.store, "bob", View.BREACHING, now=FRIDAY_LATE, text="office")
    assert [r.subject for r in narrowed.rows] == ["office Monday 9:00"]
    # The reports' live figures count the same tickets: one rule of "at risk".
    with desk_store.store.read() as session:
        summary = reports.build(session, Kind.SUMMARY, reports.scope(session, FRIDAY_LATE))
    live = {f.name: f.value for f in summary.figures if f.name.endswith("_now")}
    assert live == {"at_risk_now": 3, "overdue_now": 1}


def test_a_pages_countdowns_are_each_tickets_working_time(desk_store: Desk) -> None:
    """A page measures its deadlines in one walk per calendar, each from its neighbour; the
    result is what each ticket's own measure gives (`signed_working_time`), weekends,
    lunch breaks and repeated deadlines included, and again on a second read."""
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(OFFICE_RULES))
    offsets = [-200, -75, -75, -30, -1, 0, 1, 29, 90, 500, 5000]  # hours from Friday 17:30
    for i, hours in enumerate(offsets):
        key = make_ticket(desk_store, f"t{i}")
        calendar = "office" if i % 3 else None
        _deadline(desk_store, key, FRIDAY_LATE + timedelta(hours=hours, minutes=7 * i), calendar)
    with desk_store.store.read() as session:
        rules = active_rules(session)
        wanted = {}
        for ticket in session.scalars(select(Ticket)):
            assert ticket.due_at is not None
            calendar = calendar_for(rules, ticket.sla_calendar)
            left = signed_working_time(calendar, FRIDAY_LATE, ticket.due_at)
            sign = "-" if ticket.due_at <= FRIDAY_LATE else ""
            wanted[ticket.key] = f"{sign}{countdown(left)}"
    for _ in range(2):  # the second read takes the spans between deadlines as measured
        page = queue_page(desk_store.store, "bob", View.ALL_OPEN, now=FRIDAY_LATE, limit=50)
        assert {row.key: row.sla for row in page.rows} == wanted


def test_filter_language_round_trip() -> None:
    typed = (
        "status:open,on_hold priority:urgent,HIGH group:L1 assignee:me "
        'org:"Acme Corp" tag:vip channel:email vpn drops'
    )
    flt = parse_filter(typed)
    assert flt.statuses == (Status.OPEN, Status.ON_HOLD)
    assert flt.priorities == (Priority.URGENT, Priority.HIGH)
    assert (flt.group, flt.assignee, flt.organization, flt.tag) == ("L1", "me", "Acme Corp", "vip")
    assert flt.channel is Channel.EMAIL and flt.text == "vpn drops"
    assert parse_filter(format_filter(flt)) == flt
    assert flt.ticket_filter("bob").assignee == "bob"
    with pytest.raises(ValidationError, match="priority: unknown value 'asap'"):
        parse_filter("priority:asap")
    assert parse_filter("http://example.com").text == "http://example.com"  # not a key


def test_saved_views_file(tmp_path: Path) -> None:
    path = views_path(tmp_path / "config.toml")
    assert load(path) == ((), [])
    urgent = SavedView("Urgent", parse_filter("priority:urgent assignee:me"))
    save(path, with_view((), urgent))
    assert load(path) == ((urgent,), [])
    path.write_text(
        '[[view]]\nname = "Good"\ntag = "vip"\n'
        '[[view]]\nname = "Bad"\npriority = ["asap"]\n'
        '[[view]]\nname = "Worse"\ncolour = "red"\n'
        "[[view]]\ntag = 'no name'\n"
    )
    found, problems = load(path)
    assert [v.name for v in found] == ["Good"]
    assert problems == [
        f"{path}: view[1].priority: unknown value 'asap' (one of low, normal, high, urgent)",
        f"{path}: view[2].colour: unknown key",
        f"{path}: view[3].name: expected a non-empty string",
    ]
    path.write_text("[[view]\nname=")
    found, problems = load(path)
    assert found == () and len(problems) == 1 and problems[0].startswith(f"{path}: not valid TOML")
    with pytest.raises(ValidationError, match="nothing to save"):
        with_view((), SavedView("Empty", parse_filter("")))


def test_a_saved_view_lists_its_tickets(desk_store: Desk) -> None:
    mine_l1 = make_ticket(desk_store, "Mine in L1", assignee="bob", group="L1")
    make_ticket(desk_store, "Unassigned in L1", group="L1")
    make_ticket(desk_store, "Cleo's", assignee="cleo", group="L2")
    view = SavedView("Mine L1", parse_filter("group:L1 assignee:me"))
    page = queue_page(desk_store.store, "bob", view, now=NOW)
    assert [r.key for r in page.rows] == [mine_l1]
    assert count_view(desk_store.store, "bob", view, now=NOW) == 1
    assert count_view(desk_store.store, "bob", view, text="status:pending", now=NOW) == 0


def test_describe_changes(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "VPN drops", assignee="bob")
    before = ticket_detail(desk_store.store, "bob", key, now=NOW)
    assert describe_changes(before, before) is None
    with desk_store.store.write() as session:
        ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        tickets.add_note(session, desk_store.admin, NOW, key, "looking")
    after = ticket_detail(desk_store.store, "bob", key, now=NOW)
    assert (
        describe_changes(before, after) == f"{key} changed: priority normal → urgent; 1 new message"
    )

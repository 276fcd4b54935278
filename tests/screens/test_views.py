"""The console's data facade: pages of views (one spans all the agent's groups), rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW, Desk
from tests.screens.conftest import make_ticket
from tui_helpdesk.services import directory
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.services.views import (
    QueuePage,
    SlaState,
    View,
    count_view,
    queue_page,
    relative_age,
    short_duration,
    ticket_detail,
)


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
    assert count_view(desk_store.store, "bob", View.MY_GROUPS) == 6


def test_rows_are_display_ready(desk_store: Desk) -> None:
    breached = make_ticket(desk_store, "late", assignee="bob", due_in=-timedelta(minutes=5))
    at_risk = make_ticket(desk_store, "soon", assignee="bob", due_in=timedelta(minutes=45))
    fine = make_ticket(desk_store, "fine", assignee="bob", due_in=timedelta(hours=26))
    none = make_ticket(desk_store, "none", assignee="bob", at=NOW - timedelta(hours=3))
    page = queue_page(desk_store.store, "bob", View.MY_OPEN, now=NOW)
    rows = {row.key: row for row in page.rows}
    assert (rows[breached].sla, rows[breached].sla_state) == ("overdue", SlaState.BREACHED)
    assert (rows[at_risk].sla, rows[at_risk].sla_state) == ("45m", SlaState.AT_RISK)
    assert (rows[fine].sla, rows[fine].sla_state) == ("1d2h", SlaState.OK)
    assert (rows[none].sla, rows[none].sla_state) == ("—", SlaState.NONE)
    assert rows[none].updated == "3h"
    assert rows[fine].requester == "Mario Rossi" and rows[fine].organization == "Acme"
    assert rows[fine].group == "L1" and rows[fine].assignee == "bob"


def test_text_filter_and_unknown_ticket(desk_store: Desk) -> None:
    vpn = make_ticket(desk_store, "VPN drops")
    make_ticket(desk_store, "Printer")
    page = queue_page(desk_store.store, "bob", View.ALL_OPEN, now=NOW, text="  vpn ")
    assert [row.key for row in page.rows] == [vpn]
    assert count_view(desk_store.store, "bob", View.ALL_OPEN, text="vpn") == 1
    with pytest.raises(NotFound, match="no ticket HD-404"):
        ticket_detail(desk_store.store, "bob", "HD-404", now=NOW)


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

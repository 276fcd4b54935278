"""The customers report's top requesters on both back ends: the most tickets created in the
period first, ties by the contact's name, however many requesters tie at the last place
kept (the report names only those as large as the last one kept)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import Desk
from tui_helpdesk.domain import Channel
from tui_helpdesk.reports.model import Kind
from tui_helpdesk.services import reports, tickets

NOW = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
# Requester name -> tickets created in the period; Zoe's come before it, so do not count.
IN_PERIOD = {"Alma": 3, "Dina": 2, "Cora": 2, "Bea": 2, "Eva": 1}


def _desk(d: Desk) -> None:
    with d.store.write() as s:
        day = 20
        for name, n in [*IN_PERIOD.items(), ("Zoe", 0)]:
            for i in range(n or 4):
                when = datetime(2026, 10, day if n else 5, 9, i, tzinfo=UTC)
                new = tickets.NewTicket(
                    f"{name} {i}",
                    body="help",
                    channel=Channel.EMAIL,
                    requester=f"{name.lower()}@example.com",
                    requester_name=name,
                )
                tickets.create_ticket(s, d.agent, when, new)
            day += 1


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (1, [("Alma", 3)]),
        (2, [("Alma", 3), ("Bea", 2)]),  # three tie at 2: the first by name
        (3, [("Alma", 3), ("Bea", 2), ("Cora", 2)]),
        (4, [("Alma", 3), ("Bea", 2), ("Cora", 2), ("Dina", 2)]),
        (10, [("Alma", 3), ("Bea", 2), ("Cora", 2), ("Dina", 2), ("Eva", 1)]),
    ],
)
def test_top_requesters_by_tickets_then_name(
    desk_store: Desk, top: int, expected: list[tuple[str, int]]
) -> None:
    _desk(desk_store)
    with desk_store.store.read() as s:
        scope = reports.scope(s, NOW, start="2026-10-19", end="2026-10-30", top=top)
        report = reports.build(s, Kind.CUSTOMERS, scope)
    rows = report.table("requesters").rows
    assert [(name, n) for name, _, _, n in rows] == expected
    assert [email for _, email, _, _ in rows] == [f"{n.lower()}@example.com" for n, _ in expected]

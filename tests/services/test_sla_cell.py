"""The queue's SLA cell for a paused ticket: the working time its clocks keep after "‖",
within the column's 7 characters (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui_helpdesk.services.views import SLA_CELL, SlaState, _paused_cell


@pytest.mark.parametrize(
    ("left", "shown", "state"),
    [
        (timedelta(hours=8), "‖8h", SlaState.PAUSED),
        (timedelta(hours=3, minutes=30), "‖3h30m", SlaState.PAUSED),
        (timedelta(hours=47, minutes=44), "‖47h44m", SlaState.PAUSED),
        (timedelta(minutes=-20), "‖-20m", SlaState.BREACHED),
        (timedelta(hours=-2, minutes=-10), "‖-2h10m", SlaState.BREACHED),
        (timedelta(hours=-47, minutes=-44), "‖-47h", SlaState.BREACHED),  # minutes dropped
        (timedelta(hours=-1234), "‖-1234h", SlaState.BREACHED),
        (timedelta(0), "‖late", SlaState.BREACHED),  # as the header: "paused, overdue"
    ],
)
def test_paused_cell(left: timedelta, shown: str, state: SlaState) -> None:
    assert _paused_cell(left) == (shown, state)
    assert len(shown) <= SLA_CELL

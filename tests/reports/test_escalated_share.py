"""The share of a period's new tickets that were escalated, on both back ends: a ticket counts
once however often it was escalated, and by when it was created, not when it was escalated."""

from __future__ import annotations

from tests.conftest import Desk
from tests.reports.history import FROM, NOW, TO, at, craft
from tui_helpdesk.reports.model import Kind
from tui_helpdesk.services import directory, escalation, reports


def test_a_ticket_escalated_twice_counts_once_in_the_period_it_was_created(
    desk_store: Desk,
) -> None:
    history = craft(desk_store)
    with desk_store.store.write() as s:
        directory.add_group(s, at(21, 8), directory.GroupDraft("Network"))
        # T3 (created in the period) a second time, to a team; T5 (created in the previous
        # period) escalated during this one.
        escalation.escalate_ticket(
            s, desk_store.agent, at(21, 9), history.t3, to_group="Network", reason="again"
        )
        escalation.escalate_ticket(
            s, desk_store.agent, at(21, 10), history.t5, to_group="L2", reason="old"
        )
    with desk_store.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO)
        summary = reports.build(s, Kind.SUMMARY, scope)
        escalations = reports.build(s, Kind.ESCALATIONS, scope)
    share = summary.figure("escalated_share_pct")
    # This period: T1..T4 created, T3 escalated (twice); the previous one: T5, escalated.
    assert (share.value, share.previous) == (25.0, 100.0)
    figures = {f.name: f.value for f in escalations.figures}
    assert figures == {"escalations": 3, "escalated_share_pct": 25.0}

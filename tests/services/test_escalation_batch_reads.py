"""What an escalation batch reads, on both back ends: the due tickets with only the related
rows the rules and their actions use, and the same results as before it read less."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import NOW, Desk, statements
from tests.services.test_escalation import RULES, _apply, _create, _run
from tui_helpdesk.domain import Priority
from tui_helpdesk.store.models import Outbox

TELL_REQUESTER = """
[[escalation]]
name = "tell-requester"
on = "resolution"
at = "50%"
actions = ["notify:requester"]
"""


def test_a_batch_reads_the_requester_without_their_organization(desk_store: Desk) -> None:
    """The requester is read with each due ticket (notifications name and address them);
    the requester's organization is not (the ticket's own organization is): one join of
    `organizations` in the batch's ticket query, and the requester still notified."""
    _apply(desk_store, RULES + TELL_REQUESTER)
    keys = [
        _create(desk_store, priority=Priority.LOW, group="L1", assignee="bob") for _ in range(3)
    ]
    with statements(desk_store.store) as sent:
        result = _run(desk_store.store, NOW + timedelta(hours=21))  # 52% of 40h
    told = [(a.ticket, a.after) for a in result.actions if a.rule == "tell-requester"]
    assert told == [(key, "carla@acme.example") for key in keys]
    batch_reads = [st for st in sent if st.startswith("SELECT tickets.id") and "JOIN" in st]
    assert batch_reads and all(st.count("JOIN organizations") == 1 for st in batch_reads)
    with desk_store.store.read() as session:
        mails = session.scalars(
            select(Outbox.to_addrs).where(Outbox.kind == "notify").order_by(Outbox.id)
        ).all()
        assert [list(to) for to in mails] == [["carla@acme.example"]] * 3

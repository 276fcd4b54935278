"""`helpdesk db check`: a healthy desk passes; broken invariants are found and named."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.cli.conftest import Run, ok, one_line_error
from tests.conftest import NOW
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Counter, Ticket


def test_a_healthy_desk_passes(hd: Run) -> None:
    ok(hd("ticket", "create", "-s", "Fine", "-r", "a@acme.example"))
    doc = ok(hd("db", "check", "--json")).json()
    assert doc["ok"] is True
    names = {c["name"] for c in doc["checks"]}
    assert {"counter:ticket", "sla:finished", "ticket:resolved_at"} <= names
    assert any(n.startswith("fk:tickets.") for n in names)


def test_broken_invariants_are_found(hd: Run, db_url: str) -> None:
    for subject in ("One", "Two"):
        ok(hd("ticket", "create", "-s", subject, "-r", "a@acme.example"))
    ok(hd("ticket", "status", "HD-2", "resolved"))
    store = Store(db_url)
    with store.write() as session:
        # A finished ticket with a running deadline; a counter behind the tickets.
        session.execute(
            update(Ticket).where(Ticket.number == 2).values(due_at=NOW + timedelta(hours=1))
        )
        session.execute(update(Counter).values(value=1))
    store.dispose()
    result = hd("db", "check")
    assert result.exit_code == 1
    assert "FAILED sla:finished: 1 rows break" in result.stdout and "HD-2" in result.stdout
    assert "FAILED counter:ticket" in result.stdout
    line = one_line_error(result, 1)
    assert "2 consistency checks failed" in line

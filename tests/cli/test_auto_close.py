"""`helpdesk auto-close` as cron runs it: quiet unless it closed something, one line per
ticket and a summary, --dry-run, --json, exit codes (2 bad usage, 75 the lock is held), and
what a run with nothing to close imports."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tests.cli.conftest import Run, imported, ok, one_line_error
from tests.conftest import NOW, Desk
from tui_helpdesk.domain import Status
from tui_helpdesk.services import auto_close, tickets
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.locks import job_lock
from tui_helpdesk.store.models import Ticket

SIX_DAYS = (NOW + timedelta(days=6)).isoformat()


def _resolved(desk_store: Desk, *ages_days: float) -> list[str]:
    """Tickets resolved `age` days before NOW + 6 days, in that order."""
    keys = []
    with desk_store.store.write() as session:
        for age in ages_days:
            ticket = tickets.create_ticket(
                session,
                desk_store.agent,
                NOW,
                tickets.NewTicket(f"Resolved {age} days", requester="carla@acme.example"),
            )
            keys.append(ticket.key)
            at = NOW + timedelta(days=6 - age)
            tickets.change_status(session, desk_store.agent, at, ticket.key, Status.RESOLVED)
    return keys


def _status(desk_store: Desk, key: str) -> str:
    with desk_store.store.read() as session:
        return tickets.get_ticket(session, key).status.value


def test_closes_old_resolutions_then_says_nothing(desk_store: Desk, db_url: str, cli: Run) -> None:
    old, recent = _resolved(desk_store, 6, 2)
    quiet = ok(cli("--db", db_url, "auto-close", "--now", NOW.isoformat()))
    assert quiet.stdout == "" and quiet.stderr == ""
    preview = ok(cli("--db", db_url, "auto-close", "--dry-run", "--now", SIX_DAYS))
    assert preview.stdout.splitlines() == [
        f"{old}  resolved 2026-11-23T09:30:00Z  resolved -> closed",
        "auto-close: would close 1 ticket resolved 5 days or more ago; 0 failed; "
        "as of 2026-11-29T09:30:00Z",
    ]
    assert _status(desk_store, old) == "resolved"
    done = ok(cli("--db", db_url, "auto-close", "--now", SIX_DAYS))
    assert done.stdout.splitlines() == [
        preview.stdout.splitlines()[0],
        "auto-close: closed 1 ticket resolved 5 days or more ago; 0 failed; "
        "as of 2026-11-29T09:30:00Z",
    ]
    assert (_status(desk_store, old), _status(desk_store, recent)) == ("closed", "resolved")
    again = ok(cli("--db", db_url, "auto-close", "--now", SIX_DAYS))
    assert again.stdout == ""


def test_json_and_dry_run(desk_store: Desk, db_url: str, cli: Run) -> None:
    old, _recent = _resolved(desk_store, 6, 2)
    planned = ok(cli("--db", db_url, "auto-close", "--dry-run", "--now", SIX_DAYS, "--json"))
    assert planned.json() == {
        "now": "2026-11-29T09:30:00Z",
        "dry_run": True,
        "auto_close_days": 5,
        "closed": [{"ticket": old, "resolved_at": "2026-11-23T09:30:00Z"}],
        "failed": [],
    }
    done = ok(cli("--db", db_url, "auto-close", "--now", SIX_DAYS, "--json")).json()
    assert done["dry_run"] is False and done["closed"] == planned.json()["closed"]
    empty = ok(cli("--db", db_url, "auto-close", "--now", SIX_DAYS, "--json")).json()
    assert empty["closed"] == [] and empty["failed"] == []


def test_bad_arguments_exit_2(desk_store: Desk, db_url: str, cli: Run) -> None:
    future = one_line_error(cli("--db", db_url, "auto-close", "--now", "2999-01-01T00:00Z"), 2)
    assert "in the future; look ahead with --dry-run" in future
    assert "--now" in one_line_error(cli("--db", db_url, "auto-close", "--now", "soon"), 2)


def test_a_held_lock_exits_75(desk_store: Desk, db_url: str, cli: Run) -> None:
    (old,) = _resolved(desk_store, 6)
    with job_lock(desk_store.store, "auto-close"):
        held = one_line_error(cli("--db", db_url, "auto-close", "--now", SIX_DAYS), 75)
    assert "holds the lock" in held and _status(desk_store, old) == "resolved"
    assert ok(cli("--db", db_url, "auto-close", "--now", SIX_DAYS)).stdout


def test_nothing_resolved_leaves_the_orm_out(desk_store: Desk, db_url: str) -> None:
    """Cron's common run with no resolved ticket is one Core probe: the models and the
    rules load only when a resolved ticket is there."""
    quiet = imported("--db", db_url, "auto-close", "--now", SIX_DAYS)
    assert "tui_helpdesk.services.auto_close" in quiet
    assert "tui_helpdesk.store.models" not in quiet
    assert "tui_helpdesk.rules.document" not in quiet
    _resolved(desk_store, 6)
    busy = imported("--db", db_url, "auto-close", "--now", SIX_DAYS)
    assert "tui_helpdesk.store.models" in busy


def test_a_failed_ticket_exits_3(
    desk_store: Desk, db_url: str, cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing, fine = _resolved(desk_store, 7, 6)
    real = auto_close.close_ticket

    def close(session: Session, ticket: Ticket, now: datetime, rule: str) -> None:
        if ticket.key == failing:
            raise ValidationError("kept open by hand")
        real(session, ticket, now, rule)

    monkeypatch.setattr(auto_close, "close_ticket", close)
    result = cli("--db", db_url, "auto-close", "--now", SIX_DAYS)
    assert result.exit_code == 3
    assert result.stderr == f"helpdesk: auto-close: {failing}: failed: kept open by hand\n"
    assert result.stdout.splitlines()[-1].startswith("auto-close: closed 1 ticket ")
    assert (_status(desk_store, failing), _status(desk_store, fine)) == ("resolved", "closed")

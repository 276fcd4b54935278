"""`helpdesk db check`: a healthy desk passes; broken invariants are found and named.

The SLA checks run on a desk with SLA rules and tickets in every clock situation (running,
paused, stopped, met, assigned or not); each invariant is then broken on one ticket and the
check that owns it must name that ticket."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.cli.conftest import Run, ok, one_line_error
from tests.conftest import NOW
from tui_helpdesk.domain import Status
from tui_helpdesk.services.checks import run_checks
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Counter, RuleSet, Ticket

SLA_RULES = """
[desk]
ticket_prefix = "HD"
phone_region = "IT"

[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "premium"
calendar = "always"
where = { segment = ["premium"] }
first_response = { urgent = "15m", high = "30m", normal = "1h", low = "2h" }
resolution     = { urgent = "4h",  high = "8h",  normal = "16h", low = "40h" }
"""

SLA_CHECKS = {
    "sla:state",
    "sla:policy",
    "sla:running",
    "sla:waiting",
    "sla:status",
    "sla:due",
    "sla:finished",
    "sla:paused",
    "sla:unassigned",
    "sla:met",
}


def test_a_healthy_desk_passes(hd: Run) -> None:
    ok(hd("ticket", "create", "-s", "Fine", "-r", "a@acme.example"))
    doc = ok(hd("db", "check", "--json")).json()
    assert doc["ok"] is True
    names = {c["name"] for c in doc["checks"]}
    assert {"counter:ticket", "ticket:resolved_at"} | SLA_CHECKS <= names
    assert any(n.startswith("fk:tickets.") for n in names)
    said = ok(hd("db", "check")).stdout
    assert said == f"{len(names)} of {len(names)} checks passed\n"
    assert ok(hd("db", "check", "--quiet")).stdout == ""  # cron mails nothing


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
    assert "FAILED sla:finished: 1 row breaks" in result.stdout and "HD-2" in result.stdout
    assert "FAILED counter:ticket" in result.stdout
    # A deadline with no running clock behind it breaks the due time too.
    assert "FAILED sla:due: 1 row breaks" in result.stdout
    line = one_line_error(result, 1)
    assert "3 consistency checks failed" in line
    quiet = hd("db", "check", "--quiet")  # as cron runs it: the same account
    assert (quiet.exit_code, quiet.stdout) == (1, result.stdout)


def test_a_contract_the_active_rules_lack_is_found(hd: Run, tmp_path: Path) -> None:
    rules = tmp_path / "sla.toml"
    rules.write_text(SLA_RULES)
    ok(hd("rules", "apply", rules, as_="admin"))
    ok(hd("org", "add", "Globex", "--sla-policy", "premium"))
    assert ok(hd("db", "check", "--json")).json()["ok"] is True
    # A later version drops the policy: Globex's tickets would silently get another one.
    rules.write_text(SLA_RULES.replace('name = "premium"', 'name = "gold"'))
    ok(hd("rules", "apply", rules, as_="admin"))
    assert _failures(hd) == {"org:sla_policy": ["Globex (SLA policy 'premium')"]}


@pytest.fixture
def sla_desk(hd: Run, tmp_path: Path) -> Run:
    """The small desk with a premium SLA policy (Acme is premium) and one ticket in each
    clock situation:
    HD-1 new, unassigned: both clocks running;       HD-2 answered: first response met;
    HD-3 pending: both clocks paused;                HD-4 on hold: resolution paused;
    HD-5 resolved unanswered: first response stopped; HD-6 outside the policy: no clocks."""
    rules = tmp_path / "sla.toml"
    rules.write_text(SLA_RULES)
    ok(hd("rules", "apply", rules, as_="admin"))
    for subject in ("New", "Answered", "Waiting", "Parked", "Done"):
        ok(hd("ticket", "create", "-s", subject, "-r", "a@acme.example"))
    ok(hd("ticket", "create", "-s", "No SLA", "-r", "someone@elsewhere.example"))
    ok(hd("ticket", "reply", "HD-2", "--body", "On it."))
    ok(hd("ticket", "assign", "HD-2", "bob"))
    ok(hd("ticket", "status", "HD-3", "pending"))
    ok(hd("ticket", "status", "HD-4", "on_hold"))
    ok(hd("ticket", "status", "HD-5", "resolved"))
    return hd


def _failures(run: Run) -> dict[str, list[str]]:
    doc = run("db", "check", "--json").json()
    return {c["name"]: c["examples"] for c in doc["checks"] if c["violations"]}


def test_tickets_in_every_clock_situation_pass(sla_desk: Run, db_url: str) -> None:
    store = Store(db_url)
    with store.read() as session:
        rows = {
            t.key: (t.first_response_state, t.resolution_state, t.sla_paused_at is not None)
            for t in session.scalars(select(Ticket))
        }
    store.dispose()
    # The fixture reaches every state the checks speak of (else they could not fail here).
    assert rows == {
        "HD-1": ("running", "running", False),
        "HD-2": ("met", "running", False),
        "HD-3": ("paused", "paused", True),
        "HD-4": ("running", "paused", True),
        "HD-5": ("stopped", "met", False),
        "HD-6": (None, None, False),
    }
    assert _failures(sla_desk) == {}


LATER = NOW + timedelta(days=3)

# (ticket, values written, the check that must name it)
BREAKAGES: list[tuple[int, dict[str, Any], str]] = [
    (1, {"first_response_state": "late"}, "sla:state"),
    (4, {"resolution_state": "stopped"}, "sla:status"),  # only a merged ticket's stops
    (1, {"first_response_target": None}, "sla:state"),
    (6, {"resolution_target": 3600}, "sla:state"),
    (2, {"sla_policy": None}, "sla:policy"),
    (2, {"sla_calendar": None}, "sla:policy"),
    (6, {"sla_policy": "premium", "sla_calendar": "always"}, "sla:policy"),
    (1, {"first_response_remaining": 60}, "sla:running"),
    (2, {"resolution_due_at": None, "due_at": None}, "sla:running"),
    (3, {"first_response_remaining": None}, "sla:waiting"),
    (5, {"first_response_due_at": LATER}, "sla:waiting"),
    (4, {"resolution_due_at": LATER}, "sla:waiting"),
    (2, {"first_response_state": "running"}, "sla:status"),  # answered but still running
    (5, {"resolution_state": "paused", "resolution_remaining": 60}, "sla:status"),
    (3, {"resolution_state": "met"}, "sla:status"),
    (1, {"due_at": LATER}, "sla:due"),
    (1, {"due_at": None}, "sla:due"),
    (3, {"due_at": LATER}, "sla:due"),  # nothing runs on a pending ticket
    (5, {"due_at": LATER}, "sla:finished"),
    (5, {"status": Status.CLOSED, "closed_at": NOW, "resolution_state": "running"}, "sla:finished"),
    (3, {"sla_paused_at": None}, "sla:paused"),
    (1, {"sla_paused_at": NOW}, "sla:paused"),
    (6, {"sla_paused_at": NOW}, "sla:paused"),  # no clocks at all
    (2, {"unassigned_since": NOW}, "sla:unassigned"),  # assigned to bob
    (5, {"unassigned_since": NOW}, "sla:unassigned"),  # resolved
    (2, {"first_response_remaining": 60}, "sla:met"),  # not what its ledger says
]


def test_each_sla_invariant_is_checked(sla_desk: Run, db_url: str) -> None:
    missed = []
    store = Store(db_url)
    try:
        for number, values, check in BREAKAGES:
            # A read session is rolled back at its end: each breakage is undone.
            with store.read() as session:
                session.execute(update(Ticket).where(Ticket.number == number).values(**values))
                failures = {r.name: r.examples for r in run_checks(session) if not r.ok}
            if f"HD-{number}" not in failures.get(check, ()):
                missed.append((number, values, check, failures))
    finally:
        store.dispose()
    assert missed == []
    # As the command reports it, once committed.
    store = Store(db_url)
    with store.write() as session:
        session.execute(update(Ticket).where(Ticket.number == 3).values(sla_paused_at=None))
    store.dispose()
    result = sla_desk("db", "check")
    assert "FAILED sla:paused: 1 row breaks" in result.stdout and "HD-3" in result.stdout
    assert "1 consistency check failed" in one_line_error(result, 1)


# A version applied before the stricter checks of a rules file: minutes after hours of 60 or
# more, a segment no organization can have, tags no ticket can carry.
OLD_RULES = """
[desk]
ticket_prefix = "HD"
phone_region = "IT"

[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "gold"
calendar = "always"
where = { segment = ["Gold"] }
first_response = { urgent = "15m", high = "30m", normal = "1h", low = "2h" }
resolution     = { urgent = "4h",  high = "8h",  normal = "16h", low = "40h" }

[[sla]]
name = "standard"
calendar = "always"
first_response = { urgent = "1h", high = "2h", normal = "1h90m", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "40h", low = "80h" }

[[escalation]]
name = "nobody"
on = "customer_request"
where = { tag = ["needs owner!", "VIP Caller"] }
actions = ["tag:needs owner!", "set_priority:high"]

[[route]]
name = "all"
set = { tags = ["Needs Owner", "no way!"] }
"""


def _store_as_old_code_did(db_url: str, text: str) -> None:
    """The version `desk.apply_rules` stored before today's checks: the raw TOML document."""
    store = Store(db_url)
    with store.write() as session:
        session.execute(update(RuleSet).values(active=False))
        version = session.scalar(select(func.max(RuleSet.version))) or 0
        session.add(
            RuleSet(
                version=version + 1,
                document=tomllib.loads(text),
                source=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                applied_by="admin",
                applied_at=NOW,
                active=True,
            )
        )
    store.dispose()


def test_an_active_version_todays_checks_refuse_is_read_as_applied(
    hd: Run, db_url: str, tmp_path: Path
) -> None:
    _store_as_old_code_did(db_url, OLD_RULES)
    ok(hd("ticket", "create", "-s", "Still works", "-r", "a@acme.example"))
    store = Store(db_url)
    with store.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == 1)).one()
        # Gold matches no organization; "1h90m" is read as before: 2h30m.
        assert ticket.sla_policy == "standard"
        assert ticket.first_response_target == 150 * 60
        assert ticket.tags == ["needs-owner"]  # the route's tag no ticket can carry is dropped
    store.dispose()
    failures = _failures(hd)
    assert set(failures) == {"rules:active"}
    examples = failures["rules:active"]
    assert any('sla[0].where.segment[0]: unknown segment "Gold"' in line for line in examples)
    assert any("sla[1].first_response.normal: minutes after hours" in line for line in examples)
    result = hd("db", "check")
    assert result.exit_code == 1
    assert "FAILED rules:active" in result.stdout
    assert "helpdesk rules apply FILE" in result.stdout
    # The same file is still refused when it is checked or applied.
    rules = tmp_path / "old.toml"
    rules.write_text(OLD_RULES)
    for command in ("check", "apply"):
        refused = hd("rules", command, rules, as_="admin")
        assert refused.exit_code == 2
        assert "minutes after hours run from 0 to 59" in refused.stderr
        assert 'unknown segment "Gold"' in refused.stderr

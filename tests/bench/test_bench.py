"""The generator and the benchmark harness keep working (figures are printed, never asserted)."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import harness
from bench.benchmarks import escalate
from bench.clocks import bench_rules
from bench.generate import SQLITE_FTS, generate
from bench.worktime import WorkTable
from tests.conftest import postgres_admin_url
from tui_helpdesk.domain import Status
from tui_helpdesk.rules.calendar import add_working_time, working_time_between
from tui_helpdesk.rules.clock import Situation, Sla, calendar_for, reconcile
from tui_helpdesk.rules.document import Rules
from tui_helpdesk.rules.triggers import schedule
from tui_helpdesk.services.checks import run_checks
from tui_helpdesk.services.sla import active_rules, facts_of, sla_of, timers_of
from tui_helpdesk.store import migrate
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Contact, Escalation, Message, Ticket, TicketEvent

ROOT = Path(__file__).resolve().parents[2]


def _snapshot(url: str) -> list[tuple[object, ...]]:
    store = Store(url)
    with store.read() as session:
        rows = session.execute(
            select(
                Ticket.key, Ticket.subject, Ticket.status, Ticket.priority, Ticket.created_at
            ).order_by(Ticket.number)
        ).all()
    store.dispose()
    return [tuple(row) for row in rows]


def test_generated_desk_is_realistic_and_consistent(db_url: str) -> None:
    result = generate(db_url, 2_000, seed=3, replace=True)
    assert result["tickets"] == 2_000
    store = Store(db_url)
    with store.read() as session:
        failed = [(c.name, c.violations, c.examples) for c in run_checks(session) if not c.ok]
        by_status = dict(
            session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
        )
        heavy = session.scalar(select(Ticket).where(Ticket.number == 1))
        assert heavy is not None
        thread = session.scalar(
            select(func.count()).select_from(Message).where(Message.ticket_id == heavy.id)
        )
        messages = session.scalar(select(func.count()).select_from(Message))
        non_ascii = session.scalar(
            select(func.count()).select_from(Message).where(Message.body.like("%è%"))
        )
        contacts = session.scalar(select(func.count()).select_from(Contact))
    store.dispose()
    assert failed == []
    assert set(by_status) == set(Status)
    active = sum(by_status[s] for s in Status if s.is_active)
    assert 0.08 < active / 2_000 < 0.25  # ~15% open, the rest resolved or closed
    assert by_status[Status.CLOSED] > by_status[Status.RESOLVED]
    assert thread == 200
    assert 3 < (messages - 200) / 1_999 < 7  # ~5 messages a ticket
    assert non_ascii and non_ascii > 0
    assert contacts == 400  # 200,000 per million tickets


Met = tuple[datetime, str, int | None]  # when, which clock, working seconds left


def _replayed(
    session: Session, ticket: Ticket, rules: Rules
) -> tuple[Sla, datetime | None, list[Met]]:
    """The ticket's clocks, next escalation instant and met clocks, replayed from its audit
    trail and thread through the product's own rules, with nothing memoised."""
    events = session.execute(
        select(TicketEvent.at, TicketEvent.kind, TicketEvent.new).where(
            TicketEvent.ticket_id == ticket.id
        )
    ).all()
    last_message = session.scalar(
        select(func.max(Message.created_at)).where(Message.ticket_id == ticket.id)
    )
    last_change = max([last_message, *(at for at, _, _ in events)])
    paused = [at for at, kind, new in events if kind == "status" and new in ("pending", "on_hold")]
    facts = facts_of(ticket)
    answered = ticket.first_response_at
    steps = [(ticket.created_at, replace(facts, status=Status.NEW), None)]
    if answered is not None:
        steps.append((answered, replace(facts, status=Status.OPEN), answered))
    if ticket.resolved_at is not None:
        steps.append((ticket.resolved_at, facts, answered))
    steps += [(at, facts, answered) for at in paused]
    steps.append((last_change, facts, answered))
    sla, met = Sla(), []
    for at, step_facts, first_response in steps:
        situation = Situation(step_facts, first_response_at=first_response)
        sla, entries = reconcile(rules, sla, situation, at)
        met += [
            (at, entry.clock.value, round(entry.remaining.total_seconds()))
            for entry in entries
            if entry.action == "met" and entry.clock and entry.remaining is not None
        ]
    planned = schedule(
        rules.escalations,
        sla,
        calendar_for(rules, sla.calendar),
        facts,
        timers_of(ticket),
        (),
        last_change,
    )
    return sla, planned.next_at, met


def _met_events(session: Session, ticket: Ticket) -> list[Met]:
    """The ticket's SLA ledger entries of met clocks, as reports read them."""
    rows = session.execute(
        select(TicketEvent.at, TicketEvent.field, TicketEvent.detail)
        .where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.kind == "sla",
            TicketEvent.new == "met",
        )
        .order_by(TicketEvent.at, TicketEvent.id)
    ).all()
    return [(at, str(field), (detail or {}).get("remaining_s")) for at, field, detail in rows]


def test_work_table_answers_as_the_calendar_engine() -> None:
    """The generator's fast working-time table gives the engine's answers, across DST
    changes, holidays, lunch breaks and the edges of its span (where it defers)."""
    office = bench_rules().calendars["office"]
    first = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    last = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    table = WorkTable(office, first, last)
    rng = random.Random(4)
    samples = [first + rng.randrange(last - first + 40 * 86400) for _ in range(600)]
    samples += [
        int(datetime(2025, 3, 30, 1, 0, tzinfo=UTC).timestamp()) + 900 * i for i in range(8)
    ]
    samples += [int(datetime(2025, 12, 24, 12, 0, tzinfo=UTC).timestamp()), first, last]
    for start in samples:
        at = datetime.fromtimestamp(start, UTC)
        for seconds in (0, 60, 3_600, 4 * 3_600, 36 * 3_600, rng.randrange(1, 100 * 3_600)):
            expected = add_working_time(office, at, timedelta(seconds=seconds))
            assert table.add(start, seconds) == int(expected.timestamp()), (at, seconds)
        end = start + rng.randrange(-86_400, 30 * 86_400)
        spent = working_time_between(office, at, datetime.fromtimestamp(end, UTC))
        assert table.between(start, end) == int(spent.total_seconds()), (at, end)
    always = WorkTable(bench_rules().calendars["always"], first, last)
    assert always.add(first, 90) == first + 90 and always.signed(first + 90, first) == -90


def test_generated_clocks_are_what_the_rules_give(tmp_path: Path) -> None:
    """Every ticket's SLA columns equal a replay of its history through reconcile and
    schedule under the applied rules; the queue is recent and something is due in it."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    generate(url, 1_500, seed=5)
    store = Store(url)
    with store.read() as session:
        rules = active_rules(session)
        assert [rule.name for rule in rules.escalations] == [
            "warn-first-response",
            "first-response-missed",
            "urgent-unassigned",
            "resolution-missed",
        ]
        mismatched = []
        tickets = session.scalars(select(Ticket).order_by(Ticket.number)).all()
        for ticket in tickets:
            sla, next_at, met = _replayed(session, ticket, rules)
            stored = sla_of(ticket)
            if (stored, ticket.due_at, ticket.next_escalation_at) != (sla, sla.due_at, next_at):
                mismatched.append(ticket.key)
            if _met_events(session, ticket) != sorted(met):
                mismatched.append(f"{ticket.key} ledger")
            if sla.paused:
                assert ticket.sla_paused_at is not None
            assert (ticket.unassigned_since is not None) == (
                ticket.assignee_id is None and ticket.status.is_active
            )
        assert mismatched == []
        active = [t for t in tickets if t.status.is_active and t.number > 1]
        end = max(t.created_at for t in tickets)
        ages = sorted((end - t.created_at).days for t in active)
        assert ages[-1] <= 42  # the open queue is recent...
        new_ages = [(end - t.created_at).days for t in active if t.status is Status.NEW]
        assert new_ages and max(new_ages) <= 14  # ...and new tickets are days old
        history = [t for t in tickets if (end - t.created_at).days > 60]
        assert history and all(not t.status.is_active for t in history if t.number > 1)
        due = [t for t in tickets if t.next_escalation_at is not None]
        assert len(due) > 0.05 * len(tickets)
        assert all(t.status.is_active for t in due)
        assert any(t.first_response_breached for t in tickets)
        assert any(t.first_response_state == "stopped" for t in tickets)
        assert {t.sla_policy for t in tickets} == {"premium", "standard"}
        late = session.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.kind == "sla", TicketEvent.detail["reason"].as_string() == "late")
        )
        assert late  # some clocks were met late: the ledger feeds the reports' working times
        answered = [t for t in tickets if t.csat_score is not None]
        assert answered and all(
            t.csat_at is not None and t.resolved_at is not None and t.csat_at > t.resolved_at
            for t in answered
        )
    store.dispose()


def test_escalate_instants_and_fresh_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The busy instant makes about the wanted number of tickets due, the quiet one none; each
    run escalates a fresh copy and leaves the cached desk as it was."""
    monkeypatch.setenv(harness.CACHE_ENV, str(tmp_path))
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    generate(url, 1_000, seed=2)
    when = escalate.instants(url, 40)
    assert 40 <= when.due < 60  # ties on the 40th instant may add a few
    assert when.quiet < when.busy
    ctx = harness.Context(backend="sqlite", size="1k", tickets=1_000, url=url, repeat=1, quick=True)
    copies = escalate.Copies(ctx)
    run = escalate.run_escalate(copies.fresh(), when.busy)
    assert run.failed == 0 and run.escalated >= 40 and run.actions > 0 and run.peak_kb > 0
    quiet = escalate.run_escalate(copies.fresh(), when.quiet)
    assert (quiet.escalated, quiet.actions, quiet.breaches) == (0, 0, 0)
    copies.drop()
    store = Store(url)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0
    store.dispose()
    assert escalate.due_target(1_000_000) == 10_000 and escalate.due_target(10_000) == 1_000


def test_generator_is_deterministic(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("a", "b", "c")]
    generate(urls[0], 400, seed=7)
    generate(urls[1], 400, seed=7)
    generate(urls[2], 400, seed=8)
    first, second, other = (_snapshot(url) for url in urls)
    assert first == second
    assert first != other


def test_generator_refuses_to_overwrite_a_desk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    generate(url, 50)
    with pytest.raises(SystemExit, match="already has tickets"):
        generate(url, 50)


def test_a_big_stale_desk_is_kept_or_rebuilt_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached desk made by other code is not silently rebuilt at a size that takes minutes:
    the run stops saying how to choose; `keep` measures it as it is, at the current schema."""
    monkeypatch.setenv(harness.CACHE_ENV, str(tmp_path))
    url = harness.desk_url("sqlite", "100k")
    generate(url, 50)  # a small desk in the 100k desk's place, made "by other code"
    marker = tmp_path / "desk-sqlite-100k.json"
    marker.write_text(json.dumps({"fingerprint": "made-elsewhere"}))
    logged: list[str] = []
    with pytest.raises(SystemExit, match=r"--stale regenerate .* or --stale keep"):
        harness.ensure_desk("sqlite", "100k", logged.append)
    assert harness.ensure_desk("sqlite", "100k", logged.append, stale="keep") == url
    assert logged == ["using the cached 100k desk on sqlite made by other code (made-elsewhere)"]
    store = Store(url)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 50  # not rebuilt
    assert migrate.current_revision(store) == migrate.head_revision()
    store.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_harness_runs_every_benchmark(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(harness.CACHE_ENV, str(tmp_path))
    if backend == "postgres":
        monkeypatch.setenv(harness.POSTGRES_ENV, postgres_admin_url() or "")
    command = [
        sys.executable,
        "-m",
        "bench",
        "--size",
        "10k",
        "--quick",
        "--repeat",  # one sample each: this run checks that they work, not how fast
        "1",
        "--backend",
        backend,
        "--json",
    ]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600
        )
    finally:
        if backend == "postgres":
            harness.drop_desk("postgresql", "10k")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert {r["name"] for r in results} == set(harness.load_registry())
    for result in results:
        assert result["samples"] >= 1
        assert result["median_ms"] > 0
        assert result["peak_mb"] > 0
        if result["name"].startswith("cli_"):
            assert result["reference_median_ms"] > 0 and result["ratio"] > 0
    saved = list((tmp_path / "results").glob("*.json"))
    assert len(saved) == 1
    assert json.loads(saved[0].read_text())["machine"]["cores"] >= 1


def test_sqlite_search_indexes_are_what_the_triggers_build(tmp_path: Path) -> None:
    """The FTS5 indexes built beside the load (bench.sqlite_search) answer every word as a
    rebuild from the desk's rows does, and the desk keeps the migrations' search triggers."""
    generated = tmp_path / "desk.db"
    generate(f"sqlite:///{generated}", 600, seed=5)
    empty = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate.upgrade(empty)
    empty.dispose()
    rebuilt = tmp_path / "rebuilt.db"
    shutil.copyfile(generated, rebuilt)
    triggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    with (
        closing(sqlite3.connect(generated)) as desk,
        closing(sqlite3.connect(rebuilt)) as reference,
        closing(sqlite3.connect(tmp_path / "empty.db")) as schema,
    ):
        assert desk.execute(triggers).fetchall() == schema.execute(triggers).fetchall()
        queries = 0
        for fts in SQLITE_FTS:
            desk.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
            reference.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")
            reference.commit()
            desk.execute(f"CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, {fts}, row)")
            words = [row[0] for row in desk.execute("SELECT term FROM temp.words")]
            desk.execute("DROP TABLE temp.words")
            assert words
            for word in words[:: max(1, len(words) // 300)]:
                match = '"' + word.replace('"', '""') + '"'
                hits = (
                    f"SELECT rowid, round(rank, 9) FROM {fts} WHERE {fts} MATCH ? "
                    "ORDER BY rank, rowid"
                )
                assert (
                    desk.execute(hits, (match,)).fetchall()
                    == reference.execute(hits, (match,)).fetchall()
                ), (fts, word)
                queries += 1
        assert queries > 600

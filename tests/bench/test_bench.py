"""The generator and the benchmark harness keep working (figures are printed, never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import harness
from bench.generate import generate
from tests.conftest import postgres_admin_url
from tui_helpdesk.domain import Status
from tui_helpdesk.services.checks import run_checks
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Contact, Message, Ticket

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

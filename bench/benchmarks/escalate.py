"""Escalation benchmarks: `helpdesk escalate` as a whole process on the generated desk.

A generated desk has never been escalated: each active ticket's `next_escalation_at` is what
its last change scheduled (bench.clocks), so the queue holds a backlog of tickets that come
due one after another. Two cases:

- `escalate_due`: `--now` one second after the N-th earliest `next_escalation_at` (N is
  10,000, or a tenth of a desk under 100,000 tickets): about N tickets are due, and each has
  a rule to fire (every running clock's breach has one in bench/rules.toml);
- `escalate_nothing_due`: `--now` one second before the earliest: nothing is due, as for
  cron on a desk that is up to date.

With `--quick` (the test suite) each case runs once and the busy one makes 100 tickets due.

Every run starts from the same state: before it, outside the timed part, the cached desk is
copied (SQLite: the file; PostgreSQL: `CREATE DATABASE ... TEMPLATE`) and the run escalates
the copy. On SQLite the escalation runs copy a desk whose full-text indexes are merged, as a
desk in use keeps them: the generator loads them with FTS5's automerge off, which leaves dozens
of unmerged segments, and the first writes after it (the notes an escalation writes) would pay
for merging hundreds of megabytes of `messages_fts`, work no cron run on a real desk does. That
desk is made once from the cached one (`merged_search_desk`) and kept beside it. The process
is started by bench.spawn, which times it and reports its own peak memory. A run of a big
desk takes a while, so a case stops repeating after `MAX_RUNS` runs or once its runs took
`BUDGET_S` in all (at least one run).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.harness import Context, Measurement, benchmark, cache_dir, postgres_server_url

HELPDESK = str(Path(sys.executable).with_name("helpdesk"))
DUE = 10_000
QUICK_DUE = 100  # --quick (the test suite): a small busy run, once, so the benchmark never rots
MAX_RUNS = 5
BUDGET_S = 300.0
EX_SOME_FAILED = 3  # `helpdesk escalate`: some tickets failed, the rest were done


def due_target(tickets: int) -> int:
    """How many tickets the busy case makes due: 10,000, or a tenth of a smaller desk."""
    return max(1, min(DUE, tickets // 10))


@dataclass(frozen=True)
class Instants:
    busy: datetime  # about `due_target` tickets are due
    quiet: datetime  # nothing is due
    due: int  # tickets with next_escalation_at <= busy


def instants(url: str, wanted: int) -> Instants:
    """The two `--now` instants of a desk, found with two index range reads."""
    from sqlalchemy import func, select

    from tui_helpdesk.store.engine import Store
    from tui_helpdesk.store.models import Ticket

    column = Ticket.next_escalation_at
    store = Store(url)
    try:
        with store.read() as session:
            first = session.scalar(select(func.min(column)))
            if first is None:
                raise RuntimeError(f"{url}: no ticket has a next escalation instant")
            nth = session.scalar(
                select(column)
                .where(column.is_not(None))
                .order_by(column)
                .offset(wanted - 1)
                .limit(1)
            )
            if nth is None:  # fewer candidates than wanted: all of them
                nth = session.scalar(select(func.max(column)))
            assert nth is not None
            busy = nth.replace(microsecond=0) + timedelta(seconds=1)
            due = session.scalar(select(func.count()).where(column <= busy)) or 0
    finally:
        store.dispose()
    quiet = first.replace(microsecond=0) - timedelta(seconds=1)
    return Instants(busy=busy, quiet=quiet, due=due)


class Copies:
    """A fresh copy of the cached desk for each run (made outside the timed part). Each
    benchmark names its copies (`label`), so none runs on another's files."""

    def __init__(
        self, ctx: Context, label: str = "escalate", *, merged_search: bool = False
    ) -> None:
        self.ctx = ctx
        self.label = label
        self.merged_search = merged_search  # SQLite: copy `merged_search_desk`, not the desk
        self.source = make_url(ctx.url)
        if ctx.backend == "sqlite":
            self.path = cache_dir() / f"{label.replace('_', '-')}-run-{ctx.size}.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.name = f"{self.source.database}_{label}_run"
            self.url = self.source.set(database=self.name).render_as_string(hide_password=False)

    def _admin(self) -> Any:
        from sqlalchemy import create_engine

        maintenance = make_url(postgres_server_url() or "").database or "postgres"
        return create_engine(self.source.set(database=maintenance), isolation_level="AUTOCOMMIT")

    def fresh(self) -> str:
        if self.ctx.backend == "sqlite":
            self._remove_sqlite()
            source = Path(self.source.database or "")
            if self.merged_search:
                source = merged_search_desk(source, self.label, self.ctx.size)
            shutil.copyfile(source, self.path)
            if Path(f"{source}-wal").exists():  # a desk left open: its log is part of it
                shutil.copyfile(f"{source}-wal", f"{self.path}-wal")
            os.sync()  # written out now, not while the run is timed
            return self.url
        from sqlalchemy import text

        admin = self._admin()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            # PostgreSQL 15 copies a template through the WAL by default: far slower for a
            # desk of gigabytes than copying its files after a checkpoint.
            version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
            strategy = " STRATEGY = FILE_COPY" if version >= 150000 else ""
            connection.execute(
                text(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.source.database}"{strategy}')
            )
        admin.dispose()
        return self.url

    def _remove_sqlite(self) -> None:
        _remove(self.path)

    def drop(self) -> None:
        if self.ctx.backend == "sqlite":
            self._remove_sqlite()
            return
        from sqlalchemy import text

        admin = self._admin()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def merged_search_desk(source: Path, label: str, size: str) -> Path:
    """A copy of the SQLite desk `source` with every FTS5 index merged (`optimize`), made
    once and kept in the cache beside it (`<label>-search-merged-<size>.db`) while `source`
    is unchanged. The cached desk itself is only read."""
    merged = cache_dir() / f"{label.replace('_', '-')}-search-merged-{size}.db"
    marker = merged.with_name(f"{merged.name}.json")
    wal = Path(f"{source}-wal")
    stat = source.stat()
    stamp = {
        "source": str(source),
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
    }
    if merged.exists() and marker.exists() and json.loads(marker.read_text()) == stamp:
        return merged
    marker.unlink(missing_ok=True)
    _remove(merged)
    shutil.copyfile(source, merged)
    if wal.exists():
        shutil.copyfile(wal, f"{merged}-wal")
    connection = sqlite3.connect(merged, isolation_level=None)
    try:
        names = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE ?",
                ("CREATE VIRTUAL TABLE % USING fts5(%",),
            )
        ]
        for name in names:
            connection.execute(f'INSERT INTO "{name}" ("{name}") VALUES (\'optimize\')')
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    marker.write_text(json.dumps(stamp))
    return merged


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_kb: int
    escalated: int
    actions: int
    breaches: int
    failed: int


def spawn_json(command: list[str], what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a `helpdesk ... --json` command through bench.spawn: (the launcher's figures:
    seconds, peak_kb, exit; the command's JSON document). Exit 3 (some items failed, the
    rest done) is a result; any other failure raises with the command's last words."""
    with tempfile.TemporaryDirectory(prefix="bench-spawn-") as scratch:
        report = Path(scratch) / "spawn.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.spawn", str(report), *command],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not report.exists():
            raise RuntimeError(f"bench.spawn failed ({done.returncode}): {done.stderr[-2000:]}")
        spawned = json.loads(report.read_text())
    if spawned["exit"] not in (0, EX_SOME_FAILED):
        raise RuntimeError(f"{what} exited {spawned['exit']}: {done.stderr.strip()[-2000:]}")
    return spawned, json.loads(done.stdout)


def run_escalate(url: str, now: datetime) -> Run:
    """`helpdesk escalate --now NOW --json` on `url`, through bench.spawn."""
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    command = [HELPDESK, "--db", url, "escalate", "--now", at, "--json"]
    spawned, document = spawn_json(command, "helpdesk escalate")
    return Run(
        seconds=spawned["seconds"],
        peak_kb=spawned["peak_kb"],
        escalated=document["escalated"],
        actions=len(document["actions"]),
        breaches=document.get("breaches", 0),
        failed=len(document.get("failed", [])),
    )


def _measure(ctx: Context, busy: bool) -> Measurement:
    wanted = min(due_target(ctx.tickets), QUICK_DUE) if ctx.quick else due_target(ctx.tickets)
    when = instants(ctx.url, wanted)
    now = when.busy if busy else when.quiet
    copies = Copies(ctx, merged_search=True)
    runs: list[Run] = []
    most = 1 if ctx.quick else min(ctx.repeat, MAX_RUNS)
    try:
        while len(runs) < most:
            url = copies.fresh()
            runs.append(run_escalate(url, now))
            if sum(run.seconds for run in runs) > BUDGET_S:
                break
    finally:
        copies.drop()
    return Measurement(
        samples=[run.seconds for run in runs],
        peak_kb=max(run.peak_kb for run in runs),
        extra={
            "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "due": when.due if busy else 0,
            "escalated": statistics.median(run.escalated for run in runs),
            "actions": statistics.median(run.actions for run in runs),
            "breaches": statistics.median(run.breaches for run in runs),
            "failed": max(run.failed for run in runs),
            "runs": len(runs),
            "peak_mb_per_run": [round(run.peak_kb / 1024) for run in runs],
            "load_1m": round(os.getloadavg()[0], 1),
        },
    )


@benchmark(
    "escalate_due",
    f"helpdesk escalate, whole process, ~{DUE:,} tickets due (a tenth of a smaller desk)",
    target="< 5 s (10,000 due)",
)
def escalate_due(ctx: Context) -> Measurement:
    return _measure(ctx, busy=True)


@benchmark(
    "escalate_nothing_due",
    "helpdesk escalate, whole process, nothing due",
    target="< 0.5 s",
)
def escalate_nothing_due(ctx: Context) -> Measurement:
    return _measure(ctx, busy=False)

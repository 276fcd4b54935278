"""Build a realistic desk of any size, fast: `python -m bench.generate --tickets N --db URL`.

Years of tickets with a believable mix of states, priorities, categories and channels, the
open queue in the last weeks (bench.tickets), organizations in segments, ~5 messages per
ticket (customer messages, replies, internal notes, some non-ASCII), audit events, tags,
knowledge articles and contacts, all scaled from the ticket count (at 1,000,000 tickets:
200,000 contacts and 100,000 articles). The bench rules (`bench/rules.toml`) are applied as
the active version, and every ticket's SLA clocks and escalation timers are the ones the
product would have kept under them (bench.clocks). The same seed always gives the same desk.

The schema comes from the product's own migrations. Tickets are generated in fixed parts by
worker processes (one per core): on PostgreSQL each part is `COPY`-ed straight in; on SQLite
each part goes to a scratch file (in /dev/shm when it has room) that the main process then
copies in with `INSERT ... SELECT` (C speed, one writer), while another process builds the
full-text indexes of the same rows (bench.sqlite_search): the one writer is the critical
path. Secondary indexes of the big tables are dropped before loading and built after.
`helpdesk db check` verifies the result.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Index, Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, DropIndex

from bench.clocks import Clocks, bench_rules
from bench.reference import Reference, Sizes, load_reference
from bench.rows import Deferred, Formats, Writer
from bench.sqlite_search import (
    BUILDER_SCHEMA,
    SearchBuilder,
    SearchIndex,
    drop_triggers,
    read_indexes,
)
from bench.tickets import (
    EVENT_COLUMNS,
    MESSAGE_COLUMNS,
    TAG_COLUMNS,
    TICKET_COLUMNS,
    generate_tickets,
)
from tui_helpdesk.store import migrate
from tui_helpdesk.store.base import Base
from tui_helpdesk.store.engine import Store

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
YEARS = 3
# Fixed, so the desk is the same whatever the number of cores; eight, so the recent parts
# (the open queue, whose clocks cost most) are shared between cores. SQLite attaches them
# all at once, and the search indexes' file: at most 10.
PARTS = 8
BULK_TABLES = (
    "tickets",
    "messages",
    "ticket_events",
    "ticket_tags",
    "contacts",
    "contact_emails",
    "contact_phones",
    "articles",
)
TICKET_TABLES = ("tickets", "messages", "ticket_events", "ticket_tags")
RULES_APPLIED_BY = "agent1"  # the desk's admin
SEARCH_LEARNED = ("articles", "tickets")  # tables whose words typo correction learns
SQLITE_FTS = ("articles_fts", "tickets_fts", "messages_fts", "contacts_fts")
SORT_THREADS = 2  # SQLite's helper threads for the index builds' sorts...
SORT_CACHE_KB = 16_384  # ...and the page cache that bounds a sorted run
SHARED_MEMORY = "/dev/shm"
SCRATCH_BYTES_PER_TICKET = 4_000  # parts and search indexes (2.3 kB and 1 kB at 100k)


@dataclass(frozen=True)
class PartJob:
    part: int
    first: int
    last: int
    desk_tickets: int
    seed: int
    start: int
    end: int
    url: str
    backend: str
    scratch_dir: str
    table_ddl: tuple[str, ...]
    reference: Reference


def _run_part(job: PartJob) -> tuple[int, str | None, int, float]:
    """In a worker process: generate one part. Returns (part, scratch file or None, rows,
    seconds taken)."""
    began = time.perf_counter()
    fmt = Formats(job.backend)
    ref = job.reference
    # Deadlines of the last tickets fall weeks after the desk's end (72 working hours).
    clocks = Clocks(bench_rules(), (job.start - 86400, job.end + 120 * 86400))
    if job.backend == "sqlite":
        path = os.path.join(job.scratch_dir, f"part{job.part}.db")
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        for ddl in job.table_ddl:
            connection.execute(ddl)
        connection.execute("BEGIN")
        writer = Writer(connection, "sqlite")
        generate_tickets(
            writer,
            job.part,
            job.first,
            job.last,
            job.desk_tickets,
            job.seed,
            job.start,
            job.end,
            ref,
            fmt,
            clocks,
        )
        connection.execute("COMMIT")
        connection.close()
        return job.part, path, writer.rows, time.perf_counter() - began
    import psycopg

    url = make_url(job.url)
    with psycopg.connect(
        host=url.host or "",
        port=url.port or 5432,
        user=url.username or "",
        password=url.password or "",
        dbname=url.database or "",
    ) as connection:
        connection.execute("SET synchronous_commit = off")
        writer = Writer(connection, "postgresql")
        generate_tickets(
            writer,
            job.part,
            job.first,
            job.last,
            job.desk_tickets,
            job.seed,
            job.start,
            job.end,
            ref,
            fmt,
            clocks,
        )
    return job.part, None, writer.rows, time.perf_counter() - began


def _apply_bench_rules(w: Writer, fmt: Formats, start: int) -> None:
    """The bench rules as the active version (the row `services.desk.apply_rules` writes),
    applied a day before the first ticket."""
    document = bench_rules()
    w.write(
        "rule_sets",
        ("id", "version", "document", "source", "sha256", "applied_by", "applied_at", "active"),
        [
            (
                1,
                1,
                fmt.json(document.data),
                document.source_text,
                document.sha256,
                RULES_APPLIED_BY,
                fmt.ts(start - 86400),
                fmt.bool(True),
            )
        ],
    )


def _columns(table: str) -> tuple[str, ...]:
    return {
        "tickets": TICKET_COLUMNS,
        "messages": MESSAGE_COLUMNS,
        "ticket_events": EVENT_COLUMNS,
        "ticket_tags": TAG_COLUMNS,
    }[table]


def _indexes_built_after() -> list[Index]:
    """Secondary indexes dropped for the load and built after it. Indexes that lead with the
    ticket id stay: rows arrive in ticket order, so keeping them costs only appends."""
    indexes: list[Index] = []
    for name in BULK_TABLES:
        table: Table = Base.metadata.tables[name]
        for index in table.indexes:
            leading = next(iter(index.expressions))
            if index.unique or getattr(leading, "name", None) == "ticket_id":
                continue
            indexes.append(index)
    return indexes


def _reference(index: Index) -> bool:
    """An index of a reference table (complete before the first part is copied in)."""
    return index.table is not None and index.table.name not in TICKET_TABLES


def _build_indexes(
    bulk: Any, dialect: Any, indexes: list[Index], log: Callable[[str], None]
) -> None:
    for index in indexes:
        one = time.perf_counter()
        bulk.execute(str(CreateIndex(index).compile(dialect=dialect)))
        log(f"  index {index.name}: {time.perf_counter() - one:.1f}s")


def _scratch_root(tickets: int) -> str | None:
    """Where the SQLite parts go: /dev/shm when it has room (they are written, read once
    and deleted: memory spares the writeback of a disk file), else the temporary directory."""
    try:
        free = shutil.disk_usage(SHARED_MEMORY).free
    except OSError:
        return None
    return SHARED_MEMORY if free > SCRATCH_BYTES_PER_TICKET * tickets * 2 else None


def _suspend_search(bulk: Any) -> list[tuple[str, str]]:
    """PostgreSQL: drop the full-text indexes and stop the word-learning triggers for the
    load (a GIN index fed row by row costs several times a build). Returns the indexes'
    definitions, read from the catalogue, for `_resume_search`. (On SQLite the FTS5 indexes
    are built beside the load by bench.sqlite_search.)"""
    found = bulk.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND indexname LIKE 'ix\\_search\\_%' ORDER BY indexname"
    ).fetchall()
    for name, _definition in found:
        bulk.execute(f"DROP INDEX {name}")
    for table in SEARCH_LEARNED:
        bulk.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    return [(str(name), str(definition)) for name, definition in found]


def _resume_search(
    bulk: Any, definitions: list[tuple[str, str]], log: Callable[[str], None]
) -> None:
    """PostgreSQL: the search indexes built again, and the words of the loaded articles and
    ticket subjects learnt in one statement each (what the triggers would have done)."""
    for table in SEARCH_LEARNED:
        one = time.perf_counter()
        bulk.execute(
            f"INSERT INTO search_terms (term) SELECT DISTINCT lexeme FROM {table}, "
            "unnest(search_vector) WHERE length(lexeme) BETWEEN 3 AND 40 ON CONFLICT DO NOTHING"
        )
        bulk.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        log(f"  search terms of {table}: {time.perf_counter() - one:.1f}s")
    for name, definition in definitions:
        one = time.perf_counter()
        bulk.execute(definition)
        log(f"  index {name}: {time.perf_counter() - one:.1f}s")


def _copy_part(bulk: Any, part: int, path: str) -> None:
    """Copy a SQLite part's ticket tables into the desk (inside the load's transaction)."""
    bulk.execute(f"ATTACH DATABASE ? AS part{part}", (path,))
    for table in TICKET_TABLES:
        columns = ", ".join(f'"{c}"' for c in _columns(table))
        bulk.execute(
            f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM part{part}.{table}"
        )


def _bulk_connection(store: Store) -> Any:
    """A raw driver connection for the load. On SQLite: no journal and no syncing while a
    new, disposable file is filled (WAL would write every page twice); WAL again after."""
    if store.backend == "sqlite":
        store.dispose()
        connection = sqlite3.connect(make_url(store.url).database or "", isolation_level=None)
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-524288")
        connection.execute("PRAGMA temp_store=MEMORY")
        return connection
    import psycopg

    url = make_url(store.url)
    connection = psycopg.connect(
        host=url.host or "",
        port=url.port or 5432,
        user=url.username or "",
        password=url.password or "",
        dbname=url.database or "",
        autocommit=True,
    )
    connection.execute("SET synchronous_commit = off")
    connection.execute("SET maintenance_work_mem = '512MB'")
    return connection


def _reset_database(store: Store) -> None:
    if store.backend == "sqlite":
        path = make_url(store.url).database
        store.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        with store.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        store.dispose()


def _has_tickets(store: Store) -> bool:
    try:
        with store.engine.connect() as connection:
            return bool(connection.execute(text("SELECT 1 FROM tickets LIMIT 1")).first())
    except Exception:  # no schema yet: nothing to lose
        return False


def generate(
    url: str,
    tickets: int,
    *,
    seed: int = 1,
    end: datetime = DEFAULT_END,
    replace: bool = False,
    processes: int | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Fill the database at `url` with a generated desk of `tickets` tickets."""
    store = Store(url)
    if not replace and _has_tickets(store):
        store.dispose()
        raise SystemExit(f"{url}: the database already has tickets (use --replace)")
    _reset_database(store)
    store = Store(url)
    backend = store.backend
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    migrate.upgrade(store)
    sizes = Sizes.for_tickets(tickets)
    end_s = int(end.timestamp())
    start_s = end_s - YEARS * 365 * 86400
    fmt = Formats(backend)
    indexes = _indexes_built_after()
    dialect = store.engine.dialect
    bulk = _bulk_connection(store)
    bulk.execute("BEGIN")
    for index in indexes:
        bulk.execute(str(DropIndex(index).compile(dialect=dialect)))
    search_indexes = _suspend_search(bulk) if backend == "postgresql" else []
    sqlite_search: list[SearchIndex] = []
    triggers: list[str] = []
    if backend == "sqlite":  # indexed beside the load (bench.sqlite_search)
        sqlite_search = read_indexes(bulk, SQLITE_FTS)
        triggers = drop_triggers(bulk, sqlite_search)
    writer = Writer(bulk, backend)
    # SQLite parts are files of their own, so the reference rows are written while the
    # workers make tickets (the main process would only wait); PostgreSQL parts load straight
    # into tables whose foreign keys need the reference rows first.
    early = writer if backend == "postgresql" else Deferred()
    reference = load_reference(early, random.Random(seed), sizes, start_s, end_s, fmt)
    _apply_bench_rules(early, fmt, start_s)
    bulk.execute("COMMIT")
    reference_rows = early.rows
    log(f"reference data: {reference_rows:,} rows ({time.perf_counter() - started:.1f}s)")

    table_ddl: tuple[str, ...] = ()
    if backend == "sqlite":
        table_ddl = tuple(
            bulk.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
            ).fetchone()[0]
            for name in TICKET_TABLES
        )
    bounds = [round(tickets * p / PARTS) for p in range(PARTS + 1)]
    with tempfile.TemporaryDirectory(prefix="helpdesk-gen-", dir=_scratch_root(tickets)) as scratch:
        jobs = [
            PartJob(
                p,
                bounds[p] + 1,
                bounds[p + 1],
                tickets,
                seed,
                start_s,
                end_s,
                store.url,
                backend,
                scratch,
                table_ddl,
                reference,
            )
            for p in range(PARTS)
            if bounds[p + 1] > bounds[p]
        ]
        workers = max(1, min(processes or os.cpu_count() or 1, len(jobs)))
        ticket_rows = 0
        results: list[tuple[int, str | None]] = []
        builder = (
            SearchBuilder(os.path.join(scratch, "search.db"), sqlite_search, early, TICKET_TABLES)
            if isinstance(early, Deferred)
            else None
        )
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                bulk.execute("BEGIN")
                if isinstance(early, Deferred):
                    early.write_into(writer)
                    # The reference tables are complete: their indexes are built while
                    # the main process would only wait for the first part.
                    _build_indexes(bulk, dialect, [i for i in indexes if _reference(i)], log)
                    log(f"reference data written ({time.perf_counter() - started:.1f}s)")
                # Parts come back in order, and SQLite copies each one in while the workers
                # go on with the next ones: the copy overlaps the generation.
                for part, path, rows, took in pool.imap(_run_part, jobs):
                    results.append((part, path))
                    ticket_rows += rows
                    arrived = time.perf_counter()
                    if path is not None:
                        if builder is not None:
                            builder.add(part, path)
                        _copy_part(bulk, part, path)
                    log(
                        f"part {part + 1}/{len(jobs)}: {rows:,} rows made in {took:.1f}s, "
                        f"came at {arrived - started:.1f}s, "
                        f"copied in {time.perf_counter() - arrived:.1f}s"
                    )
            log(f"tickets generated: {ticket_rows:,} rows ({time.perf_counter() - started:.1f}s)")
            placeholder = "?" if backend == "sqlite" else "%s"
            bulk.execute(
                f"UPDATE counters SET value = {placeholder} WHERE name = 'ticket'", (tickets,)
            )
            built = time.perf_counter()
            if backend == "sqlite":
                # The sorts of the index builds: runs of a few MB merged (helper threads
                # sort them) take less CPU than one sort in a big cache (15.4 -> 13.5 s
                # for ix_ticket_events_kind_at at 1M).
                bulk.execute(f"PRAGMA cache_size=-{SORT_CACHE_KB}")
                bulk.execute(f"PRAGMA threads={SORT_THREADS}")
            _build_indexes(
                bulk, dialect, [i for i in indexes if builder is None or not _reference(i)], log
            )
            if search_indexes:
                _resume_search(bulk, search_indexes, log)
            if builder is not None:
                one = time.perf_counter()
                builder.finish()
                log(f"  search indexes ready ({time.perf_counter() - one:.1f}s waited)")
                one = time.perf_counter()
                builder.install(bulk, triggers)
                log(f"  search indexes copied in: {time.perf_counter() - one:.1f}s")
            log(f"indexes built: {time.perf_counter() - built:.1f}s")
        except BaseException:
            if builder is not None:
                builder.stop()
            raise
        if backend == "postgresql":
            for table in (
                "agents",
                "groups",
                "rule_sets",
                "categories",
                "organizations",
                "contacts",
                "articles",
                "tickets",
                "messages",
                "ticket_events",
            ):
                bulk.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        bulk.execute("COMMIT")
        for part, path in results:
            if path is not None:  # before the scratch files go
                bulk.execute(f"DETACH DATABASE part{part}")
        if builder is not None:
            bulk.execute(f"DETACH DATABASE {BUILDER_SCHEMA}")
    if backend == "sqlite":
        bulk.execute("PRAGMA analysis_limit=2000")
        bulk.execute("ANALYZE")
    else:
        # As autovacuum leaves a desk in use: the visibility map set, so index-only scans
        # (the reports' covering indexes) read no table rows, even on a server that runs
        # without autovacuum (test servers often do).
        bulk.execute("VACUUM (ANALYZE)")
    if backend == "sqlite":
        bulk.execute("PRAGMA journal_mode=WAL")
    bulk.close()
    store.dispose()  # no idle connection left behind (a PostgreSQL desk is copied as a template)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    others = after.ru_utime + after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    log(f"done in {elapsed:.1f}s; CPU: the other processes {others:.1f}s")
    return {
        "tickets": tickets,
        "rows": reference_rows + ticket_rows,
        "seconds": round(elapsed, 1),
        "contacts": sizes.contacts,
        "articles": sizes.articles,
        "organizations": sizes.organizations,
        "agents": sizes.agents,
        "backend": backend,
        "seed": seed,
    }


def parse_count(value: str) -> int:
    cleaned = value.strip().lower().replace("_", "").replace(",", "")
    factor = 1
    if cleaned.endswith("k"):
        factor, cleaned = 1_000, cleaned[:-1]
    elif cleaned.endswith("m"):
        factor, cleaned = 1_000_000, cleaned[:-1]
    try:
        count = int(float(cleaned) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {value!r} (e.g. 10k, 1m)") from None
    if count < 1:
        raise argparse.ArgumentTypeError("the count must be at least 1")
    return count


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Build a generated desk of any size."
    )
    parser.add_argument("--tickets", type=parse_count, required=True, help="e.g. 10k, 1m")
    parser.add_argument(
        "--db", required=True, help="database URL: sqlite:///file.db or postgresql://user@host/db"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--replace",
        action="store_true",
        help="replace the desk if the database already has tickets",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    result = generate(
        args.db,
        args.tickets,
        seed=args.seed,
        replace=args.replace,
        log=lambda line: print(line, file=sys.stderr),
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

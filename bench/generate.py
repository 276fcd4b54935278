"""Build a realistic desk of any size, fast: `python -m bench.generate --tickets N --db URL`.

Years of tickets with a believable mix of states, priorities, categories and channels,
organizations in segments, ~5 messages per ticket (customer messages, replies, internal
notes, some non-ASCII), audit events, tags, knowledge articles and contacts, all scaled from
the ticket count (at 1,000,000 tickets: 200,000 contacts and 100,000 articles). The same seed
always gives the same desk.

The schema comes from the product's own migrations. Tickets are generated in fixed parts by
worker processes (one per core): on PostgreSQL each part is `COPY`-ed straight in; on SQLite
each part goes to a scratch file that the main process then copies in with
`INSERT ... SELECT` (C speed, one writer). Secondary indexes of the big tables are dropped
before loading and built after. `helpdesk db check` verifies the result.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Index, Table, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, DropIndex

from bench import corpus
from tui_helpdesk.store import migrate
from tui_helpdesk.store.base import Base
from tui_helpdesk.store.engine import Store

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
YEARS = 3
CHUNK = 20_000
PARTS = 4  # fixed, so the desk is the same whatever the number of cores
HEAVY_TICKET_MESSAGES = 200  # ticket number 1 carries a long thread, for the "open" benchmark
MESSAGE_IDS_PER_TICKET = 10  # id ranges reserved per ticket, so parts never collide
EVENT_IDS_PER_TICKET = 8
BULK_TABLES = ("tickets", "messages", "ticket_events", "ticket_tags", "contacts", "articles")
TICKET_TABLES = ("tickets", "messages", "ticket_events", "ticket_tags")

STATUS_WEIGHTS = {"closed": 76, "resolved": 9, "new": 3, "open": 7, "pending": 3, "on_hold": 2}
PRIORITY_WEIGHTS = {"low": 20, "normal": 55, "high": 20, "urgent": 5}
CHANNEL_WEIGHTS = {"email": 50, "phone": 20, "web": 20, "chat": 7, "cli": 2, "api": 1}
# Wall-clock stand-ins for SLA targets (hours) until the calendar engine computes them.
FIRST_RESPONSE_H = {"urgent": 1, "high": 2, "normal": 4, "low": 8}
RESOLUTION_H = {"urgent": 8, "high": 16, "normal": 36, "low": 72}
TAG_POOL = [
    "vip",
    "outage",
    "regression",
    "billing-dispute",
    "onboarding",
    "hardware-swap",
    "known-issue",
    "needs-info",
    "partner",
    "gdpr",
]

TICKET_COLUMNS = (
    "id",
    "number",
    "key",
    "subject",
    "status",
    "priority",
    "category_id",
    "channel",
    "requester_id",
    "organization_id",
    "created_by_id",
    "updated_by_id",
    "group_id",
    "assignee_id",
    "level",
    "custom_fields",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_policy",
    "first_response_due_at",
    "resolution_due_at",
    "due_at",
    "sla_paused_at",
    "escalation_level",
    "customer_escalation",
    "csat_score",
    "csat_comment",
    "merged_into_id",
    "version",
)
# Columns that are always NULL in generated rows are left out: binding costs per value.
MESSAGE_COLUMNS = (
    "id",
    "ticket_id",
    "kind",
    "author_agent_id",
    "author_contact_id",
    "body",
    "channel",
    "created_at",
)
EVENT_COLUMNS = ("id", "ticket_id", "at", "actor_agent_id", "actor", "kind", "field", "old", "new")
TAG_COLUMNS = ("ticket_id", "tag")


@dataclass(frozen=True)
class Sizes:
    tickets: int
    contacts: int
    organizations: int
    articles: int
    agents: int

    @classmethod
    def for_tickets(cls, tickets: int) -> Sizes:
        scale = tickets / 1_000_000
        return cls(
            tickets=tickets,
            contacts=max(100, int(200_000 * scale)),
            organizations=max(20, int(4_000 * scale)),
            articles=max(40, int(100_000 * scale)),
            agents=max(12, int(400 * scale)),
        )


class Formats:
    """Values as each driver takes them in bulk. Timestamps are whole UTC seconds, rendered
    from cached day and time-of-day strings (formatting datetimes is the hot spot otherwise):
    SQLAlchemy's SQLite text form, or PostgreSQL's text form for COPY."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.suffix = ".000000" if backend == "sqlite" else "+00"
        self._days: dict[int, str] = {}
        self._hms = [
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def ts(self, seconds: int | None) -> str | None:
        if seconds is None:
            return None
        day, second = divmod(seconds, 86400)
        day_text = self._days.get(day)
        if day_text is None:
            day_text = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
            self._days[day] = day_text
        return f"{day_text} {self._hms[second]}{self.suffix}"

    def json(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def bool(self, value: bool) -> Any:
        return (1 if value else 0) if self.backend == "sqlite" else value


class Writer:
    """Appends rows to tables: `executemany` on SQLite, `COPY` on PostgreSQL."""

    def __init__(self, driver_connection: Any, backend: str) -> None:
        self.driver = driver_connection
        self.backend = backend
        self.rows = 0

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        names = ", ".join(f'"{c}"' for c in columns)
        cursor = self.driver.cursor()
        try:
            if self.backend == "sqlite":
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            else:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()


@dataclass
class Reference:
    """What ticket parts need to know of the reference data."""

    leaves: list[tuple[int, str]]  # (category id, leaf name)
    leaf_group: dict[int, int]
    group_level: dict[int, int | None]
    members: dict[int, list[int]]
    contact_org: list[int | None]  # index = contact id
    org_segment: dict[int, str]


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum()) or "x"


def load_reference(
    w: Writer, rng: random.Random, sizes: Sizes, start: int, end: int, fmt: Formats
) -> Reference:
    """Groups, agents, categories, organizations, contacts and articles."""
    created = fmt.ts(start)
    groups = [
        (1, "L1 Service Desk", 1),
        (2, "L2 Specialists", 2),
        (3, "L3 Engineering", 3),
        (4, "SecOps", None),
        (5, "Billing Team", None),
    ]
    members: dict[int, list[int]] = {g[0]: [] for g in groups}
    agents, memberships, skills = [], [], []
    for i in range(1, sizes.agents + 1):
        first, last = rng.choice(corpus.FIRST_NAMES), rng.choice(corpus.LAST_NAMES)
        role = "admin" if i == 1 else ("supervisor" if i <= 5 else "agent")
        agents.append(
            (
                i,
                f"agent{i}",
                f"{first} {last}",
                f"agent{i}@desk.example",
                role,
                fmt.bool(True),
                "available",
                25,
                fmt.json(["en"]),
                None,
                created,
            )
        )
        group = (1, 1, 1, 1, 1, 2, 2, 2, 3, 4 + i % 2)[i % 10]
        members[group].append(i)
        for skill in rng.sample(
            ["network", "email", "hardware", "billing", "security", "italian", "german", "french"],
            2,
        ):
            skills.append((i, skill))
    for ids in members.values():
        if not ids:
            ids.append(1)
    memberships = [(gid, aid) for gid, ids in members.items() for aid in ids]
    w.write(
        "agents",
        (
            "id",
            "login",
            "name",
            "email",
            "role",
            "active",
            "presence",
            "capacity",
            "languages",
            "timezone",
            "created_at",
        ),
        agents,
    )
    next_level = {1: 2, 2: 3}
    # Written top level first: each group's next level must exist when it arrives.
    w.write(
        "groups",
        ("id", "name", "level", "next_level_id", "lead_id", "email", "description", "created_at"),
        [
            (gid, name, level, next_level.get(gid), members[gid][0], None, None, created)
            for gid, name, level in sorted(groups, key=lambda g: -(g[2] or 0))
        ],
    )
    w.write("group_members", ("group_id", "agent_id"), memberships)
    w.write("agent_skills", ("agent_id", "skill"), skills)

    categories, leaves, leaf_group = [], [], {}
    ids = itertools.count(1)
    for top, children in corpus.CATEGORY_TREE.items():
        top_id = next(ids)
        group = {"Billing": 5, "Security": 4}.get(top, 1)
        categories.append((top_id, top, top, None, group, None))
        if not children:
            leaves.append((top_id, top))
            leaf_group[top_id] = group
        for child in children:
            cid = next(ids)
            categories.append((cid, child, f"{top} > {child}", top_id, group, None))
            leaves.append((cid, child))
            leaf_group[cid] = group
    w.write(
        "categories",
        ("id", "name", "path", "parent_id", "default_group_id", "default_priority"),
        categories,
    )

    orgs, domains, org_segment = [], [], {}
    for i in range(1, sizes.organizations + 1):
        word = rng.choice(corpus.COMPANY_WORDS)
        segment = rng.choices(["standard", "premium", "enterprise"], [70, 25, 5])[0]
        org_segment[i] = segment
        orgs.append(
            (
                i,
                f"{word} {rng.choice(corpus.COMPANY_SUFFIXES)} #{i}",
                segment,
                None,
                rng.choice(corpus.REGIONS),
                None,
                created,
            )
        )
        domains.append((f"{word.lower()}{i}.example", i))
    w.write(
        "organizations",
        ("id", "name", "segment", "sla_policy", "region", "notes", "created_at"),
        orgs,
    )
    w.write("organization_domains", ("domain", "organization_id"), domains)

    contact_org: list[int | None] = [None]
    rows: list[tuple[Any, ...]] = []
    contact_columns = (
        "id",
        "name",
        "email",
        "phone",
        "organization_id",
        "language",
        "vip",
        "notes",
        "created_at",
    )
    for i in range(1, sizes.contacts + 1):
        first, last = rng.choice(corpus.FIRST_NAMES), rng.choice(corpus.LAST_NAMES)
        org = rng.randint(1, sizes.organizations) if rng.random() < 0.9 else None
        contact_org.append(org)
        domain = domains[org - 1][0] if org else "mail.example"
        rows.append(
            (
                i,
                f"{first} {last}",
                f"{_ascii(first)}.{_ascii(last)}.{i}@{domain}",
                f"{rng.choice(corpus.PHONE_PREFIXES)}{rng.randint(1000000, 9999999)}",
                org,
                None,
                fmt.bool(rng.random() < 0.02),
                None,
                created,
            )
        )
        if len(rows) >= CHUNK:
            w.write("contacts", contact_columns, rows)
            rows = []
    w.write("contacts", contact_columns, rows)

    article_columns = (
        "id",
        "title",
        "body",
        "category_id",
        "tags",
        "visibility",
        "status",
        "author_id",
        "source_ticket_id",
        "helpful",
        "not_helpful",
        "created_at",
        "updated_at",
    )
    rows = []
    for i in range(1, sizes.articles + 1):
        cat_id, leaf = rng.choice(leaves)
        title = f"How to fix: {rng.choice(corpus.SUBJECTS[leaf]).lower()} ({i})"
        body = (
            "## Symptoms\n\n"
            + " ".join(rng.sample(corpus.SENTENCES, 3))
            + "\n\n## Resolution\n\n"
            + " ".join(rng.sample(corpus.REPLIES, 3))
        )
        when = fmt.ts(rng.randint(start, end))
        rows.append(
            (
                i,
                title,
                body,
                cat_id,
                fmt.json(rng.sample(TAG_POOL, 2)),
                "internal",
                "published" if rng.random() < 0.85 else "draft",
                1,
                None,
                rng.randint(0, 50),
                rng.randint(0, 5),
                when,
                when,
            )
        )
        if len(rows) >= CHUNK:
            w.write("articles", article_columns, rows)
            rows = []
    w.write("articles", article_columns, rows)
    return Reference(
        leaves, leaf_group, {g[0]: g[2] for g in groups}, members, contact_org, org_segment
    )


def _cumulative(weights: dict[str, int]) -> tuple[list[str], list[float]]:
    names = list(weights)
    total = sum(weights.values())
    return names, list(itertools.accumulate(weights[n] / total for n in names))


def generate_tickets(
    w: Writer,
    part: int,
    first: int,
    last: int,
    n_desk: int,
    seed: int,
    start: int,
    end: int,
    ref: Reference,
    fmt: Formats,
) -> None:
    """Tickets `first..last` (inclusive) of a desk of `n_desk`, with their messages, events
    and tags."""
    rng = random.Random(f"{seed}:{part}")
    rnd, randint = rng.random, rng.randint
    ts = fmt.ts
    span = end - start
    statuses, status_cum = _cumulative(STATUS_WEIGHTS)
    priorities, priority_cum = _cumulative(PRIORITY_WEIGHTS)
    channels, channel_cum = _cumulative(CHANNEL_WEIGHTS)
    leaves, leaf_group, members = ref.leaves, ref.leaf_group, ref.members
    contacts = len(ref.contact_org) - 1
    empty_json, false = fmt.json({}), fmt.bool(False)
    bodies = [
        " ".join(
            rng.choice(corpus.SENTENCES + corpus.REPLIES)
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 5, 12)))
        )
        for _ in range(4096)
    ]
    tickets: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []

    def flush() -> None:
        w.write("tickets", TICKET_COLUMNS, tickets)
        w.write("messages", MESSAGE_COLUMNS, messages)
        w.write("ticket_events", EVENT_COLUMNS, events)
        w.write("ticket_tags", TAG_COLUMNS, tags)
        tickets.clear(), messages.clear(), events.clear(), tags.clear()

    for number in range(first, last + 1):
        created = start + int((number - 1 + rnd()) * span / n_desk)
        status = statuses[bisect.bisect(status_cum, rnd())] if number > 1 else "open"
        priority = priorities[bisect.bisect(priority_cum, rnd())]
        channel = channels[bisect.bisect(channel_cum, rnd())]
        cat_id, leaf = leaves[int(rnd() * len(leaves))]
        group = leaf_group[cat_id]
        if group == 1 and rnd() < 0.3:
            group = 2 if rnd() < 0.8 else 3
        requester = randint(1, contacts)
        org = ref.contact_org[requester]
        staff = members[group]
        assignee = None if status == "new" else staff[int(rnd() * len(staff))]
        created_by = assignee if channel == "phone" else None
        event_id = (number - 1) * EVENT_IDS_PER_TICKET
        key = f"HD-{number}"

        def event(
            at: int,
            kind: str,
            field: str | None = None,
            old: str | None = None,
            new: str | None = None,
            actor: int | None = None,
        ) -> None:
            nonlocal event_id
            event_id += 1
            events.append(
                (
                    event_id,
                    number,  # noqa: B023  (called only within this ticket's iteration)
                    ts(at),
                    actor,
                    f"agent{actor}" if actor else "system",
                    kind,
                    field,
                    old,
                    new,
                )
            )

        event(created, "created", new=key, actor=created_by)
        count = (
            HEAVY_TICKET_MESSAGES
            if number == 1
            else (1 if status == "new" else min(9, 2 + int(rng.expovariate(0.45))))
        )
        t = created
        first_response = None
        for k in range(count):
            if k == 0:
                kind = "customer"
            elif rnd() < 0.18:
                kind = "note"
            else:
                kind = "reply" if k % 2 else "customer"
            if k:
                t = min(end, t + randint(180, 108_000))
            if k < MESSAGE_IDS_PER_TICKET:
                message_id = (number - 1) * MESSAGE_IDS_PER_TICKET + k + 1
            else:  # the long thread of ticket 1: ids after every reserved range
                message_id = n_desk * MESSAGE_IDS_PER_TICKET + k
            is_customer = kind == "customer"
            messages.append(
                (
                    message_id,
                    number,
                    kind,
                    None if is_customer else assignee,
                    requester if is_customer else None,
                    bodies[int(rnd() * 4096)],
                    channel if is_customer else None,
                    ts(t),
                )
            )
            if kind == "reply" and first_response is None:
                first_response = t
                event(t, "first_response", new=ts(t), actor=assignee)
                event(t, "status", "status", "new", "open", actor=assignee)
        if assignee is not None:
            event(created + 60, "assignee", "assignee", None, f"agent{assignee}", actor=assignee)
        resolved = closed = None
        if status in ("resolved", "closed"):
            resolved = min(end, t + randint(3600, 72 * 3600))
            event(resolved, "status", "status", "open", "resolved", actor=assignee)
            if status == "closed":
                closed = resolved + randint(1, 6) * 86400
                if closed > end:
                    status, closed = "resolved", None
                else:
                    event(closed, "status", "status", "resolved", "closed")
        elif status in ("pending", "on_hold"):
            event(t, "status", "status", "open", status, actor=assignee)
        updated = closed or resolved or t
        policy = "premium" if org and ref.org_segment[org] != "standard" else "standard"
        fr_due = created + FIRST_RESPONSE_H[priority] * 3600
        res_due = created + RESOLUTION_H[priority] * 3600
        due = paused = None
        if status in ("new", "open"):
            due = fr_due if first_response is None else res_due
        elif status == "on_hold" and first_response is None:
            due = fr_due
        if status in ("pending", "on_hold"):
            paused = t
        csat = randint(1, 5) if status == "closed" and rnd() < 0.3 else None
        tickets.append(
            (
                number,
                number,
                key,
                rng.choice(corpus.SUBJECTS[leaf]),
                status,
                priority,
                cat_id,
                channel,
                requester,
                org,
                created_by,
                assignee,
                group,
                assignee,
                ref.group_level[group],
                empty_json,
                ts(created),
                ts(updated),
                ts(first_response),
                ts(resolved),
                ts(closed),
                policy,
                ts(fr_due),
                ts(res_due),
                ts(due),
                ts(paused),
                0,
                false,
                csat,
                None,
                None,
                event_id - (number - 1) * EVENT_IDS_PER_TICKET,
            )
        )
        if rnd() < 0.3:
            for tag in rng.sample(TAG_POOL, randint(1, 2)):
                tags.append((number, tag))
        if len(tickets) >= CHUNK:
            flush()
    flush()


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


def _run_part(job: PartJob) -> tuple[int, str | None, int]:
    """In a worker process: generate one part. Returns (part, scratch file or None, rows)."""
    fmt = Formats(job.backend)
    ref = job.reference
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
        )
        connection.execute("COMMIT")
        connection.close()
        return job.part, path, writer.rows
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
        )
    return job.part, None, writer.rows


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
    writer = Writer(bulk, backend)
    reference = load_reference(writer, random.Random(seed), sizes, start_s, end_s, fmt)
    bulk.execute("COMMIT")
    reference_rows = writer.rows
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
    with tempfile.TemporaryDirectory(prefix="helpdesk-gen-") as scratch:
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
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = sorted(pool.imap_unordered(_run_part, jobs))
        for part, _path, rows in results:
            ticket_rows += rows
            log(f"part {part + 1}/{len(jobs)}: {rows:,} rows")
        log(f"tickets generated: {ticket_rows:,} rows ({time.perf_counter() - started:.1f}s)")
        bulk.execute("BEGIN")
        if backend == "sqlite":
            for part, path, _rows in results:
                bulk.execute(f"ATTACH DATABASE ? AS part{part}", (path,))
                for table in TICKET_TABLES:
                    columns = ", ".join(f'"{c}"' for c in _columns(table))
                    bulk.execute(
                        f"INSERT INTO main.{table} ({columns}) "
                        f"SELECT {columns} FROM part{part}.{table}"
                    )
            log(f"parts copied in ({time.perf_counter() - started:.1f}s)")
        placeholder = "?" if backend == "sqlite" else "%s"
        bulk.execute(f"UPDATE counters SET value = {placeholder} WHERE name = 'ticket'", (tickets,))
        built = time.perf_counter()
        for index in indexes:
            one = time.perf_counter()
            bulk.execute(str(CreateIndex(index).compile(dialect=dialect)))
            log(f"  index {index.name}: {time.perf_counter() - one:.1f}s")
        log(f"indexes built: {time.perf_counter() - built:.1f}s")
        if backend == "postgresql":
            for table in (
                "agents",
                "groups",
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
        for part, path, _rows in results:
            if path is not None:  # before the scratch files go
                bulk.execute(f"DETACH DATABASE part{part}")
    if backend == "sqlite":
        bulk.execute("PRAGMA analysis_limit=2000")
    bulk.execute("ANALYZE")
    if backend == "sqlite":
        bulk.execute("PRAGMA journal_mode=WAL")
    bulk.close()
    elapsed = time.perf_counter() - started
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

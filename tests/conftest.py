"""Fixtures shared by the whole suite.

`store` runs a test on each back end: a real SQLite file, and a real PostgreSQL database when
HELPDESK_TEST_POSTGRES_URL points at a server (each test gets its own database, cloned from a
template migrated once per run). Without that variable the PostgreSQL cases skip with a
message saying how to enable them; under CI (CI=true) they fail instead, so they never
silently stop running.

`desk_store` (the small desk most service, CLI and console tests start from) is built through
the services once per test worker and back end, then copied for each test: a copy of the
SQLite file, or the PostgreSQL rows and sequence positions put back after emptying the
tables. Building it per test through the services cost as much as many of the tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, event, select, text
from sqlalchemy.engine import Connection, make_url

from tui_helpdesk.domain import Priority, Role
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory
from tui_helpdesk.services.context import Actor
from tui_helpdesk.store import migrate
from tui_helpdesk.store.engine import Store, normalise_url

POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"
POSTGRES_HINT = (
    f"PostgreSQL tests need a server: set {POSTGRES_ENV}="
    "postgresql://postgres@127.0.0.1:5432/test (a role allowed to CREATE DATABASE)"
)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` run first (the rest in their usual order): under `-n` a long test
    then starts while others still share the workers, instead of running alone at the end.
    Groups of tests sharing an expensive fixture (`xdist_group`, scheduled with
    `--dist loadgroup`) go first anyway, the largest first."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under `-n` with `--dist loadgroup`, a test marked `xdist_group` fails unless
    pytest-xdist has tagged it (an "@group" suffix on its node id, how it keeps a group on one
    worker). A pytest release that changed node ids once made the grouping stop without a
    word (pytest-xdist#1386), and each group's expensive fixture was built on every worker."""
    if (
        getattr(item.config.option, "loadgroup", False)
        and item.get_closest_marker("xdist_group")
        and "@" not in item.nodeid
    ):
        pytest.fail(
            "pytest-xdist did not group this xdist_group test: this pytest and pytest-xdist do "
            "not work together (see the pytest pin in pyproject.toml)",
            pytrace=False,
        )


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements `store` sends while the block runs (BEGIN aside): how tests count
    round trips."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set on CI: {POSTGRES_HINT}", pytrace=False)
        pytest.skip(POSTGRES_HINT)
    return normalise_url(url)


@dataclass
class _PgTemplate:
    admin_url: str
    name: str


def _pg_exec(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(f"sqlite:///{path}")
    migrate.upgrade(store)
    store.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_template(worker_id: str) -> Iterator[_PgTemplate]:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    name = f"hd_tmpl_{worker_id}_{uuid.uuid4().hex[:8]}"
    _pg_exec(admin_url, f'CREATE DATABASE "{name}"')
    store = Store(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    migrate.upgrade(store)
    store.dispose()
    yield _PgTemplate(admin_url, name)
    _pg_exec(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _sqlite_desk_template(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Path:
    """The migrated template with the small desk built in it (see `build_desk`)."""
    path = tmp_path_factory.mktemp("desk-template") / "desk.db"
    shutil.copyfile(_sqlite_template, path)
    store = Store(f"sqlite:///{path}")
    build_desk(store)
    store.dispose()
    return path


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> str:
    """A migrated SQLite file of this test's own (holding the small desk already when the
    test uses `desk_store`)."""
    template = (
        request.getfixturevalue("_sqlite_desk_template")
        if "desk_store" in request.fixturenames
        else _sqlite_template
    )
    path = tmp_path / "desk.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@dataclass
class _PgSnapshot:
    """What a database holds, to be put back after emptying it: every table's rows (generated
    columns aside, PostgreSQL computes them again) and where each sequence stands."""

    rows: dict[str, list[dict[str, object]]]
    sequences: dict[str, tuple[int, bool]]  # name: (value, is_called), as `setval` takes them


def _tables(connection: Connection) -> MetaData:
    meta = MetaData()
    meta.reflect(connection)
    meta.remove(meta.tables["alembic_version"])
    return meta


def _snapshot(store: Store) -> _PgSnapshot:
    with store.engine.connect() as connection:
        rows = {
            table.name: [
                dict(row._mapping)
                for row in connection.execute(
                    select(*(c for c in table.columns if c.computed is None))
                )
            ]
            for table in _tables(connection).sorted_tables
        }
        sequences = connection.execute(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename),"
                " coalesce(last_value, start_value), last_value IS NOT NULL"
                " FROM pg_sequences WHERE schemaname = current_schema()"
            )
        )
        return _PgSnapshot(rows, {name: (value, called) for name, value, called in sequences})


@dataclass
class _PgWorkerDatabase:
    url: str
    # Kept open for the resets: a new engine's first connection costs a fifth of a second
    # (SQLAlchemy asks the server about itself), as much as the reset it would serve.
    store: Store
    head: str  # the migrations' head, read once: reading the scripts costs tens of ms
    tables: MetaData  # the schema at head, reflected once: reflecting costs a third of a second
    seed: _PgSnapshot  # what the migrations themselves insert
    desk: _PgSnapshot | None = None  # the small desk (`build_desk`), taken when first needed


@pytest.fixture(scope="session")
def _pg_worker_database(_pg_template: _PgTemplate) -> Iterator[_PgWorkerDatabase]:
    """One migrated database per test worker, emptied before each test (a clone per test
    costs a second; emptying costs a tenth)."""
    name = f"hd_work_{uuid.uuid4().hex[:12]}"
    _pg_exec(_pg_template.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{_pg_template.name}"')
    url = make_url(_pg_template.admin_url).set(database=name).render_as_string(hide_password=False)
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            tables = _tables(connection)
        yield _PgWorkerDatabase(url, store, migrate.head_revision(), tables, _snapshot(store))
    finally:
        store.dispose()
        _pg_exec(_pg_template.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_postgres(database: _PgWorkerDatabase, contents: _PgSnapshot) -> None:
    """Back to `contents` on a freshly migrated schema: re-migrated if a test moved the
    schema; then every row deleted (children first), `contents`' rows put back (parents
    first) and every sequence set where it stood. DELETE, not TRUNCATE: on a desk this small
    it is a tenth of the time (TRUNCATE gives every table and index a new file)."""
    store = database.store
    if migrate.current_revision(store) != database.head:
        with store.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(store)
        with store.engine.connect() as connection:
            database.tables = _tables(connection)
    with store.engine.begin() as connection:
        tables = database.tables.sorted_tables
        for table in reversed(tables):
            connection.execute(table.delete())
        for table in tables:
            rows = contents.rows.get(table.name)
            if rows:
                connection.execute(table.insert(), rows)
        names = list(contents.sequences)
        calls = ", ".join(f"setval(:s{i}, :v{i}, :c{i})" for i in range(len(names)))
        params: dict[str, object] = {}
        for i, name in enumerate(names):
            value, called = contents.sequences[name]
            params |= {f"s{i}": name, f"v{i}": value, f"c{i}": called}
        if calls:
            connection.execute(text(f"SELECT {calls}"), params)


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A migrated PostgreSQL database with nothing in it but what the migrations insert (and
    the small desk when the test uses `desk_store`)."""
    database: _PgWorkerDatabase = request.getfixturevalue("_pg_worker_database")
    if "desk_store" in request.fixturenames:
        if database.desk is None:
            _reset_postgres(database, database.seed)
            build_desk(database.store)
            database.desk = _snapshot(database.store)
        _reset_postgres(database, database.desk)
    else:
        _reset_postgres(database, database.seed)
    return database.url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once per back end."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.dispose()


@pytest.fixture
def now() -> datetime:
    return NOW


# Two SLA policies on a 24/7 calendar: premium customers' (first response 1h, resolution
# 8h at any priority) and everyone else's (2h, 9h).
SEGMENT_POLICIES = """
[calendars.always]
timezone = "UTC"
always_open = true
[[sla]]
name = "premium"
calendar = "always"
where = { segment = ["premium"] }
first_response = { urgent = "1h", high = "1h", normal = "1h", low = "1h" }
resolution = { urgent = "8h", high = "8h", normal = "8h", low = "8h" }
[[sla]]
name = "standard"
calendar = "always"
first_response = { urgent = "2h", high = "2h", normal = "2h", low = "2h" }
resolution = { urgent = "9h", high = "9h", normal = "9h", low = "9h" }
"""


@dataclass
class Desk:
    """A small desk: an admin, agents in L1/L2 groups, an organization, categories."""

    store: Store
    admin: Actor
    agent: Actor  # "bob", member of L1


def build_desk(store: Store) -> None:
    """The small desk's rows, written through the services as an admin would set it up. Run
    once per worker and back end; each test gets a copy (see the module docstring)."""
    with store.write() as session:
        directory.add_agent(
            session,
            NOW,
            directory.AgentDraft("admin", "Ada Admin", "admin@desk.example", Role.ADMIN),
        )
        directory.add_agent(
            session, NOW, directory.AgentDraft("bob", "Bob Agent", "bob@desk.example")
        )
        directory.add_agent(
            session, NOW, directory.AgentDraft("cleo", "Cleo Expert", "cleo@desk.example")
        )
        directory.add_group(session, NOW, directory.GroupDraft("L2", level=2, members=["cleo"]))
        directory.add_group(
            session,
            NOW,
            directory.GroupDraft(
                "L1", level=1, next_level="L2", lead="admin", members=["bob", "admin"]
            ),
        )
        directory.add_organization(
            session,
            NOW,
            directory.OrganizationDraft("Acme", domains=["acme.example"], segment="premium"),
        )
        directory.ensure_category(
            session, "Technical > Network", default_group="L1", default_priority=Priority.HIGH
        )
        directory.ensure_category(session, "Billing")
        admin = directory.actor_for(session, "admin")
        desk.apply_rules(
            session, admin, NOW, parse_rules('[desk]\nticket_prefix = "HD"\nphone_region = "IT"\n')
        )


@pytest.fixture
def desk_store(store: Store) -> Desk:
    """The small desk: `store`'s database already holds it, because `sqlite_url` and
    `postgres_url` copy it in for any test that uses this fixture."""
    with store.read() as session:
        admin = directory.actor_for(session, "admin")
        agent = directory.actor_for(session, "bob")
    return Desk(store=store, admin=admin, agent=agent)

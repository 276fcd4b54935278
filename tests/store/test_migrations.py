"""Migrations on both back ends: an older database upgrades without losing data, the
migrated schema matches the models exactly (no drift), and down/up round-trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text

from tests.conftest import NOW, Desk
from tests.reports.history import NOW as REPORTS_NOW
from tests.reports.history import craft
from tui_helpdesk.domain import EventKind
from tui_helpdesk.services import tickets
from tui_helpdesk.services.checks import run_checks
from tui_helpdesk.services.context import Actor
from tui_helpdesk.store import migrate
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Ticket, TicketEvent


def _drift(store: Store) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from tui_helpdesk.store import models  # noqa: F401  (registers every table)
    from tui_helpdesk.store.base import Base
    from tui_helpdesk.store.search_schema import is_search_object

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        # Same rule as the migration environment: hand-managed full-text objects are not models.
        return not is_search_object(name, type_)

    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        return list(compare_metadata(context, Base.metadata))


def _insert_at_0001(store: Store) -> None:
    """Rows written the way revision 0001 knew them: plain SQL, no models."""
    at = NOW.replace(tzinfo=None) if store.backend == "sqlite" else NOW
    rows = {"at": at}
    with store.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO agents (id, login, name, email, role, active, presence, capacity,"
                " languages, created_at) VALUES (1, 'old', 'Old Timer', 'old@desk.example',"
                " 'admin', true, 'available', 20, '[]', :at)"
            ),
            rows,
        )
        c.execute(
            text(
                "INSERT INTO contacts (id, name, email, phone, vip, created_at)"
                " VALUES (1, 'Carla', 'carla@old.example', '+390212345678', false, :at)"
            ),
            rows,
        )
        c.execute(
            text(
                "INSERT INTO tickets (id, number, key, subject, status, priority, channel,"
                " requester_id, created_by_id, custom_fields, created_at, updated_at,"
                " escalation_level, customer_escalation, version)"
                " VALUES (1, 7, 'HD-7', 'Old ticket', 'open', 'high', 'phone', 1, 1, '{}',"
                " :at, :at, 0, false, 3)"
            ),
            rows,
        )
        c.execute(
            text(
                "INSERT INTO messages (ticket_id, kind, author_contact_id, body, created_at)"
                " VALUES (1, 'customer', 1, 'Hello from 0001', :at)"
            ),
            rows,
        )
        c.execute(
            text(
                "INSERT INTO messages (ticket_id, kind, author_agent_id, body, created_at)"
                " VALUES (1, 'reply', 1, 'Answer from 0001', :at)"
            ),
            rows,
        )
        c.execute(text("UPDATE counters SET value = 7 WHERE name = 'ticket'"))
        if store.backend == "postgresql":
            # Explicit ids do not move PostgreSQL sequences; the old desk would have.
            for table in ("agents", "contacts", "tickets"):
                c.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))


def test_upgrade_from_0001_keeps_data(store: Store) -> None:
    migrate.downgrade(store, "base")
    assert migrate.current_revision(store) is None
    assert migrate.upgrade(store, "0001") == (None, "0001")
    assert any(d[0] == "add_table" for d in _drift(store))  # the check does see differences
    _insert_at_0001(store)

    before, after = migrate.upgrade(store)
    assert (before, after) == ("0001", migrate.head_revision())
    assert migrate.head_revision() == "0014"

    with store.read() as session:
        ticket = tickets.get_ticket(session, "HD-7")
        assert (ticket.subject, ticket.status.value, ticket.priority.value) == (
            "Old ticket",
            "open",
            "high",
        )
        assert ticket.version == 3
        assert ticket.created_at == NOW
        assert ticket.requester.email == "carla@old.example"
        # 0004: the primary address and number are listed among the contact's own.
        assert ticket.requester.emails == ["carla@old.example"]
        assert ticket.requester.phones == ["+390212345678"]
        assert ticket.created_by is not None and ticket.created_by.login == "old"
        bodies = [m.body for m in tickets.ticket_messages(session, ticket)]
        assert bodies == ["Hello from 0001", "Answer from 0001"]
    # The upgraded desk keeps working: numbering goes on after the old tickets.
    with store.write() as session:
        new = tickets.create_ticket(
            session,
            Actor.system(),
            NOW,
            tickets.NewTicket("After upgrade", requester="carla@old.example"),
        )
        assert new.key == "HD-8"
        assert new.requester.name == "Carla"


def test_head_schema_has_no_drift(store: Store) -> None:
    assert migrate.current_revision(store) == migrate.head_revision()
    assert _drift(store) == []


def _partial_indexes(store: Store, schema: str | None = None) -> dict[str, str]:
    """Each partial index's predicate as the database keeps it (normalised by the server)."""
    with store.engine.connect() as connection:
        if store.backend == "sqlite":
            rows = connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master"
                    " WHERE type = 'index' AND sql LIKE '% WHERE %'"
                )
            )
            return {name: sql.split(" WHERE ", 1)[1] for name, sql in rows}
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = :schema AND indexdef LIKE '% WHERE %'"
            ),
            {"schema": schema or "public"},
        )
        return {name: indexdef.split(" WHERE ", 1)[1] for name, indexdef in rows}


def test_partial_indexes_have_the_models_predicates(store: Store, tmp_path: Path) -> None:
    """Alembic's comparison leaves partial indexes' predicates out: the migrated schema's
    are compared here with those of the models' own DDL (`store.base.partial_index`), each
    read back from the same server."""
    from tui_helpdesk.store import models  # noqa: F401  (registers every table)
    from tui_helpdesk.store.base import Base

    migrated = _partial_indexes(store)
    if store.backend == "sqlite":
        fresh = Store(f"sqlite:///{tmp_path / 'models.db'}")
        Base.metadata.create_all(fresh.engine)
        declared = _partial_indexes(fresh)
        fresh.dispose()
    else:
        try:
            with store.engine.begin() as connection:
                connection.execute(text("CREATE SCHEMA models_ddl"))
                Base.metadata.create_all(
                    connection.execution_options(schema_translate_map={None: "models_ddl"})
                )
            declared = _partial_indexes(store, "models_ddl")
        finally:
            with store.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS models_ddl CASCADE"))
    assert len(declared) == 9
    assert migrated == declared


def test_downgrade_to_base_and_upgrade_again(store: Store) -> None:
    assert migrate.downgrade(store, "base") == (migrate.head_revision(), None)
    names = set(inspect(store.engine).get_table_names())
    assert names <= {"alembic_version"}
    assert migrate.upgrade(store) == (None, migrate.head_revision())
    assert _drift(store) == []
    with store.read() as session:
        assert session.execute(text("SELECT value FROM counters")).scalar_one() == 0


def test_upgrade_at_head_is_a_no_op(store: Store) -> None:
    head = migrate.head_revision()
    assert migrate.upgrade(store) == (head, head)


def test_a_table_rebuild_keeps_the_rows_that_reference_it(store: Store) -> None:
    """Going back to 0002 rebuilds `tickets` on SQLite (copy, drop, rename): with foreign
    keys on, dropping it would cascade-delete every message. Migrations run with them off."""
    with store.write() as session:
        key = tickets.create_ticket(
            session,
            Actor.system(),
            NOW,
            tickets.NewTicket("Kept", body="A message", requester="carla@old.example"),
        ).key
    assert migrate.downgrade(store, "0002") == (migrate.head_revision(), "0002")
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM messages")).scalar_one() == 1
    migrate.upgrade(store)
    with store.read() as session:
        assert [
            m.body for m in tickets.ticket_messages(session, tickets.get_ticket(session, key))
        ] == ["A message"]


def _clocks(store: Store) -> dict[str, tuple[Any, ...]]:
    """Each ticket's clocks: (state, remaining) of first response, then of resolution."""
    with store.read() as session:
        rows = session.execute(
            select(
                Ticket.key,
                Ticket.first_response_state,
                Ticket.first_response_remaining,
                Ticket.resolution_state,
                Ticket.resolution_remaining,
            )
        )
        return {key: tuple(rest) for key, *rest in rows}


def _last_met(store: Store) -> dict[tuple[str, str], int | None]:
    """What each clock's last "met" ledger entry says was left."""
    with store.read() as session:
        rows = session.execute(
            select(Ticket.key, TicketEvent.field, TicketEvent.detail)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.kind == EventKind.SLA, TicketEvent.new == "met")
            .order_by(TicketEvent.id)
        )
        return {(key, str(field)): (detail or {}).get("remaining_s") for key, field, detail in rows}


def test_0009_fills_in_met_clocks_from_their_ledger(desk_store: Desk) -> None:
    """Clocks met before 0009 kept no remaining time; the upgrade takes it from the clock's
    last "met" ledger entry, the value the product keeps now (T3 was reopened: its
    resolution's is the second cycle's), and the downgrade clears it again."""
    history = craft(desk_store)
    store = desk_store.store
    kept = _clocks(store)
    ledger = _last_met(store)
    met = {
        (key, clock): remaining
        for key, (fr_state, fr_left, res_state, res_left) in kept.items()
        for clock, state, remaining in (
            ("first_response", fr_state, fr_left),
            ("resolution", res_state, res_left),
        )
        if state == "met"
    }
    # T1, T2 and T3 answered and resolved; T3's resolution met twice, the last one counts.
    assert {key for key, _ in met} == {history.t1, history.t2, history.t3}
    assert met == {clock: ledger[clock] for clock in met}
    assert met[(history.t1, "first_response")] == 4 * 3600 - 5400
    assert met[(history.t3, "resolution")] == 16 * 3600 - 8 * 3600

    assert _failed_checks(store) == {}
    assert migrate.downgrade(store, "0008") == (migrate.head_revision(), "0008")
    # `helpdesk db check` sees met clocks that do not keep what their ledger says.
    assert _failed_checks(store) == {"sla:met": {history.t1, history.t2, history.t3}}
    cleared = _clocks(store)
    assert all(cleared[key][1] is None for key, clock in met if clock == "first_response")
    assert all(cleared[key][3] is None for key, clock in met if clock == "resolution")
    # Clocks that are not met keep theirs (T5's first response is running, T4's too).
    assert {k: v for k, v in cleared.items() if k not in {key for key, _ in met}} == {
        k: v for k, v in kept.items() if k not in {key for key, _ in met}
    }

    assert migrate.upgrade(store) == ("0008", migrate.head_revision())
    assert _clocks(store) == kept
    assert _failed_checks(store) == {}


def test_0010_stops_the_resolution_clock_of_merged_tickets(desk_store: Desk) -> None:
    """A ticket merged while unresolved has its resolution clock stopped (not met, so no
    report counts the merge as a resolution); tickets merged before 0010 had it met: the
    downgrade shows what they looked like, the upgrade stops them again."""
    history = craft(desk_store)
    store = desk_store.store
    with store.write() as session:
        tickets.merge(session, desk_store.admin, REPORTS_NOW, history.t5, history.t4)
    stopped = _clocks(store)
    assert stopped[history.t5][2] == "stopped" and stopped[history.t5][3] is not None
    assert _failed_checks(store) == {}

    assert migrate.downgrade(store, "0009") == (migrate.head_revision(), "0009")
    assert _clocks(store)[history.t5][2] == "met"
    # Met, as a merge left it before 0010; its ledger has no "met" entry (the downgrade
    # does not rewrite history), which `sla:met` notices.
    assert _failed_checks(store) == {"sla:status": {history.t5}, "sla:met": {history.t5}}
    assert migrate.upgrade(store) == ("0009", migrate.head_revision())
    assert _clocks(store) == stopped
    assert _failed_checks(store) == {}


def _failed_checks(store: Store) -> dict[str, set[str]]:
    with store.read() as session:
        return {r.name: set(r.examples) for r in run_checks(session) if not r.ok}

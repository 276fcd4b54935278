"""A cheap "the desk changed" signal, so open consoles refresh without re-reading everything.

Whoever changes tickets — another agent's console, `helpdesk` commands run by cron, the mail
intake — commits to the same database; the console only needs to know *that* something was
committed, then reloads what it shows. A `DeskWatcher` holds one dedicated connection and
answers `wait(timeout)`: True as soon as another transaction has committed since the last
call.

- SQLite: `PRAGMA data_version` on the watcher's own connection changes whenever any other
  connection, in this process or another, commits to the file. One pragma per poll, exact.
- PostgreSQL: `LISTEN helpdesk_desk`, woken at once by sessions of a `Store` on which
  `notify_on_commit` was installed (the console installs it on its own store; the CLI's
  `open_store` may too, so cron jobs wake consoles at once). Processes that do not notify
  are still seen by polling the write counters of the desk's tables in `pg_stat_user_tables`
  (inserted + updated + deleted rows). Reads never move them, but a backend publishes them
  only when it ends, or is idle and its last report is over a second old (else up to 10 s
  later): a cron job's process, which ends after its work, is seen within a poll; a
  long-lived silent writer may take 10 s.

Presence (`ticket_presence`: who has a ticket open, who is typing) is no change of the desk:
consoles write it every few seconds, and a reload for each heartbeat of every other console
would be waste (and move nothing the agent sees). So presence transactions are *silent*
(`silent(session)`): on PostgreSQL they send no NOTIFY, and the polled counters leave the
presence table out, which is exact. SQLite's data version moves on every commit, whatever
it wrote; when it moves, the watcher compares a snapshot of the presence rows (a few dozen
at most) and a footprint of the rest of the desk (the highest rowid of every table, the
latest ticket update per status: a few index look-ups). A move that changed the presence
rows but not the footprint was presence alone and is not reported; one that left the
presence rows as they were is always reported. What that can miss: a change that adds no
row and touches no ticket (an agent renamed, an outbox row marked sent) committed within the
same poll as a presence write; the next change, or ctrl+r, shows it.

A failure of the watcher's connection raises `WatchLost` with one line for the agent; the
next `wait` tries to connect again, so a database that comes back is noticed by itself.

Plain threads call this (never the UI thread): `wait` blocks up to its timeout.
"""

from __future__ import annotations

import contextlib
import functools
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event

from tui_helpdesk.domain import Status
from tui_helpdesk.store.engine import Store

if TYPE_CHECKING:  # every command opens this module: the ORM only where a session is used
    from sqlalchemy.orm import Session

CHANNEL = "helpdesk_desk"
POLL_INTERVAL = 0.25  # seconds between two looks at SQLite's data version
PG_POLL_INTERVAL = 0.5  # between two looks at PostgreSQL's counters (NOTIFY wakes sooner)
SILENT = "helpdesk_silent"  # execution option of a transaction that is no desk change
_PRESENCE = "ticket_presence"  # `models.TicketPresence`, not imported: every command opens this
# The desk's own tables only: autovacuum's ANALYZE writes catalog rows, which are no change;
# nor is presence.
_PG_WRITES = (
    "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables "
    f"WHERE relname <> '{_PRESENCE}'"
)
# SQLite: the presence rows as they are (the table holds the tickets open right now).
_SQLITE_PRESENCE = (
    f"SELECT group_concat(ticket_id || ' ' || agent_id || ' ' || activity || ' ' || seen_at)"
    f" FROM (SELECT * FROM {_PRESENCE} ORDER BY ticket_id, agent_id)"
)
WATCHER_NAME = "helpdesk-watcher"  # application_name: how an operator spots it


class WatchLost(Exception):
    """The watcher's connection failed; the message is one line for a banner."""


def notify_on_commit(store: Store) -> None:
    """Make every committing write transaction of `store` wake PostgreSQL listeners.

    The NOTIFY is sent inside the transaction, just before its COMMIT: PostgreSQL delivers it
    only if the transaction commits, and several in one transaction fold into one. Read units
    of work roll back and notify nobody. Nothing to do on SQLite. Installing twice is a no-op.
    """
    engine = store.engine
    if engine.dialect.name == "postgresql" and not event.contains(engine, "commit", _notify):
        event.listen(engine, "commit", _notify)


def silent(session: Session) -> None:
    """Mark the unit of work `session` is about to start as no change of the desk (presence
    heartbeats): its commit wakes no listener. Call before its first statement."""
    session.connection(execution_options={SILENT: True})


@functools.cache
def _sqlite_footprint() -> str:
    """One statement: the highest rowid of every desk table but presence (a row added
    anywhere moves it) and the latest update of a ticket in each status (the index on
    status, updated_at answers each one with a seek). Built on first use, from the models
    (every command opens this module; only a watcher needs them)."""
    from tui_helpdesk.store import models

    tables = [t.name for t in models.Base.metadata.sorted_tables if t.name != _PRESENCE]
    parts = [f"(SELECT max(rowid) FROM {name})" for name in tables]
    parts += [
        f"(SELECT max(updated_at) FROM tickets WHERE status = '{status.value}')"
        for status in Status
    ]
    return "SELECT " + ", ".join(parts)


def _notify(connection: Any) -> None:
    if connection.get_execution_options().get(SILENT):
        return  # presence: no change of the desk
    # Straight on the driver's cursor: this runs inside SQLAlchemy's own commit.
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(f"NOTIFY {CHANNEL}")
    finally:
        cursor.close()


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class DeskWatcher:
    """One connection that tells when someone committed to the desk's database."""

    def __init__(self, store: Store) -> None:
        self.engine: Engine = store.engine
        self.backend = store.backend
        self._raw: Any = None  # the pooled DBAPI connection kept for watching
        self._mark: int | None = None
        # SQLite: the presence rows and the rest of the desk's footprint at the last look.
        self._presence: str | None = None
        self._footprint: tuple[Any, ...] = ()

    # --- the connection --------------------------------------------------------------

    def _connect(self) -> None:
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            if self.backend == "postgresql":
                driver.rollback()  # the pool's ping may have opened a transaction
                driver.autocommit = True
                driver.execute(f"SET application_name = '{WATCHER_NAME}'")
                driver.execute(f"LISTEN {CHANNEL}")
            self._raw = raw
            self._mark = self._read_mark()
            if self.backend == "sqlite":
                self._presence, self._footprint = self._sqlite_state()
        except Exception:
            self._raw = raw
            self._drop()
            raise

    def _drop(self) -> None:
        raw, self._raw, self._mark = self._raw, None, None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.invalidate()  # never hand a LISTENing or broken connection to the pool

    def close(self) -> None:
        self._drop()

    def _read_mark(self) -> int:
        driver = self._raw.driver_connection
        if self.backend == "sqlite":
            return int(driver.execute("PRAGMA data_version").fetchone()[0])
        driver.execute("SELECT pg_stat_clear_snapshot()")  # else a cached snapshot
        row = driver.execute(_PG_WRITES).fetchone()
        return int(row[0] or 0) if row else 0

    # --- waiting ---------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True if someone committed since the last call.

        The first call after (re)connecting returns True: whatever happened while there was
        no connection is unknown, so it counts as a change.
        """
        try:
            if self._raw is None:
                self._connect()
                return True
            if self.backend == "sqlite":
                return self._wait_sqlite(timeout)
            return self._wait_postgres(timeout)
        except Exception as exc:  # any driver's failure: the banner says it, we retry
            self._drop()
            raise WatchLost(f"database unreachable: {_one_line(exc)}") from exc

    def _sqlite_state(self) -> tuple[str | None, tuple[Any, ...]]:
        driver = self._raw.driver_connection
        presence = driver.execute(_SQLITE_PRESENCE).fetchone()[0]
        return presence, tuple(driver.execute(_sqlite_footprint()).fetchone())

    def _moved(self) -> bool:
        mark = self._read_mark()
        moved = mark != self._mark
        self._mark = mark
        if moved and self.backend == "sqlite":
            return not self._presence_alone()
        return moved

    def _presence_alone(self) -> bool:
        """SQLite, after the data version moved: True if the presence rows changed and
        nothing else did (see the module's docstring for what that can miss)."""
        presence, footprint = self._sqlite_state()
        alone = presence != self._presence and footprint == self._footprint
        self._presence, self._footprint = presence, footprint
        return alone

    def _wait_sqlite(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while True:
            if self._moved():
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL_INTERVAL, left))

    def _wait_postgres(self, timeout: float) -> bool:
        driver = self._raw.driver_connection
        end = time.monotonic() + timeout
        while True:
            if self._moved():
                self._drain()
                return True
            left = end - time.monotonic()
            if left <= 0:
                return False
            # Woken at once by a NOTIFY; between two, the counters catch silent writers.
            if any(
                True for _ in driver.notifies(timeout=min(PG_POLL_INTERVAL, left), stop_after=1)
            ):
                self._drain()
                self._mark = self._read_mark()  # that commit's counters may be in already
                return True

    def _drain(self) -> None:
        """Forget notifications already queued: one refresh covers them all."""
        for _ in self._raw.driver_connection.notifies(timeout=0):
            pass

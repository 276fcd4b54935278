"""What every command takes from the edge: settings, the store, the acting agent and `now`.

The root callback builds one `Runtime` per invocation from the global options; commands ask
it for what they need, so settings are loaded once, the store is opened at most once (and
database errors are explained in one line afterwards), and the clock is read once.
`CliError` is a failure found here, at the edge, rather than by a service.

A database error reaches the user in one place, `database_error()` (main() asks it for any
command's error; `unreachable()` for the commands that open the database themselves): one
line naming the database URL as the user gave it, password masked, and the exit code the
README documents: 75 (try again later) when the database cannot be reached or was busy
(`temporary` tells from the driver's error), 1 for an error the next run would meet again.

Services and the store are imported where they are first used, not here: every command
imports this module, and a command should pay only for the services it calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from tui_helpdesk.config import Settings, load_settings, unsupported_database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.store.engine import Store

INIT_HINT = "run `helpdesk init` (or `helpdesk db upgrade`)"
EX_TEMPFAIL = 75  # temporary: the database is unreachable or a run holds the lock (cron retries)


class CliError(Exception):
    """A one-line failure found at the edge; `exit_code` follows DESIGN §8."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def db_reason(exc: DBAPIError) -> str:
    """The first line of a driver error: what went wrong, without the SQL or a traceback."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# PostgreSQL SQLSTATEs worth trying again: the server shutting down or starting up, or out of
# connections (class 08, connection exceptions, is matched by its prefix).
_PG_TEMPORARY = frozenset({"57P01", "57P02", "57P03", "53300"})
# SQLite's primary result codes worth trying again: SQLITE_BUSY and SQLITE_LOCKED ("database
# is locked"), SQLITE_CANTOPEN ("unable to open database file": a mount not there yet).
_SQLITE_TEMPORARY = frozenset({5, 6, 14})
_SQLITE_TEMPORARY_TEXT = ("database is locked", "database table is locked", "unable to open")


def temporary(exc: DBAPIError) -> bool:
    """Whether the driver's error is one cron should retry (exit 75): PostgreSQL could not be
    reached or dropped the connection (no SQLSTATE, class 08, 57P01-57P03, 53300), SQLite was
    busy, locked or could not open its file. Anything else (no such table, a read-only file,
    a file that is not a database, a disk I/O error) stays wrong on the next run: exit 1."""
    orig = exc.orig
    if orig is None:
        return False
    if type(orig).__module__.split(".")[0] == "psycopg":
        state = getattr(orig, "sqlstate", None)
        if state is None:  # no answer from a server: refused, timed out, cut off
            return isinstance(exc, OperationalError)
        return state.startswith("08") or state in _PG_TEMPORARY
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_TEMPORARY
    text = str(orig).lower()
    return isinstance(exc, OperationalError) and any(t in text for t in _SQLITE_TEMPORARY_TEXT)


def open_store(url: str, info: dict[str, Any] | None = None) -> Store:
    """A Store on `url`, or a one-line `CliError` (exit 2) for a URL that cannot be used."""
    from tui_helpdesk.store.engine import Store

    problem = unsupported_database(url)
    if problem:
        raise CliError(f"database URL {safe_url(url)!r}: {problem}", 2)
    try:
        store = Store(url, info=info)
    except ArgumentError as exc:
        raise CliError(f"invalid database URL {safe_url(url)!r}: {exc}", 2) from None
    except ImportError as exc:
        raise CliError(f"no driver for database URL {safe_url(url)!r}: {exc}", 2) from None
    if store.backend == "postgresql":  # SQLite consoles see commits by polling: nothing to add
        from tui_helpdesk.store.changes import notify_on_commit

        notify_on_commit(store)  # open consoles refresh at once after this process commits
    return store


def unreachable(url: str, exc: DBAPIError) -> CliError:
    """The error of a database that cannot be opened, for every command alike: one line
    naming `url` as the user gave it (never the driver's spelling, never a password), exit
    75 when that may pass (README "Cron": try again later), else 1 (`temporary`)."""
    code = EX_TEMPFAIL if temporary(exc) else 1
    return CliError(f"cannot open the database at {safe_url(url)}: {db_reason(exc)}", code)


def current_revision(store: Store, url: str) -> str | None:
    """The schema revision, turning an unreachable database into a one-line error."""
    from tui_helpdesk.store import migrate  # alembic is slow to import: only when needed

    try:
        return migrate.current_revision(store)
    except DBAPIError as exc:
        raise unreachable(url, exc) from None


def os_login() -> str:
    import getpass  # loads termios: only when no --as or HELPDESK_AGENT names the agent

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        raise CliError(
            "cannot tell who you are: pass --as LOGIN or set HELPDESK_AGENT", 2
        ) from None


@dataclass
class Runtime:
    """One invocation's view of the world, built by the root callback."""

    config_path: Path | None
    database_url: str | None
    login_option: str | None  # --as, or HELPDESK_AGENT through the option's envvar
    now: datetime
    _settings: Settings | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path, self.database_url)
        return self._settings

    @property
    def login(self) -> str:
        """The acting agent's login: --as, else HELPDESK_AGENT, else the OS login name."""
        return self.login_option or os_login()

    def store(self) -> Store:
        """The desk's store. The schema is not checked up front (that would load alembic on
        every command); a database error is explained afterwards by `explain()`."""
        if self._store is None:
            from tui_helpdesk.services.mail_setup import mail_info

            url = self.settings.database_url
            _refuse_missing_sqlite_file(url)
            mail = self.settings.mail
            self._store = open_store(url, mail_info(mail.address, mail.templates))
        return self._store

    def reach_database(self) -> None:
        """Connect once, for a command that may have nothing to do with the database this
        time (no report due): cron must still hear that it cannot be reached."""
        try:
            with self.store().read() as session:
                session.connection()
        except DBAPIError as exc:
            raise self.database_error(exc) from None

    def database_error(self, exc: DBAPIError) -> CliError:
        """A database error as the one-line `CliError` every command gives: the database
        cannot be reached (exit 75), has no desk or an old schema (exit 1), or failed in a
        way worth trying again, busy or cut off (`temporary`: exit 75), or else failed (exit
        1). The database is asked again to tell which."""
        from tui_helpdesk.store import migrate  # alembic is slow to import: only when needed

        url = self.settings.database_url  # as the user gave it, not the driver's spelling
        try:
            store = self.store()
        except CliError as unusable:
            return unusable
        try:
            revision = migrate.current_revision(store)
        except DBAPIError as again:
            return unreachable(url, again)
        head = migrate.head_revision()
        if revision is None:
            return CliError(f"the database at {safe_url(url)} has no desk yet: {INIT_HINT}")
        if revision != head:
            return CliError(
                f"the database at {safe_url(url)} is at schema revision {revision}, "
                f"this helpdesk needs {head}: run `helpdesk db upgrade`"
            )
        code = EX_TEMPFAIL if temporary(exc) else 1
        return CliError(f"database error: {db_reason(exc)}", code)

    def explain(self, exc: DBAPIError) -> str:
        """`database_error` as a line of text (for a warning that goes on)."""
        return str(self.database_error(exc))

    def actor(self, session: Session) -> Actor:
        """The acting agent; an unknown login is a `NotFound` naming `agent add` and --as."""
        from tui_helpdesk.services import directory

        return directory.actor_for(session, self.login)

    def display_zone(self, session: Session) -> str:
        """Where times are shown: the agent's configured zone, else the desk's."""
        from tui_helpdesk.services import desk

        return self.settings.timezone or desk.desk_settings(session).timezone

    def close(self) -> None:
        """Release connections. The store stays usable (it reconnects), so `explain()` can
        still look at the database after the command ended."""
        if self._store is not None:
            self._store.dispose()


def _refuse_missing_sqlite_file(url: str) -> None:
    """SQLite would silently create an empty file for a mistyped path; say so instead."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # open_store reports it
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database).expanduser()
    if not path.exists():
        raise CliError(f"no database at {path}: {INIT_HINT}")

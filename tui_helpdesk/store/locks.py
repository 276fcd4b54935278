"""Job locks: at most one batch job of a kind runs against a database at a time.

PostgreSQL: a session advisory lock held on a connection of its own for the job's duration;
the server drops it if the process dies. SQLite: an exclusive `flock` on a file beside the
database; the kernel drops it if the process dies. Either way a second run finds the lock held
at once (it never waits) and the caller exits 75 so cron simply tries again later.

Called by the escalation run; any batch job that must not overlap itself can use it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tui_helpdesk.store.engine import Store


class LockHeld(Exception):
    """Another run holds the job's lock."""


def _lock_key(name: str) -> int:
    # A stable signed 64-bit key per job name, namespaced so other applications' advisory
    # locks on a shared server do not collide with ours by accident.
    return zlib.crc32(f"tui-helpdesk:{name}".encode()) | (0x4844 << 32)


@contextmanager
def job_lock(store: Store, name: str) -> Iterator[None]:
    """Hold the lock named `name` for the duration of the block, or raise `LockHeld`."""
    if store.backend == "postgresql":
        with store.engine.connect() as connection:
            key = _lock_key(name)
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            if not taken.scalar():
                raise LockHeld(f"another {name} run holds the lock")
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        return
    import fcntl  # POSIX only, like the SQLite file locking it complements

    database = make_url(store.url).database
    if not database or database == ":memory:":
        yield  # a private in-memory database: nobody else can run against it
        return
    path = Path(database).expanduser()
    lock_path = path.with_name(f"{path.name}.{name}.lock")
    with open(lock_path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another {name} run holds the lock ({lock_path})") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

"""`helpdesk auto-close` (the cron job): close resolved tickets nobody objected to.

Quiet unless it closed something: one line per ticket closed on stdout and a summary,
failures on stderr. Exit codes as `helpdesk escalate`: 0 done, 3 some tickets failed (the
rest were closed), 75 another run holds the lock or the database is unreachable (cron tries
again), 2 bad arguments.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tui_helpdesk.services import auto_close
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.store.locks import LockHeld, job_lock

from .common import EX_SOME_FAILED, EX_TEMPFAIL, JsonFlag, RunNow, run_instant, runtime
from .plain import counted, print_json, say, stamp
from .runtime import CliError

LOCK_NAME = "auto-close"


def _line(line: auto_close.ClosedLine) -> str:
    return f"{line.ticket}  resolved {stamp(line.resolved_at)}  resolved -> closed"


def close_resolved(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would close; change nothing.")
    ] = False,
    now: RunNow = None,
    json_out: JsonFlag = False,
) -> None:
    """Close the resolved tickets nobody objected to in time.

    A ticket still resolved [desk] auto_close_days days after its last resolution closes.
    Run it from cron: one line per ticket closed, nothing when none was due."""
    rt = runtime(ctx)
    at = run_instant(rt, now, dry_run=dry_run)

    def printer(line: auto_close.ClosedLine) -> None:
        say(_line(line))

    try:
        store = rt.store()
        progress = None if json_out else printer
        if dry_run:  # rolled back: it needs no lock, and may preview while cron runs
            result = auto_close.close_resolved(store, at, dry_run=True, progress=progress)
        else:
            with job_lock(store, LOCK_NAME):
                result = auto_close.close_resolved(store, at, progress=progress)
    except LockHeld as held:
        raise CliError(f"auto-close: {held}; not running (try again later)", EX_TEMPFAIL) from None
    for ticket, reason in result.failed:
        sys.stderr.write(f"helpdesk: auto-close: {ticket}: failed: {reason}\n")
    if json_out:
        print_json(
            {
                "now": iso(at),
                "dry_run": dry_run,
                "auto_close_days": result.days,
                "closed": [
                    {"ticket": line.ticket, "resolved_at": iso(line.resolved_at)}
                    for line in result.closed
                ],
                "failed": [{"ticket": t, "reason": r} for t, r in result.failed],
            }
        )
    elif result.closed or result.failed:
        verb = "would close" if dry_run else "closed"
        days = f"resolved {counted(result.days, 'day')} or more ago" if result.days else ""
        say(
            f"auto-close: {verb} {counted(len(result.closed), 'ticket')} {days}; "
            f"{len(result.failed)} failed; as of {stamp(at)}"
        )
    if result.failed:
        raise typer.Exit(EX_SOME_FAILED)

"""`helpdesk escalate` (the cron job) and `helpdesk ticket escalate` (by hand).

`escalate` is quiet unless it did something: one line per action taken on stdout and a summary,
failures on stderr. Exit codes: 0 done, 3 some tickets failed (the rest were done), 75 another
run holds the lock or the database is unreachable (cron tries again), 2 bad arguments.
"""

from __future__ import annotations

import functools
import sys
from typing import Annotated, Any

import typer

from tui_helpdesk.services import escalation, serialize
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.store.locks import LockHeld, job_lock

from .common import (
    EX_SOME_FAILED,
    EX_TEMPFAIL,
    ExpectedVersion,
    JsonFlag,
    Number,
    RunNow,
    run_instant,
    runtime,
)
from .plain import counted, print_json, say, stamp
from .runtime import CliError

LOCK_NAME = "escalate"


def _line(action: escalation.ActionLine) -> str:
    if action.after is None:
        change = "  (nothing to do)"
    elif action.before is None:
        change = f"  -> {action.after}"
    else:
        change = f"  {action.before} -> {action.after}"
    return f"{action.ticket}  {action.rule or 'manual'}  {action.action}{change}"


def _action_doc(action: escalation.ActionLine) -> dict[str, Any]:
    return {
        "ticket": action.ticket,
        "rule": action.rule,
        "action": action.action,
        "from": action.before,
        "to": action.after,
    }


def escalate(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what is due; change nothing.")
    ] = False,
    now: RunNow = None,
    rule: Annotated[
        str | None, typer.Option("--rule", metavar="NAME", help="Only this escalation rule.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Apply the escalation rules to every ticket that is due.

    Run it from cron: one line per action, nothing when nothing was due."""
    rt = runtime(ctx)
    at = run_instant(rt, now, dry_run=dry_run)
    # Cron mails what was printed: a line per action taken, none for an action that found
    # nothing to do (no assignee to notify, already that priority); `--json` lists them all.
    taken = 0

    def printer(action: escalation.ActionLine) -> None:
        nonlocal taken
        if action.after is not None:
            taken += 1
            say(_line(action))

    try:
        store = rt.store()
        run = functools.partial(
            escalation.run_escalations,
            store,
            at,
            dry_run=dry_run,
            rule=rule,
            progress=None if json_out else printer,
            keep_actions=json_out,  # lines are printed as batches commit, not kept
        )
        if dry_run:  # rolled back: it needs no lock, and may preview while cron runs
            result = run()
        else:
            with job_lock(store, LOCK_NAME):
                result = run()
    except LockHeld as held:
        raise CliError(f"escalate: {held}; not running (try again later)", EX_TEMPFAIL) from None
    for ticket, reason in result.failed:
        sys.stderr.write(f"helpdesk: escalate: {ticket}: failed: {reason}\n")
    if json_out:
        print_json(
            {
                "now": iso(at),
                "dry_run": dry_run,
                "actions": [_action_doc(action) for action in result.actions],
                "escalated": result.escalated,
                "breaches": result.breaches,
                "failed": [{"ticket": t, "reason": r} for t, r in result.failed],
            }
        )
    elif taken or result.breaches or result.failed:
        verb = "would escalate" if dry_run else "escalated"
        # New to the ledger: a breach a change already recorded (a priority raised past
        # its target) is not counted again when its rule fires.
        breaches = counted(result.breaches, "new SLA breach", "new SLA breaches")
        say(
            f"escalate: {verb} {counted(result.escalated, 'ticket')} with "
            f"{counted(taken, 'action')}; {breaches} "
            f"{'due' if dry_run else 'recorded'}; "
            f"{len(result.failed)} failed; as of {stamp(at)}"
        )
    if result.failed:
        raise typer.Exit(EX_SOME_FAILED)


def ticket_escalate(
    ctx: typer.Context,
    number: Number,
    level_up: Annotated[
        bool, typer.Option("--level-up", help="To the group's next support level (default).")
    ] = False,
    to_group: Annotated[
        str | None, typer.Option("--to-group", metavar="GROUP", help="To another team.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT")] = None,
    customer_request: Annotated[
        bool,
        typer.Option("--customer-request", help="The customer asked for it (fires those rules)."),
    ] = False,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Escalate a ticket by hand: up one level, or to another group."""
    from tui_helpdesk.services import tickets

    rt = runtime(ctx)
    with rt.store().write() as session:
        actor = rt.actor(session)
        lines = escalation.escalate_ticket(
            session,
            actor,
            rt.now,
            number,
            level_up=level_up,
            to_group=to_group,
            reason=reason,
            customer_request=customer_request,
            expected_version=expected_version,
        )
        ticket = tickets.get_ticket(session, number)
        doc = serialize.ticket_doc(ticket)
    if json_out:
        print_json({**doc, "escalation": [_action_doc(line) for line in lines]})
        return
    for line in lines:
        say(_line(line))
    # Where the ticket is now, in the words of `ticket show` (group, support level, owner):
    # a level-up may also have unassigned it. The escalation count is not a support level.
    level = f" (level {doc['level']})" if doc["level"] else ""
    where = f"{doc['group'] or 'in no group'}{level}, {doc['assignee'] or 'unassigned'}"
    if not lines:  # the customer asked, and no rule acted on it: nothing moved
        say(
            f"{doc['number']}: the customer's request is recorded, no rule acted on it; "
            f"still {where}; escalations so far: {doc['escalation_level']}"
        )
        return
    say(f"{doc['number']}: escalated; now {where}; escalations so far: {doc['escalation_level']}")

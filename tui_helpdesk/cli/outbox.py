"""`helpdesk mail send|outbox|retry|templates`: the outbox over SMTP (commands on `cli.mail.app`).

`mail send` is the cron job (the console may also run it in the background): one line per
mail on stdout and a summary, nothing at all when nothing was due. Exit codes: 0 done (or
nothing due), 2 no mail.smtp_url / mail.address or bad options, 1 the server refused us (login,
TLS) or every mail tried failed for good, 3 some mails failed (the rest went), 75 another run
holds the lock, or the database or the mail server is unreachable, or every mail tried was
deferred (cron tries again). `mail outbox` pages through the outbox, `mail retry ID` queues a
failed mail again, `mail templates` checks the templates in use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui_helpdesk.services.serialize import iso

from .common import EX_SOME_FAILED, EX_TEMPFAIL, JsonFlag, runtime
from .mail import app as mail_app
from .output import hint, inert, print_json, say, show
from .runtime import CliError, Runtime

if TYPE_CHECKING:  # annotations only: the services load when a command runs
    from tui_helpdesk.services.delivery import DeliveryLine, DeliveryRun, OutboxEntry

STATES = ("queued", "sent", "failed")


def _one_line(value: object, limit: int = 80) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line(line: DeliveryLine) -> str:
    tail = ""
    if line.outcome == "retry" and line.next_attempt_at is not None:
        tail = f"  (again at {iso(line.next_attempt_at)}: {_one_line(line.detail, 120)})"
    elif line.detail:
        tail = f"  ({_one_line(line.detail, 160)})"
    return (
        f"#{line.outbox_id}  {line.ticket or '-'}  {line.kind}  {line.outcome}  "
        f"{_one_line(', '.join(line.to), 60)}  {_one_line(line.subject)}{tail}"
    )


def _line_doc(line: DeliveryLine) -> dict[str, Any]:
    return {
        "id": line.outbox_id,
        "ticket": line.ticket,
        "kind": line.kind,
        "to": line.to,
        "subject": line.subject,
        "outcome": line.outcome,
        "attempts": line.attempts,
        "detail": line.detail,
        "next_attempt_at": iso(line.next_attempt_at) if line.next_attempt_at else None,
    }


def _summary(run: DeliveryRun) -> str:
    return (
        f"mail send: {run.count('sent')} sent, {run.count('retry')} deferred, "
        f"{run.count('failed')} failed"
    )


def _exit_code(run: DeliveryRun) -> int:
    sent, retry, failed = run.count("sent"), run.count("retry"), run.count("failed")
    if run.stopped is not None and not sent:
        return EX_TEMPFAIL if run.stopped_temporary else 1
    if not (retry or failed):
        return 0 if run.stopped is None else EX_SOME_FAILED
    if sent:
        return EX_SOME_FAILED
    return 1 if failed else EX_TEMPFAIL


def _check_settings(rt: Runtime) -> None:
    mail = rt.settings.mail
    if not mail.smtp_url:
        raise CliError(
            "mail send: no SMTP server: set mail.smtp_url in the config or HELPDESK_SMTP_URL", 2
        )
    if not mail.address:
        raise CliError("mail send: no sender: set mail.address (the desk's address)", 2)
    from tui_helpdesk.channels.smtp import parse_smtp_url

    try:
        parse_smtp_url(mail.smtp_url)
    except ValueError as exc:
        raise CliError(f"mail send: mail.smtp_url: {exc}", 2) from None


@mail_app.command("send")
def send(
    ctx: typer.Context,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", metavar="N", min=1, help="Send at most N mails."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what is due; send and change nothing.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Send the queued mail that is due.

    Run it from cron; overlapping runs are safe."""
    from tui_helpdesk.channels.smtp import open_mailer
    from tui_helpdesk.services import delivery
    from tui_helpdesk.store.locks import LockHeld

    rt = runtime(ctx)
    if not dry_run:
        _check_settings(rt)
    try:
        store = rt.store()
        if dry_run:
            with store.read() as session:
                lines = delivery.due_rows(session, rt.now, limit)
            run = delivery.DeliveryRun(lines=lines)
        else:
            run = delivery.deliver_outbox(
                store,
                rt.now,
                lambda: open_mailer(rt.settings.mail, name=delivery.sender_name(store)),
                limit=limit,
            )
    except LockHeld as held:
        raise CliError(f"mail send: {held}; not running (try again later)", EX_TEMPFAIL) from None
    if run.stopped is not None:
        sys.stderr.write(f"helpdesk: mail send: {_one_line(run.stopped, 300)}\n")
    if json_out:
        print_json(
            {
                "now": iso(rt.now),
                "dry_run": dry_run,
                "mails": [_line_doc(line) for line in run.lines],
                "sent": run.count("sent"),
                "deferred": run.count("retry"),
                "failed": run.count("failed"),
                "due": run.count("due"),
                "stopped": run.stopped,
            }
        )
    elif run.lines:
        for line in run.lines:
            say(_line(line))
        say(f"mail send: {run.count('due')} due" if dry_run else _summary(run))
    code = 0 if dry_run else _exit_code(run)
    if code:
        raise typer.Exit(code)


def _row_doc(row: OutboxEntry) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket": row.ticket,
        "kind": row.kind,
        "state": row.state.value,
        "to": row.to,
        "subject": row.subject,
        "message_id": row.message_id,
        "created_at": iso(row.created_at),
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.next_attempt_at else None,
        "sent_at": iso(row.sent_at) if row.sent_at else None,
        "last_error": row.last_error,
    }


@mail_app.command("outbox")
def outbox(
    ctx: typer.Context,
    state: Annotated[
        str | None,
        typer.Option(
            "--state", metavar="S", help="Only mails in this state: queued, sent, failed."
        ),
    ] = None,
    ticket: Annotated[
        str | None, typer.Option("--ticket", metavar="HD-N", help="Only mails about this ticket.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", min=1)] = 50,
    before: Annotated[
        int | None,
        typer.Option("--before", metavar="ID", help="Next page: the id of the last mail shown."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """List the outbox, newest first, a page at a time."""
    from rich.table import Table
    from rich.text import Text

    from tui_helpdesk.domain import OutboxState
    from tui_helpdesk.services import delivery, tickets

    if state is not None and state not in STATES:
        raise CliError(f"--state: expected one of {', '.join(STATES)}, got {state!r}", 2)
    rt = runtime(ctx)
    with rt.store().read() as session:
        found = tickets.get_ticket(session, ticket) if ticket else None
        rows = delivery.outbox_rows(
            session,
            state=OutboxState(state) if state else None,
            ticket=found,
            before_id=before,
            limit=limit,
        )
        zone = rt.display_zone(session)
    more = len(rows) > limit
    rows = rows[:limit]
    if json_out:
        print_json(
            {
                "mails": [_row_doc(row) for row in rows],
                "next_before": rows[-1].id if more else None,
            }
        )
        return
    if not rows:
        hint("no mail in the outbox" + (" matching these filters" if state or ticket else ""))
        return
    from .output import when

    table = Table("Id", "Ticket", "Kind", "State", "Tries", "When", "To", "Subject", box=None)
    for row in rows:
        moment = row.sent_at or row.next_attempt_at or row.created_at
        table.add_row(
            str(row.id),
            row.ticket or "-",
            row.kind,
            Text(row.state.value, style="red" if row.state is OutboxState.FAILED else ""),
            str(row.attempts),
            when(moment, zone),
            inert(", ".join(row.to)),
            inert(row.subject),
        )
    show(table)
    for row in rows:
        if row.state is OutboxState.FAILED and row.last_error:
            hint(f"#{row.id}: {_one_line(row.last_error, 200)}")
    if more:
        hint(f"more: add --before {rows[-1].id}")


@mail_app.command("retry")
def retry(
    ctx: typer.Context,
    outbox_id: Annotated[int, typer.Argument(metavar="ID", help="The outbox mail's id.")],
) -> None:
    """Queue a failed mail again.

    After fixing the address or the server."""
    from tui_helpdesk.services import delivery

    rt = runtime(ctx)
    with rt.store().write() as session:
        row = delivery.retry(session, rt.actor(session), rt.now, outbox_id)
        say(f"#{row.id}  queued again  {_one_line(', '.join(row.to_addrs), 60)}")


@mail_app.command("templates")
def templates_command(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Check the mail templates in use and list them.

    The config's mail.templates folder over the built-in ones: where each comes from and
    the placeholders it may use."""
    from tui_helpdesk.services import templates

    loaded = templates.load_templates(runtime(ctx).settings.mail.templates)
    docs = [
        {
            "event": event,
            "source": template.source,
            "subject": template.subject,
            "placeholders": sorted(templates.PLACEHOLDERS[event]),
        }
        for event, template in loaded.templates.items()
    ]
    if json_out:
        print_json({"templates": docs})
        return
    for doc in docs:
        say(f"{doc['event']}  {doc['source']}  Subject: {_one_line(doc['subject'], 100)}")
        say(f"    {' '.join('{' + name + '}' for name in doc['placeholders'])}")

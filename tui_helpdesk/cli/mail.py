"""`helpdesk mail ...`: email in (fetch, explain); `cli/outbox.py` adds the commands for
mail out (send, outbox, retry, templates) to the same sub-app.

`mail fetch` is the cron job: one line per mail taken in on stdout and a summary (nothing at
all when the mailbox had nothing new), failures on stderr. A dry run numbers the tickets it
would open "new #1", "new #2" (real numbers are given when a real run stores them).
Exit codes: 0 done, 2 bad options or mailbox, 1 the mailbox refused us (login, TLS), 3 some
mails failed (left in the mailbox for the next run; the rest were taken), 75 another fetch
of the same mailbox holds the lock, or the database or the mail server is unreachable (cron
tries again).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui_helpdesk.services.serialize import iso

from .common import EX_SOME_FAILED, EX_TEMPFAIL, JsonFlag, runtime
from .plain import counted, print_json, say
from .runtime import CliError, Runtime

app = typer.Typer(
    rich_markup_mode=None,
    help="Email: fetch mail as tickets, send the outbox, explain a mail.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

if TYPE_CHECKING:  # named in annotations only: imported when a command runs
    from tui_helpdesk.channels.mailboxes import Mailbox
    from tui_helpdesk.services.mail_intake import Intake


def _one_line(value: object, limit: int = 80) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _ticket(intake: Intake) -> str:
    if intake.provisional is not None:
        return f"new #{intake.provisional}"
    return intake.ticket or "-"


def _line(intake: Intake) -> str:
    ticket = _ticket(intake)
    tail = f"{_one_line(intake.sender, 60) or '?'}  {_one_line(intake.subject)}"
    if intake.decision == "duplicate":
        tail = f"already taken in {intake.detail.get('first_taken', '')}"
    elif intake.decision in ("ignored", "rate-limited", "unusable-sender"):
        tail = f"{tail}  ({_one_line(intake.detail.get('reason'), 100)})"
    return f"{ticket}  {intake.decision}  {_one_line(intake.message_id, 120)}  {tail}"


def _intake_doc(intake: Intake) -> dict[str, Any]:
    return {
        "message_id": intake.message_id,
        "decision": intake.decision,
        "ticket": intake.ticket,
        "new_ticket": intake.provisional,  # a dry run's would-be ticket: 1, 2, ... in the run
        "from": intake.sender,
        "subject": intake.subject,
        "detail": intake.detail,
    }


def _source(
    rt: Runtime,
    maildir: Path | None,
    mbox: Path | None,
    imap: str | None,
    folder: str | None,
    move_to: str | None,
) -> Mailbox:
    from tui_helpdesk.channels import mailboxes

    given = [name for name, v in (("--maildir", maildir), ("--mbox", mbox), ("--imap", imap)) if v]
    if len(given) > 1:
        raise CliError(f"give one mailbox, not {' and '.join(given)}", 2)
    if (folder or move_to) and (maildir or mbox):
        raise CliError("--folder and --move-to are for IMAP mailboxes", 2)
    if maildir is not None:
        return mailboxes.MaildirSource(maildir)
    if mbox is not None:
        return mailboxes.MboxSource(mbox)
    imap = imap or rt.settings.mail.imap_url
    if imap is None:
        raise CliError(
            "no mailbox: give --maildir DIR, --mbox FILE or --imap URL "
            "(or set mail.imap_url in the config)",
            2,
        )
    address = mailboxes.parse_imap_url(imap, folder)
    return mailboxes.ImapSource(address, rt.settings.mail.password(), move_to=move_to)


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    maildir: Annotated[
        Path | None, typer.Option("--maildir", metavar="DIR", help="Read a Maildir.")
    ] = None,
    mbox: Annotated[
        Path | None, typer.Option("--mbox", metavar="FILE", help="Read an mbox file.")
    ] = None,
    imap: Annotated[
        str | None,
        typer.Option(
            "--imap",
            metavar="URL",
            help="Read an IMAP folder: imaps://USER@HOST:PORT/FOLDER, port and folder optional "
            "(default: mail.imap_url of the config). The password comes from mail.password_file, "
            "never the command line.",
        ),
    ] = None,
    folder: Annotated[
        str | None, typer.Option("--folder", metavar="F", help="The IMAP folder (default INBOX).")
    ] = None,
    move_to: Annotated[
        str | None,
        typer.Option(
            "--move-to",
            metavar="F",
            help="Move mail taken in to this IMAP folder (default: flag it \\Seen).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what each mail would become; change nothing.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Take new mail in as tickets and messages.

    Run it from cron; overlapping runs are safe."""
    from tui_helpdesk.channels import fetch as fetching
    from tui_helpdesk.channels.mailboxes import MailboxError
    from tui_helpdesk.services import outgoing
    from tui_helpdesk.services.mail_intake import IntakeOptions
    from tui_helpdesk.store.locks import LockHeld, job_lock

    rt = runtime(ctx)
    settings = rt.settings.mail
    own = frozenset({settings.address.lower()} if settings.address else ())
    printer = None if json_out else (lambda intake: say(_line(intake)))

    def failed(key: str, reason: str) -> None:
        sys.stderr.write(f"helpdesk: mail fetch: {_one_line(key, 200)}: failed: {reason}\n")

    try:
        store = rt.store()
        source = _source(rt, maildir, mbox, imap, folder, move_to)
        rt.reach_database()  # an empty mailbox (or a dry run) still says the database is gone
        run = functools.partial(
            fetching.fetch,
            store,
            source,
            rt.now,
            options=IntakeOptions(own_addresses=own),
            attachment_limit=settings.attachment_limit,
            dry_run=dry_run,
            progress=printer,
            on_failure=failed,
            mail_context=outgoing.mail_context_for(settings.address, settings.templates),
        )
        if dry_run:
            result = run()
        else:
            try:
                with job_lock(store, fetching.lock_name(source)):
                    result = run()
            except LockHeld:
                source.close()
                raise
    except LockHeld as held:
        raise CliError(f"mail fetch: {held}; not running (try again later)", EX_TEMPFAIL) from None
    except MailboxError as exc:
        raise CliError(f"mail fetch: {exc}", exc.exit_code) from None
    if json_out:
        print_json(
            {
                "source": source.label,
                "dry_run": dry_run,
                "now": iso(rt.now),
                "mails": [_intake_doc(intake) for intake in result.taken],
                "counts": result.counts,
                "failed": [{"key": key, "reason": reason} for key, reason in result.failed],
            }
        )
    elif result.taken or result.failed:
        counts = ", ".join(f"{n} {decision}" for decision, n in sorted(result.counts.items()))
        verb = "would take" if dry_run else "took"
        numbered = any(intake.provisional is not None for intake in result.taken)
        say(
            f"mail fetch: {verb} {counted(len(result.taken), 'mail')} ({counts or 'none'}); "
            f"{len(result.failed)} failed; from {source.label}"
            + ("; new tickets get their numbers when a real run takes them in" if numbered else "")
        )
    if result.failed:
        raise typer.Exit(EX_SOME_FAILED)


@app.command("explain")
def explain(
    ctx: typer.Context,
    message_id: Annotated[str, typer.Argument(metavar="MESSAGE-ID", help="e.g. '<abc@x.example>'")],
    json_out: JsonFlag = False,
) -> None:
    """Show how a mail was matched to its ticket, or why not.

    Or why it became a new ticket, or nothing."""
    from tui_helpdesk.services import mail_intake

    rt = runtime(ctx)
    with rt.store().read() as session:
        found = mail_intake.explain(session, message_id)
    doc = {
        "message_id": found.message_id,
        "source": found.source,
        "decision": found.decision,
        "ticket": found.ticket,
        "at": iso(found.at),
        "detail": found.detail,
    }
    if json_out:
        print_json(doc)
        return
    say(f"{found.message_id}")
    say(f"  {found.decision}{'  -> ' + found.ticket if found.ticket else ''}  at {doc['at']}")
    for key, value in found.detail.items():
        say(f"  {key}: {_one_line(_plain(value), 300)}")


def _plain(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_plain(v) for v in value)
    return "" if value is None else str(value)

"""`helpdesk mail fetch`: read each mail from a mailbox, take it in within its own transaction,
and only after that transaction committed mark it done in the mailbox.

Exactly once: a mail already taken in is skipped and reported (`duplicate`), and still marked
done; a run killed between reading and committing leaves the mail unmarked, so the next run
takes it; a run killed between committing and marking reads it again next time and reports it
as a duplicate. Two runs on the same mailbox do not overlap: the second finds the job lock
held and the caller exits 75; even without the lock, the unique Message-ID makes the slower
one's insert fail, which is counted as a duplicate too.

A mail that fails (a bug, a database constraint) is rolled back alone, counted, left in the
mailbox for the next run, and the run goes on. `dry_run` decides each mail in a transaction
that is rolled back and marks nothing; the tickets it would open are numbered in the run
(`Intake.provisional`), not given the number each rolled-back transaction saw, which is the
same next number for all of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError

from tui_helpdesk.channels import parse
from tui_helpdesk.channels.mailboxes import Mailbox, MailItem
from tui_helpdesk.services import mail_intake, outgoing
from tui_helpdesk.services.mail_intake import Intake, IntakeOptions
from tui_helpdesk.store.engine import Store


def lock_name(source: Mailbox) -> str:
    """The job lock of one mailbox: different mailboxes may be fetched at the same time."""
    return "mail-fetch-" + hashlib.sha256(source.label.encode()).hexdigest()[:12]


@dataclass
class FetchResult:
    taken: list[Intake] = field(default_factory=list)  # every mail decided, duplicates too
    failed: list[tuple[str, str]] = field(default_factory=list)  # (mailbox key, reason)

    def count(self, decision: str) -> int:
        return sum(1 for intake in self.taken if intake.decision == decision)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for intake in self.taken:
            out[intake.decision] = out.get(intake.decision, 0) + 1
        return out


class _DryRun(Exception):
    """Raised inside a dry run's transaction so it rolls back."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake


@dataclass
class _Run:
    """One fetch: what every mail of it is taken in with."""

    store: Store
    now: datetime
    options: IntakeOptions
    attachment_limit: int
    dry_run: bool
    context: object | None  # outgoing.MailContext: who we are, for acknowledgements
    on_failure: Callable[[str, str], None] | None
    result: FetchResult = field(default_factory=FetchResult)
    new_tickets: int = 0  # opened so far by a dry run

    def provisional(self, intake: Intake) -> Intake:
        """A dry run's decision, the ticket it would open numbered in the run."""
        if not intake.creates_ticket:
            return intake
        self.new_tickets += 1
        return dataclasses.replace(intake, ticket=None, provisional=self.new_tickets)

    def take(self, mail: mail_intake.IncomingMail) -> Intake:
        try:
            with self.store.write() as session:
                if self.context is not None:
                    session.info[outgoing.MAIL_KEY] = self.context
                # Called through the module, so a test can stop a run right after it.
                intake = mail_intake.take_mail(session, self.now, mail, self.options)
                if self.dry_run:
                    raise _DryRun(intake)
        except _DryRun as stopped:
            return self.provisional(stopped.intake)
        except IntegrityError:
            # Another run claimed the same Message-ID between our check and our insert.
            with self.store.read() as session:
                earlier = mail_intake.duplicate_of(session, mail.message_id)
            if earlier is None:
                raise
            return Intake(
                mail.message_id,
                "duplicate",
                earlier.ticket,
                mail.sender,
                mail.subject,
                earlier.detail,
            )
        return intake

    def one(self, item: MailItem) -> Intake | None:
        try:
            return self.take(parse.parse_mail(item.raw, self.attachment_limit))
        except OperationalError:
            raise  # the database is gone: every other mail would fail the same way
        except Exception as exc:  # a ServiceError or a bug: one bad mail must not stop others
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            self.result.failed.append((item.key, reason))
            if self.on_failure is not None:
                self.on_failure(item.key, reason)
            return None


def fetch(
    store: Store,
    source: Mailbox,
    now: datetime,
    *,
    options: IntakeOptions | None = None,
    attachment_limit: int = parse.DEFAULT_ATTACHMENT_LIMIT,
    dry_run: bool = False,
    progress: Callable[[Intake], None] | None = None,
    on_failure: Callable[[str, str], None] | None = None,
    mail_context: object | None = None,
) -> FetchResult:
    """Take in every mail of `source` not yet done. `mail_context` is the desk's
    `outgoing.MailContext` (address and templates from the config). A database outage
    (OperationalError) or a lost mail server (MailboxUnavailable) ends the run; anything
    else fails one mail."""
    run = _Run(
        store, now, options or IntakeOptions(), attachment_limit, dry_run, mail_context, on_failure
    )
    try:
        for item in source.items():
            intake = run.one(item)
            if intake is None:
                continue
            if not dry_run:
                source.done(item)  # only now: the transaction that stored it has committed
            run.result.taken.append(intake)
            if progress is not None:
                progress(intake)
    finally:
        source.close()  # a dry run marked nothing, so this only lets go of the mailbox
    return run.result

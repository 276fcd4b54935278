"""The demo desk's mail history: what the desk's mail sender would have sent by `now`.

`helpdesk init --demo` replays weeks of a desk (`services.demo`), and every change that mails
someone (an acknowledgement, an agent's reply, a survey, a notification) queues the mail in
the outbox, as on a real desk. A real desk's cron runs `helpdesk mail send` every couple of
minutes (README), so by now all but the last minutes' mail would have gone out; left queued,
every reply of the demo read "queued" for good, as if the desk could not send. Here that
sender runs through the history too, at each `SEND_EVERY` tick at which something was due,
up to `now`, through `services.delivery.deliver_outbox` (the same claims, marks and replies'
delivery states as a real run), with a transport that accepts every mail and sends it
nowhere: the demo's people and addresses are invented.

Called by `helpdesk init --demo` once the seeded desk is committed (the sender claims and
marks rows in transactions of its own). Deterministic: the ticks follow from the queued times.

The mail customers send back is made here too: `survey_answer` is a customer's reply to a
survey mail, taken in by mail intake during the history (`services.demo_story`), as
`helpdesk mail fetch` takes a real one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import OutboxState
from tui_helpdesk.services import delivery, mail_intake
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Contact, Outbox, Ticket

SEND_EVERY = timedelta(minutes=2)  # the README's cron line for `helpdesk mail send`
DESK_ADDRESS = "support@helpdesk.example"  # where the demo's customers write


class _Nowhere:
    """A transport that takes every mail and sends it nowhere."""

    def deliver(self, row: Outbox, now: datetime) -> str | None:
        del row, now
        return None


@contextmanager
def _nowhere() -> Iterator[delivery.Transport]:
    yield _Nowhere()


def _tick(at: datetime) -> datetime:
    """The first run of the sender at or after `at` (every `SEND_EVERY` from midnight)."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + SEND_EVERY * math.ceil((at - midnight) / SEND_EVERY)


def send_history(store: Store, now: datetime) -> int:
    """Deliver the queued mail as a sender run every `SEND_EVERY` would have by `now`, each
    mail at the first run after it was due; returns how many were sent. Mail due in the
    last minutes (after the last run before `now`) stays queued, as it would. The runs are
    known at the start: sending queues no mail, and nowhere refuses none (no retries)."""
    with store.read() as session:
        due = session.scalars(
            select(Outbox.next_attempt_at).where(Outbox.state == OutboxState.QUEUED)
        )
        runs = sorted({tick for at in due if at is not None and (tick := _tick(at)) <= now})
    return sum(delivery.deliver_outbox(store, run, _nowhere).count("sent") for run in runs)


def survey_answer(
    session: Session, at: datetime, ticket: Ticket, contact: Contact, text: str
) -> mail_intake.Intake | None:
    """`contact`'s answer to the survey mailed for `ticket`: a reply to the survey mail saying
    `text`, taken in at `at` by mail intake as a real one is (threaded to the survey by its
    headers; the score goes on the ticket, the mail into its thread, the intake decision into
    `helpdesk mail explain`). None, and nothing taken in, when no survey was mailed (the desk
    sends none, or the customer has no address)."""
    survey = session.scalar(
        select(Outbox)
        .where(Outbox.ticket_id == ticket.id, Outbox.kind == "survey")
        .order_by(Outbox.id.desc())
        .limit(1)
    )
    if survey is None or contact.email is None:
        return None
    domain = contact.email.rpartition("@")[2]
    message_id = f"<{ticket.key.lower()}.survey.{at:%Y%m%d%H%M%S}@{domain}>"
    references = (*survey.headers.get("References", "").split(), survey.message_id)
    mail = EmailMessage()
    mail["From"] = formataddr((contact.name, contact.email))
    mail["To"] = DESK_ADDRESS
    mail["Subject"] = f"Re: {survey.subject}"
    mail["Date"] = format_datetime(at)
    mail["Message-ID"] = message_id
    mail["In-Reply-To"] = survey.message_id
    mail["References"] = " ".join(references)
    mail.set_content(text)
    incoming = mail_intake.IncomingMail(
        message_id=message_id,
        raw=mail.as_bytes(),
        sender=contact.email,
        sender_name=contact.name,
        subject=str(mail["Subject"]),
        body=text,
        sent_at=at,
        in_reply_to=(survey.message_id,),
        references=references,
    )
    return mail_intake.take_mail(session, at, incoming)

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
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tui_helpdesk.domain import OutboxState
from tui_helpdesk.services import delivery
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Outbox

SEND_EVERY = timedelta(minutes=2)  # the README's cron line for `helpdesk mail send`


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
    last minutes (after the last run before `now`) stays queued, as it would."""
    sent = 0
    while True:
        with store.read() as session:
            due = session.scalar(
                select(func.min(Outbox.next_attempt_at)).where(Outbox.state == OutboxState.QUEUED)
            )
        if due is None or _tick(due) > now:
            return sent
        sent += delivery.deliver_outbox(store, _tick(due), _nowhere).count("sent")

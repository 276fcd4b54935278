"""The outbox sender against a real SMTP server on loopback, on both back ends: mail goes out
once, a 4xx is retried with back-off, a 5xx fails for good and shows on the ticket, an
unreachable server leaves every row queued, and two senders never send one row twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tests.smtp_server import SmtpServer, free_port, smtp_server
from tui_helpdesk.channels.smtp import OutboxMailer, open_mailer
from tui_helpdesk.config import MailSettings
from tui_helpdesk.domain import OutboxState, Status
from tui_helpdesk.services import delivery, tickets
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.locks import LockHeld, job_lock
from tui_helpdesk.store.models import Message, Outbox

__all__ = ["smtp_server"]  # a fixture, used by name

DESK = "support@desk.example"


def _opener(server: SmtpServer) -> delivery.OpenTransport:
    settings = MailSettings(address=DESK, smtp_url=server.url)

    def open_transport() -> AbstractContextManager[OutboxMailer]:
        return open_mailer(settings)

    return open_transport


def _send(desk_store: Desk, server: SmtpServer, at: datetime, **kw: Any) -> delivery.DeliveryRun:
    return delivery.deliver_outbox(desk_store.store, at, _opener(server), **kw)


def _rows(desk_store: Desk) -> list[Outbox]:
    with desk_store.store.read() as session:
        rows = list(session.scalars(select(Outbox).order_by(Outbox.id)))
        session.expunge_all()
        return rows


def _replied(desk_store: Desk, make_ticket: MakeTicket) -> tuple[str, int]:
    """A ticket answered by bob: its acknowledgement and reply are queued."""
    key = make_ticket()
    with desk_store.store.write() as session:
        message = tickets.reply(session, desk_store.agent, NOW, key, "Unplug it.")
        return key, message.id


def _delivery_state(desk_store: Desk, message_id: int) -> OutboxState | None:
    with desk_store.store.read() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message.delivery_state


def test_queued_mail_is_sent_once(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer
) -> None:
    key, reply_id = _replied(desk_store, make_ticket)
    at = NOW + timedelta(minutes=1)
    run = _send(desk_store, smtp_server, at)
    assert [(line.ticket, line.kind, line.outcome) for line in run.lines] == [
        (key, "ack", "sent"),
        (key, "reply", "sent"),
    ]
    ack, reply = _rows(desk_store)
    assert (reply.state, reply.sent_at, reply.attempts) == (OutboxState.SENT, at, 1)
    assert _delivery_state(desk_store, reply_id) is OutboxState.SENT
    got = [r.message for r in smtp_server.handler.received]
    assert [m["Message-ID"] for m in got] == [ack.message_id, reply.message_id]
    assert got[0]["Auto-Submitted"] == "auto-replied" and got[0]["From"] == DESK
    assert got[1]["Subject"] == f"[{key}] Re: Printer on fire"
    assert got[1]["In-Reply-To"] == reply.headers.get("In-Reply-To")
    assert _send(desk_store, smtp_server, at).lines == []  # nothing is sent twice
    assert len(smtp_server.handler.received) == 2


def test_a_4xx_is_retried_with_back_off(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer
) -> None:
    make_ticket()
    smtp_server.handler.script[:] = ["451 4.7.1 greylisted, try later"]
    [deferred] = _send(desk_store, smtp_server, NOW).lines
    assert deferred.outcome == "retry" and "451" in (deferred.detail or "")
    assert deferred.next_attempt_at == NOW + delivery.backoff(1) == NOW + timedelta(minutes=2)
    [row] = _rows(desk_store)
    assert (row.state, row.attempts, row.next_attempt_at) == (
        OutboxState.QUEUED,
        1,
        NOW + timedelta(minutes=2),
    )
    assert row.last_error is not None and "greylisted" in row.last_error
    assert _send(desk_store, smtp_server, NOW + timedelta(minutes=1)).lines == []  # not yet due
    [sent] = _send(desk_store, smtp_server, NOW + timedelta(minutes=3)).lines
    assert (sent.outcome, sent.attempts) == ("sent", 2)
    assert len(smtp_server.handler.received) == 1


def test_back_off_doubles_up_to_a_cap() -> None:
    waits = [delivery.backoff(n) for n in range(1, 10)]
    assert waits[:4] == [timedelta(minutes=m) for m in (2, 4, 8, 16)]
    assert waits[-1] == delivery.BACKOFF_CAP


def test_a_5xx_fails_for_good_and_shows_on_the_ticket(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer, look: Look
) -> None:
    key, reply_id = _replied(desk_store, make_ticket)
    smtp_server.handler.script[:] = ["250 OK", "550 5.1.1 mailbox unavailable"]
    run = _send(desk_store, smtp_server, NOW)
    assert [line.outcome for line in run.lines] == ["sent", "failed"]
    _ack, reply = _rows(desk_store)
    assert reply.state is OutboxState.FAILED and reply.next_attempt_at is None
    assert reply.last_error is not None and "550" in reply.last_error
    assert _delivery_state(desk_store, reply_id) is OutboxState.FAILED
    [event] = [e for e in look(key).events if e[2] == "delivery"]
    assert event[1] == "mail" and event[4] is not None
    assert "reply mail to anna@acme.example not delivered: 550" in event[4]


def test_gives_up_after_the_last_attempt(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer
) -> None:
    make_ticket()
    at = NOW
    smtp_server.handler.script[:] = ["421 4.3.2 shutting down"] * delivery.MAX_ATTEMPTS
    outcomes = []
    for _ in range(delivery.MAX_ATTEMPTS):
        [line] = _send(desk_store, smtp_server, at).lines
        outcomes.append(line.outcome)
        at += delivery.BACKOFF_CAP
    assert outcomes == ["retry"] * (delivery.MAX_ATTEMPTS - 1) + ["failed"]
    [row] = _rows(desk_store)
    assert row.state is OutboxState.FAILED and "gave up after 8 tries" in (row.last_error or "")


def test_an_unreachable_server_leaves_the_rows_queued(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    make_ticket()
    make_ticket("Second")
    down = SmtpServer("127.0.0.1", free_port(), handler=None)  # type: ignore[arg-type]
    run = _send(desk_store, down, NOW)
    assert run.lines == [] and run.stopped is not None and run.stopped_temporary
    assert "cannot connect" in run.stopped
    assert [(r.state, r.attempts, r.next_attempt_at) for r in _rows(desk_store)] == [
        (OutboxState.QUEUED, 0, NOW),
        (OutboxState.QUEUED, 0, NOW),
    ]


def test_limit_and_dry_run(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer
) -> None:
    for n in range(3):
        make_ticket(f"Ticket {n}", requester=f"c{n}@acme.example")
    with desk_store.store.read() as session:
        due = delivery.due_rows(session, NOW)
    assert [line.outcome for line in due] == ["due"] * 3
    assert [line.to for line in due] == [
        ["c0@acme.example"],
        ["c1@acme.example"],
        ["c2@acme.example"],
    ]
    run = _send(desk_store, smtp_server, NOW, limit=2)
    assert [line.to for line in run.lines] == [["c0@acme.example"], ["c1@acme.example"]]
    assert [r.state for r in _rows(desk_store)] == [OutboxState.SENT] * 2 + [OutboxState.QUEUED]
    with pytest.raises(ValidationError):
        _send(desk_store, smtp_server, NOW, limit=0)


def test_nothing_due_opens_no_connection(desk_store: Desk) -> None:
    def never() -> AbstractContextManager[OutboxMailer]:
        raise AssertionError("the transport was opened with nothing to send")

    assert delivery.deliver_outbox(desk_store.store, NOW, never).lines == []


def test_a_failed_mail_can_be_queued_again(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer, look: Look
) -> None:
    key, reply_id = _replied(desk_store, make_ticket)
    smtp_server.handler.script[:] = ["554 no", "554 no"]
    _send(desk_store, smtp_server, NOW)
    _ack, reply = _rows(desk_store)
    with desk_store.store.write() as session:
        delivery.retry(session, desk_store.agent, NOW + timedelta(hours=1), reply.id)
        with pytest.raises(ValidationError, match="not failed"):
            delivery.retry(session, desk_store.agent, NOW, reply.id)
        with pytest.raises(NotFound):
            delivery.retry(session, desk_store.agent, NOW, 999)
    assert _delivery_state(desk_store, reply_id) is OutboxState.QUEUED
    [line] = _send(desk_store, smtp_server, NOW + timedelta(hours=1)).lines
    assert (line.outbox_id, line.outcome, line.attempts) == (reply.id, "sent", 1)
    assert _delivery_state(desk_store, reply_id) is OutboxState.SENT
    assert any(e[0:3] == ("note", "bob", "delivery") or e[0:3] == ("mail", "bob", "delivery")
               for e in look(key).events)  # fmt: skip


def test_resolving_then_sending_delivers_the_survey(
    desk_store: Desk, make_ticket: MakeTicket, smtp_server: SmtpServer
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.RESOLVED)
    _send(desk_store, smtp_server, NOW)
    ack, survey = (r.message for r in smtp_server.handler.received)
    assert survey["Subject"] == f"[{key}] How did we do? Printer on fire"
    assert survey["In-Reply-To"] == ack["Message-ID"]


# --- overlapping senders ----------------------------------------------------------------------


@pytest.fixture
def many_queued(desk_store: Desk) -> Iterator[int]:
    count = 60
    with desk_store.store.write() as session:
        for n in range(count):
            tickets.create_ticket(
                session,
                desk_store.agent,
                NOW,
                tickets.NewTicket(f"Ticket {n}", body="x", requester=f"c{n}@acme.example"),
            )
    yield count


def test_two_senders_never_send_one_row_twice(
    desk_store: Desk, many_queued: int, smtp_server: SmtpServer
) -> None:
    store = desk_store.store
    if store.backend == "sqlite":
        with job_lock(store, delivery.JOB), pytest.raises(LockHeld):
            _send(desk_store, smtp_server, NOW)
    runs: list[delivery.DeliveryRun] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            runs.append(_send(desk_store, smtp_server, NOW))
        except LockHeld:
            runs.append(delivery.DeliveryRun())
        except BaseException as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    sent = [line.outbox_id for run in runs for line in run.lines]
    assert len(sent) == len(set(sent))
    # A sender that lost the race on SQLite's lock leaves the rest to the next run.
    _send(desk_store, smtp_server, NOW)
    ids = [r.message["Message-ID"] for r in smtp_server.handler.received]
    assert len(ids) == len(set(ids)) == many_queued
    assert {r.state for r in _rows(desk_store)} == {OutboxState.SENT}

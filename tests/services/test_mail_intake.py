"""Mail intake on both back ends: new tickets, threading (headers, our own outbox, subject
tags and spoofed ones), reopening rules, automatic mail, loops, duplicates, rate limits,
attachments, survey answers and `explain`. Mails are the real-world corpus in
tests/mail_corpus, parsed by channels.parse, taken in one transaction each."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import NOW, Desk
from tui_helpdesk.channels.parse import parse_mail
from tui_helpdesk.domain import EventKind, MessageKind, Status
from tui_helpdesk.services import mail_intake, tickets
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.services.mail_intake import Intake, IntakeOptions
from tui_helpdesk.store.models import (
    Attachment,
    Contact,
    Counter,
    InboundMail,
    Message,
    Outbox,
    Ticket,
    TicketEvent,
)

CORPUS = Path(__file__).resolve().parents[1] / "mail_corpus"
DESK_ADDRESS = "support@desk.example"
LIMIT = 4096  # the oversized corpus attachment is 6 KB
ACK_HD1 = "<20261123091500.4242.ack.hd-1@desk.example>"  # what the corpus replies answer
REPLY_HD2 = "<20261123100000.77.reply.hd-2@desk.example>"
ACK_HD3 = "<20261123120000.999.ack.hd-3@desk.example>"

Take = Callable[..., Intake]


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def mail(
    sender: str = "anna.rossi@acme.example",
    subject: str = "Hello",
    body: str = "Some text.",
    *,
    message_id: str,
    in_reply_to: str | None = None,
    references: str | None = None,
    **headers: str,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK_ADDRESS
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def take(desk_store: Desk) -> Take:
    def run(raw: bytes | str, at: datetime = NOW) -> Intake:
        data = corpus(raw) if isinstance(raw, str) else raw
        options = IntakeOptions(own_addresses=frozenset({DESK_ADDRESS}))
        with desk_store.store.write() as session:
            return mail_intake.take_mail(session, at, parse_mail(data, LIMIT), options)

    return run


def set_outbox_id(desk: Desk, key: str, kind: str, message_id: str) -> None:
    """Give the ticket's outbox mail of `kind` the Message-ID the corpus replies answer (as
    if our sender had used it), creating the row when the desk queued none."""
    with desk.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        row = session.scalar(
            select(Outbox).where(Outbox.ticket_id == ticket.id, Outbox.kind == kind).limit(1)
        )
        if row is None:
            session.add(
                Outbox(
                    created_at=NOW,
                    ticket_id=ticket.id,
                    kind=kind,
                    to_addrs=[ticket.requester.email],
                    subject=f"[{key}] {ticket.subject}",
                    body="...",
                    headers={},
                    message_id=message_id,
                )
            )
        else:
            session.execute(update(Outbox).where(Outbox.id == row.id).values(message_id=message_id))


def count(desk: Desk, model: type) -> int:
    with desk.store.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def status_of(desk: Desk, key: str) -> str:
    with desk.store.read() as session:
        return tickets.get_ticket(session, key).status.value


def set_status(desk: Desk, key: str, *targets: Status, at: datetime = NOW) -> None:
    with desk.store.write() as session:
        for target in targets:
            tickets.change_status(session, desk.agent, at, key, target)


# --- new tickets ----------------------------------------------------------------------------


def test_new_mail_becomes_a_ticket_with_contact_organization_and_raw(
    desk_store: Desk, take: Take
) -> None:
    got = take("gmail_new.eml")
    assert (got.decision, got.ticket) == ("new-ticket", "HD-1")
    assert got.detail["contact"]["created"] is True
    assert got.detail["organization"] == "Acme"
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, "HD-1")
        assert ticket.channel.value == "email"
        assert ticket.subject == "Stampante del 3° piano non stampa"
        assert ticket.requester.email == "anna.rossi@acme.example"
        assert ticket.requester.name == "Anna Rossi"
        assert ticket.organization is not None and ticket.organization.name == "Acme"
        (message,) = tickets.ticket_messages(session, ticket)
        assert message.message_id == "<CAHx7Wd1=q9Lr3kPz@mail.gmail.com>"
        assert "“errore 50.4”" in message.body
        row = session.scalar(select(InboundMail))
        assert row is not None and row.ticket_id == ticket.id
        assert row.raw is not None and zlib.decompress(row.raw) == corpus("gmail_new.eml")
        # A person wrote: the desk acknowledges (queued in the same transaction).
        kinds = session.scalars(select(Outbox.kind).where(Outbox.ticket_id == ticket.id)).all()
        assert kinds == ["ack"]


def test_html_only_mail_is_read_as_text(desk_store: Desk, take: Take) -> None:
    assert take("html_only.eml").decision == "new-ticket"
    with desk_store.store.read() as session:
        body = session.scalar(select(Message.body))
    assert body is not None
    assert "invoice 2026-118 charges VAT at 22" in body
    assert "alert" not in body and "font-family" not in body and "<p>" not in body


def test_control_sequences_never_reach_the_ticket(desk_store: Desk, take: Take) -> None:
    take("control_chars.eml")
    with desk_store.store.read() as session:
        subject = tickets.get_ticket(session, "HD-1").subject
        body = session.scalar(select(Message.body))
    assert "\x1b" not in subject and "\x07" not in subject
    assert body is not None and "\x1b" not in body and "look at this" in body


def test_attachments_are_kept_up_to_the_limit(desk_store: Desk, take: Take) -> None:
    got = take("oversized_attachment.eml")
    assert got.decision == "new-ticket"
    with desk_store.store.read() as session:
        rows = {
            a.filename: (a.content, a.size, a.sha256, a.skipped_reason)
            for a in session.scalars(select(Attachment))
        }
    assert rows["app.ini"][0] == b"[server]\r\nport = 8443\r\n"
    content, size, sha256, skipped = rows["coré dump.bin"]
    assert content is None and size == 6144 and len(sha256) == 64
    assert skipped is not None and "limit" in skipped
    shown = {k: v for k, v in got.detail["attachments"][1].items() if k != "skipped"}
    assert shown == {"name": "coré dump.bin", "size": 6144}


def test_inline_image_and_forwarded_attachment_are_stored(desk_store: Desk, take: Take) -> None:
    take("inline_image.eml")
    take("forward_as_attachment.eml")
    with desk_store.store.read() as session:
        names = sorted(session.scalars(select(Attachment.filename)))
        bodies = list(session.scalars(select(Message.body).order_by(Message.id)))
    assert names == ["image001.png", "log.pdf"]
    assert "Forwarded message" in bodies[1] and "SMTP authentication failed" in bodies[1]


def test_mail_without_message_id_is_still_taken_once(desk_store: Desk, take: Take) -> None:
    first = take("no_message_id.eml")
    assert first.decision == "new-ticket" and first.message_id.endswith("@no-message-id.invalid>")
    assert take("no_message_id.eml").decision == "duplicate"
    assert count(desk_store, Ticket) == 1


def test_mail_without_a_usable_sender_is_recorded_not_lost(desk_store: Desk, take: Take) -> None:
    raw = b"To: support@desk.example\r\nSubject: who\r\nMessage-ID: <anon-1@x.example>\r\n\r\nhi"
    got = take(raw)
    assert got.decision == "unusable-sender" and got.ticket is None
    assert count(desk_store, Ticket) == 0
    with desk_store.store.read() as session:
        assert mail_intake.explain(session, "<anon-1@x.example>").decision == "unusable-sender"


# --- threading ------------------------------------------------------------------------------


def test_reply_to_our_acknowledgement_threads_by_in_reply_to(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_outbox_id(desk_store, "HD-1", "ack", ACK_HD1)
    got = take("gmail_reply.eml")
    assert (got.decision, got.ticket) == ("threaded", "HD-1")
    assert got.detail["matched_by"] == "in-reply-to"
    assert got.detail["found_in"] == "outbox" and got.detail["matched_id"] == ACK_HD1
    assert count(desk_store, Ticket) == 1
    with desk_store.store.read() as session:
        message = session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message is not None and message.in_reply_to == ACK_HD1
        body = message.body
    assert "ancora lì" in body and "We received your request" in body
    assert got.detail["quote_start"] == body.index("On Mon")


def test_references_thread_when_in_reply_to_is_unknown(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    raw = mail(
        message_id="<r2@acme.example>",
        in_reply_to="<unknown@elsewhere.example>",
        references="<CAHx7Wd1=q9Lr3kPz@mail.gmail.com> <unknown@elsewhere.example>",
    )
    got = take(raw)
    assert (got.decision, got.ticket, got.detail["matched_by"]) == (
        "threaded",
        "HD-1",
        "references",
    )


def test_outlook_reply_to_our_reply_threads(
    desk_store: Desk, take: Take, make_ticket: Callable[..., str]
) -> None:
    make_ticket("VPN trennt", requester="jens.meyer@globex.example")
    make_ticket("VPN trennt alle paar Minuten", requester="jens.meyer@globex.example")
    set_outbox_id(desk_store, "HD-2", "reply", REPLY_HD2)
    got = take("outlook_reply.eml")
    assert (got.decision, got.ticket) == ("threaded", "HD-2")
    with desk_store.store.read() as session:
        body = session.scalars(select(Message.body).order_by(Message.id.desc())).first()
    assert body is not None and "Grüße aus München" in body


def test_subject_tag_from_the_requester_threads(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    got = take(mail(subject="Re: [hd-1] printer", message_id="<tag-1@acme.example>"))
    assert (got.decision, got.ticket) == ("threaded", "HD-1")
    assert got.detail["matched_by"] == "subject-tag" and got.detail["sender_is"] == "requester"


def test_subject_tag_from_a_participant_threads(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    # A colleague joins by replying to the thread (headers): now a participant of HD-1.
    take(
        mail(
            "carla.bianchi@acme.example",
            message_id="<c-1@acme.example>",
            in_reply_to="<CAHx7Wd1=q9Lr3kPz@mail.gmail.com>",
        )
    )
    got = take(mail("carla.bianchi@acme.example", "[HD-1] again", message_id="<c-2@acme.example>"))
    assert (got.ticket, got.detail["matched_by"], got.detail["sender_is"]) == (
        "HD-1",
        "subject-tag",
        "wrote on it",
    )


def test_spoofed_subject_tag_from_a_stranger_opens_a_new_ticket(
    desk_store: Desk, take: Take
) -> None:
    take("gmail_new.eml")
    got = take("stranger_spoofed_tag.eml")
    assert (got.decision, got.ticket) == ("new-ticket", "HD-2")
    assert got.detail["tag_refused"]["tag"] == "HD-1"
    assert "neither the requester nor a participant" in got.detail["reason"]
    with desk_store.store.read() as session:
        original = tickets.get_ticket(session, "HD-1")
        assert len(tickets.ticket_messages(session, original)) == 1  # nothing leaked in
        why = mail_intake.explain(session, "spoof-1@stranger.example")
    assert (why.decision, why.ticket) == ("new-ticket", "HD-2")
    assert why.detail["tag_refused"]["refused"].startswith("eve@stranger.example")


def test_tag_of_a_ticket_that_does_not_exist_opens_a_new_ticket(take: Take) -> None:
    got = take(mail(subject="[HD-999] hello", message_id="<t-999@acme.example>"))
    assert got.decision == "new-ticket" and got.detail["tag_refused"]["refused"] == "no such ticket"


# --- reopening ------------------------------------------------------------------------------


def _reply(n: int) -> bytes:
    return mail(
        message_id=f"<reply-{n}@acme.example>", in_reply_to="<CAHx7Wd1=q9Lr3kPz@mail.gmail.com>"
    )


def test_reply_to_a_pending_ticket_opens_it(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.OPEN, Status.PENDING)
    got = take(_reply(1))
    assert got.detail["status"] == {"before": "pending", "after": "open"}
    assert status_of(desk_store, "HD-1") == "open"


def test_a_reply_threads_to_its_ticket_when_numbers_differ_from_ids(
    desk_store: Desk, take: Take
) -> None:
    """Numbers and row ids part ways on any desk whose counter moved (a dry run that rolled
    back, an import): the reply belongs to the ticket it answers, not to the ticket whose
    number is that ticket's id."""
    with desk_store.store.write() as session:
        session.execute(update(Counter).values(value=Counter.value + 1000))
    take("gmail_new.eml")
    set_status(desk_store, "HD-1001", Status.OPEN, Status.PENDING)
    got = take(_reply(1))
    assert (got.decision, got.ticket) == ("threaded", "HD-1001")
    assert status_of(desk_store, "HD-1001") == "open"


def test_reply_to_a_resolved_ticket_reopens_it(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.OPEN, Status.RESOLVED)
    take(_reply(1))
    assert status_of(desk_store, "HD-1") == "open"


def test_reply_to_a_closed_ticket_reopens_within_the_window(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.OPEN, Status.RESOLVED, Status.CLOSED)
    got = take(_reply(1), at=NOW + timedelta(days=3))
    assert (got.decision, got.ticket) == ("threaded", "HD-1")
    assert status_of(desk_store, "HD-1") == "open"


def test_reply_to_a_long_closed_ticket_opens_a_linked_follow_up(
    desk_store: Desk, take: Take
) -> None:
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.OPEN, Status.RESOLVED, Status.CLOSED)
    got = take(_reply(1), at=NOW + timedelta(days=40))
    assert (got.decision, got.ticket, got.detail["follow_up_of"]) == ("follow-up", "HD-2", "HD-1")
    assert status_of(desk_store, "HD-1") == "closed"
    with desk_store.store.read() as session:
        assert tickets.get_ticket(session, "HD-2").custom_fields["follow_up_of"] == "HD-1"


# --- automatic mail and loops ---------------------------------------------------------------


def test_auto_reply_is_stored_but_never_reopens(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_outbox_id(desk_store, "HD-1", "ack", ACK_HD1)
    set_status(desk_store, "HD-1", Status.OPEN, Status.PENDING)
    outbox_before = count(desk_store, Outbox)
    got = take("auto_reply_ooo.eml")
    assert (got.decision, got.ticket) == ("threaded", "HD-1")
    assert got.detail["automatic"] == "Auto-Submitted: auto-replied"
    assert status_of(desk_store, "HD-1") == "pending"
    assert count(desk_store, Outbox) == outbox_before  # never answered


def test_exchange_auto_reply_to_a_resolved_ticket_keeps_it_resolved(
    desk_store: Desk, take: Take, make_ticket: Callable[..., str]
) -> None:
    make_ticket("one", requester="jens.meyer@globex.example")
    make_ticket("VPN", requester="jens.meyer@globex.example")
    set_outbox_id(desk_store, "HD-2", "reply", REPLY_HD2)
    set_status(desk_store, "HD-2", Status.OPEN, Status.RESOLVED)
    got = take("exchange_ooo.eml")
    assert got.ticket == "HD-2" and "X-Auto-Response-Suppress" in got.detail["automatic"]
    assert status_of(desk_store, "HD-2") == "resolved"


def test_automatic_mail_without_a_thread_gets_no_acknowledgement(
    desk_store: Desk, take: Take
) -> None:
    got = take("mailing_list.eml")
    assert got.decision == "new-ticket" and got.detail["automatic"] == "Precedence: list"
    assert count(desk_store, Outbox) == 0


def outbox_kinds(desk: Desk, key: str) -> list[tuple[str, list[str]]]:
    with desk.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        rows = session.execute(
            select(Outbox.kind, Outbox.to_addrs).where(Outbox.ticket_id == ticket.id)
        ).all()
        return [(kind, list(to)) for kind, to in rows]


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("mailer-daemon@juniperlegal.example", {"Auto_Submitted": "auto-generated"}),
        ("monitor@acme.example", {"Auto_Submitted": "auto-generated"}),  # an alert
        ("postmaster@acme.example", {}),  # a robot by its address alone
    ],
)
def test_a_ticket_from_automatic_mail_gets_no_survey(
    desk_store: Desk, take: Take, sender: str, headers: dict[str, str]
) -> None:
    got = take(
        mail(sender, "Disk full", "Volume /srv at 98%.", message_id="<a@x.example>", **headers)
    )
    assert got.decision == "new-ticket" and got.detail["automatic"]
    set_status(desk_store, got.ticket or "", Status.OPEN, Status.RESOLVED)
    assert outbox_kinds(desk_store, got.ticket or "") == []  # no acknowledgement, no survey


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("anna.rossi@acme.example", {"Auto_Submitted": "auto-replied"}),  # RFC 3834
        ("anna.rossi@acme.example", {"X_Autoreply": "yes"}),  # a vacation responder's own
        ("mailer-daemon@juniperlegal.example", {"X_Failed_Recipients": "x@y.example"}),
        ("someone.new@elsewhere.example", {"Return_Path": "<>"}),  # a bounce
    ],
)
def test_an_automatic_answer_matching_no_ticket_opens_none(
    desk_store: Desk, take: Take, sender: str, headers: dict[str, str]
) -> None:
    contacts_before = count(desk_store, Contact)
    got = take(mail(sender, "Out of office", "I am away.", message_id="<ooo@x.example>", **headers))
    assert (got.decision, got.ticket) == ("ignored", None)
    assert "matching no ticket" in got.detail["reason"] and got.detail["automatic"]
    assert count(desk_store, Ticket) == 0 and count(desk_store, Outbox) == 0
    assert count(desk_store, Contact) == contacts_before  # no contact made for it either
    again = take(mail(sender, "Out of office", "I am away.", message_id="<ooo@x.example>"))
    assert again.decision == "duplicate"  # kept: taken once, explainable


def test_a_person_mailing_in_gets_acknowledgement_and_survey(desk_store: Desk, take: Take) -> None:
    got = take(mail(message_id="<human@acme.example>", Auto_Submitted="no"))
    assert got.decision == "new-ticket" and "automatic" not in got.detail
    set_status(desk_store, got.ticket or "", Status.OPEN, Status.RESOLVED)
    to = ["anna.rossi@acme.example"]
    assert outbox_kinds(desk_store, got.ticket or "") == [("ack", to), ("survey", to)]


def test_a_robot_requester_typed_in_by_an_agent_gets_no_automatic_mail(
    desk_store: Desk, make_ticket: Callable[..., str]
) -> None:
    key = make_ticket("Bounce storm", requester="MAILER-DAEMON@juniperlegal.example")
    set_status(desk_store, key, Status.OPEN, Status.RESOLVED)
    assert outbox_kinds(desk_store, key) == []
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        detail = session.scalar(
            select(TicketEvent.detail).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.CREATED
            )
        )
    assert detail is not None and detail["acknowledgement"].endswith("is a mailer-daemon address")


def test_bounce_threads_to_the_mail_it_returns(
    desk_store: Desk, take: Take, make_ticket: Callable[..., str]
) -> None:
    for n in range(3):
        make_ticket(f"ticket {n}", requester="nobody@acme.example")
    set_outbox_id(desk_store, "HD-3", "ack", ACK_HD3)
    set_status(desk_store, "HD-3", Status.OPEN, Status.PENDING)
    outbox_before = count(desk_store, Outbox)
    got = take("bounce_dsn.eml")
    assert (got.decision, got.ticket, got.detail["matched_by"]) == ("threaded", "HD-3", "bounce")
    assert status_of(desk_store, "HD-3") == "pending"
    assert count(desk_store, Outbox) == outbox_before
    with desk_store.store.read() as session:
        body = session.scalars(select(Message.body).order_by(Message.id.desc())).first()
    assert body is not None and "Status: 5.1.1" in body


def test_our_own_acknowledgement_fed_back_creates_nothing(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    with desk_store.store.read() as session:
        ack = session.scalars(select(Outbox).where(Outbox.kind == "ack")).one()
        session.expunge(ack)
    echoed = mail(
        DESK_ADDRESS,
        ack.subject,
        ack.body,
        message_id=ack.message_id,
        Auto_Submitted="auto-replied",
    )
    before = (count(desk_store, Ticket), count(desk_store, Message), count(desk_store, Outbox))
    got = take(echoed)
    assert got.decision == "ignored" and "our own ack mail" in got.detail["reason"]
    after = (count(desk_store, Ticket), count(desk_store, Message), count(desk_store, Outbox))
    assert after == before
    # The same text under a new Message-ID (a forwarder rewrote it) is still ours: ignored.
    again = take(mail(DESK_ADDRESS, ack.subject, ack.body, message_id="<rewritten@relay.example>"))
    assert again.decision == "ignored" and "own address" in again.detail["reason"]
    assert count(desk_store, Ticket) == before[0]


def test_a_burst_of_automatic_mail_from_one_sender_is_rate_limited(
    desk_store: Desk, take: Take
) -> None:
    decisions = [
        take(
            mail(
                "robot@acme.example",
                f"alert {n}",
                message_id=f"<alert-{n}@acme.example>",
                Auto_Submitted="auto-generated",
            ),
            at=NOW + timedelta(seconds=n),
        ).decision
        for n in range(8)
    ]
    assert decisions[:5] == ["new-ticket"] * 5
    assert decisions[5:] == ["rate-limited"] * 3
    assert count(desk_store, Ticket) == 5
    assert count(desk_store, InboundMail) == 8  # every mail is still recorded, raw kept
    # The window passes: the sender is heard again.
    later = take(
        mail("robot@acme.example", "alert", message_id="<alert-9@acme.example>"),
        at=NOW + timedelta(hours=1),
    )
    assert later.decision == "new-ticket"


# --- duplicates, surveys, explain -----------------------------------------------------------


def test_duplicate_message_id_is_skipped_and_reported(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    before = (count(desk_store, Ticket), count(desk_store, Message), count(desk_store, Outbox))
    got = take("gmail_new.eml")
    assert (got.decision, got.ticket, got.duplicate) == ("duplicate", "HD-1", True)
    assert got.detail["first_decision"] == "new-ticket"
    after = (count(desk_store, Ticket), count(desk_store, Message), count(desk_store, Outbox))
    assert after == before and count(desk_store, InboundMail) == 1


def test_answer_to_our_survey_records_the_score(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.OPEN, Status.RESOLVED)
    with desk_store.store.read() as session:
        survey_id = session.scalar(select(Outbox.message_id).where(Outbox.kind == "survey"))
    if survey_id is None:  # the desk sends no survey: give the ticket one
        survey_id = "<survey-hd-1@desk.example>"
        set_outbox_id(desk_store, "HD-1", "survey", survey_id)
    got = take(mail(body="5 - thanks!", message_id="<s-1@acme.example>", in_reply_to=survey_id))
    assert (got.decision, got.ticket, got.detail["survey"]["score"]) == ("survey-answer", "HD-1", 5)
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, "HD-1")
        # A good score confirms the resolution: the ticket closes, and `mail explain` says so.
        assert (ticket.csat_score, ticket.status) == (5, Status.CLOSED)
    assert got.detail["survey"] == {"score": 5, "reopened": False, "closed": True}


def test_a_complaint_answering_a_long_closed_survey_opens_a_follow_up(
    desk_store: Desk, take: Take
) -> None:
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.OPEN, Status.RESOLVED)
    with desk_store.store.read() as session:
        survey_id = session.scalar(select(Outbox.message_id).where(Outbox.kind == "survey"))
    assert survey_id is not None
    set_status(desk_store, "HD-1", Status.CLOSED)
    answer = mail(body="Still broken.", message_id="<s-2@acme.example>", in_reply_to=survey_id)
    got = take(answer, at=NOW + timedelta(days=40))
    assert (got.decision, got.ticket, got.detail["follow_up_of"]) == (
        "survey-answer",
        "HD-2",
        "HD-1",
    )
    assert got.creates_ticket  # so a dry run numbers it as a new ticket


def test_explain_names_what_matched(desk_store: Desk, take: Take) -> None:
    take("gmail_new.eml")
    set_outbox_id(desk_store, "HD-1", "ack", ACK_HD1)
    take("gmail_reply.eml")
    with desk_store.store.read() as session:
        first = mail_intake.explain(session, "<CAHx7Wd1=q9Lr3kPz@mail.gmail.com>")
        second = mail_intake.explain(session, "CAHx7Wd2+reply8Kq@mail.gmail.com")
        ours = mail_intake.explain(session, ACK_HD1)
        with pytest.raises(NotFound, match="no mail with Message-ID <nope@x> was taken in"):
            mail_intake.explain(session, "<nope@x>")
    assert (first.source, first.decision, first.ticket) == ("inbound", "new-ticket", "HD-1")
    assert first.detail["reason"].startswith("no known Message-ID")
    assert (second.decision, second.detail["matched_by"]) == ("threaded", "in-reply-to")
    assert (ours.source, ours.ticket) == ("outbox", "HD-1")


def test_contact_is_matched_by_a_secondary_address(desk_store: Desk, take: Take) -> None:
    from tui_helpdesk.services import directory

    with desk_store.store.write() as session:
        directory.add_contact(
            session,
            NOW,
            directory.ContactDraft(
                "Anna Rossi", email="anna@acme.example", emails=["anna.rossi@acme.example"]
            ),
            None,
        )
    got = take("gmail_new.eml")
    assert got.detail["contact"]["created"] is False
    with desk_store.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert tickets.get_ticket(session, "HD-1").requester.email == "anna@acme.example"


def test_classification_and_routing_rules_apply_to_mail(desk_store: Desk, take: Take) -> None:
    from tui_helpdesk.rules.document import parse_rules
    from tui_helpdesk.services import desk

    rules = """
[desk]
ticket_prefix = "HD"

[[route]]
name = "billing-mail"
where = { channel = ["email"], sender_domain = ["initech.example"], body = ["vat"] }
set = { category = "Billing", group = "L2", priority = "high", tags = ["billing"] }
"""
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(rules))
    assert take("html_only.eml").decision == "new-ticket"
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, "HD-1")
        routed = (
            ticket.category.path if ticket.category else None,
            ticket.group.name if ticket.group else None,
        )
        assert (routed, ticket.priority.value, ticket.tags) == (
            ("Billing", "L2"),
            "high",
            ["billing"],
        )


def test_nul_bytes_and_junk_anywhere_are_stored_safely(desk_store: Desk, take: Take) -> None:
    raw = (
        b"From: =?utf-8?q?Nul=00Name?= <nul\x00@acme.example>\r\n"
        b"Subject: zero \x00 byte =?utf-8?b?AAE=?=\r\n"
        b"Message-ID: <id\x00with-nul@acme.example>\r\n"
        b"In-Reply-To: <\x00>\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody \x00 here\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        b'filename="a\x00b.bin"\r\n\r\n\x00\x01\x02\r\n--b--\r\n'
    )
    got = take(raw)
    assert got.decision in ("new-ticket", "unusable-sender")
    with desk_store.store.read() as session:
        row = session.scalar(select(InboundMail))
        assert row is not None and "\x00" not in row.message_id
        for body in session.scalars(select(Message.body)):
            assert "\x00" not in body
        for name in session.scalars(select(Attachment.filename)):
            assert "\x00" not in name


@pytest.mark.parametrize("sender", ["root@localhost", "not an address <@>", "<>"])
def test_senders_we_cannot_store_are_recorded(take: Take, sender: str) -> None:
    got = take(mail(sender, message_id=f"<odd-{abs(hash(sender))}@x.example>"))
    assert got.decision == "unusable-sender" and got.ticket is None


def test_an_agent_answering_a_notification_by_mail_writes_an_internal_note(
    desk_store: Desk, take: Take
) -> None:
    """Bob answers the notification mail of HD-1 from his own address (case aside): his
    words go on the ticket as his internal note, not as the customer's, and he does not
    become a contact; the ticket stays as it was."""
    take("gmail_new.eml")
    set_status(desk_store, "HD-1", Status.PENDING)
    set_outbox_id(desk_store, "HD-1", "notify", "<notify-hd1@desk.example>")
    contacts = count(desk_store, Contact)
    got = take(
        mail(
            "Bob Agent <Bob@Desk.example>",
            "Re: [HD-1] Escalation",
            "Looking at it; the customer's VPN log says more.",
            message_id="<bob-answer@desk.example>",
            in_reply_to="<notify-hd1@desk.example>",
        )
    )
    assert (got.decision, got.ticket) == ("agent-note", "HD-1")
    assert got.detail["agent"] == "bob" and got.detail["matched_by"] == "in-reply-to"
    assert count(desk_store, Contact) == contacts
    assert status_of(desk_store, "HD-1") == "pending"  # a customer's answer would reopen it
    with desk_store.store.read() as session:
        note = session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert note is not None and note.kind is MessageKind.NOTE
        assert note.author_agent is not None and note.author_agent.login == "bob"
        assert note.body.startswith("Looking at it")
    # Someone else answering the same mail is not taken for the agent.
    other = take(
        mail(
            "anna.rossi@acme.example",
            "Re: [HD-1] Escalation",
            "Any news?",
            message_id="<anna-answer@acme.example>",
            in_reply_to="<notify-hd1@desk.example>",
        )
    )
    assert other.decision == "threaded"

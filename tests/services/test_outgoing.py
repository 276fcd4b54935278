"""Mail queued by the ticket services: the acknowledgement (never to a robot, rate-limited per
sender), public replies threaded under the conversation, the survey of a resolved ticket,
notifications threaded per ticket, and the templates they are written with."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.domain import OutboxState, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, mail_setup, notify, outgoing, templates, tickets
from tui_helpdesk.services.tickets import MailHeaders
from tui_helpdesk.store.models import Message, Outbox, TicketEvent

ANNA = "anna@acme.example"


def _outbox(desk_store: Desk, kind: str | None = None) -> list[Outbox]:
    with desk_store.store.read() as session:
        query = select(Outbox).order_by(Outbox.id)
        if kind is not None:
            query = query.where(Outbox.kind == kind)
        rows = list(session.scalars(query))
        session.expunge_all()  # kept as read: the read unit rolls back (and would expire them)
        return rows


def _created_detail(desk_store: Desk, key: str) -> dict[str, Any]:
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        event = session.scalars(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "created"
            )
        ).one()
        assert event.detail is not None
        return event.detail


def _rules(desk_store: Desk, extra: str) -> None:
    text = f'[desk]\nticket_prefix = "HD"\nphone_region = "IT"\n{extra}\n'
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(text))


# --- acknowledgements ------------------------------------------------------------------------


def test_a_new_ticket_is_acknowledged(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket("Printer on fire", requester=ANNA)
    [ack] = _outbox(desk_store)
    assert ack.kind == "ack" and ack.to_addrs == [ANNA]
    assert ack.subject == f"[{key}] We received your request: Printer on fire"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ack.headers["X-Helpdesk-Ticket"] == key
    assert ack.state is OutboxState.QUEUED and ack.next_attempt_at == NOW
    assert ack.message_id.endswith("@helpdesk.invalid>")  # no mail context: a placeholder
    assert key in ack.body
    assert _created_detail(desk_store, key)["acknowledgement"] == "queued"


def test_the_acknowledgement_threads_under_the_customers_mail(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    mail = MailHeaders(
        "<m2@acme.example>", "<m1@acme.example>", "<m0@acme.example> <m1@acme.example>"
    )
    make_ticket(mail=mail)
    [ack] = _outbox(desk_store)
    assert ack.headers["In-Reply-To"] == "<m2@acme.example>"
    assert ack.headers["References"] == "<m0@acme.example> <m1@acme.example> <m2@acme.example>"


def test_the_desks_address_names_our_message_ids(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        outgoing.bind_mail(session, outgoing.mail_context_for("Support@Desk.Example"))
        tickets.create_ticket(
            session, desk_store.agent, NOW, tickets.NewTicket("Hi", body="x", requester=ANNA)
        )
    [ack] = _outbox(desk_store)
    assert ack.message_id.endswith("@desk.example>") and ".hd-1@" in ack.message_id


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"automatic": True}, "not sent: the mail was automatic"),
        ({"requester": "+39 02 1234 5678"}, "not sent: the requester has no email address"),
        ({"requester": None}, "not sent: internal ticket"),
    ],
)
def test_no_acknowledgement(
    desk_store: Desk, make_ticket: MakeTicket, fields: dict[str, Any], reason: str
) -> None:
    key = make_ticket(**fields)
    assert _outbox(desk_store) == []
    assert _created_detail(desk_store, key)["acknowledgement"] == reason


def test_acknowledgements_can_be_turned_off(desk_store: Desk, make_ticket: MakeTicket) -> None:
    _rules(desk_store, "acknowledge = false")
    key = make_ticket()
    assert _outbox(desk_store) == []
    assert "desk.acknowledge" in _created_detail(desk_store, key)["acknowledgement"]


def test_acknowledgements_to_one_sender_are_rate_limited(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    _rules(desk_store, "acknowledge_per_hour = 2")
    keys = [make_ticket(at=NOW + timedelta(minutes=i)) for i in range(3)]
    make_ticket(requester="other@acme.example", at=NOW + timedelta(minutes=3))
    assert [a.to_addrs for a in _outbox(desk_store)] == [[ANNA], [ANNA], ["other@acme.example"]]
    reason = _created_detail(desk_store, keys[2])["acknowledgement"]
    assert "already got 2 acknowledgement(s) this hour" in reason
    make_ticket(at=NOW + timedelta(minutes=61))  # the first has left the hour
    assert len(_outbox(desk_store, "ack")) == 4


# --- replies ---------------------------------------------------------------------------------


def _reply(desk_store: Desk, key: str, body: str, at: datetime, **kw: Any) -> int:
    with desk_store.store.write() as session:
        return tickets.reply(session, desk_store.agent, at, key, body, **kw).id


def test_a_public_reply_is_mailed_in_the_thread(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(mail=MailHeaders("<m1@acme.example>"))
    first = _reply(desk_store, key, "Unplug it.", NOW + timedelta(minutes=5))
    with desk_store.store.write() as session:
        tickets.add_customer_message(
            session,
            desk_store.agent,
            NOW + timedelta(minutes=10),
            key,
            tickets.get_ticket(session, key).requester,
            "Done, now what?",
            mail=MailHeaders("<m2@acme.example>", None, "<m1@acme.example>"),
        )
    second = _reply(desk_store, key, "Plug it back.", NOW + timedelta(minutes=15))
    ack, mail1, mail2 = _outbox(desk_store)
    assert (mail1.kind, mail1.message_row_id, mail1.to_addrs) == ("reply", first, [ANNA])
    assert mail1.subject == f"[{key}] Re: Printer on fire"
    assert "Unplug it." in mail1.body and "Bob Agent" in mail1.body
    assert "Auto-Submitted" not in mail1.headers
    assert mail1.headers["In-Reply-To"] == "<m1@acme.example>"
    # RFC 5322: the parent's references and the parent; our later ack is not an ancestor.
    assert mail1.headers["References"] == "<m1@acme.example>"
    assert mail2.headers["In-Reply-To"] == "<m2@acme.example>"
    assert mail2.headers["References"] == (
        f"<m1@acme.example> {ack.message_id} {mail1.message_id} <m2@acme.example>"
    )
    with desk_store.store.read() as session:
        message = session.get(Message, second)
        assert message is not None
        assert message.message_id == mail2.message_id
        assert message.in_reply_to == "<m2@acme.example>"
        assert message.delivery_state is OutboxState.QUEUED
        event = session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "reply").order_by(TicketEvent.id)
        ).first()
        assert event is not None and event.detail == {"mail": mail1.message_id, "to": [ANNA]}


def test_a_reply_to_a_phone_caller_is_not_mailed(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(requester="+39 02 1234 5678")
    message_id = _reply(desk_store, key, "Call you back.", NOW)
    assert _outbox(desk_store) == []
    with desk_store.store.read() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.delivery_state is None


# --- the survey ------------------------------------------------------------------------------


def _status(desk_store: Desk, key: str, status: Status, at: datetime = NOW) -> None:
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, at, key, status)


def test_resolving_sends_the_survey_once(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    version = look(key).version
    _status(desk_store, key, Status.RESOLVED)
    assert look(key).version == version + 1  # one change, one version
    [survey] = _outbox(desk_store, "survey")
    assert survey.subject == f"[{key}] How did we do? Printer on fire"
    assert survey.headers["Auto-Submitted"] == "auto-generated"
    assert "1 (not at all) to 5" in survey.body
    _status(desk_store, key, Status.OPEN)
    _status(desk_store, key, Status.RESOLVED)  # the first survey is still waiting to go
    assert len(_outbox(desk_store, "survey")) == 1


def test_a_reply_that_resolves_sends_reply_and_survey(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket()
    _reply(desk_store, key, "Fixed.", NOW, status=Status.RESOLVED)
    assert [row.kind for row in _outbox(desk_store)] == ["ack", "reply", "survey"]


def test_surveys_can_be_turned_off(desk_store: Desk, make_ticket: MakeTicket) -> None:
    _rules(desk_store, "survey = false")
    key = make_ticket()
    _status(desk_store, key, Status.RESOLVED)
    assert _outbox(desk_store, "survey") == []


# --- notifications ---------------------------------------------------------------------------


def test_notifications_of_a_ticket_thread_together(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        notify.notify(session, ticket, NOW, ["bob@desk.example"], "Escalation: fire", "Hurry.")
        session.flush()
        notify.notify(session, ticket, NOW, ["bob@desk.example"], "Escalation: again", "Now.")
    first, second = _outbox(desk_store, "notify")
    assert first.subject == f"[{key}] Escalation: fire"
    assert "Hurry." in first.body and f"Ticket: {key}" in first.body
    assert "In-Reply-To" not in first.headers
    assert second.headers["In-Reply-To"] == first.message_id
    assert second.headers["References"] == first.message_id


# --- templates -------------------------------------------------------------------------------


def test_template_overrides_are_used(desk_store: Desk, tmp_path: Path) -> None:
    (tmp_path / "ack.txt").write_text("Subject: Got it ({ticket})\n\nDear {requester_name}.\n")
    with desk_store.store.write() as session:
        outgoing.bind_mail(session, outgoing.mail_context_for("support@desk.example", tmp_path))
        tickets.create_ticket(
            session,
            desk_store.agent,
            NOW,
            tickets.NewTicket("Hi", body="x", requester=ANNA, requester_name="Anna"),
        )
    [ack] = _outbox(desk_store)
    assert ack.subject == "[HD-1] Got it (HD-1)"
    assert ack.body == "Dear Anna.\n"


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("ack.txt", "Subject: {tikcet}\n\nx\n", r"ack\.txt: unknown placeholder \{tikcet\}"),
        ("survey.txt", "Subject: s\n\n{body}\n", r"survey\.txt: unknown placeholder \{body\}"),
        ("reply.txt", "Subject: s\n\n{body!r}\n", "takes no format"),
        ("reply.txt", "Subject: s\n\n{body\n", "literal brace"),
        ("reply.txt", "Hello\n\n{body}\n", "first line must be 'Subject: ...'"),
        ("reply.txt", "Subject: s\nbody\n", "blank line must follow"),
        ("welcome.txt", "Subject: s\n\nx\n", r"welcome\.txt: unknown template"),
    ],
)
def test_bad_templates_are_refused_at_load(
    tmp_path: Path, name: str, text: str, error: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(templates.TemplateError, match=error) as refused:
        templates.load_templates(tmp_path)
    assert str(tmp_path / name) in str(refused.value)


def test_builtin_templates_render_every_event() -> None:
    loaded = templates.load_templates(None)
    assert set(loaded.templates) == set(templates.EVENTS)
    subject, body = loaded.render("reply", {"subject": "S", "body": "{ticket} as typed"})
    assert subject == "Re: S" and "{ticket} as typed" in body


def test_an_agent_hears_of_a_ticket_assigned_to_them(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    make_ticket("Mine", assignee="bob")  # bob took it himself: no mail
    key = make_ticket("For Cleo", assignee="cleo")
    [mail] = _outbox(desk_store, "notify")
    assert mail.to_addrs == ["cleo@desk.example"]
    assert mail.subject == f"[{key}] Assigned to you: For Cleo"
    assert "was assigned to you by Bob Agent." in mail.body


def test_a_session_factorys_mail_info_is_loaded_once(desk_store: Desk, tmp_path: Path) -> None:
    (tmp_path / "ack.txt").write_text("Subject: Got it\n\nYes.\n")
    info = mail_setup.mail_info("support@desk.example", tmp_path)
    for n in range(2):
        with desk_store.store.write() as session:
            session.info.update(info)
            tickets.create_ticket(
                session, desk_store.agent, NOW, tickets.NewTicket(f"T{n}", requester=ANNA)
            )
        (tmp_path / "ack.txt").write_text("Subject: {oops}\n\nx\n")  # read once: not again
    acks = _outbox(desk_store, "ack")
    assert [a.body for a in acks] == ["Yes.\n", "Yes.\n"]
    assert all(a.message_id.endswith("@desk.example>") for a in acks)


@pytest.mark.parametrize(
    ("address", "robot"),
    [
        ("MAILER-DAEMON@mx.example", "mailer-daemon"),
        ("MAILER-DAEMON", "mailer-daemon"),  # bounces often name no domain
        ("<postmaster>", "postmaster"),
        ("carla@customer.example", None),
        ("carla", None),
        ("", None),
        (None, None),
    ],
)
def test_robot_senders(address: str | None, robot: str | None) -> None:
    assert outgoing.robot_sender(address) == robot

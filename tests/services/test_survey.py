"""The satisfaction survey's answer: a score lands on the ticket, a complaint reopens it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.domain import MessageKind, Status
from tui_helpdesk.services import survey, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.tickets import MailHeaders
from tui_helpdesk.store.models import Counter, Message, Ticket

INTAKE = Actor.system("mail")
LATER = NOW + timedelta(hours=2)


@pytest.mark.parametrize(
    ("text", "score", "comment", "persists"),
    [
        ("5", 5, None, False),
        ("4 - quick and friendly, thanks", 4, "quick and friendly, thanks", False),
        ("Thanks! 4/5 great", 4, "Thanks! great", False),
        ("3 out of 5", 3, None, False),
        ("2 stars: slow", 2, "slow", False),
        ("10/10 would call again", None, "10/10 would call again", False),
        ("0", None, "0", False),
        ("Great job, no number", None, "Great job, no number", False),
        ("Still broken after the reboot", None, "Still broken after the reboot", True),
        ("1 - not fixed at all", 1, "not fixed at all", True),
        ("The problem persists.", None, "The problem persists", True),
        ("it still doesn't work", None, "it still doesn't work", True),
        ("please reopen", None, "please reopen", True),
        # The quoted survey (with its own "1" and "5") is not the customer's answer.
        ("> Reply with a number from\n> 1 (not at all) to 5 (very)\n", None, None, False),
        (
            "Fine\n\nOn Mon, 23 Nov 2026, Help Desk <support@desk.example> wrote:\n> 1 to 5",
            None,
            "Fine",
            False,
        ),
        ("4\n-----Original Message-----\nstill broken? reply 1-5", 4, None, False),
    ],
)
def test_read_answer(text: str, score: int | None, comment: str | None, persists: bool) -> None:
    assert survey.read_answer(text) == survey.SurveyAnswer(score, comment, persists)


def _resolved(desk_store: Desk, make_ticket: MakeTicket) -> str:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.RESOLVED)
    return key


def _answer(desk_store: Desk, key: str, text: str, at: datetime = LATER) -> survey.SurveyReply:
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        mail = MailHeaders(
            "<answer@acme.example>", "<survey@desk.example>", "<survey@desk.example>"
        )
        reply = survey.take_survey_reply(session, INTAKE, at, ticket, ticket.requester, text, mail)
        session.flush()
        _ = reply.ticket.key, reply.message.id
        return reply


def test_a_score_lands_on_the_ticket(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = _resolved(desk_store, make_ticket)
    before = look(key)
    reply = _answer(desk_store, key, "4 - quick and friendly\n\n> How did we do? 1-5")
    assert (reply.score, reply.reopened, reply.ticket.key) == (4, False, key)
    seen = look(key)
    # A good score is the customer's confirmation: the ticket closes (one change, one version).
    assert seen.status == "closed" and seen.version == before.version + 1 and reply.closed
    assert seen.doc["csat"] == 4
    assert ("customer_message", "mail", "csat_score", None, "4") in seen.events or (
        "csat",
        "mail",
        "csat_score",
        None,
        "4",
    ) in seen.events
    with desk_store.store.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.key == key)).one()
        assert ticket.csat_comment == "quick and friendly"
        assert ticket.csat_at == LATER
        message = session.get(Message, reply.message.id)
        assert message is not None and message.kind is MessageKind.CUSTOMER
        assert message.message_id == "<answer@acme.example>"
        assert message.in_reply_to == "<survey@desk.example>"
        assert message.body.startswith("4 - quick and friendly")


def test_a_second_answer_replaces_the_score(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = _resolved(desk_store, make_ticket)
    _answer(desk_store, key, "2")
    _answer(desk_store, key, "5 sorry, it was my cable", at=LATER + timedelta(minutes=5))
    seen = look(key)
    assert seen.doc["csat"] == 5
    assert [e[3:] for e in seen.events if e[2] == "csat_score"] == [(None, "2"), ("2", "5")]


def test_a_good_score_closes_the_resolved_ticket_audited(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = _resolved(desk_store, make_ticket)
    reply = _answer(desk_store, key, "5 thanks, all good now")
    assert (reply.score, reply.reopened, reply.closed) == (5, False, True)
    seen = look(key)
    assert seen.status == "closed" and seen.doc["closed_at"] is not None
    assert ("status", "mail", "status", "resolved", "closed") in seen.events
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        rules = [e.rule for e in tickets.ticket_events(session, ticket) if e.new == "closed"]
        assert rules == ["survey: the customer confirmed (score 5)"]


@pytest.mark.parametrize("text", ["3", "2 - slow", "5 but it is not working"])
def test_a_middling_score_or_a_complaint_does_not_close(
    desk_store: Desk, make_ticket: MakeTicket, look: Look, text: str
) -> None:
    key = _resolved(desk_store, make_ticket)
    reply = _answer(desk_store, key, text)
    assert not reply.closed
    assert look(key).status == ("open" if reply.reopened else "resolved")
    assert "closed" not in {e[4] for e in look(key).events}


@pytest.mark.parametrize("text", ["1, still broken", "what do you mean resolved?"])
def test_a_complaint_or_no_score_reopens(
    desk_store: Desk, make_ticket: MakeTicket, look: Look, text: str
) -> None:
    key = _resolved(desk_store, make_ticket)
    reply = _answer(desk_store, key, text)
    assert (reply.score, reply.reopened, reply.ticket.key) == (None, True, key)
    seen = look(key)
    assert seen.status == "open" and seen.doc["csat"] is None
    assert "reopened" in seen.kinds()


def test_an_answer_to_a_ticket_closed_long_ago_opens_a_follow_up(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = _resolved(desk_store, make_ticket)
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.CLOSED)
    reply = _answer(desk_store, key, "problem persists", at=NOW + timedelta(days=60))
    assert reply.reopened and reply.ticket.key != key
    assert look(key).status == "closed"
    assert ("follow_up", "mail", "follow_up_of", None, key) in look(reply.ticket.key).events


def test_a_score_on_a_closed_ticket_is_kept_without_reopening(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = _resolved(desk_store, make_ticket)
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.CLOSED)
    reply = _answer(desk_store, key, "5", at=NOW + timedelta(days=60))
    assert (reply.score, reply.reopened) == (5, False)
    seen = look(key)
    assert seen.status == "closed" and seen.doc["csat"] == 5


def test_a_complaint_reopens_its_own_ticket_when_numbers_differ_from_ids(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    """Numbers and row ids part ways on any desk whose counter was moved (an import, a
    migration from another desk): the answer belongs to the ticket it was read for."""
    first = _resolved(desk_store, make_ticket)
    with desk_store.store.write() as session:
        session.execute(update(Counter).values(value=Counter.value + 1000))
    key = _resolved(desk_store, make_ticket)
    with desk_store.store.read() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.key == key)).one()
        assert ticket.id != ticket.number
    reply = _answer(desk_store, key, "1, still broken")
    assert (reply.reopened, reply.ticket.key) == (True, key)
    assert look(key).status == "open" and look(first).status == "resolved"

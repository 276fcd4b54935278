"""Replies, internal notes and customer messages: first response, the status moves they
cause, and the closed-ticket rule (reopen within the window, else a linked follow-up)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket, events_of
from tui_helpdesk.domain import Channel, EventKind, MessageKind, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import InvalidTransition, ValidationError
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.store.models import Contact, Message

LATER = NOW + timedelta(minutes=20)


def _messages(desk_store: Desk, key: str) -> list[tuple[str, str]]:
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        return [(m.kind.value, m.body) for m in tickets.ticket_messages(session, ticket)]


def _status(desk_store: Desk, key: str, *steps: Status) -> None:
    for step in steps:
        with desk_store.store.write() as session:
            tickets.change_status(session, desk_store.agent, NOW, key, step)


def test_first_reply_opens_and_stamps_first_response(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        message = tickets.reply(
            session, desk_store.agent, LATER, key, "Unplug it.\n", expected_version=1
        )
        assert message.kind is MessageKind.REPLY
    seen = look(key)
    assert seen.status == "open"
    assert seen.doc["first_response_at"] == iso(LATER)
    assert seen.version == 2
    assert seen.events[1:] == [
        ("reply", "bob", None, None, None),
        ("first_response", "bob", None, None, LATER.isoformat()),
        # Unassigned and in no group: bob takes it, with his group (`assign_on_reply`).
        ("group", "bob", "group", None, "L1"),
        ("level", "bob", "level", None, "1"),
        ("assignee", "bob", "assignee", None, "bob"),
        ("status", "bob", "status", "new", "open"),
    ]
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.admin, LATER + timedelta(hours=1), key, "Still?")
    again = look(key)
    assert again.doc["first_response_at"] == iso(LATER)  # stamped once
    assert len(events_of(again, EventKind.FIRST_RESPONSE)) == 1
    assert events_of(again, EventKind.REPLY)[-1][1] == "admin"
    assert _messages(desk_store, key) == [
        ("customer", "It is smoking."),
        ("reply", "Unplug it."),
        ("reply", "Still?"),
    ]


def test_reply_with_status_pending(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, LATER, key, "Which model?", status=Status.PENDING)
    seen = look(key)
    assert seen.status == "pending"
    assert seen.events[-2:] == [
        ("status", "bob", "status", "new", "open"),  # taken by replying
        ("status", "bob", "status", "open", "pending"),
    ]
    opened = make_ticket()
    _status(desk_store, opened, Status.OPEN)
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, LATER, opened, "Fixed.", status=Status.RESOLVED)
    assert look(opened).status == "resolved"
    assert look(opened).doc["resolved_at"] == iso(LATER)


def test_the_first_reply_to_an_unassigned_ticket_of_ones_group_takes_it(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    """bob is in L1: replying takes an unassigned L1 ticket, audited with the setting as its
    rule; an L2 ticket stays in L2's queue, an assigned one stays its assignee's, and a desk
    with `assign_on_reply = false` takes nothing."""
    ours, theirs = make_ticket(group="L1"), make_ticket(group="L2")
    owned = make_ticket(group="L1", assignee="admin")
    for key in (ours, theirs, owned):
        with desk_store.store.write() as session:
            tickets.reply(session, desk_store.agent, LATER, key, "On it.")
    assert [look(k).doc["assignee"] for k in (ours, theirs, owned)] == ["bob", None, "admin"]
    assert (look(theirs).doc["group"], look(theirs).status) == ("L2", "open")
    with desk_store.store.read() as session:
        taken = tickets.get_ticket(session, ours)
        rules = [e.rule for e in tickets.ticket_events(session, taken) if e.field == "assignee"]
    assert rules == [tickets.ASSIGN_ON_REPLY]

    with desk_store.store.write() as session:
        desk.apply_rules(
            session,
            desk_store.admin,
            NOW,
            parse_rules('[desk]\nticket_prefix = "HD"\nassign_on_reply = false\n'),
        )
    later = make_ticket(group="L1")
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, LATER, later, "On it.")
    assert look(later).doc["assignee"] is None


def test_refused_reply_writes_nothing(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    _status(desk_store, key, Status.RESOLVED)
    before = look(key)
    with desk_store.store.write() as session:
        with pytest.raises(InvalidTransition, match="cannot go from resolved to pending"):
            tickets.reply(session, desk_store.agent, LATER, key, "More?", status=Status.PENDING)
        with pytest.raises(ValidationError, match="empty"):
            tickets.reply(session, desk_store.agent, LATER, key, " \n ")
        assert not session.new and not session.dirty
    assert look(key) == before
    assert _messages(desk_store, key) == [("customer", "It is smoking.")]


def test_reply_to_closed_refused(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket()
    _status(desk_store, key, Status.RESOLVED, Status.CLOSED)
    with (
        desk_store.store.write() as session,
        pytest.raises(InvalidTransition, match="is closed: reopen it first"),
    ):
        tickets.reply(session, desk_store.agent, LATER, key, "Hello")


def test_note_is_internal_and_no_first_response(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        note = tickets.add_note(session, desk_store.agent, LATER, key, "Customer sounds upset")
        assert note.kind is MessageKind.NOTE
        assert not note.kind.is_public
    seen = look(key)
    assert seen.status == "new"
    assert seen.doc["first_response_at"] is None
    assert seen.events[-1] == ("note", "bob", None, None, None)
    assert seen.version == 2
    # Notes are allowed on a closed ticket (the history goes on), replies are not.
    _status(desk_store, key, Status.RESOLVED, Status.CLOSED)
    with desk_store.store.write() as session:
        tickets.add_note(session, desk_store.agent, LATER, key, "Post-mortem done")
    assert _messages(desk_store, key)[-1] == ("note", "Post-mortem done")


def _customer_says(
    desk_store: Desk,
    key: str,
    body: str,
    *,
    at: datetime = LATER,
    automatic: bool = False,
) -> tickets.CustomerMessageResult:
    with desk_store.store.write() as session:
        anna = session.scalar(select(Contact).where(Contact.email == "anna@acme.example"))
        assert anna is not None
        return tickets.add_customer_message(
            session, Actor.system("intake"), at, key, anna, body, automatic=automatic
        )


@pytest.mark.parametrize("start", [Status.PENDING, Status.RESOLVED])
def test_customer_message_reopens(
    desk_store: Desk, make_ticket: MakeTicket, look: Look, start: Status
) -> None:
    key = make_ticket()
    _status(desk_store, key, start)
    result = _customer_says(desk_store, key, "It is back.")
    assert result.follow_up_of is None
    assert result.ticket.key == key
    seen = look(key)
    assert seen.status == "open"
    assert ("customer_message", "intake", None, None, None) in seen.events
    assert ("status", "intake", "status", start.value, "open") in seen.events
    if start is Status.RESOLVED:
        assert ("reopened", "intake", "status", "resolved", "open") in seen.events
        assert seen.doc["resolved_at"] is None
    assert _messages(desk_store, key)[-1] == ("customer", "It is back.")
    assert seen.doc["first_response_at"] is None  # a customer message is no response


def test_customer_message_on_open_and_automatic(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    _customer_says(desk_store, key, "Any news?")
    assert look(key).status == "new"
    _status(desk_store, key, Status.PENDING)
    _customer_says(desk_store, key, "I am out of office.", automatic=True)
    assert look(key).status == "pending"  # automatic mail never reopens


def test_closed_within_window_reopens(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    _status(desk_store, key, Status.RESOLVED, Status.CLOSED)
    result = _customer_says(desk_store, key, "Broken again", at=NOW + timedelta(days=13))
    assert result.follow_up_of is None
    seen = look(key)
    assert seen.status == "open"
    assert seen.doc["closed_at"] is None
    assert ("reopened", "intake", "status", "closed", "open") in seen.events


def test_closed_beyond_window_creates_linked_follow_up(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket(category="Technical > Network", channel=Channel.EMAIL)
    _status(desk_store, key, Status.RESOLVED, Status.CLOSED)
    before = look(key)
    result = _customer_says(desk_store, key, "Broken again", at=NOW + timedelta(days=30))
    assert result.follow_up_of is not None and result.follow_up_of.key == key
    new_key = result.ticket.key
    assert new_key != key
    assert result.message.body == "Broken again"
    assert result.message.kind is MessageKind.CUSTOMER

    old = look(key)
    assert (old.status, old.version) == ("closed", before.version)
    assert old.events[-1] == ("follow_up", "intake", "follow_up", None, new_key)

    new = look(new_key)
    assert new.status == "new"
    assert new.doc["subject"] == before.doc["subject"]
    assert new.doc["requester"] == before.doc["requester"]
    assert new.doc["organization"] == "Acme"
    assert (new.doc["category"], new.doc["priority"], new.doc["group"]) == (
        "Technical > Network",
        "high",
        "L1",
    )
    assert new.doc["created_at"] == iso(NOW + timedelta(days=30))
    assert new.kinds() == ["created", "follow_up"]
    assert new.events[-1] == ("follow_up", "intake", "follow_up_of", None, key)
    assert _messages(desk_store, new_key) == [("customer", "Broken again")]
    assert _messages(desk_store, key) == [("customer", "It is smoking.")]
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, new_key)
        assert ticket.custom_fields == {"follow_up_of": key}
        assert ticket.version == 1


def test_customer_message_to_merged_ticket_lands_in_target(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    source, target = make_ticket("dup"), make_ticket("main")
    with desk_store.store.write() as session:
        tickets.merge(session, desk_store.agent, NOW, source, target)
    result = _customer_says(desk_store, source, "Hello?")
    assert result.ticket.key == target
    assert _messages(desk_store, target)[-1] == ("customer", "Hello?")
    final = make_ticket("final")
    with desk_store.store.write() as session:
        tickets.merge(session, desk_store.agent, NOW, target, final)
    assert _customer_says(desk_store, source, "Anyone?").ticket.key == final  # followed twice
    assert _messages(desk_store, final)[-1] == ("customer", "Anyone?")
    with (
        desk_store.store.write() as session,
        pytest.raises(InvalidTransition, match=f"merged into {target}"),
    ):
        tickets.reply(session, desk_store.agent, LATER, source, "Hi")


def test_messages_of_every_kind_are_kept_in_order(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.add_note(session, desk_store.agent, NOW + timedelta(minutes=1), key, "n")
        tickets.reply(session, desk_store.agent, NOW + timedelta(minutes=2), key, "r")
    _customer_says(desk_store, key, "c", at=NOW + timedelta(minutes=3))
    assert [kind for kind, _ in _messages(desk_store, key)] == [
        "customer",
        "note",
        "reply",
        "customer",
    ]
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert len(tickets.ticket_messages(session, ticket, limit=2)) == 2
        assert session.scalar(select(Message.id).where(Message.body == "c")) is not None

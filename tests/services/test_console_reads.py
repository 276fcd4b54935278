"""The console's reads in few statements: a queue page and an opened ticket show exactly
what the `Ticket` objects say, field by field, on both back ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import NOW, Desk, statements
from tests.services.conftest import MakeTicket
from tui_helpdesk.domain import Channel, MessageKind, Status
from tui_helpdesk.services import directory, tickets, views
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.services.queue import TicketRow
from tui_helpdesk.services.views import (
    Countdowns,
    View,
    find_ticket,
    queue_page,
    queue_row,
    ticket_detail,
)
from tui_helpdesk.store.models import Contact, Message, Ticket


@pytest.fixture
def conversation(desk_store: Desk, make_ticket: MakeTicket) -> str:
    """A tagged, categorised ticket whose thread has every kind of author: a named customer,
    one known by address only (empty name), an agent, a note, a rule's note, a system
    message."""
    key = make_ticket(
        "VPN \x1b[31mdown\x1b[0m",
        category="Technical > Network",
        tags=["vpn", "access", "night"],
        assignee="bob",
        channel=Channel.PHONE,
    )
    with desk_store.store.write() as session:
        other = directory.add_contact(
            session, NOW, directory.ContactDraft(email="noname@other.example"), None
        )
        session.execute(update(Contact).where(Contact.id == other.id).values(name=""))
        at = NOW + timedelta(minutes=1)
        tickets.reply(session, desk_store.agent, at, key, "We are on it.")
        tickets.add_note(session, desk_store.admin, at, key, "Checked the \x07 tunnel.")
        rule = Actor.system("escalation")  # a rule's note: written by the desk itself
        tickets.add_note(session, rule, at, key, "Target missed", rule="first-response-missed")
        tickets.add_customer_message(session, desk_store.agent, at, key, other, "Me too!")
        ticket = tickets.get_ticket(session, key)
        session.add(
            Message(ticket_id=ticket.id, kind=MessageKind.SYSTEM, body="merged", created_at=at)
        )
    return key


def _author_of(message: Message) -> str:
    """The reference: what the thread showed when it was read through the ORM."""
    if message.kind is MessageKind.SYSTEM:
        return "system"
    contact = message.author_contact
    if message.kind is MessageKind.CUSTOMER and contact is not None:
        return contact.name or contact.email or contact.phone or "customer"
    agent = message.author_agent
    return (agent.name or agent.login) if agent is not None else "desk"


def test_an_opened_ticket_is_what_the_ticket_says(desk_store: Desk, conversation: str) -> None:
    detail = ticket_detail(desk_store.store, "bob", conversation, now=NOW)
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, conversation)
        messages = tickets.ticket_messages(session, ticket)
        assert ticket.category is not None and ticket.assignee is not None
        assert detail.key == ticket.key and detail.version == ticket.version
        assert detail.subject == "VPN down"  # control sequences removed
        assert detail.category == ticket.category.path
        assert detail.channel == ticket.channel.value == "phone"
        assert detail.tags == tuple(ticket.tags) == ("access", "night", "vpn")
        assert detail.requester == ticket.requester.name
        assert detail.requester_contact == ticket.requester.email
        assert detail.organization == "Acme" and detail.group == "L1"
        assert detail.assignee == ticket.assignee.login
        assert detail.hidden_messages == 0
        assert [(m.kind, m.author, m.body) for m in detail.messages] == [
            (m.kind, _author_of(m), m.body.replace("\x07", "")) for m in messages
        ]
        assert [m.delivery for m in detail.messages] == [
            m.delivery_state.value if m.delivery_state else None for m in messages
        ]
    authors = [m.author for m in detail.messages]
    assert authors[-5:] == ["Bob Agent", "Ada Admin", "desk", "noname@other.example", "system"]


def test_a_long_thread_shows_its_newest_messages(
    desk_store: Desk, conversation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = ticket_detail(desk_store.store, "bob", conversation, now=NOW)
    monkeypatch.setattr(views, "MAX_THREAD", 3)
    with statements(desk_store.store) as sent:
        short = ticket_detail(desk_store.store, "bob", conversation, now=NOW)
    assert short.messages == full.messages[-3:]
    assert short.hidden_messages == len(full.messages) - 3 == 3
    assert len(sent) == 4  # the header, the rules' version, the thread and its count


def test_opening_a_ticket_is_three_statements(desk_store: Desk, conversation: str) -> None:
    ticket_detail(desk_store.store, "bob", conversation, now=NOW)  # the rules parsed once
    with statements(desk_store.store) as sent:
        ticket_detail(desk_store.store, "bob", conversation, now=NOW)
    assert len(sent) == 3


@pytest.mark.parametrize("ref", ["1", "#1", "HD-1", "hd-1", "XX-1", "2", "abc", "HD-"])
def test_tickets_are_found_as_get_ticket_finds_them(
    desk_store: Desk, make_ticket: MakeTicket, ref: str
) -> None:
    make_ticket()
    with desk_store.store.read() as session:
        try:
            expected: str | type[Exception] = tickets.get_ticket(session, ref).key
        except (NotFound, ValidationError) as exc:
            expected = type(exc)
            message = str(exc)
        if isinstance(expected, str):
            assert find_ticket(session, ref, Ticket.id)[0] == expected
        else:
            with pytest.raises(expected) as raised:
                find_ticket(session, ref)
            assert str(raised.value) == message


def test_a_queue_page_is_the_page_of_tickets(
    desk_store: Desk, make_ticket: MakeTicket, conversation: str
) -> None:
    make_ticket("Unassigned", requester="+39 06 5555 0101")
    make_ticket("Cleo's", assignee="cleo", group="L2")
    paused = make_ticket("Waiting", assignee="bob")
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, paused, Status.PENDING)
        session.execute(update(Ticket).values(due_at=NOW + timedelta(minutes=30)))
        session.execute(
            update(Ticket).where(Ticket.key == paused).values(due_at=None, sla_paused_at=NOW)
        )
    for view in (View.ALL_OPEN, View.MY_OPEN, View.PENDING, View.BREACHING):
        page = queue_page(desk_store.store, "bob", view, now=NOW)
        assert page.rows, view
        with desk_store.store.read() as session:
            loaded = {t.key: t for t in session.scalars(select(Ticket))}
            countdowns = Countdowns(session, NOW)
            assert list(page.rows) == [
                queue_row(TicketRow.of(loaded[row.key]), NOW, countdowns) for row in page.rows
            ]


def test_a_queue_page_is_two_statements(desk_store: Desk, make_ticket: MakeTicket) -> None:
    for i in range(3):
        make_ticket(f"t{i}", assignee="bob")
    store = desk_store.store
    with store.write() as session:
        session.execute(update(Ticket).values(due_at=NOW + timedelta(hours=2)))
    queue_page(store, "bob", View.ALL_OPEN, now=NOW)  # the rules parsed once
    with statements(store) as sent:
        page = queue_page(store, "bob", View.ALL_OPEN, now=NOW, limit=2)
    assert len(page.rows) == 2 and len(sent) == 2  # the rules' version, the page
    with statements(store) as sent:
        queue_page(store, "bob", View.MY_OPEN, now=NOW, limit=2)
    assert len(sent) == 3  # and the agent's id
    with statements(store) as sent:
        last = queue_page(store, "bob", View.MY_OPEN, now=NOW, after=page.next, limit=2)
    assert len(last.rows) == 1 and last.next is None
    assert len(sent) == 4  # and the tickets without a running deadline, after the last one

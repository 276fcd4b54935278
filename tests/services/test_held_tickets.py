"""A ticket this transaction has locked (or created) is not read and locked again by the next
change in the same transaction, as long as the object lives in the session; a savepoint rolled
back forgets what was locked in it. The changes themselves are the same either way."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import NOW, Desk, statements
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.services import tickets

LATER = NOW + timedelta(minutes=5)


def _ticket_reads(sent: list[str]) -> list[str]:
    return [s for s in sent if s.lstrip().startswith("SELECT") and "FROM tickets" in s]


def test_a_ticket_locked_in_this_transaction_is_changed_without_reading_it_again(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    before = look(key)
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key, for_update=True)
        with statements(desk_store.store) as sent:
            tickets.add_note(session, desk_store.agent, LATER, key, "checked the cable")
            tickets.reply(session, desk_store.agent, LATER, key, "On it.")
        assert _ticket_reads(sent) == []
        assert ticket.version == before.version + 2
    after = look(key)
    assert after.version == before.version + 2
    kinds = [event[0] for event in after.events[len(before.events) :]]
    assert kinds[0] == "note" and "reply" in kinds and "first_response" in kinds


def test_a_savepoint_rolled_back_forgets_the_tickets_locked_in_it(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        savepoint = session.begin_nested()
        ticket = tickets.get_ticket(session, key, for_update=True)
        savepoint.rollback()
        with statements(desk_store.store) as sent:
            again = tickets.get_ticket(session, key, for_update=True)
        assert len(_ticket_reads(sent)) == 1  # read (and locked) again
        assert again is ticket


def test_a_ticket_moved_by_a_contact_merge_in_the_same_transaction_is_changed_as_it_now_is(
    desk_store: Desk,
) -> None:
    """The merge moves tickets with one set-based UPDATE (a new version each): a ticket this
    transaction locked before it is seen moved, and a later change of it in the same
    transaction is neither refused as a conflict nor written on the old version."""
    from tui_helpdesk.services import customers, directory
    from tui_helpdesk.services.directory import ContactDraft

    store, bob = desk_store.store, desk_store.agent
    with store.write() as session:
        keep = directory.add_contact(
            session, NOW, ContactDraft("Anna Rossi", "anna@acme.example"), None
        )
        dup = directory.add_contact(session, NOW, ContactDraft("A. Rossi", "ar@home.example"), None)
        key = tickets.create_ticket(
            session, bob, NOW, tickets.NewTicket("Printer", body="x", requester="ar@home.example")
        ).key
        before = tickets.get_ticket(session, key, for_update=True).version
        customers.merge_contacts(session, LATER, desk_store.admin, keep, dup)
        tickets.add_note(session, bob, LATER, key, "same caller as Anna")
        ticket = tickets.get_ticket(session, key, for_update=True)
        assert ticket.requester_id == keep.id and ticket.version == before + 2
    with store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.requester_id == keep.id and ticket.version == before + 2

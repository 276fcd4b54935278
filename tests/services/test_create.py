"""Creating tickets: requester resolution, organization, defaults from the category,
assignment at creation, numbering and the creation audit event (both back ends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW, SEGMENT_POLICIES, Desk
from tests.services.conftest import Look, MakeTicket, events_of
from tui_helpdesk.domain import Channel, EventKind, MessageKind, Priority, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.models import Contact, Counter, Message, Ticket

# Variants loop inside one test rather than parametrise: each database costs real time.


def test_create_on_any_channel(desk_store: Desk, make_ticket: MakeTicket) -> None:
    keys = {channel: make_ticket(channel=channel) for channel in Channel}
    with desk_store.store.read() as session:
        for channel, key in keys.items():
            ticket = tickets.get_ticket(session, key)
            assert ticket.channel is channel
            [message] = tickets.ticket_messages(session, ticket)
            assert message.kind is MessageKind.CUSTOMER
            assert message.channel is channel


def test_new_requester_by_email_gets_org_from_domain(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket("  VPN   drops\tevery hour ", requester="Anna.Rossi@ACME.example")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.key == "HD-1"
        assert ticket.number == 1
        assert ticket.subject == "VPN drops every hour"
        assert ticket.status is Status.NEW
        assert ticket.priority is Priority.NORMAL
        assert ticket.version == 1
        assert ticket.requester.email == "anna.rossi@acme.example"
        assert ticket.requester.name == "Anna Rossi"
        assert ticket.requester.organization is not None
        assert ticket.requester.organization.name == "Acme"
        assert ticket.organization is not None and ticket.organization.name == "Acme"
        assert ticket.created_by is not None and ticket.created_by.login == "bob"
        assert ticket.created_at == NOW == ticket.updated_at


def test_existing_requester_found_by_email_case_insensitively(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    first = make_ticket(requester="anna@acme.example", requester_name="Anna")
    second = make_ticket(requester="ANNA@Acme.Example")
    with desk_store.store.read() as session:
        a = tickets.get_ticket(session, first)
        b = tickets.get_ticket(session, second)
        assert a.requester_id == b.requester_id
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_phone_caller_created_then_found(desk_store: Desk, make_ticket: MakeTicket) -> None:
    """A phone agent creates a ticket for a caller by number, however it is written."""
    first = make_ticket(requester="(02) 1234.5678", requester_name="Mario", channel=Channel.PHONE)
    later = [
        make_ticket(requester=written, channel=Channel.PHONE)
        for written in ("02 1234 5678", "+39 02 1234 5678", "0039-02-1234-5678")
    ]
    with desk_store.store.read() as session:
        a = tickets.get_ticket(session, first)
        assert a.requester.phone == "+390212345678"
        assert a.requester.name == "Mario"
        assert a.organization is None
        assert a.created_by is not None and a.created_by.login == "bob"
        for key in later:
            assert tickets.get_ticket(session, key).requester_id == a.requester_id
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_explicit_organization(desk_store: Desk, make_ticket: MakeTicket) -> None:
    with desk_store.store.write() as session:
        directory.add_organization(session, NOW, directory.OrganizationDraft("Globex"))
    key = make_ticket(requester="hank@gmail.example", organization="Globex")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.organization is not None and ticket.organization.name == "Globex"
        assert ticket.requester.organization is not None
        assert ticket.requester.organization.name == "Globex"


def test_organization_from_existing_contact(desk_store: Desk, make_ticket: MakeTicket) -> None:
    with desk_store.store.write() as session:
        directory.add_organization(session, NOW, directory.OrganizationDraft("Globex"))
        directory.add_contact(
            session,
            NOW,
            directory.ContactDraft("Hank", phone="+1 415 555 0100", organization="Globex"),
            "IT",
        )
    key = make_ticket(requester="+14155550100", channel=Channel.PHONE)
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.requester.name == "Hank"
        assert ticket.organization is not None and ticket.organization.name == "Globex"


def test_existing_contact_without_org_is_matched_by_domain(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    with desk_store.store.write() as session:
        contact = directory.add_contact(
            session, NOW, directory.ContactDraft("Zed", email="zed@acme.example"), "IT"
        )
        contact.organization = None  # as if the domain was registered after the contact
    key = make_ticket(requester="zed@acme.example")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.organization is not None and ticket.organization.name == "Acme"


def test_unknown_organization_is_refused(desk_store: Desk, make_ticket: MakeTicket) -> None:
    with pytest.raises(NotFound, match="unknown organization 'Nope'"):
        make_ticket(requester="x@y.example", organization="Nope")


def test_system_actor_creates_without_created_by(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(actor=Actor.system("intake"), channel=Channel.EMAIL)
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.created_by is None
        [event] = tickets.ticket_events(session, ticket)
        assert (event.kind, event.actor, event.actor_agent_id) == (
            EventKind.CREATED,
            "intake",
            None,
        )


def test_system_actor_needs_a_requester(desk_store: Desk) -> None:
    with desk_store.store.write() as session, pytest.raises(ValidationError, match="requester"):
        tickets.create_ticket(session, Actor.system(), NOW, tickets.NewTicket("x"))


def test_agent_without_requester_is_the_requester(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket(requester=None)
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.requester.email == "bob@desk.example"
        assert ticket.requester.name == "Bob Agent"


def test_category_defaults_group_and_priority(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(category="technical > network")
    explicit = make_ticket(category="Technical > Network", priority=Priority.LOW, group="L2")
    plain = make_ticket(category="Billing")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.category is not None and ticket.category.path == "Technical > Network"
        assert ticket.priority is Priority.HIGH
        assert ticket.group is not None and ticket.group.name == "L1"
        assert ticket.level == 1
        other = tickets.get_ticket(session, explicit)
        assert other.priority is Priority.LOW
        assert other.group is not None and other.group.name == "L2"
        assert other.level == 2
        billing = tickets.get_ticket(session, plain)
        assert billing.priority is Priority.NORMAL
        assert billing.group is None and billing.level is None


def test_the_desk_default_group_takes_what_nothing_else_places(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    """With `desk.default_group`, a ticket that neither the caller, a route nor its category
    puts in a group lands in that queue (a phone ticket with no category, say); anything
    that does name a group keeps it."""
    text = '[desk]\nticket_prefix = "HD"\ndefault_group = "l2"\n'
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(text))
    plain = make_ticket(channel=Channel.PHONE)
    by_category = make_ticket(category="Technical > Network")
    explicit = make_ticket(group="L1")
    assigned = make_ticket(assignee="bob")
    with desk_store.store.read() as session:
        groups = {
            key: tickets.get_ticket(session, key).group
            for key in (plain, by_category, explicit, assigned)
        }
        assert {key: g.name if g else None for key, g in groups.items()} == {
            plain: "L2",
            by_category: "L1",
            explicit: "L1",
            assigned: "L1",  # bob's own group
        }
        assert tickets.get_ticket(session, plain).level == 2


def test_assignee_at_creation_opens_and_brings_group(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket(assignee="cleo")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.status is Status.OPEN
        assert ticket.assignee is not None and ticket.assignee.login == "cleo"
        assert ticket.group is not None and ticket.group.name == "L2"
        assert ticket.level == 2


def test_assignee_overrides_the_category_default_group(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    """The category's group is a default: an explicit assignee from another group wins."""
    key = make_ticket(category="Technical > Network", assignee="cleo")
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.group is not None and ticket.group.name == "L2"
        assert ticket.priority is Priority.HIGH


def test_assignee_outside_explicit_group_is_refused(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    with pytest.raises(ValidationError, match="cleo is not a member of group 'L1'"):
        make_ticket(group="L1", assignee="cleo")
    with desk_store.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_tags_at_creation(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(tags=["VPN", " remote work ", "vpn", ""])
    with desk_store.store.read() as session:
        assert tickets.get_ticket(session, key).tags == ["remote-work", "vpn"]


BAD_INPUT: list[tuple[dict, type, str]] = [
    ({"subject": "   "}, ValidationError, "needs a subject"),
    ({"subject": "x" * 501}, ValidationError, "subject too long"),
    ({"requester": "anna@"}, ValidationError, "not a valid email"),
    ({"requester": "12"}, ValidationError, "not a valid phone"),
    ({"category": "Nope"}, NotFound, "unknown category"),
    ({"group": "L9"}, NotFound, "unknown group"),
    ({"assignee": "zoe"}, NotFound, "unknown agent"),
    ({"tags": ["no!"]}, ValidationError, "invalid tag"),
]


def test_bad_input_writes_nothing(desk_store: Desk, make_ticket: MakeTicket) -> None:
    for fields, error, message in BAD_INPUT:
        fields = dict(fields)
        subject = fields.pop("subject", "Printer on fire")
        with pytest.raises(error, match=message):
            make_ticket(subject, **fields)
    with desk_store.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(Counter.value).where(Counter.name == "ticket")) == 0


def test_numbers_follow_the_desk_prefix(desk_store: Desk, make_ticket: MakeTicket) -> None:
    keys = [make_ticket() for _ in range(3)]
    assert keys == ["HD-1", "HD-2", "HD-3"]
    from tui_helpdesk.rules.document import parse_rules
    from tui_helpdesk.services import desk

    with desk_store.store.write() as session:
        desk.apply_rules(
            session, desk_store.admin, NOW, parse_rules('[desk]\nticket_prefix = "SUP"\n')
        )
    assert make_ticket() == "SUP-4"
    with desk_store.store.read() as session:
        assert tickets.get_ticket(session, "sup-4").number == 4
        assert tickets.get_ticket(session, "#2").key == "HD-2"
        assert tickets.get_ticket(session, 3).key == "HD-3"
        with pytest.raises(NotFound):
            tickets.get_ticket(session, "SUP-2")
        with pytest.raises(NotFound):
            tickets.get_ticket(session, "HD-99")
        with pytest.raises(ValidationError, match="not a ticket number"):
            tickets.get_ticket(session, "ticket two")


def test_created_event_and_message(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket(
        requester="+39 02 1234 5678",
        requester_name="Mario",
        channel=Channel.PHONE,
        body="\nCalled about the VPN.\n\n",
        category="Technical > Network",
        tags=["vpn"],
    )
    seen = look(key)
    [created] = [e for e in seen.events if e[0] == "created"]
    assert created == ("created", "bob", None, None, key)
    assert seen.kinds() == ["created"]
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        event = tickets.ticket_events(session, ticket)[0]
        assert event.detail == {
            "channel": "phone",
            "requester": "+390212345678",
            "on_behalf_of": "Mario",
            "priority": "high",
            "category": "Technical > Network",
            "group": "L1",
            "assignee": None,
            "tags": ["vpn"],
            # A phone caller gets no acknowledgement mail, and the history says why.
            "acknowledgement": "not sent: the requester has no email address",
        }
        [message] = session.scalars(select(Message)).all()
        assert message.body == "Called about the VPN."
        assert message.author_contact_id == ticket.requester_id
        assert message.author_agent is not None and message.author_agent.login == "bob"


def test_no_body_no_message(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket(body="  \n ")
    with desk_store.store.read() as session:
        assert tickets.ticket_messages(session, tickets.get_ticket(session, key)) == []


def test_another_requester_brings_their_organization_and_contract(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    """A ticket opened for zed (no organization: the standard policy) was really asked for
    by Acme's carla: given to her half an hour later, it is Acme's, on the premium policy,
    its first response due an hour after creation (30 minutes of it used)."""
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(SEGMENT_POLICIES))
    key = make_ticket(requester="zed@globex.example")
    later = NOW + timedelta(minutes=30)
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        assert (ticket.sla_policy, ticket.first_response_due_at) == (
            "standard",
            NOW + timedelta(hours=2),
        )
        with pytest.raises(ValidationError, match="neither an email address nor a phone"):
            tickets.change_requester(session, desk_store.agent, later, key, "carla")
        with pytest.raises(ValidationError, match="email or phone"):
            tickets.change_requester(session, desk_store.agent, later, key, " ")
        ticket = tickets.change_requester(
            session, desk_store.agent, later, key, "Carla@acme.example", name="Carla Bianchi"
        )
        assert ticket.organization is not None and ticket.organization.name == "Acme"
        assert (ticket.requester.name, ticket.requester.email) == (
            "Carla Bianchi",
            "carla@acme.example",
        )
        assert (ticket.sla_policy, ticket.first_response_due_at) == (
            "premium",
            NOW + timedelta(hours=1),
        )
        # The same requester again changes nothing.
        version = ticket.version
        again = tickets.change_requester(
            session, desk_store.agent, later, key, "carla@acme.example"
        )
        assert again.version == version
    seen = look(key)
    zed, carla = _contacts(desk_store, "zed", "carla")
    assert events_of(seen, EventKind.REQUESTER) == [
        ("requester", "bob", "requester", zed, carla),
        ("requester", "bob", "organization", None, "Acme"),
    ]
    assert seen.doc["organization"] == "Acme"


def _contacts(d: Desk, *local_parts: str) -> list[str]:
    """The contacts with these addresses' local parts, as the audit trail names them."""
    with d.store.read() as session:
        found = [
            session.scalars(select(Contact).where(Contact.email.startswith(part + "@"))).one()
            for part in local_parts
        ]
        return [f"{c.name} (#{c.id})" for c in found]

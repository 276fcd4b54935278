"""People and customers as the lifecycle relies on them: contact identity, lookups and
ranking, and the validation of the directory's drafts."""

from __future__ import annotations

import pytest

from tests.conftest import NOW, Desk
from tui_helpdesk.services import directory
from tui_helpdesk.services.directory import ContactDraft
from tui_helpdesk.services.errors import NotFound, ValidationError


def test_contact_identity(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        anna = directory.add_contact(
            session,
            NOW,
            ContactDraft(email="Anna.Rossi@ACME.example", phone="(02) 1234-5678"),
            "IT",
        )
        assert (anna.email, anna.phone, anna.name) == (
            "anna.rossi@acme.example",
            "+390212345678",
            "Anna Rossi",
        )
        assert anna.organization is not None and anna.organization.name == "Acme"
        find = directory.find_contact_by_identity
        assert find(session, "ANNA.ROSSI@acme.example", "IT") is anna
        assert find(session, "02 1234 5678", "IT") is anna
        assert find(session, "+39 02 1234 5678", None) is anna
        assert find(session, "nobody@acme.example", "IT") is None
        with pytest.raises(ValidationError, match="already exists"):
            directory.add_contact(session, NOW, ContactDraft(email="anna.rossi@acme.EXAMPLE"), "IT")
        with pytest.raises(ValidationError, match="email address or a phone number"):
            directory.add_contact(session, NOW, ContactDraft(name="Nobody"), "IT")
        with pytest.raises(ValidationError, match=r"not a valid phone number.*\+country"):
            directory.add_contact(session, NOW, ContactDraft(phone="02 1234 5678"), None)
        with pytest.raises(ValidationError, match="not a valid email"):
            directory.add_contact(session, NOW, ContactDraft(email="anna@"), "IT")
        phone_only = directory.add_contact(
            session, NOW, ContactDraft(phone="+1 415 555 0100"), None
        )
        assert (phone_only.name, phone_only.organization) == ("+14155550100", None)


def test_find_contacts_ranking(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        for name, email, phone in [
            ("Joanna Bianchi", "jb@else.example", None),
            ("Maria Anna Verdi", "mv@else.example", None),
            ("Anna Rossi", "rossi@else.example", "+39 02 1234 5678"),
            ("Anna", "a@else.example", None),
            ("Zed", "anna.z@else.example", None),
            ("Hannah", "h@else.example", None),
            ("Bob Builder", "bob@acme.example", None),
            ("Percent", "p100%@x.example", None),
        ]:
            directory.add_contact(session, NOW, ContactDraft(name, email, phone), "IT")
    with desk_store.store.read() as session:

        def names(query: str, limit: int = 20) -> list[str]:
            return [c.name for c in directory.find_contacts(session, query, "IT", limit)]

        assert names("anna") == [
            "Anna",
            "Anna Rossi",
            "Maria Anna Verdi",
            "Zed",
            "Hannah",
            "Joanna Bianchi",
        ]
        assert names("anna", limit=2) == ["Anna", "Anna Rossi"]
        assert names("JB@else.example") == ["Joanna Bianchi"]  # the exact address first
        assert names("02 1234 5678") == ["Anna Rossi"]  # a phone number as written
        assert names("1234") == ["Anna Rossi"]  # part of a number
        assert names("acme") == ["Bob Builder"]  # by address and organization
        assert names("%") == ["Percent"]
        assert names("   ") == []
        assert names("nobody") == []


def test_directory_validation(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        cases = [
            (lambda: directory.add_agent(session, NOW, directory.AgentDraft("bob", "B")), "exists"),
            (lambda: directory.add_agent(session, NOW, directory.AgentDraft("a b", "B")), "login"),
            (lambda: directory.add_group(session, NOW, directory.GroupDraft("l1")), "exists"),
            (
                lambda: directory.add_group(session, NOW, directory.GroupDraft("L4", level=4)),
                "level",
            ),
            (
                lambda: directory.add_organization(
                    session, NOW, directory.OrganizationDraft("Other", domains=["ACME.example"])
                ),
                "already belongs to 'Acme'",
            ),
            (
                lambda: directory.add_organization(
                    session, NOW, directory.OrganizationDraft("Other", segment="gold")
                ),
                "segment",
            ),
            (lambda: directory.ensure_category(session, "A >  > B"), "invalid category"),
        ]
        for call, message in cases:
            with pytest.raises(ValidationError, match=message):
                call()
        with pytest.raises(NotFound, match="unknown agent"):
            directory.actor_for(session, "zoe")
        directory.get_agent(session, "cleo").active = False
        with pytest.raises(NotFound, match="deactivated"):
            directory.actor_for(session, "cleo")
        wifi = directory.ensure_category(session, "Technical / Network / Wi-Fi")
        assert wifi.path == "Technical > Network > Wi-Fi"
        assert directory.get_category(session, "technical>network").default_group is not None
        assert [c.path for c in directory.list_categories(session)] == [
            "Billing",
            "Technical",
            "Technical > Network",
            "Technical > Network > Wi-Fi",
        ]


def test_membership_is_seen_in_the_same_unit_of_work(desk_store: Desk) -> None:
    """Agents loaded before a group names them must see it at once: the services decide who
    may be assigned from these collections (a stale one made assignment fail at random)."""
    with desk_store.store.write() as session:
        dana = directory.add_agent(session, NOW, directory.AgentDraft("dana", "Dana"))
        ops = directory.add_group(session, NOW, directory.GroupDraft("Ops", members=["dana"]))
        assert [g.name for g in dana.groups] == ["Ops"]
        eve = directory.add_agent(session, NOW, directory.AgentDraft("eve", "Eve", groups=["Ops"]))
        assert [a.login for a in ops.members] == ["dana", "eve"]
        assert [g.name for g in eve.groups] == ["Ops"]

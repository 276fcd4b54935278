"""People and customers as the lifecycle relies on them: contact identity (several addresses
and numbers, found by any of them), editing contacts, and the validation of the directory's
drafts. Finding callers by name is tested in test_customers."""

from __future__ import annotations

import pytest

from tests.conftest import NOW, SEGMENT_POLICIES, Desk
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, imports, queue
from tui_helpdesk.services.directory import ContactDraft
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.engine import Store


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


def test_contacts_with_several_addresses_and_numbers(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        anna = directory.add_contact(
            session,
            NOW,
            ContactDraft(
                "Anna Rossi",
                emails=["Anna@Home.example", "anna@acme.example", "ANNA@home.example"],
                phones=["02 1234 5678", "+39 333 123 4567"],
            ),
            "IT",
        )
        # No primary given: the first of each list; the organization from any address.
        assert (anna.email, anna.phone) == ("anna@home.example", "+390212345678")
        assert anna.emails == ["anna@home.example", "anna@acme.example"]
        assert anna.phones == ["+390212345678", "+393331234567"]
        assert anna.organization is not None and anna.organization.name == "Acme"
        find = directory.find_contact_by_identity
        assert find(session, "ANNA@acme.example", "IT") is anna  # not the primary: found too
        assert find(session, "333 123 4567", "IT") is anna
        with pytest.raises(
            ValidationError, match=rf"'anna@acme.example' .* Anna Rossi \(#{anna.id}\)"
        ):
            directory.add_contact(
                session,
                NOW,
                ContactDraft("Other", "o@x.example", emails=["anna@acme.example"]),
                "IT",
            )
        # A switchboard number may be shared; its primary owner is found first.
        desk_phone = directory.add_contact(
            session, NOW, ContactDraft("Desk", phone="+39 333 123 4567"), "IT"
        )
        assert find(session, "+39 333 123 4567", "IT") is desk_phone
        assert directory.contacts_with_phone(session, "+393331234567") == [desk_phone, anna]


def test_editing_a_contact(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        anna = directory.add_contact(
            session, NOW, ContactDraft("Anna", "anna@acme.example", "02 1234 5678"), "IT"
        )
        bob = directory.add_contact(session, NOW, ContactDraft("Bob", "bob@x.example"), "IT")
        edit = directory.edit_contact
        edit(
            session,
            NOW,
            anna,
            name="  Anna   Rossi ",
            organization="",
            language="IT",
            vip=True,
            notes="Calls at 9",
            add_emails=["Anna@Home.example"],
            add_phones=["333 123 4567"],
        )
        assert (anna.name, anna.organization, anna.language, anna.vip, anna.notes) == (
            "Anna Rossi",
            None,
            "it",
            True,
            "Calls at 9",
        )
        assert anna.emails == ["anna@acme.example", "anna@home.example"]
        assert anna.phones == ["+390212345678", "+393331234567"]
        # Removing the primary promotes the next one.
        edit(
            session, NOW, anna, remove_emails=["ANNA@acme.example"], remove_phones=["02 1234 5678"]
        )
        assert (anna.email, anna.emails) == ("anna@home.example", ["anna@home.example"])
        assert (anna.phone, anna.phones) == ("+393331234567", ["+393331234567"])
        assert directory.find_contact_by_identity(session, "anna@acme.example", "IT") is None
        # A new primary that is not the contact's yet is added.
        edit(session, NOW, anna, primary_email="anna@work.example", organization="acme")
        assert anna.emails == ["anna@work.example", "anna@home.example"]
        assert anna.organization is not None and anna.organization.name == "Acme"
        with pytest.raises(ValidationError, match=rf"'bob@x.example' .* Bob \(#{bob.id}\)"):
            edit(session, NOW, anna, add_emails=["BOB@x.example"])
        with pytest.raises(ValidationError, match=r"has no email 'nope@x\.example'"):
            edit(session, NOW, anna, remove_emails=["nope@x.example"])
        with pytest.raises(ValidationError, match="must keep an email address or a phone"):
            edit(
                session,
                NOW,
                anna,
                remove_emails=anna.emails,
                remove_phones=anna.phones,
            )
        with pytest.raises(ValidationError, match="name cannot be empty"):
            edit(session, NOW, anna, name="  ")
        with pytest.raises(ValidationError, match="not a valid phone number"):
            edit(session, NOW, anna, add_phones=["12"])
        # Nothing of the refused edits was kept.
        assert anna.emails == ["anna@work.example", "anna@home.example"]
        assert anna.phones == ["+393331234567"]
        # Only numbers: the contact keeps a number.
        edit(session, NOW, bob, add_phones=["+1 (415) 555-0100"], remove_emails=["bob@x.example"])
        assert (bob.email, bob.emails, bob.phone) == (None, [], "+14155550100")
    with desk_store.store.read() as session:
        again = directory.find_contact_by_identity(session, "(415) 555-0100", "US")
        assert again is not None and again.name == "Bob"
        assert again.emails == [] and again.phones == ["+14155550100"]


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


def test_an_organization_contract_names_a_policy_of_the_active_rules(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(SEGMENT_POLICIES))
    draft = directory.OrganizationDraft("New Co4", sla_policy="nonexist")
    with desk_store.store.write() as session, pytest.raises(ValidationError) as refused:
        directory.add_organization(session, NOW, draft)
    assert str(refused.value) == (
        "unknown SLA policy 'nonexist' (the active rules define: premium, standard)"
    )
    # The same rule for every row of an import.
    text = "name,sla_policy\nNew Co4,premum\nNew Co5, premium \n"
    with desk_store.store.write() as session:
        result = imports.import_organizations(session, NOW, text, source="o.csv", skip_bad=True)
    assert result.created == 1
    assert list(result.errors) == [
        "o.csv:2: unknown SLA policy 'premum' (the active rules define: premium, standard)"
    ]
    with desk_store.store.read() as session:
        assert directory.get_organization(session, "New Co5").sla_policy == "premium"


def test_before_any_rules_a_contract_is_kept_with_a_warning(store: Store) -> None:
    draft = directory.OrganizationDraft("New Co4", sla_policy="gold")
    with store.write() as session:
        added = directory.create_organization(session, NOW, draft)
        assert added.organization.sla_policy == "gold"
    (warning,) = added.warnings
    assert "no rules are applied yet, so SLA policy 'gold' is unchecked" in warning
    # An import says it once for each policy of the rows it added, not once a row.
    text = "name,sla_policy\nNew Co5,gold\nNew Co6,gold\nNew Co4,silver\nNew Co7,\n"
    with store.write() as session:
        result = imports.import_organizations(session, NOW, text, source="o.csv", skip_bad=True)
    assert result.created == 3 and result.warnings == (warning,)  # New Co4 exists: no silver


def test_an_organization_is_found_by_the_beginning_of_its_name_where_asked(
    desk_store: Desk,
) -> None:
    """Filters and look-ups take the beginning of a name when one organization has it;
    several are refused, naming them; edits and tickets need the whole name."""
    with desk_store.store.write() as session:
        for name in ("Globex Corporation", "Global Foods", "Glomar_Works"):
            directory.add_organization(session, NOW, directory.OrganizationDraft(name))
    with desk_store.store.read() as session:
        find = directory.get_organization
        assert find(session, "globex", beginning=True).name == "Globex Corporation"
        assert find(session, " GLOBAL ", beginning=True).name == "Global Foods"
        assert find(session, "glomar_", beginning=True).name == "Glomar_Works"
        with pytest.raises(
            NotFound,
            match="'glo' begins several organizations' names: "
            "Global Foods, Globex Corporation, Glomar_Works",
        ):
            find(session, "glo", beginning=True)
        with pytest.raises(NotFound, match="unknown organization 'glo_'"):
            find(session, "glo_", beginning=True)  # "_" is a letter here, not a wildcard
        with pytest.raises(NotFound, match="unknown organization 'globex'"):
            find(session, "globex")
        flt = queue.TicketFilter(organization="globex")
        assert queue.list_tickets(session, flt).tickets == []  # no error: none of theirs yet

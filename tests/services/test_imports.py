"""CSV imports: good files create rows; any bad row refuses the whole file, names every bad
row as `source:line`, and leaves the database and the caller's session as they were (both
back ends)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import NOW, Desk
from tui_helpdesk.domain import Role
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, imports
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.models import Agent, Contact, Organization

Importer = Callable[..., imports.ImportResult]


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_agents_file_creates_agents(desk_store: Desk) -> None:
    text = (
        "login,name,email,role,groups,skills,languages,capacity\n"
        "dora,Dora Díaz,Dora@Desk.example,supervisor,L1;L2,vpn|Network,es;EN,12\n"
        "eve,,,,,,,\n"
    )
    with desk_store.store.write() as session:
        result = imports.import_agents(session, NOW, text, source="agents.csv")
    assert result == imports.ImportResult(created=2, skipped=0, lines=3)
    with desk_store.store.read() as session:
        dora = directory.get_agent(session, "dora")
        assert (dora.name, dora.email, dora.role, dora.capacity) == (
            "Dora Díaz",
            "dora@desk.example",
            Role.SUPERVISOR,
            12,
        )
        assert [g.name for g in dora.groups] == ["L1", "L2"]
        assert dora.skills == ["network", "vpn"]
        assert dora.languages == ["es", "en"]
        eve = directory.get_agent(session, "eve")
        assert (eve.name, eve.role, eve.groups) == ("eve", Role.AGENT, [])


def test_organizations_file_creates_organizations(desk_store: Desk) -> None:
    text = (
        "Name,Domains,Segment,SLA Policy,Region,Notes\n"
        'Globex,globex.example|globex.test,enterprise,gold,EMEA,"24x7, on call"\n'
        "Initech,,,,,\n"
    )
    gold = (  # a contract names a policy of the active rules
        '[calendars.always]\ntimezone = "UTC"\nalways_open = true\n'
        '[[sla]]\nname = "gold"\ncalendar = "always"\n'
        'first_response = { urgent = "1h", high = "1h", normal = "1h", low = "1h" }\n'
        'resolution = { urgent = "8h", high = "8h", normal = "8h", low = "8h" }\n'
    )
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(gold))
        result = imports.import_organizations(session, NOW, text, source="orgs.csv")
    assert result.created == 2
    with desk_store.store.read() as session:
        globex = directory.get_organization(session, "globex")
        assert globex.domains == ["globex.example", "globex.test"]
        assert (globex.segment, globex.sla_policy, globex.region, globex.notes) == (
            "enterprise",
            "gold",
            "EMEA",
            "24x7, on call",
        )
        assert directory.get_organization(session, "Initech").segment == "standard"


def test_contacts_file_with_bom_and_non_ascii_names(desk_store: Desk) -> None:
    text = (
        "\ufeffEMAIL,Name,phone,organization,language,VIP\n"
        "zoe@acme.example,Zoë Müller,02 1234 5678,,de,yes\n"
        "\n"
        "lukasz@elsewhere.example,Łukasz Wójcik,+48 22 123 45 67,Acme,pl,no\n"
        ",José Álvarez,+34 91 123 4567,,,\n"
    )
    with desk_store.store.write() as session:
        result = imports.import_contacts(session, NOW, text, source="contacts.csv")
    assert (result.created, result.lines) == (3, 5)
    with desk_store.store.read() as session:
        zoe = directory.find_contact_by_identity(session, "ZOE@acme.example", None)
        assert zoe is not None
        # local number read in the desk's region (IT); organization from the email domain
        assert (zoe.name, zoe.phone, zoe.vip, zoe.language) == (
            "Zoë Müller",
            "+390212345678",
            True,
            "de",
        )
        assert zoe.organization is not None and zoe.organization.name == "Acme"
        lukasz = directory.find_contact_by_identity(session, "lukasz@elsewhere.example", None)
        assert lukasz is not None and lukasz.name == "Łukasz Wójcik"
        assert lukasz.organization is not None and lukasz.organization.name == "Acme"
        jose = directory.find_contact_by_identity(session, "+34911234567", None)
        assert jose is not None and (jose.name, jose.email) == ("José Álvarez", None)


CONTACTS_HEADER = "name,email,phone,organization,language,vip\n"
GOOD_CONTACT = "Anna Rossi,anna@acme.example,,,,\n"


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        ("Bad,not-an-email,,,,\n", 3, "not a valid email address"),
        ("Bad,bad@acme.example,,Nowhere Inc,,\n", 3, "unknown organization 'Nowhere Inc'"),
        ("Bad,,12,,,\n", 3, "not a valid phone number"),
        ("Bad,,,,,\n", 3, "needs an email address or a phone number"),
        (
            "Again,ANNA@acme.example,,,,\n",
            3,
            "duplicate email 'anna@acme.example' (also on line 2)",
        ),
        ("Bad,bad@acme.example,,,,maybe\n", 3, "vip: expected yes or no"),
        ("Bad,bad@acme.example,,,,,extra\n", 3, "7 fields, but the header has 6"),
    ],
)
def test_a_bad_contact_row_refuses_the_whole_file(
    desk_store: Desk, rows: str, line: int, reason: str
) -> None:
    text = CONTACTS_HEADER + GOOD_CONTACT + rows
    with desk_store.store.write() as session:
        before = _count(session, Contact)
        with pytest.raises(imports.ImportFailed) as failed:
            imports.import_contacts(session, NOW, text, source="people.csv")
        assert _count(session, Contact) == before
    assert failed.value.exit_code == 2
    assert isinstance(failed.value, ValidationError)
    [error] = failed.value.errors
    assert error.startswith(f"people.csv:{line}: ")
    assert reason in error
    assert str(failed.value).splitlines() == [
        "1 bad row in people.csv; nothing imported",
        error,
    ]
    with desk_store.store.read() as session:
        assert directory.find_contact_by_identity(session, "anna@acme.example", None) is None


def test_every_bad_row_is_reported_and_the_session_stays_usable(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        directory.add_contact(session, NOW, directory.ContactDraft("Old", "old@acme.example"), None)
    text = (
        CONTACTS_HEADER
        + GOOD_CONTACT
        + "Old Again,Old@Acme.example,,,,\n"  # already in the database
        + "Bad,,not a phone,,,\n"
        + "Carla,carla@acme.example,,,,\n"
    )
    with desk_store.store.write() as session:
        before = _count(session, Contact)
        with pytest.raises(imports.ImportFailed) as failed:
            imports.import_contacts(session, NOW, text, source="people.csv")
        # the caller's transaction goes on: this write commits, the file's rows do not
        directory.add_contact(
            session, NOW, directory.ContactDraft("After", "after@x.example"), None
        )
    errors = failed.value.errors
    assert [e.split(": ", 1)[0] for e in errors] == ["people.csv:3", "people.csv:4"]
    assert "a contact with email 'old@acme.example' already exists" in errors[0]
    assert str(failed.value).startswith("2 bad rows in people.csv; nothing imported\n")
    with desk_store.store.read() as session:
        assert _count(session, Contact) == before + 1
        assert directory.find_contact_by_identity(session, "after@x.example", None) is not None
        for address in ("anna@acme.example", "carla@acme.example"):
            assert directory.find_contact_by_identity(session, address, None) is None


def test_multi_line_quoted_cells_keep_line_numbers_right(desk_store: Desk) -> None:
    text = (
        "name,domains,notes\n"
        'Globex,globex.example,"first line\n'
        "second line\n"
        'third line"\n'
        "\n"
        "Broken,no-dot,\n"
        '"Multi\nLine",bad domain.example,\n'
    )
    with desk_store.store.write() as session:
        with pytest.raises(imports.ImportFailed) as failed:
            imports.import_organizations(session, NOW, text, source="orgs.csv")
        assert _count(session, Organization) == 1  # Acme only
    assert [e.split(": ", 1)[0] for e in failed.value.errors] == ["orgs.csv:6", "orgs.csv:7"]
    assert "invalid email domain 'no-dot'" in failed.value.errors[0]


@pytest.mark.parametrize(
    ("importer", "text", "reason"),
    [
        (imports.import_contacts, "name,email,fax\nA,a@x.example,1\n", "unknown column 'fax'"),
        (imports.import_contacts, "name,organization\nA,Acme\n", "missing required column"),
        (imports.import_agents, "name,email\nA,a@x.example\n", "missing required column 'login'"),
        (imports.import_organizations, "domains\nx.example\n", "missing required column 'name'"),
        (imports.import_agents, "login,login\na,b\n", "column 'login' appears more than once"),
        (imports.import_agents, "", "no header row"),
    ],
)
def test_header_problems_are_reported_on_line_1(
    desk_store: Desk, importer: Importer, text: str, reason: str
) -> None:
    with desk_store.store.write() as session, pytest.raises(imports.ImportFailed) as failed:
        importer(session, NOW, text, source="f.csv")
    [error] = failed.value.errors
    assert error.startswith("f.csv:1: ")
    assert reason in error


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        ("zed,Zed,,,Nowhere,,,\n", 3, "unknown group 'Nowhere'"),
        ("bob,Bob Again,,,,,,\n", 3, "agent 'bob' already exists"),
        ("ann,Ann Twice,,,,,,\n", 3, "duplicate login 'ann' (also on line 2)"),
        ("zed,Zed,,boss,,,,\n", 3, "role must be one of agent, supervisor, admin"),
        ("zed,Zed,,,,,,lots\n", 3, "capacity: expected a whole number"),
        ("zed,Zed,zed@,,,,,\n", 3, "not a valid email address"),
    ],
)
def test_a_bad_agent_row_refuses_the_whole_file(
    desk_store: Desk, rows: str, line: int, reason: str
) -> None:
    text = "login,name,email,role,groups,skills,languages,capacity\nann,Ann,,,L1,,,\n" + rows
    with desk_store.store.write() as session:
        before = _count(session, Agent)
        with pytest.raises(imports.ImportFailed) as failed:
            imports.import_agents(session, NOW, text, source="team.csv")
        assert _count(session, Agent) == before
    [error] = failed.value.errors
    assert error.startswith(f"team.csv:{line}: ")
    assert reason in error
    with desk_store.store.read() as session:
        assert session.scalar(select(Agent).where(Agent.login == "ann")) is None


def test_duplicate_organizations_and_domains(desk_store: Desk) -> None:
    text = (
        "name,domains\n"
        "Globex,globex.example\n"
        "GLOBEX,other.example\n"  # same name in the file
        "Umbrella,acme.example\n"  # domain already Acme's
        "Hooli,globex.example\n"  # domain already on line 2
    )
    with desk_store.store.write() as session, pytest.raises(imports.ImportFailed) as failed:
        imports.import_organizations(session, NOW, text, source="orgs.csv")
    assert failed.value.errors == [
        "orgs.csv:3: duplicate organization 'globex' (also on line 2)",
        "orgs.csv:4: domain 'acme.example' already belongs to 'Acme'",
        "orgs.csv:5: duplicate domain 'globex.example' (also on line 2)",
    ]
    with desk_store.store.read() as session:
        assert _count(session, Organization) == 1


def test_contacts_with_several_addresses_and_numbers(desk_store: Desk) -> None:
    text = (
        "name,email,phone,emails,phones\n"
        "Anna Rossi,anna@acme.example,02 1234 5678,Anna@Home.example|a.r@x.example,333 123 4567\n"
        "Bruno,,,bruno@x.example;b2@x.example,+44 20 7946 0000 | 020 7946 0001\n"
    )
    with desk_store.store.write() as session:
        result = imports.import_contacts(session, NOW, text, source="c.csv")
    assert (result.created, result.errors) == (2, ())
    with desk_store.store.read() as session:
        anna = directory.find_contact_by_identity(session, "a.r@x.example", None)
        assert anna is not None and anna.name == "Anna Rossi"
        assert anna.emails == ["anna@acme.example", "a.r@x.example", "anna@home.example"]
        assert anna.phones == ["+390212345678", "+393331234567"]
        bruno = directory.find_contact_by_identity(session, "+44 20 7946 0000", None)
        assert bruno is not None
        assert (bruno.email, bruno.phone) == ("bruno@x.example", "+442079460000")
        # A local number is read in the desk's region (IT), whatever it looks like.
        assert bruno.phones == ["+442079460000", "+3902079460001"]


def test_duplicate_contacts_in_the_file_and_in_the_desk(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        old = directory.add_contact(
            session,
            NOW,
            directory.ContactDraft("Old", emails=["old@x.example", "o2@x.example"]),
            "IT",
        )
    text = (
        "name,email,emails\n"
        "Anna,anna@x.example,\n"
        "Again,,ANNA@x.example\n"  # line 2's address, in the other column
        "Old Again,new@x.example,O2@x.example\n"  # a second address of a known contact
        "Self,self@x.example,SELF@x.example\n"  # the same address twice on one row is one
    )
    with desk_store.store.write() as session, pytest.raises(imports.ImportFailed) as failed:
        imports.import_contacts(session, NOW, text, source="c.csv")
    assert failed.value.errors == [
        "c.csv:3: duplicate email 'anna@x.example' (also on line 2)",
        f"c.csv:4: a contact with email 'o2@x.example' already exists: Old (#{old.id})",
    ]


def test_skip_bad_keeps_the_good_rows_and_lists_the_bad(desk_store: Desk) -> None:
    text = (
        CONTACTS_HEADER
        + GOOD_CONTACT
        + "Bad,not-an-email,,,,\n"
        + "Again,ANNA@acme.example,,,,\n"
        + "Carla,carla@acme.example,,,,\n"
    )
    with desk_store.store.write() as session:
        result = imports.import_contacts(session, NOW, text, source="p.csv", skip_bad=True)
    assert (result.created, result.failed) == (2, 2)
    assert [e.split(": ", 1)[0] for e in result.errors] == ["p.csv:3", "p.csv:4"]
    with desk_store.store.read() as session:
        for address in ("anna@acme.example", "carla@acme.example"):
            assert directory.find_contact_by_identity(session, address, None) is not None
    orgs = "name,domains\nGlobex,globex.example\nacme,\nHooli,ACME.example\n"
    with desk_store.store.write() as session:
        result = imports.import_organizations(session, NOW, orgs, source="o.csv", skip_bad=True)
    assert result.created == 1
    assert list(result.errors) == [
        "o.csv:3: organization 'acme' already exists",
        "o.csv:4: domain 'acme.example' already belongs to 'Acme'",
    ]


def test_a_phone_only_contact_imported_twice_is_the_same_contact(desk_store: Desk) -> None:
    text = "name,email,phone,organization,vip\nCarla Blu,,02 9876 5432,,yes\n"
    with desk_store.store.write() as session:
        first = imports.import_contacts(session, NOW, text, source="c1.csv", skip_bad=True)
    assert (first.created, first.errors) == (1, ())
    with desk_store.store.read() as session:
        carla = directory.find_contact_by_identity(session, "+39 02 9876 5432", None)
        assert carla is not None
        carla_id = carla.id
    # Again, and with the name and number written otherwise: the same person, refused.
    again = text + "carla  BLU,,+39 02 98765432,,\n"
    with desk_store.store.write() as session:
        second = imports.import_contacts(session, NOW, again, source="c1.csv", skip_bad=True)
    refusal = "a contact named 'Carla Blu' with phone '+390298765432' already exists: "
    assert (second.created, list(second.errors)) == (
        0,
        [
            f"c1.csv:2: {refusal}Carla Blu (#{carla_id})",
            "c1.csv:3: duplicate contact 'carla blu, +390298765432' (also on line 2)",
        ],
    )
    # Another person at the same number (a switchboard) is someone else; so is a row with an
    # address of its own, which identifies its contact.
    others = "name,email,phone\nMarco Blu,,029876 5432\nCarla Blu,carla@blu.example,0298765432\n"
    with desk_store.store.write() as session:
        third = imports.import_contacts(session, NOW, others, source="c2.csv")
    assert (third.created, third.errors) == (2, ())
    with desk_store.store.read() as session:
        assert len(directory.contacts_with_phone(session, "+390298765432")) == 3


def test_adding_a_phone_only_contact_twice_is_refused(desk_store: Desk) -> None:
    draft = directory.ContactDraft("Carla Blu", phone="+39 02 9876 5432")
    with desk_store.store.write() as session:
        directory.add_contact(session, NOW, draft, "IT")
    with desk_store.store.write() as session, pytest.raises(ValidationError, match="already"):
        directory.add_contact(
            session, NOW, directory.ContactDraft(" carla blu", phone="02 98765432"), "IT"
        )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Carla Blu", " carla   BLU ", True),
        ("Jürgen Straße", "JÜRGEN STRASSE", True),  # casefold, not lower
        ("Carla Blu", "Carla Bluu", False),
    ],
)
def test_one_name_rule_for_phone_only_contacts(
    desk_store: Desk, a: str, b: str, same: bool
) -> None:
    """The import's duplicate rows and add_contact's refusal tell people apart alike."""
    assert (directory.name_key(a) == directory.name_key(b)) is same
    text = f"name,phone\n{a},02 9876 5432\n{b},+39 02 98765432\n"
    with desk_store.store.write() as session:
        in_file = imports.import_contacts(session, NOW, text, source="c.csv", skip_bad=True)
    assert in_file.created == (1 if same else 2)
    with desk_store.store.write() as session:
        in_desk = imports.import_contacts(
            session, NOW, f"name,phone\n{b},0298765432\n", source="d.csv", skip_bad=True
        )
    assert in_desk.created == 0  # b is kept already, or as a's twin

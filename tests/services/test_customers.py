"""Customers on both back ends: caller lookup and its ranking, merging duplicate contacts,
and the history of a contact and an organization (figures computed by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from tests.conftest import NOW, Desk, statements
from tui_helpdesk.domain import EventKind, MessageKind, Priority, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import checks, customer_history, customers, desk, directory, tickets
from tui_helpdesk.services.directory import ContactDraft
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.contact_search import (
    fold,
    fts_phrase,
    fuzzy_pieces,
    like_escape,
    name_similarity,
)
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Contact, ContactEmail, Message

PEOPLE = [
    ("John Smith", ["john.smith@globex.example", "jsmith@home.example"], ["+39 02 1234 5678"]),
    ("Jon Smithers", ["jon@else.example"], ["+39 02 1234 56789"]),
    ("Anne Smit", ["anne@else.example"], []),
    ("Anna", ["anna@else.example"], []),
    ("Anna Rossi", ["rossi@else.example"], ["+39 06 5555 0000"]),
    ("Maria Anna Verdi", ["mv@else.example"], []),
    ("Joanna Bianchi", ["jb@else.example"], []),
    ("Hannah Schmidt", ["hannah@else.example"], []),
    ("Élodie Dubois", ["elodie@else.example"], []),
    ("Sam Switchboard", ["sam@globex.example"], ["+39 02 9999 0000"]),
    ("Tina Switchboard", ["tina@else.example"], ["+39 02 9999 0000"]),
    ("Percent 100%", ["p100@else.example"], []),
]


@pytest.fixture
def people(desk_store: Desk) -> Store:
    with desk_store.store.write() as session:
        directory.add_organization(
            session, NOW, directory.OrganizationDraft("Globex Corp", domains=["globex.example"])
        )
        for name, emails, phones in PEOPLE:
            directory.add_contact(
                session, NOW, ContactDraft(name, emails=emails, phones=phones), "IT"
            )
    return desk_store.store


def _found(store: Store, query: str, limit: int = 20) -> list[tuple[str, str]]:
    with store.read() as session:
        return [
            (m.contact.name, m.reason)
            for m in customers.find_callers(session, query, "IT", limit=limit)
        ]


def test_a_number_finds_its_owner_first_then_numbers_starting_so(people: Store) -> None:
    assert _found(people, "+39 02 1234 5678") == [
        ("John Smith", "phone"),
        ("Jon Smithers", "phone digits"),  # +3902123456789 starts with the number
    ]
    # Written the national way (desk region IT), with dashes, parentheses, or 0039.
    for written in ("02 1234 5678", "(02) 1234-5678", "0039 02 1234 5678", "+39.02.12345678"):
        assert _found(people, written)[0] == ("John Smith", "phone"), written
    # A shared switchboard number: both of its contacts.
    assert _found(people, "02 9999 0000") == [
        ("Sam Switchboard", "phone"),
        ("Tina Switchboard", "phone"),
    ]


def test_partial_digits_find_numbers_starting_with_them(people: Store) -> None:
    assert _found(people, "02 1234") == [
        ("John Smith", "phone digits"),
        ("Jon Smithers", "phone digits"),
    ]
    assert _found(people, "+39 06 55") == [("Anna Rossi", "phone digits")]
    assert _found(people, "0039 0655") == [("Anna Rossi", "phone digits")]
    assert _found(people, "123") == []  # fewer than 4 digits: no partial lookup
    assert _found(people, "7777 7777") == []


def test_an_email_is_exact_and_case_insensitive(people: Store) -> None:
    assert _found(people, "JOHN.SMITH@Globex.EXAMPLE")[0] == ("John Smith", "email")
    assert _found(people, "jsmith@HOME.example") == [("John Smith", "email")]  # not primary
    # An unknown address at an organization's domain lists that organization's people.
    assert _found(people, "someone@globex.example") == [
        ("John Smith", "organization"),
        ("Sam Switchboard", "organization"),
    ]
    assert _found(people, "nobody@nowhere.example") == []


def test_names_equal_then_prefix_then_word_then_contained(people: Store) -> None:
    assert _found(people, "anna") == [
        ("Anna", "name"),
        ("Anna Rossi", "name"),
        ("Maria Anna Verdi", "name"),
        ("Hannah Schmidt", "name"),
        ("Joanna Bianchi", "name"),
        ("Anne Smit", "name"),  # alike: one letter off
    ]
    assert [n for n, _ in _found(people, "anna", limit=2)] == ["Anna", "Anna Rossi"]
    assert [n for n, _ in _found(people, "ANNA  ROSSI")] == ["Anna Rossi"]


def test_prefix_beats_fuzzy_and_typos_are_forgiven(people: Store) -> None:
    # "Smith" starts a word of two names; "Anne Smit" is only alike.
    assert [n for n, _ in _found(people, "smith")] == ["John Smith", "Jon Smithers", "Anne Smit"]
    typo = _found(people, "Jon Smiht")
    assert ("John Smith", "name") in typo
    assert {n for n, _ in typo} <= {"John Smith", "Jon Smithers", "Anne Smit"}
    assert ("Joanna Bianchi", "name") in _found(people, "Joana Bianci")
    assert _found(people, "elodie")[0] == ("Élodie Dubois", "name")  # accents forgiven
    assert _found(people, "Dubios")[0] == ("Élodie Dubois", "name")
    # Two letters the wrong way round in every word's both halves ("jhon": no trigram of
    # "john"), as a phone agent types them.
    assert ("John Smith", "name") in _found(people, "Jhon Smith")
    assert ("Joanna Bianchi", "name") in _found(people, "Joanna Biacnhi")
    assert _found(people, "Zebedee Quux") == []


def test_a_name_spelt_plainly_finds_the_address_that_spells_it_so(people: Store) -> None:
    """Names written with accents or in another script are typed plainly on the phone;
    their addresses usually spell them so: "zoe" finds Zoë by zoe.mueller@..."""
    with people.write() as session:
        for name, email in (
            ("Zoë Müller", "zoe.mueller@else.example"),
            ("大田 博", "ota.h@else.example"),
        ):
            directory.add_contact(session, NOW, ContactDraft(name, emails=[email]), "IT")
    assert _found(people, "Zoe") == [("Zoë Müller", "email")]
    assert _found(people, "zoë") == [("Zoë Müller", "name")]  # typed as written
    assert _found(people, "ota") == [("大田 博", "email")]
    assert _found(people, "zo") == []  # two letters start too many addresses
    # A name found by its name is not pushed down by an address.
    assert _found(people, "anna")[0] == ("Anna", "name")


def test_an_organization_name_finds_its_people(people: Store) -> None:
    assert _found(people, "globex") == [
        ("John Smith", "organization"),
        ("Sam Switchboard", "organization"),
    ]
    assert _found(people, "globex.example") == _found(people, "globex")
    assert _found(people, "@globex.example") == _found(people, "globex")
    # Too little to go on: no organization (nor name) matches one or two letters.
    assert _found(people, "gl") == _found(people, "anna@") == []
    # A typo in the organization's name, when nothing holds the text as typed.
    assert _found(people, "globx corp") == _found(people, "globex")
    assert _found(people, "glebux") == []  # too far from any name


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "NEAR(",
        "'",
        'a"b',
        "ann*",
        "anna OR",
        "NOT anna",
        "NEAR(anna smith, 2)",
        "%",
        "_",
        "\\",
        "()",
        "^anna",
        "{name}:anna",
        "100%",
        "'; DROP TABLE contacts; --",
        "\x00a",
    ],
)
def test_search_syntax_in_a_query_is_plain_text(people: Store, query: str) -> None:
    found = _found(people, query)  # no error, whatever the back end's syntax
    assert all(reason in ("name", "organization", "phone digits") for _, reason in found)
    if query in ("100%",):
        assert found == [("Percent 100%", "name")]


def test_lookup_helpers() -> None:
    assert fts_phrase('say "hi"') == '"say ""hi"""'
    assert like_escape("100%_\\") == "100\\%\\_\\\\"
    # "jon" is too short to survive a typo; "smiht" read with its middle letters swapped back.
    assert fuzzy_pieces("jon smiht") == [["smi", "iht", "simht", "smhit"]]
    assert fuzzy_pieces("jon") == [["jon"]]
    assert fuzzy_pieces("giulai bianchi") == [["giu", "lai", "giluai"], ["bia", "chi"]]
    assert fuzzy_pieces("jnoes") == [["jno", "oes", "jones", "jneos"]]
    assert fuzzy_pieces("al") == []
    assert fold("  Élodie   DUBOIS ") == "elodie dubois"
    assert name_similarity("jon smiht", "john smith") > 0.8
    assert name_similarity("smiht", "john smith") == pytest.approx(0.8)
    assert name_similarity("zebedee", "john smith") < 0.3


def test_resolving_a_contact_by_id_email_or_phone(people: Store) -> None:
    with people.read() as session:
        john = directory.find_contact_by_identity(session, "john.smith@globex.example", "IT")
        assert john is not None
        resolve = customers.resolve_contact
        assert resolve(session, f"#{john.id}", "IT") is john
        assert resolve(session, str(john.id), "IT") is john
        assert resolve(session, "JSMITH@home.example", "IT") is john
        assert resolve(session, "02 1234 5678", "IT") is john
        with pytest.raises(ValidationError, match=r"\+390299990000 belongs to Sam Switchboard"):
            resolve(session, "02 9999 0000", "IT")
        with pytest.raises(NotFound, match="no contact #999"):
            resolve(session, "#999", "IT")
        with pytest.raises(NotFound, match="no contact with email"):
            resolve(session, "ghost@else.example", "IT")
        with pytest.raises(ValidationError, match="not a valid phone number"):
            resolve(session, "not a number", "IT")


# --- merge ---------------------------------------------------------------------------------


def _contact(session: object, email: str) -> Contact:
    found = directory.find_contact_by_identity(session, email, "IT")  # type: ignore[arg-type]
    assert found is not None
    return found


def test_merge_moves_tickets_messages_and_identities(desk_store: Desk) -> None:
    store, bob = desk_store.store, desk_store.agent
    with store.write() as session:
        keep = directory.add_contact(
            session, NOW, ContactDraft("Anna Rossi", "anna@acme.example", notes="Calls at 9"), "IT"
        )
        dup = directory.add_contact(
            session,
            NOW,
            ContactDraft(
                "A. Rossi",
                "anna.rossi@home.example",
                "+39 02 1234 5678",
                language="it",
                vip=True,
                notes="Prefers the phone",
                emails=["ar@home.example"],
                phones=["+39 333 123 4567"],
            ),
            "IT",
        )
        keep_id, dup_id = keep.id, dup.id
        own = tickets.create_ticket(
            session, bob, NOW, tickets.NewTicket("Kept", body="hi", requester="anna@acme.example")
        )
        theirs = [
            tickets.create_ticket(
                session, bob, NOW, tickets.NewTicket(s, body="x", requester="ar@home.example")
            ).key
            for s in ("Printer", "Scanner")
        ]
        # The duplicate also wrote on the kept contact's ticket.
        tickets.add_customer_message(session, bob, NOW, own.key, dup, "me too")
        versions = {k: tickets.get_ticket(session, k).version for k in theirs}
    with store.read() as session:
        kept = session.get(Contact, keep_id)
        assert kept is not None
        plan = customers.plan_merge(session, kept, _contact(session, "ar@home.example"))
        assert (plan.tickets, plan.messages) == (theirs, 3)
    later = NOW + timedelta(hours=1)
    with store.write() as session:
        keep, dup = session.get(Contact, keep_id), session.get(Contact, dup_id)
        assert keep is not None and dup is not None
        plan = customers.merge_contacts(session, later, desk_store.admin, keep, dup)
        assert plan.tickets == theirs
        assert plan.emails == ["anna.rossi@home.example", "ar@home.example"]
        assert plan.phones == ["+390212345678", "+393331234567"]
        assert plan.filled == {
            "phone": "+390212345678",
            "language": "it",
            "notes": "Prefers the phone",
            "vip": "yes",
        }
    with store.read() as session:
        keep = session.get(Contact, keep_id)
        dup = session.get(Contact, dup_id)
        assert keep is not None and dup is not None
        assert keep.emails == ["anna@acme.example", "anna.rossi@home.example", "ar@home.example"]
        assert keep.phones == ["+390212345678", "+393331234567"]
        assert (keep.language, keep.vip, keep.notes) == (
            "it",
            True,
            "Calls at 9\nPrefers the phone",
        )
        assert keep.organization is not None and keep.organization.name == "Acme"
        assert (dup.merged_into_id, dup.emails, dup.phones) == (keep_id, [], [])
        assert dup.name == "A. Rossi"  # the row stays, history naming it resolves
        for key in theirs:
            ticket = tickets.get_ticket(session, key)
            assert ticket.requester_id == keep_id
            assert ticket.version == versions[key] + 1
            [event] = [e for e in tickets.ticket_events(session, ticket) if e.field == "requester"]
            assert (event.kind, event.actor, event.at) == (EventKind.MERGED, "admin", later)
            assert event.old == f"A. Rossi <anna.rossi@home.example> (#{dup_id})"
            assert event.new == f"Anna Rossi <anna@acme.example> (#{keep_id})"
        authors = session.scalars(
            select(Message.author_contact_id).where(Message.kind == MessageKind.CUSTOMER)
        ).all()
        assert set(authors) == {keep_id}
        # The duplicate is found no more: its address and number lead to the kept contact.
        for identity in ("ar@home.example", "+39 333 123 4567", "02 1234 5678"):
            assert directory.find_contact_by_identity(session, identity, "IT") is keep
        assert [m.contact.id for m in customers.find_callers(session, "Rossi", "IT")] == [keep_id]
        assert all(c.ok for c in checks.run_checks(session) if c.name == "contact:identity")


def test_merge_refusals_and_chains(desk_store: Desk) -> None:
    store, admin = desk_store.store, desk_store.admin
    shared = "02 5555 0000"
    with store.write() as session:
        a, b, c = (
            directory.add_contact(session, NOW, ContactDraft(n, f"{n}@x.example", shared), "IT")
            for n in ("a", "b", "c")
        )
        with pytest.raises(ValidationError, match="into itself"):
            customers.merge_contacts(session, NOW, admin, a, a)
        customers.merge_contacts(session, NOW, admin, b, c)  # they share a number: no clash
        assert b.phones == ["+390255550000"]
        with pytest.raises(ValidationError, match=rf"c \(#{c.id}\) is already merged into"):
            customers.merge_contacts(session, NOW, admin, a, c)
        with pytest.raises(ValidationError, match=rf"was merged into contact #{b.id}"):
            customers.merge_contacts(session, NOW, admin, c, a)
        customers.merge_contacts(session, NOW, admin, a, b)
        # c was merged into b, b into a: c now points at a, the contact that stays.
        assert (b.merged_into_id, c.merged_into_id) == (a.id, a.id)
        assert a.emails == ["a@x.example", "b@x.example", "c@x.example"]
        with pytest.raises(ValidationError, match="merged into contact"):
            directory.edit_contact(session, NOW, c, name="C")


def test_db_check_finds_broken_contact_identities(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        a = directory.add_contact(session, NOW, ContactDraft("A", "a@x.example"), "IT")
        b = directory.add_contact(session, NOW, ContactDraft("B", "b@x.example"), "IT")
        a_id, b_id = a.id, b.id

    def result() -> checks.CheckResult:
        with desk_store.store.read() as session:
            [check] = [c for c in checks.run_checks(session) if c.name == "contact:identity"]
            return check

    assert result().ok
    with desk_store.store.write() as session:
        # A primary address that is not among the contact's own, and a merged contact that
        # still owns an address.
        session.execute(update(Contact).where(Contact.id == a_id).values(email="gone@x.example"))
        session.execute(update(Contact).where(Contact.id == b_id).values(merged_into_id=a_id))
    broken = result()
    assert (broken.violations, broken.examples) == (2, (f"contact #{a_id}", f"contact #{b_id}"))
    with desk_store.store.write() as session:
        session.execute(ContactEmail.__table__.delete().where(ContactEmail.contact_id == b_id))
        session.execute(update(Contact).where(Contact.id.in_([a_id, b_id])).values(email=None))
        session.execute(update(Contact).where(Contact.id == a_id).values(email="a@x.example"))
    assert result().ok


# --- history -------------------------------------------------------------------------------

ROME = ZoneInfo("Europe/Rome")
WEEKDAYS = "\n".join(
    f'hours.{d} = ["09:00-13:00", "14:00-18:00"]' for d in ("mon", "tue", "wed", "thu", "fri")
)
RULES = f"""
[desk]
ticket_prefix = "HD"
phone_region = "IT"
timezone = "Europe/Rome"

[calendars.office]
timezone = "Europe/Rome"
{WEEKDAYS}

[[sla]]
name = "standard"
calendar = "office"
first_response = {{ urgent = "1h", high = "2h", normal = "4h", low = "8h" }}
resolution     = {{ urgent = "8h", high = "16h", normal = "36h", low = "72h" }}
"""
H = 3600.0


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def test_history_figures_of_a_contact_and_its_organization(desk_store: Desk) -> None:
    """Office hours Mon-Fri 09-13 and 14-18 in Rome; 23 November 2026 is a Monday."""
    store, bob = desk_store.store, desk_store.agent
    carla, dan = "carla@initech.example", "dan@initech.example"

    def create(at: datetime, subject: str, requester: str, **kw: object) -> str:
        with store.write() as session:
            new = tickets.NewTicket(subject, body="help", requester=requester, **kw)  # type: ignore[arg-type]
            return tickets.create_ticket(session, bob, at, new).key

    def act(at: datetime, call: str, key: str, *args: object) -> None:
        with store.write() as session:
            if call == "reply":
                tickets.reply(session, bob, at, key, "on it")
            elif call == "resolve":
                tickets.change_status(session, bob, at, key, Status.RESOLVED)
            elif call == "write":
                requester = tickets.get_ticket(session, key).requester
                tickets.add_customer_message(session, bob, at, key, requester, "still broken")
            elif call == "merge":
                tickets.merge(session, bob, at, key, str(args[0]))

    with store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(RULES))
        directory.add_organization(
            session, NOW, directory.OrganizationDraft("Initech", domains=["initech.example"])
        )
    # 1: answered after 2h (2h working), resolved after 6h (5h working: lunch 13-14).
    t1 = create(rome(23, 10), "One", carla)
    act(rome(23, 12), "reply", t1)
    act(rome(23, 16), "resolve", t1)
    # 2: answered after 2h (1h working), still open; Carla writes again on 30 November.
    t2 = create(rome(23, 12, 30), "Two", carla)
    act(rome(23, 14, 30), "reply", t2)
    # A duplicate of 2, merged into it: left out of the figures.
    t5 = create(rome(23, 13), "Two again", carla)
    act(rome(23, 13, 5), "merge", t5, t2)
    # 3: Friday 17:00 to Monday 10:00 = 65h (2h working); resolved at 11:00 (66h, 3h).
    t3 = create(rome(27, 17), "Three", carla)
    act(rome(30, 10), "reply", t3)
    act(rome(30, 11), "resolve", t3)
    # 4: urgent (1h target) since 09:00, unanswered: breached at 16:00.
    create(rome(30, 9), "Four", carla, priority=Priority.URGENT)
    act(rome(30, 15), "write", t2)
    # Dan: one ticket, unanswered since Tuesday 24 at 09:00 (4h target): breached.
    create(rome(24, 9), "Dan's", dan)
    now = rome(30, 16)

    with store.read() as session:
        carla_id = _contact(session, carla).id
        history = customer_history.contact_history(session, carla_id, now, limit=3)
        f = history.figures
        # Breached: 4 (first response due 10:00) and 2 (36 working hours from Monday 12:30
        # ran out on Friday 27 at 17:30), neither recorded by an escalation run yet.
        assert (f.total, f.open, f.done, f.breached) == (4, 2, 2, 2)
        assert f.first_response_s == pytest.approx((2 + 2 + 65) / 3 * H)
        assert f.resolution_s == pytest.approx((6 + 66) / 2 * H)
        assert (f.first_response_working_s, f.first_response_working_n) == (
            pytest.approx((2 + 1 + 2) / 3 * H, abs=0.1),
            3,
        )
        assert (f.resolution_working_s, f.resolution_working_n) == (
            pytest.approx((5 + 3) / 2 * H),
            2,
        )
        assert (f.last_contact_at, f.oldest_open_at) == (rome(30, 15), rome(23, 12, 30))
        # Newest first, a page of 3 with a cursor for the rest (the merged one included).
        assert [t.subject for t in history.recent] == ["Four", "Three", "Two again"]
        assert history.next_cursor is not None
        rest = customer_history.contact_history(session, carla_id, now, after=history.next_cursor)
        assert [t.subject for t in rest.recent] == ["Two", "One"]
        assert rest.next_cursor is None

        org = directory.get_organization(session, "Initech")
        orgs = customer_history.organization_history(session, org.id, now)
        g = orgs.figures
        assert (g.total, g.open, g.done, g.breached) == (5, 3, 2, 3)
        assert (g.first_response_s, g.resolution_s) == (f.first_response_s, f.resolution_s)
        assert g.last_contact_at == rome(30, 15)
        assert orgs.contacts == 2
        assert [(c.email, n) for c, n in orgs.top_requesters] == [(carla, 4), (dan, 1)]
        assert len(orgs.recent) == 6


def test_history_of_a_contact_without_tickets(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        zed = directory.add_contact(session, NOW, ContactDraft("Zed", "zed@x.example"), "IT")
        history = customer_history.contact_history(session, zed.id, NOW)
        assert history.figures == customer_history.TicketFigures()
        assert (history.recent, history.next_cursor) == ([], None)
        with pytest.raises(NotFound):
            customer_history.contact_history(session, 999, NOW)
        with pytest.raises(NotFound):
            customer_history.organization_history(session, 999, NOW)


def test_a_name_lookup_is_two_round_trips_on_postgresql(people: Store) -> None:
    """PostgreSQL reads every name tier in one statement (each tier gated on what the ones
    before it found), then the page of contacts with their addresses and numbers in one
    (organizations are looked up only when the names found fewer than the limit)."""
    with people.read() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
    for query in ("Jon Smiht", "anna", "ANNA  ROSSI", "Dubios"):
        with statements(people) as seen:
            found = _found(people, query, limit=1)
        assert found
        if postgres:
            assert len(seen) == 2, (query, seen)


def test_name_tiers_in_one_statement_match_the_tier_by_tier_queries(people: Store) -> None:
    from tui_helpdesk.store import caller_names, contact_search

    with people.read() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("one statement for the tiers on PostgreSQL only")
        tiers = list(contact_search.NameMatch)
        for value in ("anna", "smith", "jon smiht", "joana bianci", "100%", "an", "zebedee"):
            rows = caller_names.name_tiers(session, value, tiers, 100, 1000, 200)
            for how in tiers:
                assert {(i, n) for t, i, n in rows if t == how} == set(
                    contact_search.name_candidates(session, how, value, 100)
                ), (value, how)
            assert [(i, n) for t, i, n in rows if t == caller_names.FUZZY] == (
                contact_search.fuzzy_candidates(session, value, 200, 200)
            ), value
            # Enough found by the first tier: the others are not read.
            gated = caller_names.name_tiers(session, value, tiers, 100, 1, 200)
            first = [t for t, _i, _n in gated]
            assert all(t == first[0] for t in first), value

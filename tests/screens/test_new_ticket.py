"""The new-ticket form for a caller through Pilot at 80x24, on SQLite and PostgreSQL: the
caller found by a number typed another way or a misspelt name, the caller's card, knowledge
suggestions while writing, creating the ticket on the caller's behalf (and the contact of an
unknown caller with it), the number shown large and copied, refusals that keep the form,
markup-looking names shown literally; every database call made by a worker thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from textual import events
from textual.pilot import Pilot
from textual.widgets import Digits, Input, Label, OptionList, Select, Static, TextArea
from textual.worker import Worker

from tests.conftest import NOW, Desk
from tests.screens.conftest import RecordingApp, settle
from tui_helpdesk.domain import ArticleStatus, Channel, Priority, Status, Visibility
from tui_helpdesk.screens.new_ticket import NewTicketScreen
from tui_helpdesk.screens.new_ticket_parts import CreatedScreen, LeaveScreen
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.services.intake_views import IntakeForm, create_for_caller
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent, Article, Contact, Message, Organization, Ticket
from tui_helpdesk.text import MATCH_STYLE

MARKUP_NAME = "[bold red]Mallory[/] Markup"


@dataclass
class Calls:
    """A desk with callers, articles and a resolved ticket, and the console's own store on
    the same database, which notes the thread of every unit of work it opens."""

    desk: Desk
    store: Store  # the console's
    open_key: str  # Giulia's open ticket
    resolved_key: str  # a resolved printer ticket, suggested with its resolution
    threads: list[str] = field(default_factory=list)

    def app(self) -> RecordingApp:
        return RecordingApp(self.store, "bob", clock=lambda: NOW)


def _contact(desk: Desk, draft: directory.ContactDraft) -> int:
    with desk.store.write() as session:
        return directory.add_contact(session, NOW, draft, "IT").id


@pytest.fixture
def calls(desk_store: Desk, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    desk = desk_store
    _contact(
        desk,
        directory.ContactDraft(
            name="Giulia Ricci",
            email="giulia.ricci@acme.example",
            phone="+39 02 1234 5678",
            organization="Acme",
            vip=True,
        ),
    )
    _contact(desk, directory.ContactDraft(name="Giuseppe Verdi", phone="+39 06 5555 0101"))
    _contact(desk, directory.ContactDraft(name=MARKUP_NAME, email="mallory@evil.example"))
    with desk.store.write() as session:
        cat = directory.ensure_category(session, "Technical > Printing")
        session.add(
            Article(
                title="Clear a printer jam",
                body="Open tray 2 and remove the crumpled paper.",
                category_id=cat.id,
                visibility=Visibility.INTERNAL,
                status=ArticleStatus.PUBLISHED,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        agent = desk.agent
        opened = tickets.create_ticket(
            session,
            agent,
            NOW - timedelta(days=2),
            tickets.NewTicket(subject="Monitor flickers", requester="giulia.ricci@acme.example"),
        )
        old = tickets.create_ticket(
            session,
            agent,
            NOW - timedelta(days=9),
            tickets.NewTicket(subject="Printer on floor 3 jams", requester="+39 06 5555 0101"),
        )
        tickets.reply(session, agent, NOW - timedelta(days=8), old.key, "Replaced the roller.")
        tickets.change_status(session, agent, NOW - timedelta(days=8), old.key, Status.RESOLVED)
        keys = opened.key, old.key

    console = Store(desk.store.engine.url.render_as_string(hide_password=False))
    found = Calls(desk, console, *keys)
    # Instrumentation, not a mock: the real store, noting the thread of each unit of work.
    for name in ("read", "write"):
        real = getattr(console, name)

        def noting(real: object = real) -> AbstractContextManager[Session]:
            found.threads.append(threading.current_thread().name)
            return real()  # type: ignore[operator]

        monkeypatch.setattr(console, name, noting)
    yield found
    console.dispose()


# --- helpers ------------------------------------------------------------------------------


async def open_form(app: RecordingApp, pilot: Pilot[None]) -> NewTicketScreen:
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, NewTicketScreen)
    assert app.focused is screen.query_one("#nt-caller", Input)
    return screen


async def type_in(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


def options(screen: NewTicketScreen, selector: str) -> list[Text]:
    found = screen.query_one(selector, OptionList)
    prompts = [found.get_option_at_index(i).prompt for i in range(found.option_count)]
    assert all(isinstance(p, Text) for p in prompts)
    return prompts  # type: ignore[return-value]


def shown(screen: NewTicketScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def lit(text: Text) -> list[str]:
    return [text.plain[s.start : s.end].lower() for s in text.spans if s.style == MATCH_STYLE]


def ticket_row(desk: Desk, key: str) -> tuple[Ticket, str, str, list[str]]:
    """The ticket, who created it, who asked for it, and its message bodies."""
    with desk.store.read() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.key == key))
        assert ticket is not None
        creator = session.scalar(select(Agent.login).where(Agent.id == ticket.created_by_id))
        requester = session.scalar(select(Contact.name).where(Contact.id == ticket.requester_id))
        bodies = list(session.scalars(select(Message.body).where(Message.ticket_id == ticket.id)))
        session.expunge(ticket)
        return ticket, creator or "", requester or "", bodies


def count(desk: Desk, model: type[Ticket] | type[Contact]) -> int:
    with desk.store.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def lookups(app: RecordingApp) -> list[Worker[None]]:
    return [w for w in app.workers if w.group == "caller-lookup"]


# --- the screen ---------------------------------------------------------------------------


async def test_a_call_from_a_known_number(calls: Calls) -> None:
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        # The number typed as the caller says it, without the country code.
        await type_in(pilot, "02 1234 5678")
        running = lookups(app)
        assert running and not running[-1].is_cancelled
        assert all(w.is_cancelled for w in running[:-1])  # each keystroke cancelled the last
        await settle(pilot)
        first = options(screen, "#nt-matches")[0].plain
        assert first.startswith("VIP Giulia Ricci  Acme  +39 02 1234 5678")
        assert first.endswith("· phone")

        await pilot.press("down")  # into the list
        assert app.focused is screen.query_one("#nt-matches", OptionList)
        footer = {str(getattr(k, "description", "")): k for k in screen.query("FooterKey")}
        assert {"Create", "New caller", "Back", "Pick", "Quit"} <= footer.keys()
        palette = footer.pop("palette")  # docked right: the rest must end before it
        beyond = [name for name, k in footer.items() if k.region.right > palette.region.x]
        assert beyond == []
        await pilot.press("enter")  # pick
        await settle(pilot)
        assert screen.card is not None and screen.card.name == "Giulia Ricci"
        card = shown(screen, "#nt-card")
        assert card.startswith("VIP Giulia Ricci  +39 02 1234 5678  giulia.ricci@acme.example")
        assert "Acme · premium" in card and "1 open of 1 ticket" in card
        # What the age is, before the subject (which a long one could cut off).
        assert f"{calls.open_key:<8} new      normal  created 2d ago  Monitor flickers" in card
        assert app.focused is screen.query_one("#nt-subject", Input)

        # Suggestions follow the subject: the article and the resolved ticket's answer.
        await type_in(pilot, "printer jams")
        await settle(pilot)
        suggested = options(screen, "#nt-suggestions")
        plain = [s.plain for s in suggested]
        assert plain[0].startswith("KB Clear a printer jam  Technical > Printing")
        assert any(
            p.startswith(f"{calls.resolved_key} Printer on floor 3 jams")
            and "Replaced the roller." in p
            for p in plain
        )
        assert "printer" in lit(suggested[0])
        await pilot.press("enter", *"The tray is empty")
        assert screen.query_one(TextArea).text == "The tray is empty"

        # Category and priority with the keyboard; the channel stays phone.
        await pilot.press("tab", "enter", *"Billing", "enter")
        await pilot.press("tab", "enter", "down", "enter")  # normal -> high
        await settle(pilot)
        assert screen.query_one("#nt-category", Select).value == "Billing"
        assert screen.query_one("#nt-priority", Select).value == "high"

        before = count(calls.desk, Ticket)
        calls.threads.clear()
        screen.action_create()  # what ctrl+s runs (the key is pressed in the next test)
        # While it is created, creating again or leaving (losing the answer) is disabled.
        assert screen.check_action("create", ()) is None
        assert screen.check_action("leave", ()) is None
        await settle(pilot)
        created = app.screen
        assert isinstance(created, CreatedScreen)
        key = created.created.key
        assert count(calls.desk, Ticket) == before + 1
        ticket, creator, requester, bodies = ticket_row(calls.desk, key)
        assert (ticket.channel, ticket.priority) == (Channel.PHONE, Priority.HIGH)
        assert (creator, requester, bodies) == ("bob", "Giulia Ricci", ["The tray is empty"])
        assert created.query_one(Digits).value == str(ticket.number)
        assert str(created.query_one("#created-key", Label).render()) == key

        await pilot.press("c")
        assert app.clipboard == key
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert ("information", f"{key} copied") in app.notices
        assert not [n for n in app.notices if n[0] == "error"]
    assert calls.threads and "MainThread" not in calls.threads


async def test_a_misspelt_name_and_an_unknown_caller(calls: Calls) -> None:
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        # enter before the lookup answered: the best match is picked when it does.
        await type_in(pilot, "Guilia Rici")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.card is not None and screen.card.name == "Giulia Ricci"

        # Markup-looking names are shown as typed.
        await pilot.press("ctrl+f", "ctrl+u", *"mallory")
        await settle(pilot)
        assert screen.card is None  # a new search: the pick no longer holds
        [match] = options(screen, "#nt-matches")
        assert match.plain.startswith(MARKUP_NAME)
        assert all("red" not in str(s.style) for s in match.spans)

        # An unknown number: a new caller, its phone pre-filled from what was typed.
        await pilot.press("ctrl+u", *"+39 333 000 1111")
        await settle(pilot)
        assert options(screen, "#nt-matches") == []
        assert shown(screen, "#nt-hint").startswith("No contact matches +39 333 000 1111")
        await pilot.press("enter")
        assert screen.query_one("#nt-new-phone", Input).value == "+39 333 000 1111"
        assert app.focused is screen.query_one("#nt-new-name", Input)
        await type_in(pilot, "[b]Nora[/b] New")
        await pilot.press("tab", "tab", "tab", *"Headset broken")
        contacts = count(calls.desk, Contact)
        await pilot.press("ctrl+s")
        await settle(pilot)
        created = app.screen
        assert isinstance(created, CreatedScreen) and created.created.new_contact
        title = created.query_one("#created-title", Label).render()
        assert str(title) == "Ticket created for [b]Nora[/b] New (new contact)"
        assert count(calls.desk, Contact) == contacts + 1
        ticket, creator, requester, _bodies = ticket_row(calls.desk, created.created.key)
        assert (ticket.channel, ticket.priority, creator) == (Channel.PHONE, Priority.NORMAL, "bob")
        assert requester == "[b]Nora[/b] New"
        with calls.desk.store.read() as session:
            phone = session.scalar(select(Contact.phone).where(Contact.id == ticket.requester_id))
        assert phone == "+393330001111"

        await pilot.press("n")  # the next call: an empty form
        await settle(pilot)
        assert app.screen is screen and screen.is_blank()
        assert app.focused is screen.query_one("#nt-caller", Input)
    assert "MainThread" not in calls.threads


async def test_a_new_address_at_a_known_domain_is_a_new_caller(calls: Calls) -> None:
    """A whole address no contact has is offered first as a new caller of the organization
    owning its domain; that organization's contacts follow, only alike."""
    with calls.desk.store.write() as session:
        directory.add_organization(
            session,
            NOW,
            directory.OrganizationDraft("Juniper Legal", domains=["juniperlegal.example"]),
        )
    for name in ("Amelia Jones", "Bruno Keller"):
        email = name.lower().replace(" ", ".") + "@juniperlegal.example"
        _contact(calls.desk, directory.ContactDraft(name=name, email=email))
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        # The address of a contact: that contact first, no new caller.
        await type_in(pilot, "amelia.jones@juniperlegal.example")
        await settle(pilot)
        assert options(screen, "#nt-matches")[0].plain.startswith("Amelia Jones  Juniper Legal")

        await pilot.press("ctrl+u", *"New.Person@juniperlegal.example")
        await settle(pilot)
        assert screen.area == "nt-matches"
        new, *alike = [o.plain for o in options(screen, "#nt-matches")]
        assert new.startswith("new caller new.person@juniperlegal.example (Juniper Legal)")
        assert [a.split("  ")[0] for a in alike] == ["Amelia Jones", "Bruno Keller"]
        # The contacts stay choices: down to the list, down to Amelia, enter picks her.
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert screen.card is not None and screen.card.name == "Amelia Jones"

        # Enter in the field takes the first choice: the new caller, address pre-filled.
        await pilot.press("ctrl+f", "ctrl+u", *"New.Person@juniperlegal.example", "enter")
        await settle(pilot)
        assert screen.area == "nt-new" and screen.picked is None
        assert screen.query_one("#nt-new-email", Input).value == "New.Person@juniperlegal.example"
        assert app.focused is screen.query_one("#nt-new-name", Input)
        await type_in(pilot, "Nell Person")
        await pilot.press("tab", "tab", "tab", *"Cannot log in", "ctrl+s")
        await settle(pilot)
        created = app.screen
        assert isinstance(created, CreatedScreen) and created.created.new_contact
        ticket, _creator, requester, _bodies = ticket_row(calls.desk, created.created.key)
        assert requester == "Nell Person"
        with calls.desk.store.read() as session:
            org = session.scalar(
                select(Organization.name)
                .join(Contact, Contact.organization_id == Organization.id)
                .where(Contact.id == ticket.requester_id)
            )
        assert org == "Juniper Legal"


async def test_a_refused_ticket_keeps_the_form(calls: Calls) -> None:
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        before = (count(calls.desk, Ticket), count(calls.desk, Contact))
        await pilot.press("ctrl+s")  # no caller yet
        await settle(pilot)
        assert shown(screen, "#nt-status").startswith("pick the caller")
        assert screen.query_one("#nt-status").has_class("-error")

        # A new caller with an address that is not one: refused by the service.
        await type_in(pilot, "nora@")
        await pilot.press("ctrl+n")
        assert screen.query_one("#nt-new-email", Input).value == "nora@"
        assert app.focused is screen.query_one("#nt-new-name", Input)
        await type_in(pilot, "Nora")
        await pilot.press("tab", "tab", "tab", *"Cannot print")
        # A category brings its default priority while the agent has not chosen one.
        screen.query_one("#nt-category", Select).value = "Technical > Network"
        await settle(pilot)
        assert screen.query_one("#nt-priority", Select).value == "high"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert shown(screen, "#nt-status") == "not a valid email address: 'nora@'"
        assert ("error", "not a valid email address: 'nora@'") in app.notices
        assert (count(calls.desk, Ticket), count(calls.desk, Contact)) == before
        assert screen.query_one("#nt-subject", Input).value == "Cannot print"
        assert screen.query_one("#nt-new-email", Input).value == "nora@"
        assert screen.query_one("#nt-priority", Select).value == "high"

        # Leaving asks first; escape goes back to the form, `d` discards it.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LeaveScreen)
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("escape", "d")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


# --- the view functions -------------------------------------------------------------------


def test_a_shared_number_is_filed_under_the_caller_picked(calls: Calls) -> None:
    desk = calls.desk
    # A second contact on Giuseppe's number, without an email to tell them apart: the
    # ticket goes to the contact picked, not to whoever the number would find first.
    second = _contact(desk, directory.ContactDraft(name="Reception", phone="+39 06 5555 0101"))
    created = create_for_caller(
        desk.store, "bob", NOW, IntakeForm(subject="Door badge", contact_id=second)
    )
    assert ticket_row(desk, created.key)[2] == "Reception"


def burst(app: RecordingApp, keys: str | list[str]) -> None:
    """Keys arriving in one read, as a fast typist or `tmux send-keys` delivers them: all
    queued before the first is handled (`pilot.press` waits for idle between keys)."""
    for key in keys:
        char = " " if key == "space" else key if len(key) == 1 else None
        app.post_message(events.Key(key, char))


@pytest.mark.parametrize("how", ["down-enter", "enter-in-field"])
async def test_typing_right_after_the_pick_loses_no_key(calls: Calls, how: str) -> None:
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await type_in(pilot, "giulia ri")
        await settle(pilot)
        picking = ["down", "enter"] if how == "down-enter" else ["enter"]
        burst(app, [*picking, *"Printer jam"])
        await settle(pilot)
        assert screen.query_one("#nt-subject", Input).value == "Printer jam"
        assert app.focused is screen.query_one("#nt-subject", Input)
        assert screen.card is not None and screen.card.name == "Giulia Ricci"
        assert screen.query_one("#nt-caller", Input).value == "giulia ri"


async def test_enter_before_the_lookup_answered_still_keeps_the_subject(calls: Calls) -> None:
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        # Name, enter and subject in one go: the best match is picked when the lookup
        # answers, and the subject typed meanwhile stays where it was typed.
        burst(app, [*"giulia ri", "enter", *"Printer jam"])
        await settle(pilot)
        assert screen.query_one("#nt-caller", Input).value == "giulia ri"
        assert screen.query_one("#nt-subject", Input).value == "Printer jam"
        assert screen.card is not None and screen.card.name == "Giulia Ricci"
        assert app.focused is screen.query_one("#nt-subject", Input)


async def test_the_match_picked_is_the_one_highlighted_by_keys_typed_at_once(
    calls: Calls,
) -> None:
    app = calls.app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await type_in(pilot, "giu")
        await settle(pilot)
        names = [
            o.plain.split("  ")[0].removeprefix("VIP ") for o in options(screen, "#nt-matches")
        ]
        assert len(names) >= 2
        burst(app, ["down", "down", "enter", *"Badge"])
        await settle(pilot)
        assert screen.card is not None and screen.card.name == names[1]
        assert screen.query_one("#nt-subject", Input).value == "Badge"

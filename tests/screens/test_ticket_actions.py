"""Acting on a ticket from the console, through Pilot on SQLite and PostgreSQL: reply, note,
assign (to me, to someone picked by typing part of a name), status (allowed targets only),
priority, category, tags, subject, escalation with a reason, a conflicting change that keeps the
draft, and the external editor. Every action is checked in the database afterwards, read
back in a fresh session, and on the screen."""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rich.text import Text
from sqlalchemy import select
from textual import events
from textual.widgets import Input, Label, OptionList, Select, Static, TextArea

from tests.conftest import NOW, Desk
from tests.screens.conftest import RecordingApp, keys_shown, make_app, make_ticket, settle
from tui_helpdesk.domain import MessageKind, Priority, Role, Status
from tui_helpdesk.screens.ticket import MessageBox, TicketScreen
from tui_helpdesk.screens.ticket_actions import (
    ComposeScreen,
    DiscardScreen,
    EditorError,
    EscalateScreen,
    PickScreen,
    QuitScreen,
    RequesterScreen,
    SubjectScreen,
    TagsScreen,
    editor_command,
    filter_choices,
    run_editor,
)
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.services.console_actions import Choice
from tui_helpdesk.store.models import Escalation, Message, Ticket

SIZE = (80, 24)  # the size the console must work at; the layout tests cover 120x40 too


# --- helpers ------------------------------------------------------------------------------


async def open_ticket(pilot: object, app: RecordingApp, key: str) -> TicketScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.action_open_ticket(key)
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, TicketScreen) and screen.detail is not None
    return screen


@contextmanager
def fresh(desk: Desk, key: str) -> Iterator[tuple[Ticket, list[Message]]]:
    """The ticket as the database has it now, read in a new session."""
    with desk.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        yield ticket, tickets.ticket_messages(session, ticket)


def picker_rows(app: RecordingApp) -> list[str]:
    options = app.screen.query_one("#pick-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def notices(app: RecordingApp) -> str:
    return "\n".join(text for _, text in app.notices)


def burst(app: RecordingApp, text: str, *keys: str) -> None:
    """Type `text` then press `keys` as a terminal delivers them in one read: every key
    reaches the App before the focused field has taken the first (`pilot.press` waits for
    the app to be idle after each key, so it cannot show what a busy screen does)."""
    for char in text:
        app.post_message(events.Key("space" if char == " " else char, char))
    for key in keys:
        app.post_message(events.Key(key, None))


# --- reply and note -----------------------------------------------------------------------


async def test_reply_appears_in_the_thread_and_stamps_first_response(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "VPN drops", group="L1")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        assert screen.detail is not None and screen.detail.status == "new"
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press(*"Hi [b]Mario[/b]!")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert app.screen is screen
        boxes = list(screen.query(MessageBox))
        assert [b.kind for b in boxes] == [MessageKind.CUSTOMER, MessageKind.REPLY]
        assert str(boxes[-1].render()) == "Hi [b]Mario[/b]!"  # as typed, not markup
        assert screen.detail is not None and screen.detail.status == "open"
        assert ("information", "reply sent") in app.notices
        assert screen.drafts == {}

    with fresh(desk_store, key) as (ticket, messages):
        assert [m.kind for m in messages] == [MessageKind.CUSTOMER, MessageKind.REPLY]
        assert messages[-1].body == "Hi [b]Mario[/b]!"
        assert messages[-1].author_agent_id == desk_store.agent.agent_id
        assert ticket.first_response_at == NOW
        assert ticket.status is Status.OPEN  # a reply opens a new ticket


async def test_reply_then_pending_offers_only_allowed_statuses(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Printer", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("r")
        then = app.screen.query_one("#compose-then", Select)
        then.focus()
        await pilot.press("enter")  # drop the list down
        menu = app.screen.query_one("SelectOverlay", OptionList)
        shown = [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]
        # From open: pending, on hold, resolved (workflow order), never new or closed.
        assert shown == ["status as is", "then pending", "then on hold", "then resolved"]
        await pilot.press("down", "enter")  # then pending
        assert then.value is Status.PENDING
        app.screen.query_one(TextArea).focus()
        await pilot.press(*"Send a screenshot?")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert ("information", "reply sent, now pending") in app.notices

    with fresh(desk_store, key) as (ticket, messages):
        assert ticket.status is Status.PENDING
        assert messages[-1].kind is MessageKind.REPLY


async def test_internal_note_is_no_first_response(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Laptop", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("n")
        assert isinstance(app.screen, ComposeScreen) and app.screen.has_class("-note")
        assert not app.screen.query("#compose-then")  # a note does not move the status
        await pilot.press(*"Checked the logs")
        await pilot.press("ctrl+s")
        await settle(pilot)
        boxes = list(screen.query(MessageBox))
        assert boxes[-1].kind is MessageKind.NOTE and "-note" in boxes[-1].classes

    with fresh(desk_store, key) as (ticket, messages):
        assert messages[-1].kind is MessageKind.NOTE
        assert messages[-1].body == "Checked the logs"
        assert ticket.first_response_at is None


async def test_escape_asks_before_discarding_a_draft(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Mail", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("r", *"half a thought", "escape")
        assert isinstance(app.screen, DiscardScreen)
        await pilot.press("escape")  # keep editing
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "half a thought"
        await pilot.press("escape", "k")  # keep it for later
        await pilot.pause()
        assert app.screen is screen and screen.drafts["reply"].text == "half a thought"
        status = str(screen.query_one("#ticket-status", Static).render())
        assert status == "draft kept: r reply to continue"
        await pilot.press("r")  # back where the agent left it
        assert app.screen.query_one(TextArea).text == "half a thought"
        await pilot.press("escape", "d")  # and thrown away
        await pilot.pause()
        assert app.screen is screen and screen.drafts == {}
        assert not screen.has_class("-draft")
        await pilot.press("r", "escape")  # an empty editor closes without asking
        await pilot.pause()
        assert app.screen is screen

    with fresh(desk_store, key) as (_ticket, messages):
        assert [m.kind for m in messages] == [MessageKind.CUSTOMER]


async def test_the_reply_editor_shows_what_the_customer_asked(desk_store: Desk) -> None:
    """The customer's newest message stays in view, on one line beside the status (the
    editor covers most of the thread); a note, which answers nobody, has none."""
    key = make_ticket(desk_store, "VPN", assignee="bob", body="The VPN [b]drops[/b]\nevery hour.")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("r")
        quote = app.screen.query_one("#compose-quote", Static)
        assert str(quote.render()) == "↩ Mario Rossi: The VPN [b]drops[/b] every hour."
        await pilot.press("escape", "n")
        await pilot.pause()
        assert isinstance(app.screen, ComposeScreen) and not app.screen.query("#compose-quote")


async def test_quitting_asks_before_losing_drafts(desk_store: Desk) -> None:
    """ctrl+q with text not sent asks first (escape stays, ctrl+q again quits); with
    nothing unsent it quits at once."""
    key = make_ticket(desk_store, "Mail", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("r", *"half a thought", "ctrl+q")
        assert isinstance(app.screen, QuitScreen) and app.is_running
        question = str(app.screen.query_one(Label).render())
        assert question == "Not sent, and lost if you quit: the reply being written."
        await pilot.press("escape")  # stay: the text is where it was
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "half a thought"
        await pilot.press("escape", "k")  # kept for later, on the ticket screen
        await pilot.pause()
        assert app.screen is screen
        # Kept after the ticket is left: the queue marks it, and back on it, the draft is
        # there to go on with.
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen
        assert keys_shown(app) == [f"✎{key}"]
        again = await open_ticket(pilot, app, key)
        assert again is not screen
        assert str(again.query_one("#ticket-status", Static).render()) == (
            "draft kept: r reply to continue"
        )
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "half a thought"
        await pilot.press("escape", "k")
        await pilot.pause()
        await pilot.press("escape")  # quitting from the queue still asks
        await pilot.pause()
        await pilot.press("ctrl+q")
        question = str(app.screen.query_one(Label).render())
        assert question == f"Not sent, and lost if you quit: reply on {key}."
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running

    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("ctrl+q")  # nothing unsent: no question
        await pilot.pause()
        assert not app.is_running


# --- conflicts ----------------------------------------------------------------------------


async def test_conflict_names_the_change_and_keeps_the_draft(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Slow VPN", assignee="bob")
    app = make_app(desk_store, live=False)  # the change must reach it only on save
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        shown = screen.detail.version if screen.detail else None
        await pilot.press("r", *"My answer")
        # Someone else changes the ticket's status between load and save.
        with desk_store.store.write() as session:
            tickets.change_status(session, desk_store.admin, NOW, key, Status.ON_HOLD)
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert (
            "warning",
            "Your reply was not sent (the ticket changed meanwhile); it is back in the editor.",
        ) in app.notices
        # The ticket was reloaded (the new status shows) and the draft is given back.
        assert screen.detail is not None and screen.detail.status == "on hold"
        assert screen.detail.version != shown
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        assert compose.query_one(TextArea).text == "My answer"
        # Who changed what, above the text.
        notice = str(compose.query_one("#compose-notice", Static).render())
        assert notice.startswith(f"Not sent: {key} was changed since you opened it")
        assert "09:30 admin: status open → on hold" in notice
        with fresh(desk_store, key) as (_ticket, messages):
            assert [m.kind for m in messages] == [MessageKind.CUSTOMER]  # nothing written

        await pilot.press("ctrl+s")  # now on the version the agent has seen
        await settle(pilot)
        assert app.screen is screen and screen.drafts == {}

    with fresh(desk_store, key) as (ticket, messages):
        assert messages[-1].kind is MessageKind.REPLY and messages[-1].body == "My answer"
        assert ticket.status is Status.ON_HOLD  # the other change stands


async def test_a_reply_goes_out_over_changes_to_the_tickets_fields(desk_store: Desk) -> None:
    """What a reply is written against is the conversation and the status: another agent
    raising the priority, tagging the ticket or an automation's note meanwhile do not
    send it back (a colleague's note or reply would: test_collisions)."""
    key = make_ticket(desk_store, "Slow VPN", assignee="bob")
    app = make_app(desk_store, live=False)  # the changes reach it only on save
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("r", *"My answer")
        with desk_store.store.write() as session:
            tickets.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        with desk_store.store.write() as session:
            tickets.change_tags(session, desk_store.admin, NOW, key, add=["vip"])
        with desk_store.store.write() as session:
            tickets.add_note(session, desk_store.admin, NOW, key, "Warned the lead", rule="warn")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen and screen.drafts == {}
        assert ("information", "reply sent") in app.notices
        assert screen.detail is not None and screen.detail.priority == "urgent"  # reloaded
    with fresh(desk_store, key) as (ticket, messages):
        assert [(m.kind, m.body) for m in messages[-1:]] == [(MessageKind.REPLY, "My answer")]
        assert (ticket.priority, ticket.tags) == (Priority.URGENT, ["vip"])


async def test_after_a_conflict_the_draft_can_wait_while_the_agent_reads(
    desk_store: Desk,
) -> None:
    key = make_ticket(desk_store, "Slow VPN", assignee="bob")
    app = make_app(desk_store, live=False)  # the change must reach it only on save
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("n", *"draft note")
        with desk_store.store.write() as session:
            tickets.add_note(session, desk_store.admin, NOW, key, "meanwhile")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("escape", "k")  # read the ticket first
        await pilot.pause()
        assert app.screen is screen
        assert [str(b.render()) for b in screen.query(MessageBox)][-1] == "meanwhile"
        assert screen.drafts["note"].text == "draft note"
        await pilot.press("n", "ctrl+s")
        await settle(pilot)
        assert screen.drafts == {}

    with fresh(desk_store, key) as (_ticket, messages):
        assert [m.body for m in messages][-2:] == ["meanwhile", "draft note"]


async def test_conflict_on_a_field_change_writes_nothing(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Contested", assignee="bob")
    app = make_app(desk_store, live=False)  # the change must reach it only on save
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        with desk_store.store.write() as session:
            tickets.change_priority(session, desk_store.admin, NOW, key, Priority.HIGH)
        await pilot.press("p", *"low", "enter")
        await settle(pilot)
        severity, text = app.notices[-1]
        assert severity == "warning"
        assert text.startswith(f"{key} was changed since you opened it")
        assert "09:30 admin: priority normal → high" in text
        assert app.screen is screen  # nothing to give back
        assert screen.detail is not None and screen.detail.priority == "high"  # reloaded
    with fresh(desk_store, key) as (ticket, _):
        assert ticket.priority is Priority.HIGH


# --- assignment ---------------------------------------------------------------------------


async def test_assign_to_me(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Unowned", group="L1")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        assert screen.check_action("assign_me", ()) is True
        await pilot.press("a")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.assignee == "bob"
        assert screen.check_action("assign_me", ()) is False  # already mine: hidden
        assert ("information", "assigned to you") in app.notices

    with fresh(desk_store, key) as (ticket, _):
        assert ticket.assignee is not None and ticket.assignee.login == "bob"
        assert ticket.status is Status.OPEN


async def test_assign_to_me_outside_my_group_is_refused(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Expert stuff", group="L2")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("a")
        await settle(pilot)
        assert "in L2, which you are not in" in notices(app)
    with fresh(desk_store, key) as (ticket, _):
        assert ticket.assignee is None and ticket.group is not None and ticket.group.name == "L2"


async def test_assign_to_someone_picked_by_typing(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Router", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, PickScreen)
        rows = picker_rows(app)
        # Members of the ticket's group first, then the others with the group they bring.
        assert rows[0].startswith("admin (Ada Admin)")
        assert rows[1].startswith("bob (Bob Agent)") and rows[1].endswith("current")
        assert rows[2] == "cleo (Cleo Expert)  moves it to L2"
        assert rows[-1] == "nobody  unassign"
        await pilot.press(*"expe")  # part of Cleo's name
        assert picker_rows(app)[0] == "cleo (Cleo Expert)  moves it to L2"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.assignee == "cleo"

    with fresh(desk_store, key) as (ticket, _):
        assert ticket.assignee is not None and ticket.assignee.login == "cleo"
        assert ticket.group is not None and ticket.group.name == "L2" and ticket.level == 2


def test_the_picker_forgives_a_misspelt_word() -> None:
    """Letters typed in order match first; a query whose words are each a word's start or
    a typo away from one comes after them, fewer typos first; anything else matches none."""
    choices = [
        Choice("tom.becker", "tom.becker (Tom Becker)"),
        Choice("tina.backer", "tina.backer (Tina Backer)"),
        Choice("tomas.bec", "tomas.bec (Tomas Bec)", "moves it to L2"),
        Choice("ida.smithson", "ida.smithson (Ida Smithson)"),
    ]

    def found(query: str) -> list[str]:
        return [choice.value for choice, _ in filter_choices(choices, query)]

    assert found("tom bekcer") == ["tom.becker"]  # two letters swapped
    assert found("tina bcker") == ["tina.backer"]  # one left out
    assert found("tom bec")[:2] == ["tom.becker", "tomas.bec"]  # in order: both, typo-free
    assert found("tmo becker") == ["tom.becker"]  # "tmo": too short for a typo, in order
    assert found("zora becker") == []
    assert found("smoth") == ["ida.smithson"]  # a typo in the start of a longer word
    assert found("tom beckr") == ["tom.becker"]
    assert filter_choices(choices, "tom bekcer")[0][1] == ()  # no letters to underline


async def test_picker_names_are_text_not_markup(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        directory.add_agent(
            session,
            NOW,
            directory.AgentDraft("eve", "[bold red]Eve[/]", "eve@desk.example", Role.AGENT, ["L1"]),
        )
    key = make_ticket(desk_store, "Router", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("A")
        await settle(pilot)
        options = app.screen.query_one("#pick-list", OptionList)
        prompts = [options.get_option_at_index(i).prompt for i in range(options.option_count)]
        eve = next(p for p in prompts if str(p).startswith("eve"))
        assert isinstance(eve, Text)
        assert str(eve) == "eve ([bold red]Eve[/])  L1"
        assert not any("red" in str(span.style) for span in eve.spans)
        await pilot.press(*"[bold", "enter")
        await settle(pilot)
    with fresh(desk_store, key) as (ticket, _):
        assert ticket.assignee is not None and ticket.assignee.login == "eve"


# --- status, priority, category, tags -----------------------------------------------------


async def test_status_offers_only_allowed_targets(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Done soon", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("s")
        assert picker_rows(app) == ["pending", "on hold", "resolved"]
        await pilot.press(*"reso", "enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.status == "resolved"
        await pilot.press("s")
        assert picker_rows(app) == ["open", "closed"]  # resolved: reopen, or close
        await pilot.press(*"clo", "enter")
        await settle(pilot)
        # Closed: nothing to reply to or reclassify; a note and reopening remain.
        assert screen.detail is not None and screen.detail.status == "closed"
        for action in ("reply", "editor", "status", "assign", "priority", "tags", "escalate"):
            assert screen.check_action(action, ()) is False, action
        assert screen.check_action("note", ()) is True
        assert screen.check_action("reopen", ()) is True
        await pilot.press("r")  # hidden: does nothing
        assert app.screen is screen
        await pilot.press("o")
        await settle(pilot)

    with fresh(desk_store, key) as (ticket, _):
        assert ticket.status is Status.OPEN and ticket.closed_at is None


async def test_priority_and_category(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Wifi", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("p")
        rows = picker_rows(app)
        assert rows == ["urgent", "high", "normal  · current", "low"]
        await pilot.press(*"urg", "enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.priority == "urgent"
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, PickScreen)
        assert picker_rows(app)[0] == "Billing"
        await pilot.press(*"netw", "enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.category == "Technical > Network"

    with fresh(desk_store, key) as (ticket, _):
        assert ticket.priority is Priority.URGENT
        assert ticket.category is not None and ticket.category.path == "Technical > Network"


async def test_a_category_of_another_group_says_where_its_tickets_go(desk_store: Desk) -> None:
    """A category places new tickets only: one in L2 given an L1 category stays in L2, and
    the notice says where the category's tickets go and how to move it."""
    key = make_ticket(desk_store, "Wifi", group="L2")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("c", *"netw", "enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.group == "L2"
        assert "category: Technical > Network (its tickets go to L1: A to move it)" in notices(app)


async def test_tags_are_checked_then_saved(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Tagged", assignee="bob")
    with desk_store.store.write() as session:
        tickets.change_tags(session, desk_store.agent, NOW, key, add=["old", "keep"])
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("t")
        assert isinstance(app.screen, TagsScreen)
        field = app.screen.query_one("#line-input", Input)
        assert field.value == "keep old"
        await pilot.press("space", *"vip")  # typed after the tags, not over them
        assert field.value == "keep old vip"
        field.value = "keep bad!tag"
        await pilot.press("enter")
        assert isinstance(app.screen, TagsScreen)  # refused here, nothing sent
        hint = app.screen.query_one("#line-hint", Static)
        assert "invalid tag 'bad!tag'" in str(hint.render()) and hint.has_class("-error")
        field.value = "keep VPN remote-work"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.tags == ("keep", "remote-work", "vpn")

    with fresh(desk_store, key) as (ticket, _):
        assert ticket.tags == ["keep", "remote-work", "vpn"]


async def test_the_subject_is_checked_then_saved(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "help pls", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("T")
        assert isinstance(app.screen, SubjectScreen)
        field = app.screen.query_one("#line-input", Input)
        assert field.value == "help pls"
        field.value = "   "
        await pilot.press("enter")
        assert isinstance(app.screen, SubjectScreen)  # refused here, nothing sent
        hint = app.screen.query_one("#line-hint", Static)
        assert "needs a subject" in str(hint.render()) and hint.has_class("-error")
        field.value = "  VPN  drops every   hour "
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail is not None and screen.detail.subject == "VPN drops every hour"
        assert "subject changed" in notices(app)

    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.subject == "VPN drops every hour"
        events = [e for e in tickets.ticket_events(session, ticket) if e.field == "subject"]
        assert [(e.old, e.new) for e in events] == [("help pls", "VPN drops every hour")]


async def test_another_requester_is_found_or_added_by_what_is_typed(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Invoice", assignee="bob")  # Mario Rossi, of Acme
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("R")
        assert isinstance(app.screen, RequesterScreen)
        field = app.screen.query_one("#line-input", Input)
        assert field.value == "mario@acme.example"
        field.value = "Zed Zimmer <>"
        await pilot.press("enter")
        assert isinstance(app.screen, RequesterScreen)  # refused here, nothing sent
        assert "email or phone" in str(app.screen.query_one("#line-hint", Static).render())
        field.value = "Zed Zimmer"
        await pilot.press("enter")
        assert isinstance(app.screen, RequesterScreen)
        hint = str(app.screen.query_one("#line-hint", Static).render())
        assert "'Zed Zimmer' is neither an email address nor a phone number" in hint
        field.value = " Zed Zimmer <zed@globex.example> "
        await pilot.press("enter")
        await settle(pilot)
        assert screen.detail is not None
        assert (screen.detail.requester, screen.detail.organization) == ("Zed Zimmer", "")
        assert "requester: Zed Zimmer" in notices(app)

    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert (ticket.requester.email, ticket.organization_id) == ("zed@globex.example", None)


# --- escalation ---------------------------------------------------------------------------


async def test_escalate_level_up_with_a_reason(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Needs an expert", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, EscalateScreen)
        targets = dialog.query_one("#escalate-to", OptionList)
        assert str(targets.get_option_at_index(0).prompt) == "up one level, to L2"
        await pilot.press("enter")  # no reason yet: asked for one, nothing sent
        assert app.screen is dialog and "say why" in notices(app)
        await pilot.press(*"needs DB access", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert ("information", "escalated to L2") in app.notices

    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        assert ticket.group is not None and ticket.group.name == "L2" and ticket.level == 2
        assert ticket.assignee is None  # bob is not in L2
        assert ticket.escalation_level == 1
        row = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id)).one()
        assert (row.actor, row.reason, row.trigger) == ("bob", "needs DB access", "manual")


async def test_escalate_to_another_group(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        directory.add_group(session, NOW, directory.GroupDraft("Network", members=["cleo"]))
    key = make_ticket(desk_store, "Switch broken", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("e")
        await settle(pilot)
        targets = app.screen.query_one("#escalate-to", OptionList)
        rows = [str(targets.get_option_at_index(i).prompt) for i in range(targets.option_count)]
        assert rows == ["up one level, to L2", "to Network"]  # not its own group, L2 once
        # The reason field has the focus; the choice still shows, in bold (no colours needed).
        highlighted = targets.get_component_rich_style("option-list--option-highlighted")
        assert not targets.has_focus and highlighted.bold
        await pilot.press("down", *"cabling", "enter")
        await settle(pilot)
        assert ("information", "escalated to Network") in app.notices
    with fresh(desk_store, key) as (ticket, _):
        assert ticket.group is not None and ticket.group.name == "Network"


async def test_escalate_offers_no_lower_level(desk_store: Desk) -> None:
    """From L2 the dialog offers the teams without a level, never L1: moving a ticket down
    is an assignment, not an escalation."""
    with desk_store.store.write() as session:
        directory.add_group(session, NOW, directory.GroupDraft("Network", members=["cleo"]))
    key = make_ticket(desk_store, "Expert needed", assignee="cleo", group="L2")
    app = make_app(desk_store, "cleo")
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("e")
        await settle(pilot)
        targets = app.screen.query_one("#escalate-to", OptionList)
        rows = [str(targets.get_option_at_index(i).prompt) for i in range(targets.option_count)]
        assert rows == ["to Network"]


@pytest.mark.parametrize("typing", ["press", "burst"])
async def test_escalate_reads_the_reason_typed_right_before_ctrl_s(
    desk_store: Desk, typing: str
) -> None:
    """ctrl+s is a priority binding: the App runs it as soon as it reads the key, maybe
    before the reason field has taken the keys typed just before (a first dialog still busy
    rendering). The escalation waits for them: never "say why" with the reason in the field."""
    key = make_ticket(desk_store, "Needs an expert", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, EscalateScreen)
        if typing == "press":
            await pilot.press(*"needs DB access", "ctrl+s")
        else:
            burst(app, "needs DB access", "ctrl+s", "ctrl+s")  # pressed twice: one escalation
        await settle(pilot)
        assert "say why" not in notices(app)
        assert app.screen is screen
        assert ("information", "escalated to L2") in app.notices

    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        row = session.scalars(select(Escalation).where(Escalation.ticket_id == ticket.id)).one()
        assert row.reason == "needs DB access"


async def test_reply_sends_every_word_typed_right_before_ctrl_s(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "VPN drops", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("r")
        assert isinstance(app.screen, ComposeScreen)
        burst(app, "Restart the client please", "ctrl+s")
        await settle(pilot)
        assert app.screen is screen and "is empty" not in notices(app)

    with fresh(desk_store, key) as (_, messages):
        assert messages[-1].kind is MessageKind.REPLY
        assert messages[-1].body == "Restart the client please"


# --- the external editor ------------------------------------------------------------------


def fake_editor(tmp_path: Path, text: str, code: int = 0) -> str:
    """An "editor" that appends a line to the file it is given, then exits with `code`."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        "with open(sys.argv[1], 'a', encoding='utf-8') as f:\n"
        f"    f.write({text!r})\n"
        f"sys.exit({code})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{sys.executable} {script}"


def test_run_editor_returns_what_the_editor_saved(tmp_path: Path) -> None:
    env = {"EDITOR": fake_editor(tmp_path, "\nsigned, Bob\n")}
    assert run_editor("Dear Mario,", env) == "Dear Mario,\nsigned, Bob"


def test_editor_failures_keep_the_text(tmp_path: Path) -> None:
    with pytest.raises(EditorError, match="exited with status 3"):
        run_editor("x", {"EDITOR": fake_editor(tmp_path, "y", code=3)})
    with pytest.raises(EditorError, match="cannot run"):
        run_editor("x", {"EDITOR": str(tmp_path / "no-such-editor")})


def test_editor_command_order() -> None:
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "nano"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "nano -R"}) == ["nano", "-R"]
    assert editor_command({"VISUAL": " "}) == ["vi"]


class SuspendingApp(RecordingApp):
    """Pilot's headless driver cannot hand the terminal over (`App.suspend` raises
    SuspendNotSupported); the editor itself needs no terminal, so this app skips the
    handover and keeps everything else real."""

    @contextmanager
    def suspend(self) -> Iterator[None]:
        yield


async def test_editor_key_fills_the_reply(
    desk_store: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", fake_editor(tmp_path, " from my editor"))
    key = make_ticket(desk_store, "Long answer", assignee="bob")
    app = SuspendingApp(desk_store.store, "bob", clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("r", *"Hello", "ctrl+e")
        assert app.screen.query_one(TextArea).text == "Hello from my editor"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("E")  # straight from the ticket: editor first, then review
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == " from my editor"
    with fresh(desk_store, key) as (_ticket, messages):
        assert messages[-1].body == "Hello from my editor"


async def test_editor_without_a_terminal_says_so(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Long answer", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("r", *"kept", "ctrl+e")
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query_one(TextArea).text == "kept"
        assert ("error", "this terminal cannot be handed to an editor") in app.notices

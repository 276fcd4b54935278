"""The ticket screen's side panel, history tab, merge, article links and drafts, long threads
and live refresh, through Pilot at 80x24 and 120x40 on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Static, TabbedContent, TextArea

from tests.conftest import NOW, Desk
from tests.screens.conftest import SIZES, make_app, make_ticket, settle
from tests.screens.test_ticket_actions import fresh, notices, open_ticket
from tui_helpdesk.config import Settings
from tui_helpdesk.domain import ArticleStatus, EventKind, MessageKind, Priority, Status, Visibility
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.screens.context import DeskChanged
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.screens.ticket_actions import ComposeScreen
from tui_helpdesk.screens.ticket_links import ArticlePickScreen, MergeScreen
from tui_helpdesk.screens.ticket_panel import HistoryPane, MessageBox, SidePanel
from tui_helpdesk.services import audit, desk, directory, kb, tickets
from tui_helpdesk.services.views import MessageView
from tui_helpdesk.store.models import Article
from tui_helpdesk.widgets.confirm import ConfirmScreen

EVIL = "[bold red]x\x1b]0;evil\x07"


def panel_rows(screen: TicketScreen) -> list[str]:
    panel = screen.query_one(SidePanel)
    return [str(panel.get_option_at_index(i).prompt) for i in range(panel.option_count)]


def overlaps(a: object, b: object) -> bool:
    ra, rb = a.region, b.region  # type: ignore[attr-defined]
    return bool(ra.area and rb.area and ra.overlaps(rb))


def add_article(
    desk: Desk,
    title: str,
    body: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
) -> int:
    with desk.store.write() as session:
        article = kb.add_article(
            session,
            NOW,
            desk.agent,
            kb.ArticleDraft(title, body, visibility=visibility, status=status),
        )
        return article.id


@pytest.mark.parametrize("size", SIZES)
async def test_panel_beside_or_as_a_tab(desk_store: Desk, size: tuple[int, int]) -> None:
    other = make_ticket(desk_store, f"Printer {EVIL}")
    key = make_ticket(desk_store, "VPN drops", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        panel = screen.query_one(SidePanel)
        thread = screen.query_one("#thread")
        rows = panel_rows(screen)
        assert "  Mario Rossi" in rows and "  mario@acme.example" in rows
        assert "  Acme" in rows and "  premium · SLA by the rules" in rows
        assert f"{other} new · Printer [bold red]x (now)" in rows  # inert, control gone
        assert screen.panel is not None and screen.panel.other_open[0].key == other
        wide = size[0] >= 110
        assert panel.display is wide and thread.display
        if wide:
            assert not overlaps(panel, thread)
            assert panel.region.x >= thread.region.right
        await pilot.press("i")  # wide: hides the panel; narrow: the Info tab shows it
        await pilot.pause()
        assert panel.display is not wide
        if not wide:
            assert screen.query_one(TabbedContent).active == "tab-info"
            assert panel.region.height > 5 and not overlaps(panel, screen.query_one("Tabs"))
            for widget in (screen.query_one("#ticket-header"), screen.query_one("Footer")):
                assert not overlaps(panel, widget)
        await pilot.press("i")
        await pilot.pause()
        assert panel.display is wide
        # Enter on a ticket of the panel opens it.
        if not wide:
            await pilot.press("i")
        panel.focus()
        panel.highlighted = panel.get_option_index(f"ticket:{other}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.key == other
    assert [severity for severity, _ in app.notices] == []


@pytest.mark.parametrize("size", SIZES)
async def test_tabs_are_labelled_with_their_keys(
    desk_store: Desk, size: tuple[int, int], tmp_path: Path
) -> None:
    """Each tab says the key that shows it ("h History"), as the keymap has it, and the tab
    bar is in view at 80x24 (where the panel is the Info tab)."""
    key = make_ticket(desk_store, "VPN drops", assignee="bob")
    settings = Settings(
        database_url="unused://",
        config_path=tmp_path / "config.toml",
        rules_path=tmp_path / "rules.toml",
        keymap={"ticket.history": "y"},
    )
    app = make_app(desk_store, settings=settings)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        tabs = screen.query_one(TabbedContent)
        labels = {
            pane: tabs.get_tab(pane).label.plain
            for pane in ("tab-conversation", "tab-history", "tab-info")
        }
        assert labels == {
            "tab-conversation": "Conversation",
            "tab-history": "y History",  # remapped from h
            "tab-info": "i Info",
        }
        bar = screen.query_one("Tabs")
        assert bar.region.height and bar.region.bottom <= size[1]
        shown = [t for t in bar.query("Tab") if t.display]
        assert [t.label.plain for t in shown][: 3 if size[0] < 110 else 2] == [
            "Conversation",
            "y History",
            "i Info",
        ][: 3 if size[0] < 110 else 2]
        assert all(t.region.right <= size[0] for t in shown)
        await pilot.press("y")
        await pilot.pause()
        assert tabs.active == "tab-history"


async def test_history_tab_names_the_rules(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Slow mail", assignee="bob")
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        audit.record(
            session,
            ticket,
            desk_store.admin,
            NOW,
            EventKind.PRIORITY,
            field="priority",
            old="normal",
            new="[red]urgent[/red]",
            rule="vip-first",
        )
        tickets.change_status(session, desk_store.agent, NOW, key, Status.PENDING)
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("h")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "tab-history"
        history = screen.query_one(HistoryPane)
        assert history.history is not None
        text = str(screen.query_one("#history-text", Static).render())
        assert "priority: normal -> [red]urgent[/red]  (rule vip-first)" in text
        assert "bob  status: open -> pending" in text
        # A change reloads the history shown.
        await pilot.press("p")
        await pilot.pause()  # the picker is up: "h" goes to it, not to the history key
        await pilot.press(*"high", "enter")
        await settle(pilot)
        text = str(screen.query_one("#history-text", Static).render())
        assert "priority: normal -> high" in text
        await pilot.press("h")
        assert screen.query_one(TabbedContent).active == "tab-conversation"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("run", range(3))  # it used to depend on timing: three tries
async def test_thread_opens_and_ends_on_its_newest_message_whole(
    desk_store: Desk, size: tuple[int, int], run: int
) -> None:
    """Messages long enough to wrap once the scrollbar takes its room: they are measured at
    the width they are drawn at, so opening the ticket (and `End`) shows the newest whole."""
    key = make_ticket(desk_store, "Slow mail", assignee="bob")
    words = "the customer's whole office is down since the move to the new building " * 3
    with desk_store.store.write() as session:
        for n in range(30):
            body = f"{words[: 40 + 3 * n].rstrip()} (message {n})"
            add = tickets.reply if n % 2 else tickets.add_note
            add(session, desk_store.agent, NOW, key, body)
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        thread = screen.query_one("#thread", VerticalScroll)
        for keys in ((), ("home", "end")):
            await pilot.press(*keys)
            await settle(pilot)
            newest = list(screen.query(MessageBox))[-1]
            width, height = newest.outer_size
            # the box is tall enough for its text: the last line inside its border ends it
            *_, last, bottom = newest.render_lines(Region(0, 0, width, height))
            assert last.text.rstrip(" │").endswith("(message 29)") and "╰" in bottom.text
            # and the whole box is on the screen, scrolled to the very end
            assert thread.max_scroll_y > 0 and thread.scroll_y == thread.max_scroll_y
            assert newest.region.bottom <= thread.content_region.bottom


@pytest.mark.parametrize("size", SIZES)
async def test_history_scrolls_to_its_newest_row_when_rows_wrap(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """Rows long enough to wrap once the scrollbar takes its room: the history's height is
    measured at the width it is drawn at, so `End` (and opening the tab) shows the newest."""
    key = make_ticket(desk_store, "Slow mail", assignee="bob")
    reason = "the customer's whole office is down since the move to the new building " * 2
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        for n in range(30):
            audit.record(
                session,
                ticket,
                desk_store.admin,
                NOW,
                EventKind.TAGS,
                field="tags",
                old=f"step-{n}",
                new=f"step-{n + 1} {reason[: 20 + 2 * n]}",
            )
        tickets.change_status(session, desk_store.agent, NOW, key, Status.PENDING)
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("h")
        await settle(pilot)
        pane = screen.query_one(HistoryPane)
        text = screen.query_one("#history-text", Static)
        for keys in ((), ("home", "end")):
            await pilot.press(*keys)
            await settle(pilot)
            width, height = text.size
            # the newest row is the last line drawn, and that line is on the screen
            (last,) = text.render_lines(Region(0, height - 1, width, 1))
            assert last.text.rstrip().endswith("bob  status: open -> pending")
            assert pane.max_scroll_y > 0 and pane.scroll_y == pane.max_scroll_y
            assert text.region.bottom == pane.content_region.bottom
        # The thread's keys move the history while it is shown.
        assert screen.focused is pane
        top, bottom = 0, pane.max_scroll_y
        for key, at in (("g", top), ("j", top + 1), ("G", bottom), ("k", bottom - 1)):
            await pilot.press(key)
            await pilot.wait_for_scheduled_animations()
            assert pane.scroll_y == at, key
        assert screen.query_one(TabbedContent).active == "tab-history"


async def test_merge_into_a_ticket_of_the_requester(desk_store: Desk) -> None:
    target = make_ticket(desk_store, "The original", assignee="bob")
    key = make_ticket(desk_store, "The duplicate", assignee="bob", body="Same again.")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("m")
        assert isinstance(app.screen, MergeScreen)
        merge_list = app.screen.query_one("#merge-list", OptionList)
        assert merge_list.get_option_at_index(0).id == target
        await pilot.press("enter")  # nothing typed: the highlighted candidate
        await settle(pilot)
        assert app.screen is screen  # the same customer's ticket: no question
        assert ("information", f"{key} merged into {target}") in app.notices
        assert screen.detail is not None and screen.detail.status == "closed"
        assert screen.check_action("merge", ()) is False  # closed now
        # Merged: nothing is offered (a note or a reopening would be refused: the
        # conversation goes on in the target), though a closed ticket takes both.
        assert [a for a in ("note", "reopen") if screen.check_action(a, ())] == []
    with fresh(desk_store, target) as (ticket, messages):
        assert "Same again." in [m.body for m in messages]
    with fresh(desk_store, key) as (ticket, _):
        assert ticket.merged_into_id is not None and ticket.status is Status.CLOSED


async def test_a_refused_merge_target_is_asked_again_with_what_was_typed(
    desk_store: Desk,
) -> None:
    target = make_ticket(desk_store, "The original", assignee="bob")
    key = make_ticket(desk_store, "The duplicate", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("m", *"HD-9999", "enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MergeScreen)  # not left: the next keys still go here
        assert dialog.query_one("#merge-target", Input).value == "HD-9999"
        hint = dialog.query_one("#merge-hint", Static)
        assert "no ticket HD-9999" in str(hint.render()) and hint.has_class("-error")
        await pilot.press(*["backspace"] * 4, *target.split("-")[1], "enter")
        await settle(pilot)
        assert app.screen is screen
        assert ("information", f"{key} merged into {target}") in app.notices


def _ticket_of(desk: Desk, subject: str, email: str, name: str) -> str:
    with desk.store.write() as session:
        ticket = tickets.create_ticket(
            session,
            desk.agent,
            NOW,
            tickets.NewTicket(subject=subject, body="Hello.", requester=email, requester_name=name),
        )
        return ticket.key


async def test_merge_into_another_customers_ticket_asks_first(desk_store: Desk) -> None:
    """Mario's ticket into Jane's: the console asks, naming both customers; "n" leaves both
    as they were, "y" merges."""
    other = _ticket_of(desk_store, "Globex printer", "jane@globex.example", "Jane [b]Doe[/b]")
    key = make_ticket(desk_store, "Printer again", assignee="bob", body="Same again.")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("m", *other, "enter")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        question = str(confirm.query_one("#confirm-question", Label).render())
        assert f"Merge {key} into {other}, a ticket of another customer?" in question
        assert f"  {key}  Mario Rossi, Acme" in question
        assert f"  {other}  Jane [b]Doe[/b]" in question  # names as typed, never markup
        # At 80x24 the whole question and both buttons are in view.
        box = confirm.query_one("#confirm-box")
        assert box.region.right <= 80 and box.region.bottom <= 24
        assert all(b.region.area for b in confirm.query(Button))
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        assert not any("merged" in text for _, text in app.notices)
        with fresh(desk_store, key) as (ticket, _):
            assert ticket.merged_into_id is None and ticket.status is not Status.CLOSED

        await pilot.press("m", *other, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert ("information", f"{key} merged into {other}") in app.notices
    with fresh(desk_store, other) as (_, messages):
        assert "Same again." in [m.body for m in messages]


async def test_link_an_article_into_the_reply(desk_store: Desk) -> None:
    body = "## Steps\n\nOpen [settings](https://vpn.example/s), **reset**."
    article = add_article(desk_store, "Reset the VPN [b]client[/b]", body)
    key = make_ticket(desk_store, "VPN broken", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        assert screen.panel is not None and [a.id for a in screen.panel.articles] == [article]
        await pilot.press("l")
        picker = app.screen
        assert isinstance(picker, ArticlePickScreen)
        # Before anything is typed: the ticket's own suggestions.
        hint = str(picker.query_one("#link-hint", Static).render())
        assert hint.startswith("suggested for this ticket")
        assert picker.ids == [article]
        await pilot.press("enter")
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        text = compose.query_one(TextArea).text
        assert text.startswith(
            f'From our knowledge base, "Reset the VPN [b]client[/b]" (article {article})'
        )
        # As a mail's plain text: no Markdown syntax, the link's address kept.
        assert "Steps\n\nOpen settings (https://vpn.example/s), reset." in text
        # In the editor: ctrl+k puts another in at the cursor, searched for.
        await pilot.press("ctrl+k")
        assert isinstance(app.screen, ArticlePickScreen)
        await pilot.press(*"reset vpn")
        await pilot.pause(0.4)
        await settle(pilot)
        assert app.screen.ids == [article]
        await pilot.press("escape")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    with fresh(desk_store, key) as (_ticket, messages):
        assert messages[-1].kind is MessageKind.REPLY
        assert "Open settings (https://vpn.example/s), reset." in messages[-1].body


def shown_lines(widget: Widget) -> list[str]:
    """The lines of text a widget draws, as on the screen (blank ones left out)."""
    width, height = widget.outer_size
    lines = (strip.text.strip() for strip in widget.render_lines(Region(0, 0, width, height)))
    return [line for line in lines if line]


async def search_articles(pilot: object, query: str) -> list[str]:
    """Type `query` in the article picker, wait for its search; the rows it shows."""
    await pilot.press(*query)  # type: ignore[attr-defined]
    await pilot.pause(0.4)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    rows = pilot.app.screen.query_one("#link-list", OptionList)  # type: ignore[attr-defined]
    return [str(rows.get_option_at_index(i).prompt) for i in range(rows.option_count)]


async def test_an_internal_article_goes_into_a_reply_only_when_confirmed(desk_store: Desk) -> None:
    article = add_article(
        desk_store,
        "VPN [b]admin[/b] password",
        "The admin password is hunter2.",
        visibility=Visibility.INTERNAL,
    )
    key = make_ticket(desk_store, "VPN broken", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("r", *"Hello,")
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await pilot.press("ctrl+k")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ArticlePickScreen)
        assert "internal and draft ones ask first" in str(
            picker.query_one("#link-hint", Static).render()
        )
        rows = await search_articles(pilot, "vpn password")
        assert rows[0].endswith("  internal")
        await pilot.press("enter")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)  # asked, nothing pasted yet
        question = str(confirm.query_one("#confirm-question", Label).render())
        assert f"Article {article}, VPN [b]admin[/b] password, is internal" in question
        assert "goes to the customer" in question
        # wrapped inside its box (not cut at the box's edge): every word is on the screen
        label = confirm.query_one("#confirm-question", Label)
        assert label.region.right <= confirm.query_one("#confirm-box").content_region.right
        assert " ".join(shown_lines(label)).endswith(
            "goes to the customer with this reply. Paste it anyway?"
        )
        await pilot.press("enter")  # the default answer: don't
        await settle(pilot)
        assert app.screen is picker  # pick another, or escape
        await pilot.press("escape")
        assert app.screen is compose and compose.query_one(TextArea).text == "Hello,"

        await pilot.press("ctrl+k")
        await settle(pilot)
        await search_articles(pilot, "vpn password")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is compose
        pasted = compose.query_one(TextArea).text  # after what was typed, a paragraph of its own
        assert pasted.startswith('Hello,\n\nFrom our knowledge base, "VPN [b]admin[/b] password"')
        assert "hunter2" in pasted
        assert not any("fit for the customer" in text for _, text in app.notices)

        # `l` on the ticket asks the same, for a draft too.
        await pilot.press("escape", "d")
        await settle(pilot)
        assert app.screen is screen
        draft = add_article(
            desk_store, "Printer trick", "Kick the tray.", status=ArticleStatus.DRAFT
        )
        await pilot.press("l")
        await settle(pilot)
        await search_articles(pilot, "printer trick")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = str(app.screen.query_one("#confirm-question", Label).render())
        assert f"Article {draft}, Printer trick, is a draft" in question
        await pilot.press("n", "escape")
        await settle(pilot)
        assert app.screen is screen and "reply" not in screen.drafts

        # A suggestion picked in the side panel asks the same.
        screen.query_one(SidePanel).post_message(SidePanel.Picked("article", str(article)))
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and "reply" not in screen.drafts
    with fresh(desk_store, key) as (_ticket, messages):
        assert [m.kind for m in messages] == [MessageKind.CUSTOMER]  # nothing sent


async def test_any_article_goes_into_an_internal_note(desk_store: Desk) -> None:
    add_article(
        desk_store,
        "VPN admin password",
        "The admin password is hunter2.",
        visibility=Visibility.INTERNAL,
        status=ArticleStatus.DRAFT,
    )
    key = make_ticket(desk_store, "VPN broken", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("n")
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await pilot.press("ctrl+k")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, ArticlePickScreen)
        assert str(picker.query_one("#link-hint", Static).render()) == (
            "enter puts the article into the note"
        )
        rows = await search_articles(pilot, "vpn password")
        assert rows[0].endswith("  internal draft")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is compose  # no question: only agents read a note
        assert "hunter2" in compose.query_one(TextArea).text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
    with fresh(desk_store, key) as (_ticket, messages):
        assert messages[-1].kind is MessageKind.NOTE and "hunter2" in messages[-1].body


async def test_draft_an_article_from_a_resolved_ticket(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Printer offline", assignee="bob")
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW, key, "Restart the spooler.")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        assert screen.check_action("draft_article", ()) is False  # not resolved yet
        await pilot.press("s", *"resolved", "enter")
        await settle(pilot)
        assert screen.check_action("draft_article", ()) is True
        await pilot.press("K")  # asked first: no (the default) writes nothing
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and not any("drafted" in t for _, t in app.notices)
        await pilot.press("K", "y")
        await settle(pilot)
        assert any("drafted: Printer offline" in text for _, text in app.notices)
        await pilot.press("K", "y")  # a second draft is refused, as a notification
        await settle(pilot)
        assert "already has article" in notices(app)
    with desk_store.store.read() as session:
        article = session.scalars(select(Article)).one()
        assert "Restart the spooler." in article.body and article.status is ArticleStatus.DRAFT


async def test_long_threads_mount_the_newest_first(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Chatty", assignee="bob")
    with desk_store.store.write() as session:
        for i in range(59):
            tickets.add_note(session, desk_store.agent, NOW, key, f"note {i}")
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        boxes = list(screen.query(MessageBox))
        assert len(boxes) == 50 and str(boxes[-1].render()) == "note 58"
        assert "10 older messages" in str(screen.query_one("#thread-older", Static).render())
        await pilot.press("g")
        await pilot.pause()
        boxes = list(screen.query(MessageBox))
        assert len(boxes) == 60 and boxes[0].kind is MessageKind.CUSTOMER
        assert not screen.query_one("#thread-older").display


async def test_live_refresh_says_who_changed_what(desk_store: Desk) -> None:
    key = make_ticket(desk_store, "Watched", assignee="bob")
    app = make_app(desk_store, live=False)  # the test says when the desk changed
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        with desk_store.store.write() as session:
            tickets.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        screen.post_message(DeskChanged())
        await settle(pilot)
        assert screen.detail is not None and screen.detail.priority == "urgent"
        assert f"{key} changed: priority normal → urgent by admin" in notices(app)
        count = len(app.notices)
        screen.post_message(DeskChanged())  # nothing new on this ticket: quiet
        await settle(pilot)
        assert len(app.notices) == count


@dataclass(frozen=True)
class DeliveredView(MessageView):
    """A message view with the delivery state the outgoing mail service records (the field
    `views.MessageView` is to gain: see the report)."""

    delivery: str | None = None


def title(box: MessageBox) -> str:
    """The border title as shown (the property gives it back as escaped markup)."""
    return Content.from_markup(box.border_title or "").plain


def test_public_replies_show_their_delivery() -> None:
    sent = MessageBox(DeliveredView(MessageKind.REPLY, "Bob", "2026-11-23 09:30", "Hi", "failed"))
    assert title(sent) == "Bob · reply · failed" and sent.has_class("-delivery-failed")
    note = MessageBox(DeliveredView(MessageKind.NOTE, "Bob", "2026-11-23 09:30", "x", "sent"))
    assert title(note) == "Bob · internal note"  # notes are never mailed
    plain = MessageBox(MessageView(MessageKind.REPLY, "Bob", "2026-11-23 09:30", "Hi"))
    assert title(plain) == "Bob · reply" and plain.delivery is None


SLA_RULES = """
[desk]
ticket_prefix = "HD"

[calendars.office]
timezone = "UTC"
hours.mon = ["09:00-13:00", "14:00-18:00"]
hours.tue = ["09:00-13:00", "14:00-18:00"]

[[sla]]
name = "standard"
calendar = "office"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "16h", low = "72h" }
"""


async def test_header_shows_the_clocks_in_working_time(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(SLA_RULES))
    key = make_ticket(desk_store, "Clocked", assignee="bob", group="L1")
    app = make_app(desk_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_ticket(pilot, app, key)
        header = str(screen.query_one("#ticket-header", Static).render())
        # Monday 09:30: four working hours to the first response, sixteen (two office days)
        # to the resolution, whatever the wall clock says.
        assert "first response 4h left · resolution 16h left" in header
        assert "· L1 · bob" in header  # the group's name says its level
        rows = panel_rows(screen)
        assert "  policy standard · level 1" in rows


@pytest.mark.parametrize("size", SIZES)
async def test_header_shows_the_callers_number_whole_as_people_read_it(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    name = "Maximiliane Alexandra Friederike von Hohenzollern-Sigmaringen"  # gives way
    with desk_store.store.write() as session:
        directory.add_organization(
            session, NOW, directory.OrganizationDraft("Vistula Logistics International")
        )
        directory.add_contact(
            session,
            NOW,
            directory.ContactDraft(
                name=name,
                email="maximiliane.hohenzollern@vistula.example",
                phone="+49 30 48963834",
                organization="Vistula Logistics International",
            ),
            "DE",
        )
        ticket = tickets.create_ticket(
            session,
            desk_store.agent,
            NOW,
            tickets.NewTicket(subject="Invoice", requester="+493048963834"),
        )
        key = ticket.key
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        header = screen.query_one("#ticket-header", Static)
        width, height = header.content_size
        drawn = [strip.text for strip in header.render_lines(Region(0, 0, width, height))]
        line = next(line for line in drawn if line.lstrip().startswith("Maximiliane"))
        assert "  +49 30 48963834  " in line  # formatted as in the side panel, and whole
        assert "+493048963834" not in line
        assert line.lstrip().startswith(name[:49] + "…")
        if size[0] >= 120:
            assert "(Vistula Logistics International)" in line

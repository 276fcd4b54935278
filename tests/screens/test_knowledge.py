"""The knowledge mode through Pilot, on SQLite and PostgreSQL: search as you type in a
worker, typo corrections, drafts, opening an article and coming back to the same place,
markup-looking article text shown literally; and the two view functions it stands on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from rich.text import Text
from sqlalchemy import select
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.markdown import MarkdownBlock
from textual.worker import Worker

from tests.conftest import NOW, Desk
from tests.screens.conftest import SIZES, RecordingApp, make_app, make_ticket, settle
from tui_helpdesk.domain import ArticleStatus, Visibility
from tui_helpdesk.screens.knowledge import ArticleScreen, KnowledgeScreen
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import directory
from tui_helpdesk.services.errors import NotFound
from tui_helpdesk.services.knowledge_views import article_view, search_knowledge
from tui_helpdesk.store.models import Agent, Article, Ticket
from tui_helpdesk.text import MATCH_STYLE

MARKUP_TITLE = "[bold red]x[/] markup in a title"
MARKUP_BODY = "Shown as typed: [bold red]not markup[/] and [link=http://evil]here[/link]."


@dataclass
class Kb:
    desk: Desk
    ids: dict[str, int]  # title -> article id
    source: str  # the key of the ticket the password article was drafted from


def _article(
    desk: Desk,
    title: str,
    body: str,
    *,
    category: str = "Account > Password",
    tags: tuple[str, ...] = (),
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    helpful: int = 0,
    minutes: int = 0,
    author: str | None = None,
    source: str | None = None,
) -> int:
    with desk.store.write() as session:
        cat = directory.ensure_category(session, category)
        article = Article(
            title=title,
            body=body,
            category_id=cat.id,
            tags=list(tags),
            visibility=Visibility.INTERNAL,
            status=status,
            author_id=session.scalar(select(Agent.id).where(Agent.login == author))
            if author
            else None,
            source_ticket_id=session.scalar(select(Ticket.id).where(Ticket.key == source))
            if source
            else None,
            helpful=helpful,
            not_helpful=1,
            created_at=NOW + timedelta(minutes=minutes),
            updated_at=NOW + timedelta(minutes=minutes),
        )
        session.add(article)
        session.flush()
        return article.id


@pytest.fixture
def kb(desk_store: Desk) -> Iterator[Kb]:
    source = make_ticket(desk_store, "Cannot log in after holidays")
    ids = {
        "Reset a forgotten password": _article(
            desk_store,
            "Reset a forgotten password",
            "# Steps\n\n1. Open the portal.\n2. Choose **Forgot password**.\n",
            tags=("password", "login"),
            helpful=5,
            minutes=1,
            author="admin",
            source=source,
        ),
        "Password policy for new accounts": _article(
            desk_store,
            "Password policy for new accounts",
            "Passwords need twelve characters.",
            helpful=1,
            minutes=2,
        ),
        "Printer jams on every job": _article(
            desk_store,
            "Printer jams on every job",
            "Open tray 2, remove the crumpled paper and restart the printer queue.",
            category="Technical > Printing",
            helpful=9,
            minutes=3,
        ),
        "Configure the VPN client at home": _article(
            desk_store,
            "Configure the VPN client at home",
            "Install the client and import the profile.",
            category="Technical > Network",
            status=ArticleStatus.DRAFT,
            helpful=50,  # the most votes, but a draft: not in the list of the most helpful
            minutes=4,
        ),
        MARKUP_TITLE: _article(desk_store, MARKUP_TITLE, MARKUP_BODY, minutes=5),
    }
    yield Kb(desk_store, ids, source)


# --- helpers ------------------------------------------------------------------------------


async def open_knowledge(app: RecordingApp, pilot: object) -> KnowledgeScreen:
    await pilot.press("f2")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, KnowledgeScreen)
    return screen


def hits(screen: KnowledgeScreen) -> list[Text]:
    found = screen.query_one("#kb-results", OptionList)
    prompts = [found.get_option_at_index(i).prompt for i in range(found.option_count)]
    assert all(isinstance(p, Text) for p in prompts)
    return prompts  # type: ignore[return-value]


def titles(screen: KnowledgeScreen) -> list[str]:
    return [prompt.plain.split("\n")[0].split("  ")[0] for prompt in hits(screen)]


def lit(text: Text) -> list[str]:
    """The stretches of `text` drawn as a highlighted word."""
    return [text.plain[s.start : s.end] for s in text.spans if s.style == MATCH_STYLE]


def summary(screen: KnowledgeScreen) -> str:
    return str(screen.query_one("#kb-summary", Static).render())


def kb_workers(app: RecordingApp) -> list[Worker[None]]:
    return [w for w in app.workers if w.group == "kb-search"]


# --- the screen ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_typing_searches_in_a_worker(kb: Kb, size: tuple[int, int]) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        screen = await open_knowledge(app, pilot)
        assert app.focused is screen.query_one("#kb-query", Input)
        # The empty query: the most helpful published articles, drafts left out.
        assert titles(screen) == [
            "Printer jams on every job",
            "Reset a forgotten password",
            "Password policy for new accounts",
            MARKUP_TITLE,
        ]
        assert summary(screen).startswith("most helpful articles")

        await pilot.press(*"pass")
        # Each keystroke started a search and cancelled the one before, which may still be
        # waiting out the pause in typing. On a loaded machine earlier ones, or even the
        # newest, may have finished already: whatever still runs, only the newest search
        # is not cancelled.
        running = kb_workers(app)
        assert sum(not w.is_cancelled for w in running) <= 1
        assert all(w.is_cancelled for w in running[:-1])

        await settle(pilot)
        assert kb_workers(app) == []
        # "pass" is being typed: it matches as a prefix; the title words rank first.
        assert set(titles(screen)) == {
            "Reset a forgotten password",
            "Password policy for new accounts",
        }
        first = hits(screen)[0]
        assert [w.lower() for w in lit(first)] and all(
            w.lower().startswith("pass") for w in lit(first)
        )
        assert summary(screen) == "2 articles"

        await pilot.press(*"word", "space", *"policy")
        await settle(pilot)
        assert titles(screen)[0] == "Password policy for new accounts"
        assert "policy" in [w.lower() for w in lit(hits(screen)[0])]
        assert app.notices == []


async def test_a_typo_shows_the_word_also_searched(kb: Kb) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(app, pilot)
        await pilot.press(*"printr", "space")
        await settle(pilot)
        assert titles(screen) == ["Printer jams on every job"]
        assert summary(screen) == "1 article · also searched: printer"
        await pilot.press(*"zzyzx")
        await settle(pilot)
        assert hits(screen) == []
        assert summary(screen).startswith("no article matches")
        assert screen.query_one("#kb-results", OptionList).option_count == 0


async def test_drafts_are_marked(kb: Kb) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(app, pilot)
        await pilot.press(*"vpn")
        await settle(pilot)
        [prompt] = hits(screen)
        assert prompt.plain.startswith("[draft] Configure the VPN client at home")
        draft = [s for s in prompt.spans if prompt.plain[s.start : s.end] == "[draft] "]
        assert [s.style for s in draft] == ["dim"]
        assert lit(prompt)[0] == "VPN"


@pytest.mark.parametrize("size", SIZES)
async def test_enter_opens_the_article_and_escape_comes_back(kb: Kb, size: tuple[int, int]) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=size) as pilot:
        screen = await open_knowledge(app, pilot)
        await pilot.press(*"password", "enter")  # enter hands the keys to the list
        await settle(pilot)
        results = screen.query_one("#kb-results", OptionList)
        assert app.focused is results
        order = titles(screen)
        assert sorted(order) == ["Password policy for new accounts", "Reset a forgotten password"]
        await pilot.press("j", "k", "j", "enter")
        await settle(pilot)
        article = app.screen
        assert isinstance(article, ArticleScreen)
        assert article.article is not None and article.article.title == order[1]

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#kb-query", Input).value == "password"
        assert results.highlighted == 1 and app.focused is results

        reset = order.index("Reset a forgotten password")
        await pilot.press("g", *["j"] * reset, "enter")
        await settle(pilot)
        article = app.screen
        assert isinstance(article, ArticleScreen)
        header = str(article.query_one("#article-header", Static).render())
        assert header.startswith("Reset a forgotten password\n")
        assert "Account > Password" in header and "published" in header
        assert "by Ada Admin" in header and f"from {kb.source}" in header
        assert "5 helpful" in header and "#password #login" in header
        shown = [str(b.render()) for b in article.query(MarkdownBlock)]
        assert "Steps" in shown  # the heading, without its "#"
        assert any("Forgot password" in text and "**" not in text for text in shown)

        # The article came from a ticket: `t` opens it, escape comes back to the article.
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.key == kb.source
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.screen is screen and results.highlighted == reset
        assert app.notices == []


async def test_markup_in_articles_is_shown_literally(kb: Kb) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(app, pilot)
        await pilot.press(*"markup", "enter")
        await settle(pilot)
        prompt = hits(screen)[0]
        assert prompt.plain.startswith(MARKUP_TITLE)
        assert "not markup" in prompt.plain  # the snippet line
        assert all("red" not in str(s.style) for s in prompt.spans)
        await pilot.press("enter")
        await settle(pilot)
        article = app.screen
        assert isinstance(article, ArticleScreen) and article.article is not None
        header = article.query_one("#article-header", Static).render()
        assert str(header).startswith(MARKUP_TITLE)
        assert article.query_one(Markdown).source == MARKUP_BODY
        body = " ".join(str(b.render()) for b in article.query(MarkdownBlock))
        assert "[bold red]not markup[/]" in body and "[link=http://evil]" in body
        assert not article.check_action("source_ticket", ())  # no ticket behind this one


@pytest.mark.parametrize("size", SIZES)
async def test_snippets_read_as_plain_text(kb: Kb, size: tuple[int, int]) -> None:
    """Markdown in an article's body is not shown as syntax in its snippet: no heading
    marks, stars, backticks or link addresses; the searched words are still highlighted,
    and text that looks like Rich markup stays text."""
    _article(
        kb.desk,
        "Remote access",
        "## Setup\n\nOpen the **VPN client** from [the portal](https://portal.example/vpn) "
        "and run `vpn --reset`.\n\n> Ask [b]IT[/b] _first_.",
        category="Technical > Network",
        minutes=6,
    )
    app = make_app(kb.desk)
    async with app.run_test(size=size) as pilot:
        screen = await open_knowledge(app, pilot)
        await pilot.press(*"vpn portal", "enter")
        await settle(pilot)
        prompt = next(p for p in hits(screen) if p.plain.startswith("Remote access"))
        snippet = prompt.plain.split("\n")[1].strip()
        assert snippet.startswith("Setup Open the VPN client from the portal and run vpn --reset.")
        for syntax in ("**", "##", "](", "https://", "`", "> "):
            assert syntax not in snippet, syntax
        assert "Ask [b]IT[/b] first." in snippet  # looks like markup: shown as typed
        assert {"VPN", "portal", "vpn"} <= set(lit(prompt))
        assert all("red" not in str(span.style) for span in prompt.spans)


async def test_modes_keep_their_place(kb: Kb) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert app.check_action("switch_mode", ("queue",)) is False  # hidden where it is
        assert app.check_action("switch_mode", ("knowledge",)) is True
        screen = await open_knowledge(app, pilot)
        await pilot.press(*"printer")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert app.screen is queue and app.current_mode == "queue"
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is screen
        assert titles(screen) == ["Printer jams on every job"]
        # `/` back to the query; escape clears it and lists the most helpful again.
        await pilot.press("down")
        assert app.focused is screen.query_one("#kb-results", OptionList)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#kb-query", Input)
        await pilot.press("escape")
        await settle(pilot)
        assert screen.query_one("#kb-query", Input).value == ""
        assert titles(screen)[0] == "Printer jams on every job" and len(titles(screen)) == 4
        assert not screen.check_action("clear", ())


async def test_refresh_keeps_the_highlighted_article(kb: Kb) -> None:
    app = make_app(kb.desk)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_knowledge(app, pilot)
        await pilot.press("down", "j", "j")
        results = screen.query_one("#kb-results", OptionList)
        assert results.highlighted == 2
        # A more helpful article appears meanwhile: the cursor stays on the same article.
        _article(kb.desk, "Printer toner low", "Order toner.", helpful=20)
        await pilot.press("r")
        await settle(pilot)
        assert titles(screen)[0] == "Printer toner low"
        assert results.highlighted == 3
        assert titles(screen)[3] == "Password policy for new accounts"


# --- the view functions -------------------------------------------------------------------


def test_search_knowledge_and_article_view(kb: Kb) -> None:
    store = kb.desk.store
    browse = search_knowledge(store, "  ")
    assert browse.browsing and browse.corrections == ()
    assert [h.title.plain for h in browse.hits][:2] == [
        "Printer jams on every job",
        "Reset a forgotten password",
    ]
    assert (
        browse.hits[1].snippet.plain == "Steps 1. Open the portal. 2. Choose **Forgot password**."
    )
    assert search_knowledge(store, "", limit=1).hits[0].title.plain == "Printer jams on every job"

    found = search_knowledge(store, "pasword")
    assert not found.browsing
    assert found.corrections == (("pasword", ("password",)),)
    assert {h.title.plain for h in found.hits} == {
        "Reset a forgotten password",
        "Password policy for new accounts",
    }
    drafts = [h for h in search_knowledge(store, "vpn").hits if h.draft]
    assert [h.title.plain for h in drafts] == ["Configure the VPN client at home"]
    assert (
        search_knowledge(store, "forgo", typing=True).hits[0].id
        == kb.ids["Reset a forgotten password"]
    )

    view = article_view(
        store, "bob", kb.ids["Reset a forgotten password"], now=NOW + timedelta(hours=3)
    )
    assert view.author == "Ada Admin" and view.source_ticket == kb.source
    assert view.tags == ("password", "login") and view.category == "Account > Password"
    assert (view.status, view.visibility, view.helpful, view.not_helpful) == (
        "published",
        "internal",
        5,
        1,
    )
    assert view.body.startswith("# Steps")
    assert view.updated.endswith("(2h ago)")
    with pytest.raises(NotFound):
        article_view(store, "bob", 999_999, now=NOW)

"""The knowledge mode: search articles as you type, read one.

`KnowledgeScreen` is the mode's base screen: a search box, a line saying what the list
holds (or which words were also searched for a typo), and the hits, two lines each (the
title, then a dim snippet, matched words highlighted). Every change of the query starts a
thread worker in the exclusive group "kb-search": it waits out a short pause in typing
(`DEBOUNCE`), gives up if a newer keystroke has cancelled it, and posts `SearchDone`; a
result for an older query than the last one asked for is dropped. An empty query lists the
most helpful published articles. `enter` pushes `ArticleScreen`, which loads the article
in its own worker and shows the Markdown body; `escape` pops back to the list as it was.

Article text is untrusted: titles, snippets and facts are built as `rich.text.Text` from
plain pieces, never parsed as markup (snippets with their Markdown syntax taken out,
`markdown_text`); the body goes to Textual's Markdown widget, which
renders Markdown and nothing else. Called by the App, which registers the mode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.markdown_text import snippet_text
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import knowledge_views as views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.knowledge_views import ArticleView, KnowledgeHit, KnowledgeResults
from tui_helpdesk.text import MATCH_STYLE, highlighted

DEBOUNCE = 0.2  # seconds of quiet typing before a search runs


def hit_prompt(hit: KnowledgeHit) -> Text:
    """Two lines for the list: "[draft] Title  (category)" then the dim snippet."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if hit.draft:
        text.append("[draft] ", style="dim")
    text.append_text(highlighted(hit.title.pieces, style="bold", highlight=MATCH_STYLE))
    if hit.category:
        text.append(f"  {hit.category}", style="dim italic")
    text.append("\n  ")  # the snippet indented under its title
    if hit.snippet.pieces:
        # The body's Markdown, readable: syntax out, the matched words still marked.
        text.append_text(snippet_text(hit.snippet.pieces, style="dim", highlight=MATCH_STYLE))
    else:
        text.append("(no text)", style="dim italic")
    return text


def results_summary(results: KnowledgeResults) -> Text:
    """The line above the list: what it holds, and the words searched besides a typo."""
    text = Text(no_wrap=True, overflow="ellipsis")
    count = len(results.hits)
    if results.browsing:
        text.append("most helpful articles" if count else "no published article yet")
        text.append(" · type to search", style="dim")
        return text
    if not count:
        text.append("no article matches", style="bold")
    else:
        text.append(f"{count} article{'' if count == 1 else 's'}")
    if results.corrections:
        text.append(" · also searched: ", style="dim")
        also = sorted({w for _typed, words in results.corrections for w in words})
        text.append(", ".join(also), style="italic")
    return text


class ResultList(OptionList):
    """The hits; `enter` opens the highlighted one (posts `OptionList.OptionSelected`)."""

    BINDING_GROUP_TITLE = "Articles"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", id="knowledge.open"),
        Binding("j", "cursor_down", "Down", show=False, id="knowledge.down"),
        Binding("k", "cursor_up", "Up", show=False, id="knowledge.up"),
        Binding("g", "first", "First", show=False, id="knowledge.first"),
        Binding("G", "last", "Last", show=False, id="knowledge.last"),
    ]


class KnowledgeScreen(Screen[None]):
    """Search knowledge articles; enter reads one."""

    CSS_PATH = Path(__file__).with_name("knowledge.tcss")  # absolute: subclasses live elsewhere
    AUTO_FOCUS = "#kb-query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="knowledge.search"),
        Binding("down", "results", "Results", show=False, id="knowledge.results"),
        Binding("escape", "clear", "Clear", id="knowledge.clear"),
        Binding("r", "refresh", "Refresh", id="knowledge.refresh"),
    ]

    @dataclass
    class SearchDone(Message):
        request: int
        results: KnowledgeResults

    @dataclass
    class SearchFailed(Message):
        request: int
        error: str

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        self.results: KnowledgeResults | None = None
        self._request = 0
        self._keep: int | None = None  # the article to keep highlighted after a reload

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder='search articles: words, "phrase", -word, tag:x', id="kb-query")
        yield Static(Text(""), id="kb-summary")
        yield ResultList(id="kb-results")
        yield Footer()

    def on_mount(self) -> None:
        self.results_list.loading = True
        self.search("", debounce=False)

    @property
    def results_list(self) -> ResultList:
        return self.query_one(ResultList)

    @property
    def query_text(self) -> str:
        return self.query_one("#kb-query", Input).value

    # --- searching -------------------------------------------------------------------

    def search(self, text: str, *, debounce: bool = True, keep: int | None = None) -> None:
        """Ask for the hits of `text`; a newer call supersedes this one."""
        self._request += 1
        self._keep = keep
        typing = not text.endswith(" ")  # a word followed by a space is finished
        self._search(self._request, text, typing, DEBOUNCE if debounce else 0.0)

    @work(thread=True, exclusive=True, group="kb-search", exit_on_error=False)
    def _search(self, request: int, text: str, typing: bool, wait: float) -> None:
        worker = get_current_worker()
        if wait:
            time.sleep(wait)  # the debounce: a keystroke meanwhile cancels this worker
            if worker.is_cancelled:
                return
        try:
            found = views.search_knowledge(self.context.store, text, typing=typing)
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.SearchFailed(request, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.SearchDone(request, found))

    def on_knowledge_screen_search_done(self, message: SearchDone) -> None:
        if message.request != self._request:
            return  # the answer to a query the agent has typed past
        self.results = message.results
        hits = self.results_list
        hits.loading = False
        hits.set_options(Option(hit_prompt(h), id=str(h.id)) for h in message.results.hits)
        if message.results.hits:
            index = 0
            if self._keep is not None and str(self._keep) in {o.id for o in hits.options}:
                index = hits.get_option_index(str(self._keep))
            hits.highlighted = index
        self.query_one("#kb-summary", Static).update(results_summary(message.results))
        self.refresh_bindings()

    def on_knowledge_screen_search_failed(self, message: SearchFailed) -> None:
        if message.request != self._request:
            return
        self.results_list.loading = False
        self.notify(message.error, title="Knowledge", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a worker is shown, not allowed to take the console down with it.
        if event.state is WorkerState.ERROR:
            self.results_list.loading = False
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    # --- actions ---------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#kb-query", Input).focus()

    def action_results(self) -> None:
        self.results_list.focus()

    def action_clear(self) -> None:
        field = self.query_one("#kb-query", Input)
        field.value = ""  # posts Input.Changed, which lists the most helpful articles
        field.focus()

    def action_refresh(self) -> None:
        hit = self.results_list.highlighted_option
        self.search(self.query_text, debounce=False, keep=int(hit.id) if hit and hit.id else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search":
            return not self.query_one("#kb-query", Input).has_focus
        if action == "clear":
            return bool(self.query_text)
        if action == "results":
            return self.results_list.option_count > 0 and not self.results_list.has_focus
        return True

    # --- events ----------------------------------------------------------------------

    @on(Input.Changed, "#kb-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self.search(event.value)
        self.refresh_bindings()

    @on(Input.Submitted, "#kb-query")
    def _query_submitted(self) -> None:
        if self.results_list.option_count:
            self.results_list.focus()

    @on(OptionList.OptionSelected, "#kb-results")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.app.push_screen(ArticleScreen(self.context, int(event.option.id)))


class ArticleScreen(Screen[None]):
    """One article: title, facts, and the body rendered as Markdown."""

    CSS_PATH = Path(__file__).with_name("knowledge.tcss")
    AUTO_FOCUS = "#article-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="knowledge.article.back"),
        Binding("t", "source_ticket", "Source ticket", id="knowledge.article.ticket"),
        Binding("r", "refresh", "Refresh", id="knowledge.article.refresh"),
        Binding("j", "scroll('down')", "Down", show=False, id="knowledge.article.down"),
        Binding("k", "scroll('up')", "Up", show=False, id="knowledge.article.up"),
        Binding("g", "scroll('home')", "Top", show=False, id="knowledge.article.top"),
        Binding("G", "scroll('end')", "End", show=False, id="knowledge.article.end"),
    ]

    @dataclass
    class Loaded(Message):
        article: ArticleView

    @dataclass
    class Failed(Message):
        error: str

    def __init__(self, context: ConsoleContext, article_id: int) -> None:
        super().__init__()
        self.context = context
        self.article_id = article_id
        self.article: ArticleView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"article {self.article_id}"), id="article-header")
        with VerticalScroll(id="article-body"):
            # Links in an article are untrusted: shown on click, never opened by the console.
            yield Markdown(id="article-markdown", open_links=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#article-body").loading = True
        self._load(self.article_id)

    @work(thread=True, exclusive=True, group="kb-article", exit_on_error=False)
    def _load(self, article_id: int) -> None:
        worker = get_current_worker()
        try:
            article = views.article_view(
                self.context.store,
                self.context.login,
                article_id,
                now=self.context.now(),
                timezone=self.context.timezone,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.Failed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(article))

    async def on_article_screen_loaded(self, message: Loaded) -> None:
        self.article = message.article
        self.query_one("#article-header", Static).update(article_header(message.article))
        await self.query_one("#article-markdown", Markdown).update(
            message.article.body or "*(this article has no text yet)*"
        )
        self.query_one("#article-body").loading = False
        self.refresh_bindings()

    def on_article_screen_failed(self, message: Failed) -> None:
        self.notify(message.error, title="Knowledge", severity="error", markup=False)
        if self.article is None and self.is_current:
            self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    @on(Markdown.LinkClicked)
    def _link(self, event: Markdown.LinkClicked) -> None:
        self.notify(event.href, title="Link", markup=False)

    # --- actions ---------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._load(self.article_id)

    def action_source_ticket(self) -> None:
        if self.article and self.article.source_ticket:
            self.app.push_screen(TicketScreen(self.context, self.article.source_ticket))

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#article-body", VerticalScroll)
        {
            "down": body.scroll_down,
            "up": body.scroll_up,
            "home": body.scroll_home,
            "end": body.scroll_end,
        }[where]()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "source_ticket":
            return bool(self.article and self.article.source_ticket)
        return True


def article_header(article: ArticleView) -> Text:
    """The title and one line of facts; article text is appended as plain strings."""
    text = Text()
    if article.status == "draft":
        text.append("[draft] ", style="dim")
    text.append(article.title, style="bold")
    text.append("\n")
    facts = [
        article.category or "no category",
        article.status,
        article.visibility,
        f"updated {article.updated}",
        f"{article.helpful} helpful · {article.not_helpful} not",
    ]
    if article.author:
        facts.append(f"by {article.author}")
    if article.source_ticket:
        facts.append(f"from {article.source_ticket}")
    if article.tags:
        facts.append(" ".join(f"#{t}" for t in article.tags))
    text.append(" · ".join(facts), style="dim")
    return text

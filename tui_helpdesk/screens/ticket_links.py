"""Two more questions the ticket screen asks, about other records: which knowledge article
to put into the reply (`ArticlePickScreen`, searching the knowledge base as you type) and
which ticket to merge this one into (`MergeScreen`, the requester's other open tickets or any
key typed; `merge_question` asks again when the target is another customer's). Also
`article_snippet`, the text an article puts into a reply, and `ask_before_the_customer_sees`:
an internal or draft article goes into a public reply only once the agent has said yes to
"its text goes to the customer" (into an internal note, any article goes as it is).

`ArticlePickScreen` reads through `services.knowledge_views` in its own thread workers; the
merge itself is written by the ticket screen. Called by `screens.ticket` and
`screens.ticket_actions` (the reply editor's `ctrl+k`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.markdown_text import mail_text
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.services import knowledge_views
from tui_helpdesk.services.console_actions import MergeParties
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.intake_views import SuggestedArticle
from tui_helpdesk.services.knowledge_views import ArticleView, KnowledgeResults
from tui_helpdesk.services.ticket_panel import OtherTicket
from tui_helpdesk.text import highlighted
from tui_helpdesk.widgets.confirm import ConfirmScreen

CSS = Path(__file__).with_name("ticket.tcss")  # the ticket screen's sheet styles its questions

DEBOUNCE = 0.2  # seconds of quiet typing before a search runs


def article_snippet(article: ArticleView) -> str:
    """What linking an article puts into a reply: its title, number and text as a mail's
    plain text (`markdown_text.mail_text`: no Markdown syntax, links with their address),
    for the agent to trim. Internal and draft articles are asked about first
    (`customer_question`)."""
    body = mail_text(article.body)
    return f'From our knowledge base, "{article.title}" (article {article.id}):\n\n{body}\n'


def merge_question(parties: MergeParties) -> Text:
    """What the agent is asked before merging into another customer's ticket: both
    tickets with their customers (names appended as plain text, never markup)."""
    question = Text(f"Merge {parties.source} into {parties.target}, a ticket of ")
    question.append("another customer", style="bold")
    question.append("?\n\n")
    for key, customer in (
        (parties.source, parties.source_customer),
        (parties.target, parties.target_customer),
    ):
        question.append(f"  {key}  ", style="bold")
        question.append(customer)
        question.append("\n")
    question.append(
        f"\n{parties.source}'s conversation moves to {parties.target}; {parties.source} is closed."
    )
    return question


def not_for_customers(article: ArticleView) -> str | None:
    """Why the article is not meant for customers ("internal", "a draft", "an internal
    draft"), or None when it is published and public."""
    internal = article.visibility != "public"
    draft = article.status != "published"
    if internal and draft:
        return "an internal draft"
    return "internal" if internal else "a draft" if draft else None


def customer_question(article: ArticleView) -> Text | None:
    """What to ask before an article not meant for customers goes into a public reply, or
    None when it is meant for them. The title is appended as plain text, never markup."""
    why = not_for_customers(article)
    if why is None:
        return None
    question = Text(f"Article {article.id}, ")
    question.append(article.title, style="bold")
    question.append(", is ")
    question.append(why, style="bold")
    question.append(": its text goes to the customer with this reply.\n\nPaste it anyway?")
    return question


def ask_before_the_customer_sees(
    app: App[object], article: ArticleView, then: Callable[[ArticleView], object]
) -> None:
    """`then(article)` at once for a public, published article; for any other, only once the
    agent has said yes (`enter` alone says no: nothing is pasted)."""
    question = customer_question(article)
    if question is None:
        then(article)
        return

    def answered(yes: bool | None) -> None:  # returns nothing: `then` may be a `dismiss`
        if yes:
            then(article)

    app.push_screen(
        ConfirmScreen(question, title="Not a public article", yes="Paste", no="Don't"), answered
    )


class ArticlePickScreen(ModalScreen[ArticleView | None]):
    """Search the knowledge base as you type; `enter` on a hit links it (dismissed with the
    article, read in full), `escape` cancels. Into a `kind="reply"` (public), an internal or
    draft article (marked in the list) is asked about first; no keeps the picker open."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#link-query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="link.cancel"),
        Binding("down", "move('down')", "Down", show=False, id="link.down"),
        Binding("up", "move('up')", "Up", show=False, id="link.up"),
    ]

    @dataclass
    class Found(Message):
        request: int
        results: KnowledgeResults | None
        article: ArticleView | None
        error: str | None

    def __init__(
        self,
        context: ConsoleContext,
        title: Text,
        query: str = "",
        *,
        kind: str = "reply",
        suggested: Sequence[SuggestedArticle] = (),
    ) -> None:
        super().__init__()
        self.context = context
        self.title_text = title
        self.query_text = query
        self.kind = kind  # "reply" (the customer reads it) or "note" (agents only)
        # The ticket's suggested articles (its side panel's): the list before anything
        # is typed, instead of the knowledge base's newest.
        self.suggested = tuple(suggested)
        self.ids: list[int] = []
        self._request = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="link-box") as box:
            box.border_title = self.title_text
            yield Input(self.query_text, placeholder="search articles", id="link-query")
            yield OptionList(id="link-list", markup=False)
            yield Static(Text(self._hint()), id="link-hint")
        yield Footer()

    def on_mount(self) -> None:
        if self.suggested and not self.query_text:
            self._show_suggested()
            return
        self._search(self._next(), self.query_text, 0.0)

    def _show_suggested(self) -> None:
        self.ids = [a.id for a in self.suggested]
        options = self.query_one("#link-list", OptionList)
        for article in self.suggested:
            text = Text(f"#{article.id} ", style="bold", no_wrap=True, overflow="ellipsis")
            text.append_text(highlighted(article.title.pieces, highlight="underline"))
            options.add_option(Option(text))
        options.highlighted = 0
        hint = self.query_one("#link-hint", Static)
        hint.update(Text(f"suggested for this ticket; type to search  ·  {self._hint()}"))

    def _hint(self) -> str:
        hint = f"enter puts the article into the {self.kind}"
        if self.kind == "reply":
            hint += "; internal and draft ones ask first"
        return hint

    def _next(self) -> int:
        self._request += 1
        return self._request

    @work(thread=True, exclusive=True, group="link-search", exit_on_error=False)
    def _search(self, request: int, text: str, wait: float) -> None:
        worker = get_current_worker()
        if wait:
            time.sleep(wait)  # a keystroke meanwhile cancels this worker
            if worker.is_cancelled:
                return
        try:
            found = knowledge_views.search_knowledge(
                self.context.store, text, typing=not text.endswith(" "), limit=15
            )
        except ServiceError as exc:
            self.post_message(self.Found(request, None, None, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Found(request, found, None, None))

    @work(thread=True, exclusive=True, group="link-read", exit_on_error=False)
    def _read(self, request: int, article_id: int) -> None:
        try:
            article = knowledge_views.article_view(
                self.context.store,
                self.context.login,
                article_id,
                now=self.context.now(),
                timezone=self.context.timezone,
            )
        except ServiceError as exc:
            self.post_message(self.Found(request, None, None, str(exc)))
            return
        self.post_message(self.Found(request, None, article, None))

    def on_article_pick_screen_found(self, message: Found) -> None:
        if message.error is not None:
            self.notify(message.error, title="Knowledge", severity="error", markup=False)
            return
        if message.article is not None:
            if self.kind == "reply":
                ask_before_the_customer_sees(self.app, message.article, self.dismiss)
            else:
                self.dismiss(message.article)
            return
        if message.request != self._request or message.results is None:
            return
        hits = message.results.hits
        self.ids = [h.id for h in hits]
        options = self.query_one("#link-list", OptionList)
        options.clear_options()
        for hit in hits:
            text = Text(f"#{hit.id} ", style="bold", no_wrap=True, overflow="ellipsis")
            text.append_text(highlighted(hit.title.pieces, highlight="underline"))
            mark = " ".join(
                word
                for word, shown in (("internal", not hit.public), ("draft", hit.draft))
                if shown
            )
            if mark:
                text.append(f"  {mark}", style="dim italic")
            options.add_option(Option(text))
        if not hits:
            options.add_option(Option(Text("no article matches", style="italic"), disabled=True))
        options.highlighted = 0 if hits else None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:  # a bug in a worker: told, not a crash
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    @on(Input.Changed, "#link-query")
    def _typed(self, event: Input.Changed) -> None:
        if self.suggested:  # searching now: the suggestions' hint goes
            self.query_one("#link-hint", Static).update(Text(self._hint()))
        self._search(self._next(), event.value, DEBOUNCE)

    @on(Input.Submitted, "#link-query")
    def _take_highlighted(self) -> None:
        index = self.query_one("#link-list", OptionList).highlighted
        if index is not None and index < len(self.ids):
            self._read(self._request, self.ids[index])

    @on(OptionList.OptionSelected, "#link-list")
    def _take(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.ids):
            self._read(self._request, self.ids[event.option_index])

    def action_move(self, where: str) -> None:
        options = self.query_one("#link-list", OptionList)
        options.action_cursor_down() if where == "down" else options.action_cursor_up()


class MergeScreen(ModalScreen[str | None]):
    """Merge into which ticket: type its key, or pick one of the requester's other open
    tickets; dismissed with the key, or None. Asked again after a refused target, with
    what was typed and why (`typed`, `error`)."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#merge-target"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="merge.cancel"),
        Binding("down", "move('down')", "Down", show=False, id="merge.down"),
        Binding("up", "move('up')", "Up", show=False, id="merge.up"),
    ]

    def __init__(
        self,
        title: Text,
        candidates: Iterable[OtherTicket],
        typed: str = "",
        error: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.candidates = tuple(candidates)
        self.typed = typed
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="merge-box") as box:
            box.border_title = self.title_text
            hint = Static(
                Text(self.error or "Its conversation moves to the target; this ticket is closed."),
                id="merge-hint",
            )
            hint.set_class(self.error is not None, "-error")
            yield hint
            yield Input(
                self.typed,
                placeholder="ticket to merge into, e.g. HD-12",
                id="merge-target",
                select_on_focus=False,
            )
            options = [
                Option(
                    Text.assemble((f"{t.key} ", "bold"), (f"{t.status} · ", "dim"), t.subject),
                    id=t.key,
                )
                for t in self.candidates
            ]
            yield OptionList(*options, id="merge-list", markup=False)
        yield Footer()

    def action_move(self, where: str) -> None:
        options = self.query_one("#merge-list", OptionList)
        options.action_cursor_down() if where == "down" else options.action_cursor_up()

    @on(Input.Submitted, "#merge-target")
    def _typed(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        if key:
            self.dismiss(key)
            return
        index = self.query_one("#merge-list", OptionList).highlighted
        if index is not None and index < len(self.candidates):
            self.dismiss(self.candidates[index].key)

    @on(OptionList.OptionSelected, "#merge-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

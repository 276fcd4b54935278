"""Pieces of the new-ticket form (`screens.new_ticket`): how a caller match, a caller's
card and a suggestion are drawn, the lists they go in, the pickers, and the two modals the
form pushes: `CreatedScreen` (the new ticket's number, large, `c` to copy) and
`LeaveScreen` (discard what was typed?).

Customer text arrives as cleaned plain strings or `Marked` pieces from
`services.intake_views` and is appended to `rich.text.Text` as plain text, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Digits, Footer, Label, OptionList, Select
from textual.widgets.option_list import Option

from tui_helpdesk.markdown_text import snippet_text
from tui_helpdesk.services.intake_views import (
    CallerCard,
    CallerRow,
    CreatedTicket,
    NewCaller,
    SuggestionsView,
)
from tui_helpdesk.text import MATCH_STYLE, highlighted

CSS = Path(__file__).with_name("new_ticket.tcss")
VIP = "bold reverse"
NEW_CALLER = "new"  # the match list's option for a new caller (contacts: their id)


def match_prompt(row: CallerRow) -> Text:
    """One line per match: "VIP Name  Organization  +39 02 1234 5678 · phone"."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if row.vip:
        text.append("VIP", style=VIP)
        text.append(" ")
    text.append(row.name, style="bold")
    if row.organization:
        text.append(f"  {row.organization}")
    if row.matched:
        text.append(f"  {row.matched}", style="dim")
    text.append(f" · {row.reason}", style="dim italic")
    return text


def new_caller_prompt(new: NewCaller) -> Text:
    """The first choice when a whole address or number matches nobody: "new caller
    new.person@x.example (Juniper Legal)"."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("new caller ", style="italic")
    text.append(new.identity, style="bold")
    if new.organization:
        text.append(f" ({new.organization})")
    text.append(" · no contact yet", style="dim italic")
    return text


def caller_card_text(card: CallerCard) -> Text:
    """Who is calling, their organization and SLA, and their open tickets."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if card.vip:
        text.append("VIP", style=VIP)
        text.append(" ")
    text.append(card.name, style="bold")
    for reach in (card.phone, card.email):
        if reach:
            text.append(f"  {reach}", style="dim")
    text.append("\n")
    if card.organization:
        text.append(card.organization, style="bold")
        text.append(f" · {card.segment}")
    else:
        text.append("no organization", style="dim italic")
    if card.sla:
        text.append(" · SLA ")
        text.append(card.sla, style="bold")
        if card.sla_reason:
            text.append(f" ({card.sla_reason})", style="dim")
    else:
        text.append(" · no SLA policy", style="dim")
    text.append("\n")
    text.append(f"{card.open} open", style="bold" if card.open else "dim")
    text.append(f" of {card.total} ticket{'' if card.total == 1 else 's'}", style="dim")
    if card.breached:
        text.append(f" · {card.breached} breached", style="bold")
    for ticket in card.open_tickets:
        text.append("\n")
        text.append(f"{ticket.key:<8} ", style="bold")
        text.append(f"{ticket.status:<8} {ticket.priority:<7} ", style="dim")
        # Before the subject, which may be cut: labelled, or "10h" says nothing.
        when = "just now" if ticket.age == "now" else f"{ticket.age} ago"
        text.append(f"created {when}  ", style="dim")
        text.append(ticket.subject)
    if card.open > len(card.open_tickets):
        text.append(f"\n… {card.open - len(card.open_tickets)} more", style="dim")
    return text


def hint_text(query: str) -> Text:
    """The caller area before a pick: what to type, or that nothing matched."""
    if not query.strip():
        return Text("Type the caller's phone number, email or name.", style="dim")
    text = Text("No contact matches ")
    text.append(query.strip(), style="bold")
    text.append("\nenter or ctrl+n: a new caller, created with the ticket", style="dim")
    return text


def choice_select(values: type[StrEnum], default: StrEnum, id: str, tooltip: str) -> Select[str]:
    """A compact picker of an enum's values (priority, channel), never blank."""
    return Select[str](
        [(Text(v.value), v.value) for v in values],
        value=default.value,
        allow_blank=False,
        compact=True,
        id=id,
        tooltip=tooltip,
    )


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def suggestions_summary(found: SuggestionsView | None) -> Text:
    """The line above the suggestions: how many, or why there are none."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if found is None or not (found.subject.strip() or found.description.strip()):
        text.append("Suggestions appear as you write", style="dim")
    elif not (found.articles or found.tickets):
        text.append("No article or similar ticket", style="dim")
    else:
        text.append(f"{_count(len(found.articles), 'article')} · ")
        text.append(_count(len(found.tickets), "similar ticket"))
        text.append("  ctrl+g: go to them", style="dim")
    return text


def suggestion_options(found: SuggestionsView) -> Iterator[Option]:
    """Two lines each: an article's title and snippet, or a similar ticket's subject and its
    resolution. Ids: "article:ID", "ticket:KEY"."""
    for article in found.articles:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("KB ", style="bold")
        text.append_text(highlighted(article.title.pieces, style="bold", highlight=MATCH_STYLE))
        if article.category:
            text.append(f"  {article.category}", style="dim italic")
        text.append("\n   ")
        # The body's Markdown, readable: syntax out, the matched words still marked.
        text.append_text(snippet_text(article.snippet.pieces, style="dim", highlight=MATCH_STYLE))
        yield Option(text, id=f"article:{article.id}")
    for ticket in found.tickets:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{ticket.key} ", style="bold")
        text.append_text(highlighted(ticket.subject.pieces, highlight=MATCH_STYLE))
        text.append(f"  {ticket.status}", style="dim italic")
        text.append("\n   ")
        text.append(ticket.resolution or "(no reply recorded)", style="dim")
        yield Option(text, id=f"ticket:{ticket.key}")


class MatchList(OptionList):
    """Contacts found for the caller field, after the new caller (option id `NEW_CALLER`)
    when a whole address or number matches nobody; `enter` (the form's priority binding
    `new_ticket.pick`) or a click picks the highlighted one."""


class SuggestionList(OptionList):
    """Articles and similar tickets; `enter` opens the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", id="new_ticket.open_suggestion"),
    ]


class CreatedScreen(ModalScreen[str]):
    """The ticket just created: its number large enough to read out; answers "open" (`o`),
    "next" (`n`, an empty form for the next call) or "done" (`escape`)."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy number", id="new_ticket.created.copy"),
        Binding("o", "answer('open')", "Open ticket", id="new_ticket.created.open"),
        Binding("n", "answer('next')", "Next call", id="new_ticket.created.next"),
        Binding("escape", "answer('done')", "Done", id="new_ticket.created.done"),
    ]

    def __init__(self, created: CreatedTicket) -> None:
        super().__init__()
        self.created = created

    def compose(self) -> ComposeResult:
        created = self.created
        prefix = created.key.removesuffix(str(created.number))
        with Vertical(id="created-box"):
            title = Text("Ticket created for ")
            title.append(created.requester, style="bold")
            if created.new_contact:
                title.append(" (new contact)", style="dim")
            yield Label(title, id="created-title")
            with Horizontal(id="created-number"):
                yield Label(Text(prefix, style="bold"), id="created-prefix")
                yield Digits(str(created.number), id="created-digits")
            yield Label(Text(created.key, style="bold"), id="created-key")
            yield Label(
                Text("c: copy the number · o: open it · n: next call · escape: done", style="dim"),
                id="created-keys",
            )
        yield Footer()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.created.key)
        self.notify(f"{self.created.key} copied", title="Clipboard", markup=False)

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)


class LeaveScreen(ModalScreen[bool]):
    """Leaving a form with something typed in it: discard (`d`) or keep editing (`escape`)."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#keep"  # enter keeps what was typed; discarding takes `d`
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "answer(True)", "Discard", id="new_ticket.leave.discard"),
        Binding("escape", "answer(False)", "Keep editing", id="new_ticket.leave.keep"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="leave-box"):
            yield Label(Text("Discard this ticket? Nothing has been created yet."))
            with Horizontal(id="leave-buttons"):
                yield Button("Discard", variant="error", id="discard")
                yield Button("Keep editing", variant="primary", id="keep")
        yield Footer()

    def action_answer(self, discard: bool) -> None:
        self.dismiss(discard)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "discard")

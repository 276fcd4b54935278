"""The questions the ticket screen asks before it acts, as modal screens, and the helpers
around them: the ticket's command palette provider (the external editor is `ticket_editor`).

- `ComposeScreen`: a reply or an internal note in a TextArea (`ctrl+s` sends, `ctrl+e` hands
  the text to `$VISUAL`/`$EDITOR`, `ctrl+k` puts a knowledge article in, `escape` cancels and
  asks before throwing text away);
  a reply may also move the ticket on (a status the workflow allows). Dismissed with a
  `Draft` (to send, or to keep for later), or None (discarded). Every edit calls its
  `on_edit` (the ticket's presence bar: "typing…").
- `PickScreen`: one `Choice` from a list filtered fuzzily as you type (assignee, status,
  priority, category). Names in it are untrusted text: every row is a `rich.text.Text`.
- `TagsScreen`, `SubjectScreen`, `RequesterScreen`: the ticket's tags, its subject, who
  asked for it, in one line (`LineScreen`), checked before it is dismissed.
- `EscalateScreen`: up one level or to another group, with a reason.
- `DiscardScreen`: discard, keep for later, or keep editing, before leaving a draft.
- `QuitScreen`: quit or stay, when quitting would lose drafts not sent (`unsent()` of the
  ticket and compose screens says which).

None of them touches the database: the ticket screen loads their choices and acts on their
answer in its own workers (the reply editor's article search aside: `ticket_links`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.button import ButtonVariant
from textual.widgets.option_list import Option

from tui_helpdesk.domain import Status
from tui_helpdesk.rules.search_query import max_edits, osa_distance
from tui_helpdesk.rules.workflow import REOPENABLE, allowed_targets
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.ticket_editor import (  # re-exported: the editor's one home
    EditorError,
    edit_externally,
    editor_command,
    run_editor,
)
from tui_helpdesk.screens.ticket_links import (
    ArticlePickScreen,
    article_snippet,
)
from tui_helpdesk.services.console_actions import (
    Choice,
    EscalationChoices,
    normalise_subject,
    parse_requester,
    parse_tags,
)
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.intake_views import SuggestedArticle
from tui_helpdesk.services.knowledge_views import ArticleView

__all__ = [
    "CSS",
    "ComposeScreen",
    "DiscardScreen",
    "Draft",
    "EditorError",
    "EscalateScreen",
    "Escalation",
    "PickScreen",
    "QuitScreen",
    "RequesterScreen",
    "SubjectScreen",
    "TagsScreen",
    "TicketCommands",
    "applies",
    "edit_externally",
    "editor_command",
    "run_editor",
]

CSS = Path(__file__).with_name("ticket.tcss")  # the ticket screen's sheet styles its questions


# --- keys typed just before a priority binding ----------------------------------------------


def after_typing(screen: Screen[Any], callback: Callable[[], object]) -> None:
    """Run `callback` once the focused field has taken every key typed before this one.

    The App runs a priority binding (`ctrl+s` and the like, here so the field never keeps the
    key) as soon as it reads the key, while the keys read just before it have only been handed
    to the focused field, which takes them in its own turn: when the terminal delivers a burst
    (quick typing, a screen still busy with its first render), the field does not hold them
    yet. Queued behind them on the field, the callback reads what was typed."""
    (screen.focused or screen).call_later(callback)


# --- compose a reply or a note ------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    text: str
    status: Status | None = None  # a reply's "then set status" (None: as the workflow does)
    send: bool = True  # False: keep it on the ticket screen for later


class DiscardScreen(ModalScreen[str]):
    """Leaving a non-empty draft: "discard" (`d`), "keep" it for later (`k`), or go back to
    "edit" it (`escape`)."""

    CSS_PATH = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "answer('discard')", "Discard", id="discard.discard"),
        Binding("k", "answer('keep')", "Keep draft", id="discard.keep"),
        Binding("escape", "answer('edit')", "Keep editing", id="discard.edit"),
    ]

    # (label, variant, the answer it gives)
    BUTTONS: ClassVar[tuple[tuple[str, ButtonVariant, str], ...]] = (
        ("Discard", "error", "discard"),
        ("Keep draft", "primary", "keep"),
        ("Edit", "default", "edit"),
    )

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="discard-box"):
            yield Label(Text(self.question))
            with Horizontal(id="discard-buttons"):
                for label, variant, answer in self.BUTTONS:
                    yield Button(label, variant=variant, id=answer)
        yield Footer()

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "edit")


class QuitScreen(DiscardScreen, inherit_bindings=False):
    """Quitting with drafts not sent: "quit" (the button, or `ctrl+q` again: the app's own
    binding) or "stay" (`escape`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer('stay')", "Stay", id="quit.stay"),
    ]
    BUTTONS = (("Quit", "error", "quit"), ("Stay", "primary", "stay"))


class ComposeScreen(ModalScreen[Draft | None]):
    """Write a reply (`kind="reply"`) or an internal note (`kind="note"`)."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#compose-text"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: the TextArea has focus and would take ctrl+e as "end of line".
        Binding("ctrl+s", "send", "Send", priority=True, id="compose.send"),
        Binding("ctrl+e", "editor", "$EDITOR", priority=True, id="compose.editor"),
        Binding("ctrl+k", "link_article", "Article", priority=True, id="compose.article"),
        Binding("escape", "cancel", "Cancel", id="compose.cancel"),
    ]

    def __init__(
        self,
        kind: str,
        title: Text,
        draft: Draft,
        statuses: Iterable[Choice] = (),
        notice: str | None = None,
        context: ConsoleContext | None = None,
        on_edit: Callable[[], None] | None = None,
        suggested: Sequence[SuggestedArticle] = (),
        replying_to: Text | None = None,
    ) -> None:
        super().__init__(classes=f"-{kind}")
        self.suggested = tuple(suggested)  # the ticket's suggested articles, for ctrl+k
        # The customer's newest message, on one line beside the status: what is being
        # answered stays in view while the editor covers most of the thread.
        self.replying_to = replying_to
        self.kind = kind
        self.context = context  # for the knowledge search of `ctrl+k`
        self.on_edit = on_edit  # told of every edit (the ticket's presence: "typing…")
        self.title_text = title
        self.draft = draft
        self.statuses = tuple(statuses)
        self.notice = notice  # why the draft came back (a conflict), shown above the text

    def compose(self) -> ComposeResult:
        with Vertical(id="compose-box") as box:
            box.border_title = self.title_text
            if self.notice:
                yield Static(Text(self.notice), id="compose-notice")
            # Above the text: the Select's list drops down over it, not off the box.
            if self.statuses or self.replying_to is not None:
                with Horizontal(id="compose-head"):
                    if self.statuses:
                        yield Select(
                            [(Text(f"then {c.label}"), Status(c.value)) for c in self.statuses],
                            prompt="status as is",
                            value=self.draft.status
                            if self.draft.status in {Status(c.value) for c in self.statuses}
                            else Select.NULL,
                            compact=True,
                            id="compose-then",
                        )
                    if self.replying_to is not None:
                        yield Static(self.replying_to, id="compose-quote")
            yield TextArea(self.draft.text, id="compose-text", soft_wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).move_cursor(self.query_one(TextArea).document.end)

    @on(TextArea.Changed, "#compose-text")
    def _edited(self) -> None:
        if self.on_edit is not None:
            self.on_edit()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def unsent(self) -> list[str]:
        """What quitting now would lose: the text being written, if any."""
        try:
            text = self.text
        except NoMatches:  # not composed yet, or already gone
            return []
        return [f"the {self.kind} being written"] if text.strip() else []

    def _then(self) -> Status | None:
        if not self.statuses:
            return None
        value = self.query_one("#compose-then", Select).value
        return value if isinstance(value, Status) else None

    # The three priority keys read or change the text: each waits for the keys typed before.
    def action_send(self) -> None:
        after_typing(self, self._send)

    def action_editor(self) -> None:
        after_typing(self, self._edit)

    def action_link_article(self) -> None:
        after_typing(self, self._pick_article)

    def _send(self) -> None:
        if not self.is_current:  # a second ctrl+s queued behind the first
            return
        if not self.text.strip():
            self.notify(f"the {self.kind} is empty", severity="warning")
            return
        self.dismiss(Draft(self.text, self._then()))

    def _edit(self) -> None:
        if not self.is_current:
            return
        edited = edit_externally(self.app, self.text)
        if edited is not None:
            area = self.query_one(TextArea)
            area.text = edited
            area.move_cursor(area.document.end)
            area.focus()

    def _pick_article(self) -> None:
        if self.context is not None and self.is_current:
            title = Text(f"Link an article into this {self.kind}")
            self.app.push_screen(
                ArticlePickScreen(self.context, title, kind=self.kind, suggested=self.suggested),
                self.insert_article,
            )

    def insert_article(self, article: ArticleView | None) -> None:
        """Put the article's text in at the cursor (the agent trims it before sending). In a
        reply, the picker has asked first about an internal or draft article."""
        if article is None:
            return
        area = self.query_one(TextArea)
        row, column = area.cursor_location
        typed_before = area.document.get_line(row)[:column].strip()
        area.insert(("\n\n" if typed_before else "") + article_snippet(article))  # own paragraph
        area.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "link_article":
            return self.context is not None
        return True

    def action_cancel(self) -> None:
        if not self.text.strip():
            self.dismiss(None)
            return
        self.app.push_screen(DiscardScreen(f"Leaving this {self.kind}:"), self._leave)

    def _leave(self, answer: str | None) -> None:
        if answer == "discard":
            self.dismiss(None)
        elif answer == "keep":
            self.dismiss(Draft(self.text, self._then(), send=False))


# --- pick one from a list -----------------------------------------------------------------


def choice_row(choice: Choice) -> str:
    """The line a choice shows (and is matched on): its label, then its detail."""
    return f"{choice.label}  {choice.detail}" if choice.detail else choice.label


def choice_prompt(choice: Choice, offsets: Iterable[int] = ()) -> Text:
    """A picker row as plain Text (names are untrusted), matched letters underlined."""
    row = choice_row(choice)
    text = Text(row, no_wrap=True, overflow="ellipsis")
    if choice.detail:
        text.stylize("dim", len(choice.label))
    for offset in offsets:
        text.stylize("bold underline", offset, offset + 1)
    if choice.current:
        text.append("  · current", style="italic")
    return text


def filter_choices(
    choices: Iterable[Choice], query: str, search: FuzzySearch | None = None
) -> list[tuple[Choice, tuple[int, ...]]]:
    """The choices matching `query` (fuzzy, case-insensitive), best first; all, in their
    order, for an empty query. Each with the offsets of its matched letters."""
    query = query.strip()
    if not query:
        return [(c, ()) for c in choices]
    search = search or FuzzySearch()
    # (0, -score) for the letters found in order; (1, typos) for a word misspelt ("tom
    # bekcer"), after those; then in the choices' order.
    scored: list[tuple[int, float, int, Choice, tuple[int, ...]]] = []
    for index, choice in enumerate(choices):
        row = choice_row(choice)
        score, offsets = search.match(query, row)
        if score > 0:
            scored.append((0, -score, index, choice, tuple(offsets)))
        elif (typos := _near_words(query, row)) is not None:
            scored.append((1, typos, index, choice, ()))
    scored.sort(key=lambda entry: entry[:3])
    return [(choice, offsets) for *_, choice, offsets in scored]


def _near_words(query: str, row: str) -> int | None:
    """How many typos the query's words have against the words of `row` (each a word's
    start, or within the edits its length tolerates, `search_query.max_edits`), or None
    when some word matches none."""
    words = row.lower().replace("(", " ").replace(")", " ").split()
    typos = 0
    for wanted in query.lower().split():
        if any(word.startswith(wanted) for word in words):
            continue
        cutoff = max_edits(wanted)
        # Against the starts, as long as the typed word give or take the edits tolerated,
        # of the words with its first letter (people misspell the middle of a name, and a
        # keystroke must not wait on every word of every row): "bekcer" finds "Beckerman",
        # "smoth" "Smithson".
        found = [
            d
            for word in words
            if cutoff and word[0] == wanted[0]
            for size in range(len(wanted) - cutoff, min(len(word), len(wanted) + cutoff) + 1)
            if (d := osa_distance(wanted, word[:size], cutoff))
        ]
        if not found:
            return None
        typos += min(found)
    return typos


class PickScreen(ModalScreen[Choice | None]):
    """Choose one: type to filter, `up`/`down` to move, `enter` to take, `escape` to cancel."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#pick-filter"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="pick.cancel"),
        Binding("down", "move('down')", "Down", show=False, id="pick.down"),
        Binding("up", "move('up')", "Up", show=False, id="pick.up"),
    ]

    def __init__(self, title: Text, choices: Iterable[Choice], placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = tuple(choices)
        self.placeholder = placeholder or "type to filter"
        self.shown: list[Choice] = []
        self._search = FuzzySearch()

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box") as box:
            box.border_title = self.title_text
            yield Input(placeholder=self.placeholder, id="pick-filter")
            yield OptionList(id="pick-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show("")

    def _show(self, query: str) -> None:
        found = filter_choices(self.choices, query, self._search)
        self.shown = [choice for choice, _ in found]
        options = self.query_one("#pick-list", OptionList)
        options.clear_options()
        if found:
            options.add_options(Option(choice_prompt(c, offsets)) for c, offsets in found)
        else:
            options.add_option(Option(Text("nothing matches", style="italic"), disabled=True))
        current = next((i for i, c in enumerate(self.shown) if c.current and not query), 0)
        options.highlighted = current if found else None

    @on(Input.Changed, "#pick-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#pick-filter")
    def _take_highlighted(self) -> None:
        index = self.query_one("#pick-list", OptionList).highlighted
        if index is not None and index < len(self.shown):
            self.dismiss(self.shown[index])

    @on(OptionList.OptionSelected, "#pick-list")
    def _take(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.shown):
            self.dismiss(self.shown[event.option_index])

    def action_move(self, where: str) -> None:
        options = self.query_one("#pick-list", OptionList)
        options.action_cursor_down() if where == "down" else options.action_cursor_up()


# --- one line: tags, subject, requester ----------------------------------------------------

TAGS_HINT = "space separated: letters, digits and _ . : / -  ·  enter saves, escape cancels"
SUBJECT_HINT = "one line  ·  enter saves, escape cancels"

T = TypeVar("T")


class LineScreen(ModalScreen[T | None], Generic[T]):
    """One line to edit: enter checks it (`parse`; a `ValidationError` is told under the
    line and nothing is sent) and dismisses with what `parse` made of it."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#line-input"
    HINT = ""

    def __init__(self, title: Text, value: str) -> None:
        super().__init__()
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="line-box") as box:
            box.border_title = self.title_text
            # The cursor after the text, nothing selected: typing adds to what is there
            # (a tag to the tags), as the hint says, instead of replacing it all.
            yield Input(self.value, id="line-input", select_on_focus=False)
            yield Static(Text(self.HINT), id="line-hint")
        yield Footer()

    def parse(self, value: str) -> T:
        raise NotImplementedError

    @on(Input.Submitted, "#line-input")
    def _save(self, event: Input.Submitted) -> None:
        try:
            parsed = self.parse(event.value)
        except ValidationError as exc:
            hint = self.query_one("#line-hint", Static)
            hint.update(Text(str(exc)))
            hint.add_class("-error")
            return
        self.dismiss(parsed)


class TagsScreen(LineScreen[tuple[str, ...]]):
    """Edit the ticket's tags in one line; a bad tag is named here, before anything is sent."""

    HINT = TAGS_HINT
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="tags.cancel"),
    ]

    def __init__(self, title: Text, tags: Iterable[str]) -> None:
        super().__init__(title, " ".join(tags))

    def parse(self, value: str) -> tuple[str, ...]:
        return parse_tags(value)


class SubjectScreen(LineScreen[str]):
    """Edit the ticket's subject (shown cleaned: customer text); an empty or overlong one
    is refused here."""

    HINT = SUBJECT_HINT
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="subject.cancel"),
    ]

    def parse(self, value: str) -> str:
        return normalise_subject(value)


REQUESTER_HINT = (
    "email or phone, or Name <email or phone> for someone new  ·  enter saves, escape cancels"
)


class RequesterScreen(LineScreen[tuple[str, str | None]]):
    """Who asked for the ticket: an email or phone (found, or added as a contact with the
    name given as `Name <...>`). The ticket's organization and SLA follow them."""

    HINT = REQUESTER_HINT
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="requester.cancel"),
    ]

    def parse(self, value: str) -> tuple[str, str | None]:
        return parse_requester(value)


# --- escalate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    reason: str
    to_group: str | None  # None: up one level


class EscalateScreen(ModalScreen[Escalation | None]):
    """Where to (`up`/`down` in the list) and why (typed); `enter` or `ctrl+s` escalates."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#escalate-reason"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Escalate", priority=True, id="escalate.send"),
        Binding("escape", "dismiss", "Cancel", id="escalate.cancel"),
        Binding("down", "move('down')", "Down", show=False, id="escalate.down"),
        Binding("up", "move('up')", "Up", show=False, id="escalate.up"),
    ]

    def __init__(self, title: Text, choices: EscalationChoices) -> None:
        super().__init__()
        self.title_text = title
        self.group = choices.group
        self.targets: list[str | None] = []
        options: list[Option] = []
        if choices.next_level is not None:
            self.targets.append(None)
            options.append(Option(Text(f"up one level, to {choices.next_level}")))
        for group in choices.groups:
            self.targets.append(group.value)
            options.append(
                Option(choice_prompt(Choice(group.value, f"to {group.label}", group.detail)))
            )
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="escalate-box") as box:
            box.border_title = self.title_text
            box.border_subtitle = Text(f"now in {self.group or 'no group'}")
            yield OptionList(*self.options, id="escalate-to", markup=False)
            yield Input(placeholder="why? (the group lead is told)", id="escalate-reason")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#escalate-to", OptionList).highlighted = 0 if self.targets else None

    def action_move(self, where: str) -> None:
        options = self.query_one("#escalate-to", OptionList)
        options.action_cursor_down() if where == "down" else options.action_cursor_up()

    @on(Input.Submitted, "#escalate-reason")
    @on(OptionList.OptionSelected, "#escalate-to")
    def _submitted(self) -> None:
        self.action_send()

    def action_send(self) -> None:
        # priority: ctrl+s escalates from the list too; the reason is read once the field
        # has taken every key typed before it (`after_typing`).
        after_typing(self, self._send)

    def _send(self) -> None:
        if not self.is_current:  # a second ctrl+s queued behind the first
            return
        reason = self.query_one("#escalate-reason", Input).value.strip()
        index = self.query_one("#escalate-to", OptionList).highlighted
        if index is None or not self.targets:
            self.notify("nowhere to escalate to", severity="warning")
            return
        if not reason:
            self.notify("say why: the reason goes to the group lead", severity="warning")
            self.query_one("#escalate-reason", Input).focus()
            return
        self.dismiss(Escalation(reason, self.targets[index]))


# --- the command palette ------------------------------------------------------------------

# (command, action on the ticket screen, help): the palette runs the same action as the key.
PALETTE: tuple[tuple[str, str, str], ...] = (
    ("Reply", "reply", "Write a public reply to the customer"),
    ("Reply in $EDITOR", "editor", "Write the reply in your own editor"),
    ("Internal note", "note", "A note only agents see"),
    ("Assign to me", "assign_me", "Take the ticket"),
    ("Assign to…", "assign", "Pick an assignee (and their group)"),
    ("Change status", "status", "Move the ticket on in the workflow"),
    ("Change priority", "priority", "low, normal, high, urgent"),
    ("Change category", "category", "Classify the ticket"),
    ("Edit tags", "tags", "Add or remove tags"),
    ("Edit subject", "subject", "Give the ticket a clearer subject"),
    ("Change requester", "requester", "Someone else asked: their organization and SLA follow"),
    ("Escalate", "escalate", "Up one level or to another group, with a reason"),
    ("Reopen", "reopen", "Reopen a resolved or closed ticket"),
    ("Merge into…", "merge", "Move this conversation into another ticket and close this one"),
    ("Link knowledge article", "link_article", "Put an article into a reply"),
    ("Draft knowledge article", "draft_article", "An internal draft from this resolved ticket"),
    ("Save attachment", "save_attachment", "Write a file the conversation came with to disk"),
    ("Side panel", "toggle_panel", "Requester, organization, SLA, suggestions"),
    ("History", "history", "The ticket's audit trail, with the rules behind changes"),
    ("Refresh ticket", "refresh", "Load the ticket again"),
)


# The actions that change the ticket: hidden when they do not apply, disabled while one runs.
WRITES = frozenset(action for _, action, _ in PALETTE) - {
    "refresh",
    "toggle_panel",
    "history",
    "save_attachment",
}


def applies(action: str, status: Status, mine: bool) -> bool:
    """Whether a ticket action makes sense for a ticket in `status` (`mine`: assigned to
    the agent); the services refuse the rest anyway (closed tickets take only notes)."""
    open_ = status is not Status.CLOSED
    return {
        "note": True,
        "assign_me": open_ and not mine,
        "status": bool(allowed_targets(status)),
        "reopen": status in REOPENABLE,
        "draft_article": status in (Status.RESOLVED, Status.CLOSED),
    }.get(action, open_)


class TicketCommands(Provider):
    """The ticket's actions in the command palette: only those its screen allows now."""

    def _available(self) -> list[tuple[str, str, str]]:
        screen = self.screen
        return [row for row in PALETTE if screen.check_action(row[1], ()) is True]

    async def discover(self) -> Hits:
        for name, action, help_text in self._available():
            yield DiscoveryHit(name, partial(self.screen.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self._available():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),  # our own command names: safe as markup
                    partial(self.screen.run_action, action),
                    help=help_text,
                )

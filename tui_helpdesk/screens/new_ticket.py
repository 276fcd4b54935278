"""The new-ticket form for a caller (phone agents), pushed by the App's `f3`.

Top: the caller field. Every change starts a thread worker in the exclusive group
"caller-lookup" that waits out a pause in typing (`DEBOUNCE`) and posts `CallersFound`; an
answer to an older request number than the last one asked is dropped. The matches list under
it (name, organization, the number or address that matched, why, VIP) is reached with `down`;
a whole address or number that no contact has is offered first, as a new caller (the contacts
of its organization below it are only alike). `enter` picks (in the field: the first choice,
or a new caller when nothing matches) and moves focus on at once (to the subject, or to the
new caller's name), so a subject typed right after enter loses no key: `enter`, `down` and
`up` are priority bindings, acted on as each key arrives, in order with the keys around it.
The picked caller's card (organization, segment, SLA policy, VIP, open tickets) is then
loaded in "caller-card". `ctrl+n` turns the area into the new caller's name, phone
and email, pre-filled from what was typed; the contact is created with the ticket, in one
transaction.

Then subject and description, with knowledge suggestions beside them (below them when the
terminal is narrow) refreshed by the same debounce-and-cancel pattern (group "suggest");
`enter` on one opens the article or the similar ticket. Category, priority (normal) and
channel (phone) pickers. `ctrl+s` creates the ticket in a worker ("create"); the
`CreatedScreen` modal shows its number large, `c` copies it. A refusal is shown inline and
notified, the form untouched. `escape` leaves, asking first when something was typed.

Customer text (names, subjects, resolutions) is drawn as `rich.text.Text` from plain pieces
and `text.highlighted`, never as markup. The work is `services.intake_views`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.knowledge import ArticleScreen
from tui_helpdesk.screens.new_ticket_parts import (
    NEW_CALLER,
    CreatedScreen,
    LeaveScreen,
    MatchList,
    SuggestionList,
    caller_card_text,
    choice_select,
    hint_text,
    match_prompt,
    new_caller_prompt,
    suggestion_options,
    suggestions_summary,
)
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import intake_views as views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.intake_views import (
    CallerCard,
    CallerResults,
    CategoryChoice,
    CreatedTicket,
    IntakeForm,
    SuggestionsView,
)

DEBOUNCE = 0.2  # seconds of quiet typing before a lookup or suggestion runs
CATCH_UP = 0.5  # seconds `enter` waits at most for the caller field to take the keys before it


async def _caught_up(widget: Widget, screen: Screen[Any]) -> None:
    """Return once `widget` has handled the keys already routed to it (typed before the one
    being handled) and the messages they caused (`Input.Changed`) have reached `screen`."""
    for node in (widget, *widget.ancestors):
        done = asyncio.Event()
        node.call_later(done.set)  # after what is queued there already
        try:
            await asyncio.wait_for(done.wait(), CATCH_UP)
        except TimeoutError:
            return  # a node that no longer runs: go on with what is there
        if node is screen:
            return


class NewTicketScreen(Screen[None]):
    """Take a call: find or add the caller, write the ticket, create it on their behalf."""

    CSS_PATH = Path(__file__).with_name("new_ticket.tcss")  # absolute: subclasses live elsewhere
    AUTO_FOCUS = "#nt-caller"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (110, "-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create", id="new_ticket.create"),
        Binding("ctrl+n", "new_caller", "New caller", id="new_ticket.new_caller"),
        Binding("ctrl+f", "find_caller", "Caller", show=False, id="new_ticket.find_caller"),
        Binding("ctrl+g", "suggestions", "Suggestions", show=False, id="new_ticket.suggestions"),
        Binding("escape", "leave", "Back", id="new_ticket.leave"),
        # Priority: run as the key arrives, before the keys typed after it are routed, so
        # focus has moved by then (see `pick`); `check_action` passes them on elsewhere.
        Binding("enter", "pick", "Pick", priority=True, id="new_ticket.pick"),
        Binding("down", "down", "Next field", show=False, priority=True, id="new_ticket.down"),
        Binding("up", "up", "Previous match", show=False, priority=True, id="new_ticket.up"),
    ]

    @dataclass
    class CallersFound(Message):
        request: int
        results: CallerResults

    @dataclass
    class CardLoaded(Message):
        request: int
        card: CallerCard

    @dataclass
    class SuggestionsFound(Message):
        request: int
        suggestions: SuggestionsView

    @dataclass
    class CategoriesLoaded(Message):
        choices: tuple[CategoryChoice, ...]

    @dataclass
    class TicketCreated(Message):
        created: CreatedTicket

    @dataclass
    class Failed(Message):
        what: str  # lookup, card, suggest, categories, create
        request: int
        error: str

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        self.matches: CallerResults | None = None
        self.picked: int | None = None  # the contact id of the picked caller
        self.card: CallerCard | None = None  # the picked caller's card, once loaded
        self.suggestions: SuggestionsView | None = None
        self.categories: tuple[CategoryChoice, ...] = ()
        self.created: CreatedTicket | None = None  # the last ticket created here
        self.busy = False  # a creation is in flight
        self._requests = {"lookup": 0, "card": 0, "suggest": 0}
        self._pick_on_arrival = False  # enter pressed before the lookup answered
        self._auto_priority = Priority.NORMAL  # the priority the form chose, not the agent

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="nt-body"):
            with Vertical(id="nt-form"):
                with Horizontal(classes="nt-row"):
                    yield Label("Caller", classes="nt-label")
                    yield Input(placeholder="phone number, email or name", id="nt-caller")
                with ContentSwitcher(initial="nt-hint", id="nt-caller-area"):
                    yield Static(hint_text(""), id="nt-hint")
                    yield MatchList(id="nt-matches")
                    yield Static(Text(""), id="nt-card")
                    with Vertical(id="nt-new"):
                        for field, hint in (
                            ("name", "the caller's name"),
                            ("phone", "phone number"),
                            ("email", "email address"),
                        ):
                            with Horizontal(classes="nt-row"):
                                yield Label(field.capitalize(), classes="nt-label")
                                yield Input(placeholder=hint, id=f"nt-new-{field}")
                with Horizontal(classes="nt-row"):
                    yield Label("Subject", classes="nt-label")
                    yield Input(placeholder="what the call is about", id="nt-subject")
                yield TextArea(
                    id="nt-description", placeholder="What the caller says…", compact=True
                )
                with Horizontal(id="nt-pickers"):
                    yield Select[str]([], prompt="category: auto", compact=True, id="nt-category")
                    yield choice_select(Priority, Priority.NORMAL, "nt-priority", "Priority")
                    yield choice_select(Channel, Channel.PHONE, "nt-channel", "Channel")
                yield Static(Text(""), id="nt-status")
            with Vertical(id="nt-side"):
                yield Static(suggestions_summary(None), id="nt-summary")
                yield SuggestionList(id="nt-suggestions")
        yield Footer()

    def on_mount(self) -> None:
        self._load_categories()

    # --- small helpers ---------------------------------------------------------------

    def _input(self, name: str) -> Input:
        return self.query_one(f"#nt-{name}", Input)

    def _value(self, name: str) -> str:
        return self._input(name).value

    @property
    def area(self) -> str:
        """What the caller area shows: nt-hint, nt-matches, nt-card or nt-new."""
        return self.query_one("#nt-caller-area", ContentSwitcher).current or "nt-hint"

    def _show(self, area: str) -> None:
        self.query_one("#nt-caller-area", ContentSwitcher).current = area
        self.refresh_bindings()

    def _next(self, what: str) -> int:
        self._requests[what] += 1
        return self._requests[what]

    def _say(self, message: str = "", *, error: bool = False) -> None:
        status = self.query_one("#nt-status", Static)
        status.update(Text(message))
        status.set_class(bool(message), "-shown")
        status.set_class(error, "-error")

    def is_blank(self) -> bool:
        typed = [self._value(n) for n in ("caller", "subject", "new-name", "new-phone")]
        typed += [self._value("new-email"), self.query_one(TextArea).text]
        return not any(t.strip() for t in typed)

    # --- the caller ------------------------------------------------------------------

    def lookup(self, text: str, *, debounce: bool = True) -> None:
        self._lookup(self._next("lookup"), text, DEBOUNCE if debounce else 0.0)

    @work(thread=True, exclusive=True, group="caller-lookup", exit_on_error=False)
    def _lookup(self, request: int, text: str, wait: float) -> None:
        self._run(
            "lookup",
            request,
            wait,
            lambda: self.CallersFound(request, views.find_callers_view(self.context.store, text)),
        )

    def _run(self, what: str, request: int, wait: float, call: Callable[[], Message]) -> None:
        """A worker's body: wait out the typing, do the work, post the answer unless a
        newer request cancelled this one."""
        worker = get_current_worker()
        if wait:
            time.sleep(wait)  # the debounce: a keystroke meanwhile cancels this worker
            if worker.is_cancelled:
                return
        try:
            answer = call()
        except ServiceError as exc:
            answer = self.Failed(what, request, str(exc))
        if not worker.is_cancelled:
            self.post_message(answer)

    def on_new_ticket_screen_callers_found(self, message: CallersFound) -> None:
        if message.request != self._requests["lookup"]:
            return  # the answer to a caller field the agent has typed past
        self.matches = results = message.results
        found = self.query_one(MatchList)
        options = [Option(match_prompt(r), id=str(r.contact_id)) for r in results.rows]
        if results.new_caller is not None and options:  # first: the contacts are only alike
            options.insert(0, Option(new_caller_prompt(results.new_caller), id=NEW_CALLER))
        found.set_options(options)
        if options:
            found.highlighted = 0
        if self.picked is None and self.area != "nt-new":
            self._show("nt-matches" if options else "nt-hint")
            self.query_one("#nt-hint", Static).update(hint_text(message.results.query))
        if self._pick_on_arrival:
            self._pick_on_arrival = False
            self._enter_on_caller()

    def _enter_on_caller(self) -> None:
        if self.matches is not None and self.matches.new_caller is None and self.matches.rows:
            self.pick(self.matches.rows[0].contact_id)
        elif self._value("caller").strip():
            # Nobody matched: a new caller, unless the agent is already writing the subject
            # (enter before the lookup answered); then the fields wait for them.
            self.action_new_caller(focus=not self._value("subject").strip())

    def _to_subject(self) -> None:
        """Focus the subject now, not on the next idle (`Widget.focus` is deferred): the keys
        typed right after a pick are routed to whatever has focus when they arrive."""
        self.set_focus(self._input("subject"))

    def pick(self, contact_id: int) -> None:
        """Take this contact as the caller: go on to the subject at once, and load their
        card in a worker."""
        # Not when the agent has moved on (a pick on the lookup's answer, after enter).
        if self.focused is None or self.focused in (
            self._input("caller"),
            self.query_one(MatchList),
        ):
            self._to_subject()
        self.picked, self.card = contact_id, None
        self._show("nt-card")
        card = self.query_one("#nt-card", Static)
        card.update(Text(""))
        card.loading = True
        self._load_card(self._next("card"), contact_id)

    @work(thread=True, exclusive=True, group="caller-card", exit_on_error=False)
    def _load_card(self, request: int, contact_id: int) -> None:
        now = self.context.now()
        self._run(
            "card",
            request,
            0.0,
            lambda: self.CardLoaded(
                request, views.caller_card(self.context.store, contact_id, now)
            ),
        )

    def on_new_ticket_screen_card_loaded(self, message: CardLoaded) -> None:
        if message.request != self._requests["card"] or self.picked != message.card.contact_id:
            return
        self.card = message.card
        card = self.query_one("#nt-card", Static)
        card.loading = False
        card.update(caller_card_text(message.card))
        self.refresh_bindings()

    # --- suggestions -----------------------------------------------------------------

    def suggest(self, *, debounce: bool = True) -> None:
        subject, description = self._value("subject"), self.query_one(TextArea).text
        self._suggest(self._next("suggest"), subject, description, DEBOUNCE if debounce else 0.0)

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False)
    def _suggest(self, request: int, subject: str, description: str, wait: float) -> None:
        self._run(
            "suggest",
            request,
            wait,
            lambda: self.SuggestionsFound(
                request, views.suggestions_view(self.context.store, subject, description)
            ),
        )

    def on_new_ticket_screen_suggestions_found(self, message: SuggestionsFound) -> None:
        if message.request != self._requests["suggest"]:
            return
        self.suggestions = found = message.suggestions
        listed = self.query_one(SuggestionList)
        listed.set_options(suggestion_options(found))
        if listed.option_count:
            listed.highlighted = 0
        self.query_one("#nt-summary", Static).update(suggestions_summary(found))
        self.refresh_bindings()

    # --- pickers ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="categories", exit_on_error=False)
    def _load_categories(self) -> None:
        self._run(
            "categories",
            0,
            0.0,
            lambda: self.CategoriesLoaded(views.category_choices(self.context.store)),
        )

    def on_new_ticket_screen_categories_loaded(self, message: CategoriesLoaded) -> None:
        self.categories = message.choices
        picker = self.query_one("#nt-category", Select)
        picker.set_options((Text(c.path), c.path) for c in message.choices)

    @on(Select.Changed, "#nt-category")
    def _category_changed(self, event: Select.Changed) -> None:
        # The category's default priority, unless the agent chose one already.
        chosen = next((c for c in self.categories if c.path == event.value), None)
        wanted = Priority(chosen.default_priority) if chosen and chosen.default_priority else None
        priority = self.query_one("#nt-priority", Select)
        if priority.value == self._auto_priority.value:
            self._auto_priority = wanted or Priority.NORMAL
            priority.value = self._auto_priority.value

    # --- creating --------------------------------------------------------------------

    def form(self) -> IntakeForm:
        """What is filled in; raises `ServiceError` for what cannot be sent."""
        category = self.query_one("#nt-category", Select)
        new = self.area == "nt-new"
        if self.picked is None and not new:
            raise ServiceError("pick the caller (enter), or add a new caller (ctrl+n)")
        return IntakeForm(
            subject=self._value("subject"),
            description=self.query_one(TextArea).text,
            contact_id=None if new else self.picked,
            new_name=self._value("new-name") if new else "",
            new_phone=self._value("new-phone") if new else "",
            new_email=self._value("new-email") if new else "",
            category="" if category.is_blank() else str(category.value),
            priority=Priority(str(self.query_one("#nt-priority", Select).value)),
            channel=Channel(str(self.query_one("#nt-channel", Select).value)),
        )

    @work(thread=True, exclusive=True, group="create", exit_on_error=False)
    def _create(self, form: IntakeForm) -> None:
        now = self.context.now()
        self._run(
            "create",
            0,
            0.0,
            lambda: self.TicketCreated(
                views.create_for_caller(self.context.store, self.context.login, now, form)
            ),
        )

    def _done(self) -> None:
        self.busy = False
        self.remove_class("-busy")
        self.refresh_bindings()

    def on_new_ticket_screen_ticket_created(self, message: TicketCreated) -> None:
        self._done()
        self.created = message.created
        self._say()
        self.app.push_screen(CreatedScreen(message.created), self._after_created)

    def _after_created(self, answer: str | None) -> None:
        if answer == "open" and self.created is not None:
            self.app.switch_screen(TicketScreen(self.context, self.created.key))
        elif answer == "next":
            self.reset()
        elif self.is_current:
            self.dismiss()

    def on_new_ticket_screen_failed(self, message: Failed) -> None:
        if message.what == "create":
            self._done()
            self._say(message.error, error=True)
            self.notify(message.error, title="Not created", severity="error", markup=False)
            return
        if message.request and message.request != self._requests.get(message.what):
            return  # a failure of a request already superseded
        if message.what == "card":
            self.query_one("#nt-card", Static).loading = False
        self.notify(message.error, title="New ticket", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker[Any].StateChanged) -> None:
        # A bug in a worker is shown, not allowed to take the console down with it.
        if event.state is WorkerState.ERROR:
            if event.worker.group == "create":
                self._done()  # the form stays as it was: the agent may try again
            elif event.worker.group == "caller-card":
                self.query_one("#nt-card", Static).loading = False
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    def reset(self) -> None:
        """An empty form for the next call."""
        for name in ("caller", "subject", "new-name", "new-phone", "new-email"):
            self._input(name).value = ""
        self.query_one(TextArea).clear()
        self.query_one("#nt-category", Select).clear()
        self.query_one("#nt-priority", Select).value = Priority.NORMAL.value
        self.query_one("#nt-channel", Select).value = Channel.PHONE.value
        self._auto_priority = Priority.NORMAL
        self.picked = self.card = self.matches = None
        self.query_one(MatchList).clear_options()
        self.query_one("#nt-hint", Static).update(hint_text(""))
        self._show("nt-hint")
        self._say()
        self._input("caller").focus()

    # --- actions ---------------------------------------------------------------------

    def action_create(self) -> None:
        try:
            form = self.form()
        except ServiceError as exc:
            self._say(str(exc), error=True)
            self._input("caller").focus()
            return
        if not form.subject.strip():
            self._say("a ticket needs a subject", error=True)
            self._input("subject").focus()
            return
        self.busy = True
        self.add_class("-busy")
        self._say("creating the ticket…")
        self.refresh_bindings()
        self._create(form)

    def action_new_caller(self, focus: bool = True) -> None:
        fields = [self._input(f"new-{n}") for n in ("name", "phone", "email")]
        if not any(f.value.strip() for f in fields):  # pre-fill once; never overwrite typing
            for field, value in zip(
                fields, views.new_caller_prefill(self._value("caller")), strict=True
            ):
                field.value = value
        self.picked = self.card = None
        self._show("nt-new")
        if focus:
            self.set_focus(next(f for f in fields if not f.value.strip() or f is fields[-1]))

    def action_find_caller(self) -> None:
        self._input("caller").focus()

    def action_suggestions(self) -> None:
        self.query_one(SuggestionList).focus()

    async def action_pick(self) -> None:
        """`enter` in the caller field (the best match, or a new caller) or on a match."""
        caller = self._input("caller")
        if self.focused is caller:
            # The name typed just before enter may still be queued in the field.
            await _caught_up(caller, self)
            query = caller.value
            if self.matches is not None and self.matches.query == query:
                self._enter_on_caller()
            elif query.strip():
                self._pick_on_arrival = True  # the lookup is on its way: pick when it answers
                self._to_subject()
                self.lookup(query, debounce=False)
            return
        option = self.query_one(MatchList).highlighted_option
        if option is not None and option.id is not None:
            self._choose(option.id)

    def _choose(self, option_id: str) -> None:
        """A match taken from the list: a contact, or the new caller."""
        if option_id == NEW_CALLER:
            self.action_new_caller()
        else:
            self.pick(int(option_id))

    def action_down(self) -> None:
        # Synchronous, like `pick`: "down enter" typed at once must reach the list and pick
        # the match highlighted by then (the list's own bindings would act too late).
        matches = self.query_one(MatchList)
        if self.focused is matches:
            matches.action_cursor_down()
        elif self.focused is self._input("caller") and self.area == "nt-matches":
            self.set_focus(matches)
        else:
            self.focus_next()

    def action_up(self) -> None:
        self.query_one(MatchList).action_cursor_up()

    def action_leave(self) -> None:
        if self.is_blank():
            self.dismiss()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss()

        self.app.push_screen(LeaveScreen(), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("create", "leave"):
            return None if self.busy else True  # dimmed while a creation is in flight
        if action == "new_caller":
            return self.area != "nt-new"
        if action == "suggestions":
            return self.query_one(SuggestionList).option_count > 0
        # Priority keys: elsewhere they are the focused widget's (a text area, a list).
        if action == "pick":
            return self.focused in (self._input("caller"), self.query_one(MatchList))
        if action == "down":
            return isinstance(self.focused, (Input, MatchList))
        if action == "up":
            return isinstance(self.focused, MatchList)
        return True

    # --- events ----------------------------------------------------------------------

    @on(Input.Changed, "#nt-caller")
    def _caller_changed(self, event: Input.Changed) -> None:
        self.picked = self.card = None  # a new search: the picked caller no longer holds
        if self.area in ("nt-card", "nt-new"):
            self._show("nt-matches" if self.query_one(MatchList).option_count else "nt-hint")
        self.lookup(event.value)

    @on(OptionList.OptionSelected, "#nt-matches")
    def _match_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:  # a click; `enter` is `action_pick`
            self._choose(event.option.id)

    @on(Input.Changed, "#nt-subject")
    @on(TextArea.Changed, "#nt-description")
    def _text_changed(self) -> None:
        self.suggest()

    @on(Input.Submitted, "#nt-subject")
    def _subject_submitted(self) -> None:
        self.query_one(TextArea).focus()

    @on(Input.Submitted, "#nt-new-name, #nt-new-phone, #nt-new-email")
    def _new_submitted(self) -> None:
        self.focus_next()

    @on(OptionList.OptionSelected, "#nt-suggestions")
    def _open_suggestion(self, event: OptionList.OptionSelected) -> None:
        kind, _, ref = (event.option.id or "").partition(":")
        if kind == "article":
            self.app.push_screen(ArticleScreen(self.context, int(ref)))
        elif kind == "ticket":
            self.app.push_screen(TicketScreen(self.context, ref))

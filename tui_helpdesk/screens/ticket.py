"""One ticket: its header and the conversation, oldest message first, and what an agent
does to it (reply, note, assign, status, priority, category, tags, escalate, reopen).

Customer messages, public replies, internal notes and system messages each have their own
class (`-customer`, `-reply`, `-note`, `-system`) so the stylesheet sets them apart. Loaded
by a thread worker; a ticket that cannot be loaded is a notification and the screen closes.

Actions ask their question in a modal (`ticket_actions`), then write in a thread worker
(group "ticket-action", one at a time) through `services.console_actions`, passing the
version the agent was shown; the screen reloads afterwards. If someone else changed the
ticket meanwhile, the service refuses (`Conflict`): the screen says who changed what,
reloads, and gives a reply or note back to the agent in its editor, so nothing typed is
lost. Bindings that do not apply to the ticket as it is (no reply on a closed ticket) are
hidden; while a write runs they are disabled. The palette offers the same actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.domain import MessageKind, Priority, Status
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.ticket_actions import (
    WRITES,
    ComposeScreen,
    Draft,
    EscalateScreen,
    Escalation,
    PickScreen,
    TagsScreen,
    TicketCommands,
    applies,
    edit_externally,
)
from tui_helpdesk.services import console_actions as act
from tui_helpdesk.services import views
from tui_helpdesk.services.console_actions import ActionResult, Choice, EscalationChoices
from tui_helpdesk.services.errors import Conflict, ServiceError
from tui_helpdesk.services.views import SlaState, TicketDetail

KIND_LABELS = {
    MessageKind.CUSTOMER: "customer",
    MessageKind.REPLY: "reply",
    MessageKind.NOTE: "internal note",
    MessageKind.SYSTEM: "system",
}


class MessageBox(Static):
    """One message of the thread; the body is plain text, never markup."""

    def __init__(self, message: views.MessageView) -> None:
        super().__init__(Text(message.body or "(empty)"), classes=f"message -{message.kind.value}")
        self.kind = message.kind
        self.border_title = Text(f"{message.author} · {KIND_LABELS[message.kind]}")
        self.border_subtitle = Text(message.at)


ActionCall = Callable[..., ActionResult]  # a console action with everything but `now` bound


class TicketScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("ticket.tcss")  # absolute: subclasses live elsewhere
    AUTO_FOCUS = "#thread"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {TicketCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", show=False, id="ticket.back"),
        Binding("r", "reply", "Reply", id="ticket.reply"),
        Binding("n", "note", "Note", id="ticket.note"),
        Binding("a", "assign_me", "Take", tooltip="Assign to me", id="ticket.assign_me"),
        Binding("A", "assign", "Assign", show=False, id="ticket.assign"),
        Binding("s", "status", "Status", id="ticket.status"),
        Binding("e", "escalate", "Escalate", id="ticket.escalate"),
        Binding("o", "reopen", "Reopen", id="ticket.reopen"),
        # Less used: in the help panel and the palette, not the footer (80 columns).
        Binding("p", "priority", "Priority", show=False, id="ticket.priority"),
        Binding("c", "category", "Category", show=False, id="ticket.category"),
        Binding("t", "tags", "Tags", show=False, id="ticket.tags"),
        Binding("E", "editor", "Reply in $EDITOR", show=False, id="ticket.editor"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="ticket.refresh"),
        Binding("j", "scroll('down')", "Down", show=False, id="ticket.down"),
        Binding("k", "scroll('up')", "Up", show=False, id="ticket.up"),
        Binding("g", "scroll('home')", "Top", show=False, id="ticket.top"),
        Binding("G", "scroll('end')", "Newest", show=False, id="ticket.newest"),
    ]

    @dataclass
    class Loaded(Message):
        detail: TicketDetail

    @dataclass
    class Failed(Message):
        error: str

    @dataclass
    class ChoicesLoaded(Message):
        what: str  # "assign", "category" or "escalate"
        choices: tuple[Choice, ...] | EscalationChoices

    @dataclass
    class ActionDone(Message):
        label: str
        result: ActionResult
        draft: str | None  # the kind of draft it sent ("reply", "note"), if any

    @dataclass
    class ActionFailed(Message):
        label: str
        error: str
        conflict: bool  # someone else changed the ticket first
        draft: str | None

    def __init__(self, context: ConsoleContext, key: str) -> None:
        super().__init__()
        self.context = context
        self.key = key
        self.detail: TicketDetail | None = None
        self.drafts: dict[str, Draft] = {}  # kept until sent, through conflicts and failures
        self.busy: str | None = None  # the action being written, if any
        self._give_back: tuple[str, str] | None = None  # (draft kind, why) after the reload

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self.key), id="ticket-header")
        yield VerticalScroll(id="thread")
        yield Static(id="ticket-status")
        yield Footer(compact=True)  # eight actions and the app's keys in 80 columns

    def on_mount(self) -> None:
        self.query_one("#thread").loading = True
        self._load(self.key)

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self._load(self.key)

    def action_scroll(self, where: str) -> None:
        thread = self.query_one("#thread", VerticalScroll)
        {
            "down": thread.scroll_down,
            "up": thread.scroll_up,
            "home": thread.scroll_home,
            "end": thread.scroll_end,
        }[where]()

    # --- loading ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self, key: str) -> None:
        worker = get_current_worker()
        try:
            detail = views.ticket_detail(
                self.context.store,
                self.context.login,
                key,
                now=self.context.now(),
                timezone=self.context.timezone,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.Failed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(detail))

    def on_ticket_screen_loaded(self, message: Loaded) -> None:
        self.detail = message.detail
        self.key = message.detail.key
        self.query_one("#ticket-header", Static).update(header_text(message.detail))
        thread = self.query_one("#thread", VerticalScroll)
        thread.loading = False
        thread.remove_children()
        boxes: list[Static] = []
        if message.detail.hidden_messages:
            boxes.append(
                Static(
                    Text(f"{message.detail.hidden_messages} older messages not shown"),
                    classes="older",
                )
            )
        boxes.extend(MessageBox(m) for m in message.detail.messages)
        if not boxes:
            boxes.append(Static(Text("No messages yet."), classes="older"))
        thread.mount_all(boxes)
        thread.scroll_end(animate=False)  # newest last, and that is where the agent starts
        self.refresh_bindings()
        self._show_status()
        if self._give_back is not None and self.is_current:
            kind, why = self._give_back
            self._give_back = None
            self._open_editor(kind, notice=why)

    def on_ticket_screen_failed(self, message: Failed) -> None:
        self.notify(message.error, title=self.key, severity="error")
        if self.detail is None and self.is_current:
            self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(f"{event.worker.error}", title="Unexpected error", severity="error")
        if event.worker.group == "ticket-action" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._idle()

    # --- which actions apply ---------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            # Leaving mid-write would drop its answer (and a draft refused by a conflict).
            return None if self.busy else True
        if action not in WRITES:
            return True
        if self.detail is None:
            return None  # not loaded yet: shown where it would be, not usable
        status = act.status_of(self.detail.status)
        if not applies(action, status, self.detail.assignee == self.context.login):
            return False
        return None if self.busy else True

    # --- actions: questions first ----------------------------------------------------

    def _title(self, what: str) -> Text:
        assert self.detail is not None
        title = Text(f"{what} {self.detail.key} · ")
        title.append(self.detail.subject)  # customer text: appended, never markup
        return title

    def action_reply(self) -> None:
        self._open_editor("reply")

    def action_note(self) -> None:
        self._open_editor("note")

    def action_editor(self) -> None:
        draft = self.drafts.get("reply", Draft(""))
        edited = edit_externally(self.app, draft.text)
        if edited is not None:
            self.drafts["reply"] = Draft(edited, draft.status, send=False)
            self._open_editor("reply")

    def _open_editor(self, kind: str, notice: str | None = None) -> None:
        assert self.detail is not None
        statuses = act.status_choices(act.status_of(self.detail.status)) if kind == "reply" else ()
        self.app.push_screen(
            ComposeScreen(
                kind,
                self._title("Reply to" if kind == "reply" else "Internal note on"),
                self.drafts.get(kind, Draft("")),
                statuses,
                notice,
            ),
            partial(self._composed, kind),
        )

    def _composed(self, kind: str, draft: Draft | None) -> None:
        if draft is None:
            self.drafts.pop(kind, None)  # empty, or the agent chose to discard it
            self._show_status()
            return
        self.drafts[kind] = draft
        if not draft.send:
            self._show_status()  # kept for later: the status line says how to go on
            return
        if kind == "reply":
            self._act("reply", act.reply, draft.text, status=draft.status, draft=kind)
        else:
            self._act("note", act.add_note, draft.text, draft=kind)

    def action_assign_me(self) -> None:
        self._act("assign", act.assign_to_me)

    def action_assign(self) -> None:
        self._load_choices("assign", self.key)

    def action_category(self) -> None:
        self._load_choices("category", self.key)

    def action_escalate(self) -> None:
        self._load_choices("escalate", self.key)

    def action_status(self) -> None:
        assert self.detail is not None
        choices = act.status_choices(act.status_of(self.detail.status))
        self._pick("Status of", choices, self._status_picked)

    def action_priority(self) -> None:
        assert self.detail is not None
        choices = act.priority_choices(Priority(self.detail.priority))
        self._pick("Priority of", choices, self._priority_picked)

    def action_tags(self) -> None:
        assert self.detail is not None
        shown = self.detail.tags
        self.app.push_screen(
            TagsScreen(self._title("Tags of"), shown), partial(self._tags_edited, shown)
        )

    def action_reopen(self) -> None:
        self._act("reopen", act.reopen)

    def _pick(
        self,
        what: str,
        choices: tuple[Choice, ...],
        then: Callable[[Choice], None],
        placeholder: str = "",
    ) -> None:
        self.app.push_screen(
            PickScreen(self._title(what), choices, placeholder),
            lambda choice: then(choice) if choice is not None else None,
        )

    @work(thread=True, exclusive=True, group="ticket-choices", exit_on_error=False)
    def _load_choices(self, what: str, key: str) -> None:
        loaders: dict[str, Callable[[views.Store, str], Any]] = {
            "assign": act.assignee_choices,
            "category": act.category_choices,
            "escalate": act.escalation_choices,
        }
        try:
            choices = loaders[what](self.context.store, key)
        except ServiceError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.ChoicesLoaded(what, choices))

    def on_ticket_screen_choices_loaded(self, message: ChoicesLoaded) -> None:
        if not self.is_current:
            return  # the agent moved on (another question is open)
        if isinstance(message.choices, EscalationChoices):
            if message.choices.next_level is None and not message.choices.groups:
                self.notify("there is no other group to escalate to", severity="warning")
                return
            self.app.push_screen(
                EscalateScreen(self._title("Escalate"), message.choices),
                self._escalate_confirmed,
            )
        elif message.what == "assign":
            self._pick("Assign", message.choices, self._assignee_picked, "part of a name")
        else:
            self._pick("Category of", message.choices, self._category_picked)

    # --- actions: then the write -----------------------------------------------------

    def _assignee_picked(self, choice: Choice) -> None:
        self._act("assign", act.assign, agent=choice.value or None, group=choice.group)

    def _status_picked(self, choice: Choice) -> None:
        self._act("status", act.change_status, Status(choice.value))

    def _priority_picked(self, choice: Choice) -> None:
        self._act("priority", act.change_priority, Priority(choice.value))

    def _category_picked(self, choice: Choice) -> None:
        self._act("category", act.change_category, choice.value or None)

    def _tags_edited(self, shown: tuple[str, ...], wanted: tuple[str, ...] | None) -> None:
        if wanted is not None:
            self._act("tags", act.change_tags, shown=shown, wanted=wanted)

    def _escalate_confirmed(self, escalation: Escalation | None) -> None:
        if escalation is not None:
            self._act(
                "escalate", act.escalate, reason=escalation.reason, to_group=escalation.to_group
            )

    def _act(
        self, label: str, action: ActionCall, *args: Any, draft: str | None = None, **kw: Any
    ) -> None:
        """Run a console action on the version shown, in the write worker."""
        if self.detail is None or self.busy is not None:
            self.notify("wait for the last change to be saved", severity="warning")
            return
        call = partial(
            action,
            self.context.store,
            self.context.login,
            self.detail.key,
            *args,
            expected_version=self.detail.version,
            **kw,
        )
        self.busy = label
        self.refresh_bindings()
        self._show_status()
        self._write(label, call, draft)

    @work(thread=True, exclusive=True, group="ticket-action", exit_on_error=False)
    def _write(self, label: str, call: ActionCall, draft: str | None) -> None:
        # Never dropped when cancelled: what was written must be reported and reloaded.
        now: datetime = self.context.now()
        try:
            result = call(now=now)
        except Conflict as exc:
            self.post_message(self.ActionFailed(label, str(exc), True, draft))
        except ServiceError as exc:
            self.post_message(self.ActionFailed(label, str(exc), False, draft))
        else:
            self.post_message(self.ActionDone(label, result, draft))

    def on_ticket_screen_action_done(self, message: ActionDone) -> None:
        if message.draft is not None:
            self.drafts.pop(message.draft, None)
        self._idle()
        self.notify(
            message.result.summary,
            title=message.result.key,
            severity="information" if message.result.changed else "warning",
        )
        self._load(self.key)

    def on_ticket_screen_action_failed(self, message: ActionFailed) -> None:
        self._idle()
        error = message.error
        if message.draft is not None:
            # The editor opens again with the full reason above the text; the toast is short.
            self._give_back = (message.draft, f"Not sent: {message.error}")
            why = "the ticket changed meanwhile" if message.conflict else "refused"
            error = f"Your {message.draft} was not sent ({why}); it is back in the editor."
        self.notify(
            error,
            title="Not saved" if message.conflict else f"{message.label}: not done",
            severity="warning" if message.conflict else "error",
            timeout=12,
        )
        self._load(self.key)  # show the ticket as it is now (the conflicting change too)

    def _idle(self) -> None:
        self.busy = None
        self.refresh_bindings()
        self._show_status()

    def _show_status(self) -> None:
        """The line above the footer: what is being saved, else which drafts are kept."""
        line = self.query_one("#ticket-status", Static)
        kept = [k for k in ("reply", "note") if k in self.drafts]
        self.set_class(self.busy is not None, "-busy")
        self.set_class(bool(kept) and self.busy is None, "-draft")
        if self.busy is not None:
            line.update(Text(f"saving {self.busy}…"))
        elif kept:
            keys = " / ".join(f"{'r' if k == 'reply' else 'n'} {k}" for k in kept)
            line.update(Text(f"draft kept: {keys} to continue"))
        else:
            line.update("")


SLA_STYLES = {
    SlaState.BREACHED: "bold red",
    SlaState.AT_RISK: "bold yellow",
    SlaState.OK: "green",
}


def header_text(detail: TicketDetail) -> Text:
    """The ticket's header lines; customer text is appended as plain strings, never markup."""
    text = Text(no_wrap=False)
    text.append(detail.key, style="bold")
    text.append("  ")
    text.append(detail.subject, style="bold")
    text.append("\n")
    text.append(f"{detail.status} · {detail.priority} · SLA ")
    text.append(detail.sla, style=SLA_STYLES.get(detail.sla_state, "dim"))
    text.append(f" · {detail.group or 'no group'} · ")
    text.append(detail.assignee or "unassigned", style="" if detail.assignee else "italic")
    text.append("\n")
    text.append(detail.requester or "unknown requester")
    if detail.organization:
        text.append(f" ({detail.organization})")
    if detail.requester_contact:
        text.append(f"  {detail.requester_contact}", style="dim")
    text.append("\n")
    facts = [detail.category or "no category", detail.channel, f"updated {detail.updated}"]
    if detail.tags:
        facts.append(" ".join(f"#{t}" for t in detail.tags))
    text.append(" · ".join(facts), style="dim")
    return text

"""One ticket, read-only for now: its header and the conversation, oldest message first.

Customer messages, public replies, internal notes and system messages each have their own
class (`-customer`, `-reply`, `-note`, `-system`) so the stylesheet sets them apart. Loaded
by a thread worker; a ticket that cannot be loaded is a notification and the screen closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.domain import MessageKind
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.services import views
from tui_helpdesk.services.errors import ServiceError
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


class TicketScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("ticket.tcss")  # absolute: subclasses live elsewhere
    AUTO_FOCUS = "#thread"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="ticket.back"),
        Binding("r", "refresh", "Refresh", id="ticket.refresh"),
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

    def __init__(self, context: ConsoleContext, key: str) -> None:
        super().__init__()
        self.context = context
        self.key = key
        self.detail: TicketDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self.key), id="ticket-header")
        yield VerticalScroll(id="thread")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#thread").loading = True
        self._load(self.key)

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

    def on_ticket_screen_failed(self, message: Failed) -> None:
        self.notify(message.error, title=self.key, severity="error")
        if self.detail is None and self.is_current:
            self.dismiss()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(f"{event.worker.error}", title="Unexpected error", severity="error")


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

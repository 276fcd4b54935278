"""The parts of the ticket screen around its conversation: the header, one message of the
thread, the side panel and the history tab.

- `header_text`: key, subject, status, priority, the SLA clocks in working time (once the
  panel has loaded them), level, group, assignee, requester, tags.
- `MessageBox`: one message; customer messages, public replies, internal notes and system
  messages have their own class, and a public reply shows its delivery (queued/sent/failed)
  when the mail service recorded one. Files the message came with are listed under its
  body (`attachments_text`: name, type, size).
- `SidePanel`: requester (email, phone), organization (segment, SLA contract), the SLA
  clocks, the requester's other open tickets, suggested articles and similar resolved
  tickets. Loads itself in a thread worker (`load`), posts `SidePanel.Loaded` (the screen
  puts the clocks in its header) and `SidePanel.Picked` when the agent chooses a ticket or
  an article in it.
- `HistoryPane`: the audit trail, loaded when first shown (`load`), each change with the rule
  that caused it.

All customer text reaches the screen as `rich.text.Text` built from plain strings, never as
markup. Used by `tui_helpdesk.screens.ticket` only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist
from textual.worker import get_current_worker

from tui_helpdesk.domain import MessageKind
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.services import ticket_panel as panel_views
from tui_helpdesk.services import views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.intake_views import phone_label
from tui_helpdesk.services.ticket_panel import ClockView, HistoryView, PanelView
from tui_helpdesk.services.views import SlaState, TicketDetail
from tui_helpdesk.text import highlighted

KIND_LABELS = {
    MessageKind.CUSTOMER: "customer",
    MessageKind.REPLY: "reply",
    MessageKind.NOTE: "internal note",
    MessageKind.SYSTEM: "system",
}

SLA_STYLES = {
    SlaState.BREACHED: "bold red",
    SlaState.AT_RISK: "bold yellow",
    SlaState.OK: "green",
    SlaState.PAUSED: "dim",
}

DELIVERY_STYLES = {"queued": "yellow", "sent": "green", "failed": "bold red"}


# --- the header and the thread ------------------------------------------------------------


def clocks_text(clocks: tuple[ClockView, ...]) -> Text:
    """ "first response 2h left · resolution 30h left", each coloured by its state."""
    text = Text()
    for index, clock in enumerate(clocks):
        if index:
            text.append(" · ")
        text.append(f"{clock.name} ")
        text.append(clock.text, style=SLA_STYLES.get(clock.state, ""))
    return text


# Cells of the requester's name kept before the number: with the longest numbers (about 20
# cells) the line still shows it whole at 80 columns.
NAME_BEFORE_PHONE = 50


def header_text(detail: TicketDetail, panel: PanelView | None = None) -> Text:
    """The ticket's header, five lines that are cut, never wrapped (at 80x24 the tags and
    the clocks stay in view): key and subject; status, priority, group, assignee and tags;
    the SLA clocks; the requester (name, phone number, organization, address); category,
    channel and last update. Customer text is appended as plain strings, never markup. With
    the `panel` loaded (for this ticket), the SLA clocks in working time and the level."""
    if panel is not None and panel.key != detail.key:
        panel = None
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(detail.key, style="bold")
    text.append("  ")
    text.append(detail.subject, style="bold")
    if detail.merged_into:
        text.append(f"  merged into {detail.merged_into}", style="bold yellow")
    text.append(f"\n{detail.status} · {detail.priority} · {detail.group or 'no group'}")
    if panel is not None and panel.level and not detail.group.endswith(panel.level):
        text.append(f" level {panel.level}")
    text.append(" · ")
    text.append(detail.assignee or "unassigned", style="" if detail.assignee else "italic")
    if detail.tags:
        text.append("  " + " ".join(f"#{t}" for t in detail.tags), style="dim")
    text.append("\n")
    if panel is not None and panel.clocks:
        text.append_text(clocks_text(panel.clocks))
    else:
        text.append("SLA ")
        text.append(detail.sla, style=SLA_STYLES.get(detail.sla_state, "dim"))
    text.append("\n")
    # The number right after the name, as people read it (as the side panel has it): a
    # phone agent reads it out whole at 80 columns (a long name gives way to it); the
    # organization and the address may be cut.
    phone = phone_label(detail.requester_phone)
    name = Text(detail.requester or "unknown requester")
    if phone:
        name.truncate(NAME_BEFORE_PHONE, overflow="ellipsis")
    text.append_text(name)
    if phone:
        text.append(f"  {phone}")
    if detail.organization:
        text.append(f"  ({detail.organization})")
    if detail.requester_email:
        text.append(f"  {detail.requester_email}", style="dim")
    facts = [detail.category or "no category", detail.channel, f"updated {detail.updated}"]
    text.append("\n" + " · ".join(facts), style="dim")
    return text


def attachments_text(attachments: tuple[views.AttachmentView, ...]) -> Text:
    """One line per file: "crash.log  text/plain  12.0 KB"; the customer's name appended as
    a plain string (cleaned by the view), never markup."""
    text = Text()
    for index, attachment in enumerate(attachments):
        if index:
            text.append("\n")
        text.append(attachment.filename, style="bold")
        text.append(f"  {attachment.content_type}  {attachment.size_text}", style="dim")
        if not attachment.kept:
            text.append("  not kept: over the size limit", style="dim italic")
    return text


class MessageBox(Static):
    """One message of the thread, its attachments under it; the body is plain text, never
    markup."""

    def __init__(self, message: views.MessageView) -> None:
        body = Text(message.body or "(empty)")
        if message.attachments:
            body.append("\n\n")
            body.append_text(attachments_text(message.attachments))
        super().__init__(body, classes=f"message -{message.kind.value}")
        self.kind = message.kind
        title = Text(f"{message.author} · {KIND_LABELS[message.kind]}")
        # Set by the outgoing mail service on public replies; absent from older views.
        delivery = getattr(message, "delivery", None) or getattr(message, "delivery_state", None)
        self.delivery = str(delivery) if delivery else None
        if self.delivery and message.kind is MessageKind.REPLY:
            title.append(" · ")
            title.append(self.delivery, style=DELIVERY_STYLES.get(self.delivery, ""))
            self.add_class(f"-delivery-{self.delivery}")
        self.border_title = title
        self.border_subtitle = Text(message.at)


# --- the side panel -----------------------------------------------------------------------


def _heading(text: str) -> Option:
    return Option(Text(text, style="bold"), disabled=True)


def _line(text: str | Text, style: str = "") -> Option:
    body = text if isinstance(text, Text) else Text(text, style=style)
    body.no_wrap = True
    body.overflow = "ellipsis"
    return Option(Text("  ").append_text(body), disabled=True)


def panel_options(panel: PanelView) -> list[Option]:
    """The panel's rows: headings and facts (disabled), tickets (`id` "ticket:HD-3") and
    articles (`id` "article:12") the agent can pick."""
    rows: list[Option] = [_heading("Requester")]
    who = Text(panel.requester or "unknown")
    if panel.vip:
        who.append("  VIP", style="bold magenta")
    rows.append(_line(who))
    rows += [_line(e) for e in panel.emails]
    rows += [_line(p) for p in panel.phones]
    rows.append(_heading("Organization"))
    if panel.organization:
        rows.append(_line(panel.organization))
        rows.append(_line(f"{panel.segment} · SLA {panel.contract or 'by the rules'}", "dim"))
    else:
        rows.append(_line("none", "dim italic"))
    rows.append(_heading("SLA"))
    facts = f"policy {panel.policy or 'none'}" + (f" · level {panel.level}" if panel.level else "")
    rows.append(_line(facts, "dim"))
    for clock in panel.clocks:
        line = Text(f"{clock.name}: ")
        line.append(clock.text, style=SLA_STYLES.get(clock.state, ""))
        rows.append(_line(line))
    rows.append(
        _heading(
            f"Other open tickets ({len(panel.other_open)}{'+' if panel.other_open_more else ''})"
        )
    )
    for ticket in panel.other_open:
        line = Text(f"{ticket.key} ", style="bold")
        line.append(f"{ticket.status} · ", style="dim")
        line.append(ticket.subject)
        line.append(f" ({ticket.age})", style="dim")
        rows.append(Option(line, id=f"ticket:{ticket.key}"))
    if not panel.other_open:
        rows.append(_line("none", "dim italic"))
    rows.append(_heading("Suggested articles"))
    for article in panel.articles:
        line = Text(f"#{article.id} ", style="bold")
        line.append_text(highlighted(article.title.pieces, highlight="underline"))
        rows.append(Option(line, id=f"article:{article.id}"))
    if not panel.articles:
        rows.append(_line("none", "dim italic"))
    rows.append(_heading("Similar resolved tickets"))
    for similar in panel.similar:
        line = Text(f"{similar.key} ", style="bold")
        line.append_text(highlighted(similar.subject.pieces, highlight="underline"))
        if similar.resolution:
            line.append(f"\n  → {similar.resolution}", style="dim")
        rows.append(Option(line, id=f"ticket:{similar.key}"))
    if not panel.similar:
        rows.append(_line("none", "dim italic"))
    return rows


class SidePanel(OptionList):
    """The ticket's side panel; `enter` on a ticket opens it, on an article links it into
    the reply (the screen decides, on `Picked`)."""

    BINDING_GROUP_TITLE = "Side panel"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="ticket.panel.down"),
        Binding("k", "cursor_up", "Up", show=False, id="ticket.panel.up"),
    ]

    @dataclass
    class Loaded(Message):
        panel: PanelView

    @dataclass
    class Picked(Message):
        kind: str  # "ticket" or "article"
        ref: str  # a ticket key or an article id

    @dataclass
    class _Done(Message):
        panel: PanelView | None
        error: str | None
        suggested: bool  # the suggestions were looked for (else the shown ones are kept)

    def __init__(self, context: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.context = context
        self.panel: PanelView | None = None
        self._suggesting = False  # a load that looks for suggestions is under way

    def load(self, key: str, *, clocks_only: bool = False) -> None:
        """Read the panel again. `clocks_only` (the minute's refresh): the suggestions shown
        for this ticket are kept rather than searched for again, unless a full load is
        still under way (this one replaces it, so it must do its work)."""
        if self.panel is None:
            self.loading = True
        keep = clocks_only and self.panel is not None and self.panel.key == key
        suggest = not keep or self._suggesting
        self._suggesting = suggest
        self._load(key, suggest)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Measured at no width at all (squeezed out, or while hidden), rows cannot wrap.
        return 0 if width <= 0 else super().get_content_height(container, viewport, width)

    @work(thread=True, exclusive=True, group="ticket-panel", exit_on_error=False)
    def _load(self, key: str, suggest: bool) -> None:
        worker = get_current_worker()
        try:
            found = panel_views.ticket_panel(
                self.context.store, key, now=self.context.now(), suggestions=suggest
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self._Done(None, str(exc), suggest))
            return
        if not worker.is_cancelled:
            self.post_message(self._Done(found, None, suggest))

    @on(_Done)
    def _loaded(self, message: _Done) -> None:
        message.stop()
        self.loading = False
        self._suggesting = False
        if message.panel is None:
            self.notify(message.error or "", title="Side panel", severity="error", markup=False)
            return
        panel = message.panel
        if not message.suggested and self.panel is not None and self.panel.key == panel.key:
            panel = replace(panel, articles=self.panel.articles, similar=self.panel.similar)
        self.panel = panel
        highlighted_id = self.highlighted_option.id if self.highlighted_option else None
        self.set_options(panel_options(panel))
        if highlighted_id is not None:
            try:
                self.highlighted = self.get_option_index(highlighted_id)
            except OptionDoesNotExist:  # the row is gone after the reload: keep the top
                self.highlighted = None
        self.post_message(self.Loaded(panel))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _, ref = (event.option.id or "").partition(":")
        if ref:
            self.post_message(self.Picked(kind, ref))


# --- the history tab ----------------------------------------------------------------------


def history_text(history: HistoryView) -> Text:
    """Every event on its own line(s): when, who, what changed, and the rule behind it."""
    text = Text()
    if history.hidden:
        text.append(f"{history.hidden} older events not shown (helpdesk ticket show)\n", "dim")
    for row in history.rows:
        text.append(row.at, style="dim")
        text.append("  ")
        text.append(row.actor, style="bold")
        text.append("  ")
        said = row.change.partition(":")[0].replace("_", " ")
        if not row.change or said != row.kind:
            text.append(f"{row.kind}{': ' if row.change else ''}", style="dim")
        text.append(row.change)
        if row.rule:
            text.append("  ")
            text.append(f"(rule {row.rule})", style="italic cyan")
        text.append("\n")
    if not history.rows:
        text.append("No history yet.", style="dim italic")
    text.rstrip()
    return text


class HistoryPane(VerticalScroll):
    """The ticket's audit trail, newest last; loaded on demand and again when stale."""

    @dataclass
    class _Done(Message):
        history: HistoryView | None
        error: str | None

    def __init__(self, context: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(id=id, can_focus=True)
        self.context = context
        self.history: HistoryView | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="history-text")

    def load(self, key: str) -> None:
        if self.history is None:
            self.loading = True
        self._load(key)

    @work(thread=True, exclusive=True, group="ticket-history", exit_on_error=False)
    def _load(self, key: str) -> None:
        worker = get_current_worker()
        try:
            found = panel_views.ticket_history(
                self.context.store, self.context.login, key, timezone=self.context.timezone
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self._Done(None, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self._Done(found, None))

    @on(_Done)
    def _loaded(self, message: _Done) -> None:
        message.stop()
        self.loading = False
        if message.history is None:
            self.notify(message.error or "", title="History", severity="error", markup=False)
            return
        self.history = message.history
        self.query_one("#history-text", Static).update(history_text(message.history))
        self.scroll_end(animate=False)
        if self.screen.focused is None:
            self.focus()  # asked for by the tab while loading, which takes no focus

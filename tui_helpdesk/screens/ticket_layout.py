"""The ticket screen's layout and what it shows, apart from what the agent does: the header,
who else has the ticket open (`widgets.presence`), the tabs (the conversation, the history
and, on narrow screens, the side panel as "Info") and the side panel beside them on wide
ones; the thread mounted a page at a time.

The side panel sits right of the tabs from `WIDE` columns (`i` hides it); narrower, it is
the third tab (`i` goes there and back, `h` to the history and back). Focus follows the
tab shown. Long threads mount the newest `THREAD_PAGE` messages; `g` (top) mounts older ones
a page at a time. The base of `screens.ticket.TicketScreen`, which loads and acts.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.ticket_panel import HistoryPane, MessageBox, SidePanel, header_text
from tui_helpdesk.services import views
from tui_helpdesk.services.ticket_panel import PanelView
from tui_helpdesk.services.views import TicketDetail
from tui_helpdesk.widgets.presence import PresenceBar

WIDE = 110  # columns from which the side panel sits beside the conversation
TAB_FOCUS = {"tab-history": "#history", "tab-info": "#ticket-panel"}  # else the thread
# Each tab's title and the binding that shows it: its key is in its label ("h History"),
# read from the bindings as the keymap left them.
TAB_KEYS = {
    "tab-conversation": ("Conversation", None),
    "tab-history": ("History", "ticket.history"),
    "tab-info": ("Info", "ticket.panel"),
}
THREAD_PAGE = 50  # messages mounted at a time, newest first


class TicketLayout(Screen[None]):
    CSS_PATH = Path(__file__).with_name("ticket.tcss")  # absolute: subclasses live elsewhere
    AUTO_FOCUS = "#thread"

    def __init__(self, context: ConsoleContext, key: str) -> None:
        super().__init__()
        self.context = context
        self.key = key
        self.detail: TicketDetail | None = None
        self.panel: PanelView | None = None
        self.panel_open: bool | None = None  # None: as the width suggests
        self._unmounted: list[views.MessageView] = []  # older messages not yet mounted
        self._change: str | None = None  # a desk change's news, told once the panel says who

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(self.key), id="ticket-header")
        yield PresenceBar(self.context, id="ticket-presence")  # who else is on it
        with Horizontal(id="ticket-body"):
            with TabbedContent(id="ticket-tabs"):
                with TabPane("Conversation", id="tab-conversation"):
                    yield VerticalScroll(
                        Static(Text(""), classes="older", id="thread-older"), id="thread"
                    )
                with TabPane("History", id="tab-history"):
                    yield HistoryPane(self.context, id="history")
                with TabPane("Info", id="tab-info"):  # narrow screens: the panel, below
                    yield Static(Text(""), id="info-placeholder")
            yield SidePanel(self.context, id="ticket-panel")
        yield Static(id="ticket-status")
        yield Footer(compact=True)  # eight actions and the app's keys in 80 columns

    def label_tabs(self) -> None:
        """Put each tab's key in its label (the conversation is where `h` and `i` return)."""
        keys = {
            active.binding.id: self.app.get_key_display(active.binding)
            for active in self.active_bindings.values()
            if active.binding.id
        }
        tabs = self.query_one(TabbedContent)
        for pane, (title, binding) in TAB_KEYS.items():
            key = keys.get(binding) if binding else None
            label = Content.assemble((key, "bold $text-accent"), f" {title}") if key else title
            tabs.get_tab(pane).label = label

    # --- who else is on the ticket ----------------------------------------------------

    def on_screen_suspend(self) -> None:
        self.query_one(PresenceBar).beat()  # covered by another ticket or mode: leaves it

    def on_screen_resume(self) -> None:
        self.query_one(PresenceBar).beat()  # on top again: there again at once

    # --- layout: the side panel beside the tabs, or as one of them --------------------

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        narrow = width < WIDE
        tabs = self.query_one(TabbedContent)
        self.set_class(narrow, "-narrow")
        if narrow:
            tabs.show_tab("tab-info")
            self.set_class(tabs.active == "tab-info", "-panel")
        else:
            tabs.hide_tab("tab-info")  # moves to another tab if it was active
            self.set_class(self.panel_open is not False, "-panel")

    def action_toggle_panel(self) -> None:
        tabs = self.query_one(TabbedContent)
        if self.has_class("-narrow"):
            tabs.active = "tab-conversation" if tabs.active == "tab-info" else "tab-info"
            return
        self.panel_open = not self.has_class("-panel")
        self._layout(self.size.width)
        if not self.panel_open and self.query_one(SidePanel).has_focus:
            self.query_one("#thread").focus()

    def action_history(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "tab-conversation" if tabs.active == "tab-history" else "tab-history"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # Focus follows the tab (also when the screen comes back from a question): focus
        # in a hidden pane would switch back to that pane.
        self.AUTO_FOCUS = TAB_FOCUS.get(event.pane.id or "", "#thread")  # type: ignore[misc]
        self.call_after_refresh(self.query_one(self.AUTO_FOCUS).focus)  # once it is shown
        if event.pane.id == "tab-history" and self.detail is not None:
            self.query_one(HistoryPane).load(self.key)
        if self.has_class("-narrow"):
            self.set_class(event.pane.id == "tab-info", "-panel")

    def on_side_panel_loaded(self, message: SidePanel.Loaded) -> None:
        self.panel = message.panel
        if self.detail is not None:
            self.query_one("#ticket-header", Static).update(header_text(self.detail, self.panel))
        change, self._change = self._change, None
        if change and message.panel.changed_by != self.context.login:
            by = f" by {message.panel.changed_by}" if message.panel.changed_by else ""
            self.notify(f"{change}{by}", title="Changed", severity="information", markup=False)

    # --- the ticket shown --------------------------------------------------------------

    def show_ticket(self, detail: TicketDetail, keep: float | None = None) -> None:
        """Header, the newest page of the thread (scrolled to the end, or to `keep`), and
        the panel and (if shown) the history read again."""
        self.detail = detail
        self.key = detail.key
        self.query_one(PresenceBar).follow(detail.key)
        self.query_one("#ticket-header", Static).update(header_text(detail, self.panel))
        thread = self.query_one("#thread", VerticalScroll)
        thread.loading = False
        thread.query(MessageBox).remove()
        messages = list(detail.messages)
        self._unmounted = messages[:-THREAD_PAGE]
        thread.mount_all([MessageBox(m) for m in messages[-THREAD_PAGE:]])
        self._show_older()
        if keep is None:
            thread.scroll_end(animate=False)  # newest last, and that is where the agent starts
        else:
            self.call_after_refresh(thread.scroll_to, y=keep, animate=False)
        self.query_one(SidePanel).load(self.key)
        if self.query_one(TabbedContent).active == "tab-history":
            self.query_one(HistoryPane).load(self.key)

    def action_scroll(self, where: str) -> None:
        """j/k/g/G: the conversation, or the history when that tab is shown."""
        shown: VerticalScroll
        if self.query_one(TabbedContent).active == "tab-history":
            shown = self.query_one(HistoryPane)
        else:
            shown = self.query_one("#thread", VerticalScroll)
            if where == "home" and self._unmounted:
                self._mount_older()
        {
            "down": shown.scroll_down,
            "up": shown.scroll_up,
            "home": shown.scroll_home,
            "end": shown.scroll_end,
        }[where]()

    def _show_older(self) -> None:
        older = self.query_one("#thread-older", Static)
        hidden = len(self._unmounted) + (self.detail.hidden_messages if self.detail else 0)
        if hidden:
            older.update(Text(f"{hidden} older messages · g shows more"))
        elif self.detail is not None and self.detail.merged_into and not self.detail.messages:
            older.update(Text(f"Merged into {self.detail.merged_into}: its conversation is there."))
        elif self.detail is not None and not self.detail.messages:
            older.update(Text("No messages yet."))
        older.display = bool(hidden) or (self.detail is not None and not self.detail.messages)

    def _mount_older(self) -> None:
        """Mount the next page of older messages above those shown."""
        page, self._unmounted = self._unmounted[-THREAD_PAGE:], self._unmounted[:-THREAD_PAGE]
        thread = self.query_one("#thread", VerticalScroll)
        thread.mount_all([MessageBox(m) for m in page], after="#thread-older")
        self._show_older()

"""The queue: the console's home screen, a list of tickets in one of the standard views.

Rows arrive page by page (keyset cursors from `services.queue`) from thread workers: the
first page when a view or filter is chosen, the next one when the cursor nears the last
loaded row. Every load carries a request number; a result for an older request (the agent
switched view meanwhile) is dropped, so a slow query never overwrites a newer view.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Label
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.views import Cursor, QueuePage, View
from tui_helpdesk.widgets.ticket_table import TicketTable

FILTER_DEBOUNCE = 0.3  # seconds of quiet typing before the filter runs
VIEW_ORDER: tuple[View, ...] = tuple(View)
# Columns a view makes pointless: every row would say the same thing.
HIDDEN_COLUMNS: dict[View, frozenset[str]] = {
    View.MY_OPEN: frozenset({"assignee"}),
    View.MY_GROUPS: frozenset({"assignee"}),
    View.PENDING: frozenset({"status"}),
}


class QueueScreen(Screen[None]):
    """Tickets of one view, most urgent first; enter opens one."""

    CSS_PATH = Path(__file__).with_name("queue.tcss")  # absolute: subclasses live elsewhere
    AUTO_FOCUS = "TicketTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                str(i),
                f"show_view('{view.value}')",
                view.label,
                show=False,
                id=f"queue.view.{view.value}",
            )
            for i, view in enumerate(VIEW_ORDER, start=1)
        ),
        Binding("v", "next_view", "Next view", id="queue.next_view"),
        Binding("slash", "filter", "Filter", id="queue.filter"),
        Binding("r", "refresh", "Refresh", id="queue.refresh"),
        Binding("escape", "clear_filter", "Clear filter", id="queue.clear_filter"),
    ]

    @dataclass
    class PageLoaded(Message):
        request: int
        page: QueuePage
        append: bool

    @dataclass
    class CountLoaded(Message):
        request: int
        count: int

    @dataclass
    class LoadFailed(Message):
        request: int
        error: str

    def __init__(self, context: ConsoleContext, view: View = View.MY_OPEN) -> None:
        super().__init__()
        self.context = context
        self.view = view
        self.filter_text = ""
        self._request = 0
        self._next: Cursor | None = None
        self._loading = False
        self._count: int | None = None
        self._filter_timer: Timer | None = None
        self._keep: str | None = None  # the ticket to keep the cursor on after a reload

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="queue-bar"):
            for i, view in enumerate(VIEW_ORDER, start=1):
                yield Label(Text(f"{i} {view.label}"), id=f"tab-{view.value}", classes="tab")
            yield Label(Text(""), id="count")
        yield Input(placeholder="filter: subject, requester name or email", id="filter")
        yield TicketTable(load_margin=max(1, min(10, self.context.page_size // 2)))
        yield Footer()

    def on_mount(self) -> None:
        self._show_tabs()
        self.reload()

    def on_screen_resume(self) -> None:
        """Back from a ticket (or another mode): the rows may have changed meanwhile."""
        if self.table.row_count and not self._loading:
            self.action_refresh()

    # --- loading ---------------------------------------------------------------------

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def reload(self, keep: str | None = None) -> None:
        """Load the first page of the current view and its count."""
        self._request += 1
        self._next = None
        self._loading = True
        self._count = None
        self._keep = keep
        self.table.loading = not self.table.row_count
        self._show_count()
        text = self.filter_text or None
        self._fetch_page(self._request, self.view, text, None, append=False)
        self._fetch_count(self._request, self.view, text)

    def load_more(self) -> None:
        if self._loading or self._next is None:
            return
        self._loading = True
        self._show_count()
        self._fetch_page(
            self._request, self.view, self.filter_text or None, self._next, append=True
        )

    @work(thread=True, exclusive=True, group="queue-page", exit_on_error=False)
    def _fetch_page(
        self, request: int, view: View, text: str | None, after: Cursor | None, append: bool
    ) -> None:
        worker = get_current_worker()
        try:
            page = views.queue_page(
                self.context.store,
                self.context.login,
                view,
                now=self.context.now(),
                text=text,
                after=after,
                limit=self.context.page_size,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(request, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.PageLoaded(request, page, append))

    @work(thread=True, exclusive=True, group="queue-count", exit_on_error=False)
    def _fetch_count(self, request: int, view: View, text: str | None) -> None:
        worker = get_current_worker()
        try:
            count = views.count_view(self.context.store, self.context.login, view, text=text)
        except ServiceError:
            return  # the page load reports the same failure; one notification is enough
        if not worker.is_cancelled:
            self.post_message(self.CountLoaded(request, count))

    def on_queue_screen_page_loaded(self, message: PageLoaded) -> None:
        if message.request != self._request:
            return  # an answer to a view the agent has left
        table = self.table
        if message.append:
            table.extend_rows(message.page.rows)
        else:
            table.hide_columns(HIDDEN_COLUMNS.get(self.view, frozenset()))
            table.replace_rows(message.page.rows, keep=self._keep)
        table.loading = False
        self._next = message.page.next
        self._loading = False
        self._show_count()
        self.refresh_bindings()

    def on_queue_screen_count_loaded(self, message: CountLoaded) -> None:
        if message.request == self._request:
            self._count = message.count
            self._show_count()

    def on_queue_screen_load_failed(self, message: LoadFailed) -> None:
        if message.request != self._request:
            return
        self._loading = False
        self.table.loading = False
        self._show_count()
        self.notify(message.error, title="Queue", severity="error")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a worker is shown, not allowed to take the console down with it.
        if event.state is WorkerState.ERROR:
            self._loading = False
            self.table.loading = False
            self.notify(f"{event.worker.error}", title="Unexpected error", severity="error")

    # --- display ---------------------------------------------------------------------

    def _show_tabs(self) -> None:
        for view in VIEW_ORDER:
            self.query_one(f"#tab-{view.value}", Label).set_class(view is self.view, "-current")

    def _show_count(self) -> None:
        loaded = len(self.table.tickets)
        if self._count is None:
            text = "…" if self._loading else f"{loaded}"
        elif loaded < self._count:
            text = f"{loaded}/{self._count}"
        else:
            text = f"{self._count}"
        label = f"{text} ticket{'' if self._count == 1 else 's'}"
        if self.filter_text:
            label = f"“{self.filter_text}” {label}"
        self.query_one("#count", Label).update(Text(label, no_wrap=True, overflow="ellipsis"))

    # --- actions ---------------------------------------------------------------------

    def action_show_view(self, name: str) -> None:
        view = View(name)
        if view is self.view:
            return
        self.view = view
        self._show_tabs()
        self.table.replace_rows(())
        self.reload()

    def action_next_view(self) -> None:
        index = VIEW_ORDER.index(self.view)
        self.action_show_view(VIEW_ORDER[(index + 1) % len(VIEW_ORDER)].value)

    def action_refresh(self) -> None:
        current = self.table.current
        self.reload(keep=current.key if current else None)

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self.remove_class("-filtering")
        self.table.focus()
        changed = bool(self.filter_text)
        field.value = ""
        self.filter_text = ""
        if changed:
            self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.has_class("-filtering") or bool(self.filter_text)
        return True

    # --- events ----------------------------------------------------------------------

    @on(TicketTable.NearEnd)
    def _near_end(self) -> None:
        self.load_more()

    @on(TicketTable.Open)
    def _open(self, message: TicketTable.Open) -> None:
        self.open_ticket(message.key)

    def open_ticket(self, key: str) -> None:
        self.app.push_screen(TicketScreen(self.context, key))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DEBOUNCE, self._apply_filter)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._apply_filter()
        if not self.filter_text:
            self.remove_class("-filtering")
        self.table.focus()

    def _apply_filter(self) -> None:
        text = " ".join(self.query_one("#filter", Input).value.split())
        if text != self.filter_text:
            self.filter_text = text
            self.reload()

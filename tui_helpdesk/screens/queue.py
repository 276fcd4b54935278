"""The queue: the console's home screen, a list of tickets in a standard or saved view.

Rows arrive page by page (keyset cursors from `services.queue`) from thread workers: the
first page when a view or filter is chosen, the next one when the cursor nears the last
loaded row. Every load carries a request number; a result for an older request (the agent
switched view meanwhile) is dropped, so a slow query never overwrites a newer view.

The first rows come first: the first page is asked for while the screen is being composed
(its widgets are built and styled while the query runs) and holds a screenful; the rest of
the page is read once those rows are painted, and a view's count only once the whole page
is in, so no query competes with the first rows for the interpreter; until the count
comes, the bar says how many rows are loaded. The footer's keys are built once those rows
are painted (`KeysFooter(hold=True)`, at most 0.2 s after it is mounted), once and with
"Open" applying, instead of twice before the rows.

Live: on `DeskChanged` (someone committed) the rows already loaded are read again in one
query, the cursor staying on its ticket (or, if that ticket left the view, where it was);
so they are every minute, which moves the SLA countdowns on (working time on each ticket's
calendar, computed by the service as the ticket header's clocks are).
Marked rows (space, ctrl+a) take bulk actions (b) through `services.bulk`; saved views
(`services.saved_views`) come after the standard ones, on keys 7-9.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.screens.context import COUNTDOWN_REFRESH, ConsoleContext, DeskChanged
from tui_helpdesk.services import saved_views, views
from tui_helpdesk.services.errors import ServiceError, ValidationError
from tui_helpdesk.services.saved_views import SavedView
from tui_helpdesk.services.views import AnyView, Cursor, DrillView, QueuePage, View
from tui_helpdesk.widgets.footer import KeysFooter
from tui_helpdesk.widgets.palette import QueueCommands
from tui_helpdesk.widgets.ticket_table import TicketTable
from tui_helpdesk.widgets.view_tabs import ViewTabs

if TYPE_CHECKING:  # bulk changes, their menus and the ticket screen load on first use
    from tui_helpdesk.services.bulk import BulkAction, BulkReport, Target

FILTER_DEBOUNCE = 0.3  # seconds of quiet typing before the filter runs
FILTER_PLACEHOLDER = (
    "filter: words, status:pending priority:urgent,high group:L1 "
    "assignee:me org:… category:… tag:… channel:email"
)
# The SLA countdowns are working time at the instant the rows were read (`views.Countdowns`):
# read again this often while nothing else reloads them, so they never lag by more.
# The table shows its loading indicator only for a load that has taken this long: a page
# that comes sooner (the usual case) would have the indicator mounted, styled and
# removed again before the rows could be painted, and only flicker.
LOADING_DELAY = 0.2
VIEW_ORDER: tuple[View, ...] = tuple(View)
SAVED_KEYS = ("7", "8", "9")  # the first saved views; the rest through v and the palette
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
        *(
            Binding(
                key, f"show_saved({i})", f"Saved view {i + 1}", show=False, id=f"queue.saved.{i}"
            )
            for i, key in enumerate(SAVED_KEYS)
        ),
        Binding("v", "next_view", "Next view", id="queue.next_view"),
        Binding("slash", "filter", "Filter", id="queue.filter"),
        Binding("r", "refresh", "Refresh", id="queue.refresh"),
        # Not in the footer (full at 80 columns); help lists them, dimmed until they apply.
        Binding(
            "b", "bulk", "Bulk change", tooltip="The marked tickets", show=False, id="queue.bulk"
        ),
        Binding("ctrl+s", "save_view", "Save view", show=False, id="queue.save_view"),
        # Escape in a report's drill-down, once no filter or mark is left to clear: back to
        # the dashboard it came from (shown only then; first, so the footer shows it).
        Binding("escape", "leave_drill", "Reports", id="queue.leave_drill"),
        Binding(
            "escape", "clear_filter", "Clear filter/marks", show=False, id="queue.clear_filter"
        ),
    ]
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {QueueCommands}

    @dataclass
    class PageLoaded(Message):
        request: int
        page: QueuePage
        append: bool
        rest: int = 0  # rows of this load still to read (the first rows come first)

    @dataclass
    class CountLoaded(Message):
        request: int
        count: int

    @dataclass
    class LoadFailed(Message):
        request: int
        error: str
        append: bool = False

    @dataclass
    class BulkDone(Message):
        report: BulkReport

    def __init__(self, context: ConsoleContext, view: AnyView = View.MY_OPEN) -> None:
        super().__init__()
        self.context = context
        self.view: AnyView = view
        self.saved: tuple[SavedView, ...] = ()
        self.drill: DrillView | None = None  # tickets behind a report figure, while shown
        self._before_drill: AnyView = view  # the view to come back to when the drill ends
        self.filter_text = ""
        self._stale = False  # the desk changed while a load was running: load again after
        self._bulk_running = False
        self.last_bulk: BulkReport | None = None  # what the last bulk change did, per ticket
        self._bulk_targets: list[Target] = []
        self._request = 0
        self._next: Cursor | None = None
        self._loading = False
        self._count: int | None = None
        self._count_wanted = False  # the view's count is asked for once its rows are in
        self._filter_timer: Timer | None = None
        self._keep: str | None = None  # the ticket to keep the cursor on after a reload
        self._keep_at: int | None = None  # else the row to keep it at
        # The rest of the first load, read once its rows are painted (not meanwhile: the
        # table's first layout is still to come when they arrive).
        self._rest_after_paint: tuple[int, Cursor, int] | None = None

    def compose(self) -> ComposeResult:
        self._start_load()  # the query runs while the widgets below are built and styled
        yield Header()
        yield ViewTabs(VIEW_ORDER, id="queue-bar")
        # Says why the list is empty (nothing in the view, nothing matching the filter, a
        # filter the desk refused), where a passing notice would be missed.
        yield Static(id="queue-empty")
        # The filter field (`/`) is mounted when first asked for, before the table: hidden
        # until then, it would only be built and styled before the first rows for nothing.
        yield TicketTable(
            load_margin=max(1, min(10, self.context.page_size // 2)),
            hidden=self._hidden_columns(),
        )
        # More keys fit at 80 columns (f3 among them). Held: its keys are built once the
        # first rows are in (after they are painted), not twice before them.
        yield KeysFooter(compact=True, hold=True)

    def on_mount(self) -> None:
        self._load_saved()
        self._show_tabs()
        self._show_loading_later()  # the first page, asked for in compose
        self._show_count()
        self.set_interval(COUNTDOWN_REFRESH, self._countdowns_due)

    def _countdowns_due(self) -> None:
        """A minute on: the rows read again from the worker (the countdowns are working
        time on each ticket's calendar, not something the UI can count down by itself)."""
        if self.is_current and not self._loading and self.table.row_count:
            self.action_refresh()

    def on_screen_resume(self) -> None:
        """Back from a ticket (or another mode): the rows may have changed meanwhile, and
        drafts may have been kept or sent."""
        self.table.show_drafted(self.context.drafted())
        if self.table.row_count and not self._loading:
            self.action_refresh()

    def on_desk_changed(self, _message: DeskChanged) -> None:
        """Someone committed: read the loaded rows again, keeping the agent's place."""
        if self._loading:
            self._stale = True  # once the running load is in, load again
        else:
            self.action_refresh()

    # --- loading ---------------------------------------------------------------------

    @property
    def table(self) -> TicketTable:
        return self.query_one(TicketTable)

    def reload(self, keep: str | None = None, rows: int = 0) -> None:
        """Load the first page of the current view (at least `rows` rows, so a refresh
        keeps what was loaded), then its count."""
        self._start_load(keep, rows)
        self._keep_at = self.table.cursor_row if keep else None
        if not self.table.row_count:
            self._show_loading_later()
        self._show_count()

    def _show_loading_later(self) -> None:
        """The table's loading indicator, if it still has no rows after `LOADING_DELAY`."""
        self.set_timer(LOADING_DELAY, self._show_loading)

    def _show_loading(self) -> None:
        table = self.table
        table.loading = self._loading and not table.row_count

    def _start_load(self, keep: str | None = None, rows: int = 0) -> None:
        """Ask a worker for the first page of the current view; no widget is touched (the
        first load starts before they exist)."""
        self._request += 1
        self._next = None
        self._loading = True
        self._stale = False
        if keep is None:
            self._count = None  # a refresh keeps showing the old count until the new one
        self._keep = keep
        self._keep_at = None
        self._count_wanted = True
        limit = min(views.MAX_PAGE, max(self.context.page_size, rows))
        # A new view's first rows come in a screenful first (fewer rows to read and lay
        # out before the agent sees any), the rest of the page once they are painted; a
        # refresh reads the loaded rows in one go, so they never shrink meanwhile.
        first = min(limit, self.app.size.height) if keep is None else limit
        self._fetch_page(
            self._request,
            self.view,
            self.filter_text or None,
            None,
            append=False,
            limit=first,
            rest=limit - first,
        )

    def load_more(self) -> None:
        if self._loading or self._next is None:
            return
        self._loading = True
        self._show_count()
        self._fetch_page(
            self._request,
            self.view,
            self.filter_text or None,
            self._next,
            append=True,
            limit=self.context.page_size,
        )

    def _fetch_rest(self, request: int, after: Cursor, limit: int) -> None:
        """The rest of a load whose first rows are painted, unless the agent moved on."""
        if request == self._request:
            self._fetch_page(
                request, self.view, self.filter_text or None, after, append=True, limit=limit
            )

    @work(thread=True, exclusive=True, group="queue-page", exit_on_error=False)
    def _fetch_page(
        self,
        request: int,
        view: AnyView,
        text: str | None,
        after: Cursor | None,
        append: bool,
        limit: int,
        rest: int = 0,
    ) -> None:
        """`limit` rows after `after`; `rest`: rows to read after these, once they show."""
        worker = get_current_worker()
        try:
            page = views.queue_page(
                self.context.store,
                self.context.login,
                view,
                now=self.context.now(),
                text=text,
                after=after,
                limit=limit,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(request, str(exc), append))
            return
        if not worker.is_cancelled:
            more = rest if page.next is not None else 0
            self.post_message(self.PageLoaded(request, page, append, rest=more))

    @work(thread=True, exclusive=True, group="queue-count", exit_on_error=False)
    def _fetch_count(self, request: int, view: AnyView, text: str | None) -> None:
        worker = get_current_worker()
        try:
            count = views.count_view(
                self.context.store, self.context.login, view, text=text, now=self.context.now()
            )
        except ServiceError:
            return  # the page load reports the same failure; one notification is enough
        if not worker.is_cancelled:
            self.post_message(self.CountLoaded(request, count))

    def on_queue_screen_page_loaded(self, message: PageLoaded) -> None:
        if message.request != self._request:
            return  # an answer to a view the agent has left
        if not message.page.rows:
            self._release_footer()  # else once the table has painted them (RowsPainted)
        table = self.table
        if message.append:
            table.extend_rows(message.page.rows)
        else:
            table.hide_columns(self._hidden_columns())
            table.replace_rows(message.page.rows, keep=self._keep, at=self._keep_at)
        table.loading = False
        self._show_empty()
        self._next = message.page.next
        self._loading = bool(message.rest)
        if message.rest and self._next is not None:
            rest = (message.request, self._next, message.rest)
            if table.painted:
                self.call_after_refresh(self._fetch_rest, *rest)
            else:  # the very first rows: read the rest once they are on screen
                self._rest_after_paint = rest
        elif self._count_wanted:
            # The count after the rows: it never delays them (the bar shows the rows
            # loaded until it comes).
            self._count_wanted = False
            self._fetch_count(message.request, self.view, self.filter_text or None)
        self._show_count()
        if self._stale and not message.rest:
            self.action_refresh()

    def on_queue_screen_count_loaded(self, message: CountLoaded) -> None:
        if message.request == self._request:
            self._count = message.count
            self._show_count()

    def on_queue_screen_load_failed(self, message: LoadFailed) -> None:
        if message.request != self._request:
            return
        self._release_footer()
        self._loading = False
        self._stale = False
        self.table.loading = False
        if not message.append and not self._keep:
            self.table.replace_rows(())  # a new view or filter that failed shows nothing stale
        self._show_count()
        self._show_empty(message.error)
        self.notify(message.error, title="Queue", severity="error")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A bug in a worker is shown, not allowed to take the console down with it.
        if event.state is WorkerState.ERROR:
            self._loading = False
            self._bulk_running = False
            self.table.loading = False
            self.notify(f"{event.worker.error}", title="Unexpected error", severity="error")

    # --- display ---------------------------------------------------------------------

    def _release_footer(self) -> None:
        """The footer's keys are built from now on: held until the first rows are painted
        (or the first load brought none, or failed), so they are built once, not twice
        before those rows."""
        for footer in self.query(KeysFooter):
            footer.release()

    def _hidden_columns(self) -> frozenset[str]:
        return (
            HIDDEN_COLUMNS.get(self.view, frozenset())
            if isinstance(self.view, View)
            else frozenset()
        )

    def all_views(self) -> tuple[AnyView, ...]:
        return (*VIEW_ORDER, *self.saved, *((self.drill,) if self.drill else ()))

    def _show_tabs(self) -> None:
        keyed = len(VIEW_ORDER) + len(SAVED_KEYS)
        self.query_one(ViewTabs).show(self.all_views(), self.view, keyed)

    def _show_empty(self, error: str | None = None) -> None:
        """The line over an empty list saying why it is empty; hidden when rows show."""
        empty = not self.table.row_count
        self.set_class(empty, "-empty")
        if not empty:
            return
        label = self.view.label
        if error is not None:
            text = f"Nothing shown: {error}"
        elif self.filter_text:
            text = (
                f"No ticket in {label} matches “{self.filter_text}”  ·  "
                "/ edits the filter, escape clears it"
            )
        else:
            text = f"No tickets in {label}."
        self.query_one("#queue-empty", Static).update(Text(text))

    def _show_count(self) -> None:
        loaded = len(self.table.tickets)
        if self._count is None:
            text = "…" if self._loading else f"{loaded}"
        elif loaded < self._count:
            text = f"{loaded}/{self._count}"
        else:
            text = f"{self._count}"
        label = f"{text} ticket{'' if self._count == 1 else 's'}"
        self.query_one(ViewTabs).show_count(
            label, filter_text=self.filter_text, marked=len(self.table.marked)
        )

    @on(TicketTable.RowsPainted)
    def _rows_painted(self) -> None:
        self._release_footer()
        if self._rest_after_paint is not None:
            rest, self._rest_after_paint = self._rest_after_paint, None
            self._fetch_rest(*rest)

    @on(TicketTable.MarksChanged)
    def _marks_changed(self) -> None:
        self._show_count()
        self.refresh_bindings()

    # --- actions ---------------------------------------------------------------------

    def action_show_view(self, name: str) -> None:
        view = next((v for v in self.all_views() if v.value == name), None)
        if view is None or view == self.view:
            return
        if self.drill is not None and view != self.drill:
            self.drill = None  # a drill-down lasts until the agent looks elsewhere
            self.refresh_bindings()  # escape back to the reports no longer applies
        self.view = view
        self._show_tabs()
        self.table.replace_rows(())
        self.reload()

    def show_drill(self, view: DrillView) -> None:
        """The tickets behind a report's figure, as a view until another is chosen."""
        if self.drill is None:
            self._before_drill = self.view
        self.drill = view
        self.view = view
        self.refresh_bindings()  # escape goes back to the reports
        self._show_tabs()
        self.table.replace_rows(())
        self.reload()

    def action_show_saved(self, index: int) -> None:
        if 0 <= index < len(self.saved):
            self.action_show_view(self.saved[index].value)

    def action_next_view(self) -> None:
        order = self.all_views()
        index = next((i for i, v in enumerate(order) if v == self.view), -1)
        self.action_show_view(order[(index + 1) % len(order)].value)

    def action_refresh(self) -> None:
        current = self.table.current
        loaded = len(self.table.tickets)
        # A few more than loaded, so tickets that arrived above do not push the last off.
        self.reload(keep=current.key if current else None, rows=loaded + loaded // 10 + 5)

    async def action_filter(self) -> None:
        fields = self.query("#filter").results(Input)
        field = next(fields, None)
        if field is None:
            field = Input(placeholder=FILTER_PLACEHOLDER, id="filter")
            await self.mount(field, before=self.table)
        self.add_class("-filtering")
        field.focus()

    def _clear_filter_field(self) -> None:
        for field in self.query("#filter").results(Input):  # none until `/` was pressed
            field.value = ""

    def action_clear_filter(self) -> None:
        if not self.has_class("-filtering") and not self.filter_text and self.table.marked:
            self.table.clear_marks()  # escape with nothing to clear but marks clears them
            return
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self.remove_class("-filtering")
        self.table.focus()
        changed = bool(self.filter_text)
        self._clear_filter_field()
        self.filter_text = ""
        if changed:
            self.reload()

    def action_leave_drill(self) -> None:
        """Back to the reports dashboard; the queue is left in the view shown before."""
        if self.drill is None:
            return
        back = self._before_drill if self._before_drill in self.all_views() else VIEW_ORDER[0]
        self.action_show_view(back.value)
        self.app.switch_mode("reports")

    def _clearing(self) -> bool:
        return self.has_class("-filtering") or bool(self.filter_text or self.table.marked)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self._clearing() or None
        if action == "leave_drill":
            return self.drill is not None and self.view == self.drill and not self._clearing()
        if action == "show_saved":
            return parameters[0] < len(self.saved)  # type: ignore[operator]
        if action == "bulk":
            return (not self._bulk_running and bool(self.table.marked)) or None
        if action == "save_view":
            return (bool(self.filter_text) and self.context.views_file is not None) or None
        return True

    # --- events ----------------------------------------------------------------------

    @on(TicketTable.NearEnd)
    def _near_end(self) -> None:
        self.load_more()

    @on(TicketTable.Open)
    def _open(self, message: TicketTable.Open) -> None:
        self.open_ticket(message.key)

    def open_ticket(self, key: str) -> None:
        from tui_helpdesk.screens.ticket import TicketScreen  # imported on first use

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
        self.refresh_bindings()

    # --- saved views -----------------------------------------------------------------

    def _load_saved(self) -> None:
        """The agent's saved views (a small local file); a problem is one notification."""
        if self.context.views_file is None:
            return
        self.saved, problems = saved_views.load(self.context.views_file)
        for problem in problems[:3]:
            self.notify(problem, title="Saved views", severity="warning", timeout=10)

    def action_save_view(self) -> None:
        """Save the `/` filter as a view of its own (asks for a name)."""
        try:
            flt = saved_views.parse_filter(self.filter_text)
        except ValidationError as exc:
            self.notify(str(exc), title="Save view", severity="error")
            return
        suggested = self.view.label if isinstance(self.view, SavedView) else ""
        from tui_helpdesk.widgets.name_prompt import NamePrompt

        self.app.push_screen(
            NamePrompt("Name for a view of this filter", suggested),
            lambda name: self._save_view(name, flt) if name else None,
        )

    def _save_view(self, name: str, flt: saved_views.ViewFilter) -> None:
        path = self.context.views_file
        assert path is not None
        base = self.view.filter if isinstance(self.view, SavedView) else saved_views.ViewFilter()
        try:
            wanted = saved_views.with_view(self.saved, SavedView(name, base.narrowed(flt)))
            saved_views.save(path, wanted)
        except (ValidationError, OSError) as exc:
            self.notify(f"{path}: {exc}", title="Save view", severity="error")
            return
        self.saved = wanted
        view = next(v for v in wanted if v.name.lower() == name.strip().lower())
        self.view = view
        self.filter_text = ""
        self._clear_filter_field()
        self.remove_class("-filtering")
        self.table.focus()
        self._show_tabs()
        self.reload()
        self.notify(f"saved view “{view.name}” in {path.name}", title="Saved views")

    def delete_saved(self, name: str) -> None:
        path = self.context.views_file
        if path is None:
            return
        wanted = saved_views.without_view(self.saved, name)
        try:
            saved_views.save(path, wanted)
        except OSError as exc:
            self.notify(f"{path}: {exc}", title="Saved views", severity="error")
            return
        self.saved = wanted
        if isinstance(self.view, SavedView) and self.view.name.lower() == name.lower():
            self.view = View.MY_OPEN
            self.reload()
        self._show_tabs()

    # --- bulk actions ----------------------------------------------------------------

    def action_bulk(self) -> None:
        # The versions the agent sees now: a ticket someone changes while the menus are
        # open is reported, not overwritten.
        from tui_helpdesk.services.bulk import Target
        from tui_helpdesk.widgets.bulk_menu import ask_bulk_action

        self._bulk_targets = [Target(r.key, r.version) for r in self.table.marked]
        ask_bulk_action(
            self.app,
            self.context.store,
            self.context.login,
            len(self._bulk_targets),
            self._run_bulk,
        )

    def _run_bulk(self, action: BulkAction) -> None:
        targets, self._bulk_targets = self._bulk_targets, []
        if not targets:
            return
        self._bulk_running = True
        self.refresh_bindings()
        self._bulk(action, targets)

    @work(thread=True, group="queue-bulk", exit_on_error=False)
    def _bulk(self, action: BulkAction, targets: list[Target]) -> None:
        from tui_helpdesk.services import bulk

        try:
            report = bulk.apply(
                self.context.store,
                self.context.login,
                action,
                targets,
                now=self.context.now(),
                timezone=self.context.timezone,
            )
        except ServiceError as exc:
            outcomes = tuple(bulk.Outcome(t.key, False, str(exc)) for t in targets)
            report = bulk.BulkReport(outcomes)
        self.post_message(self.BulkDone(report))

    def on_queue_screen_bulk_done(self, message: BulkDone) -> None:
        """Say what happened to each ticket; the refused ones stay marked for another try."""
        report = message.report
        self._bulk_running = False
        self.last_bulk = report
        self.table.clear_marks(o.key for o in report.outcomes if o.ok)
        severity = "warning" if report.failed else "information"
        self.notify(report.summary(), title="Bulk change", severity=severity, timeout=12)
        self.action_refresh()

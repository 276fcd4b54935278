"""The customers mode: organizations and contacts, found as you type, and one of them with
its figures and tickets.

`CustomersScreen` is the mode's base screen: a search box (a phone number in any format, an
address, a name despite typos, an organization), a summary line and the rows, organizations
first. Each change of the query starts a thread worker (exclusive group "customer-search")
that waits out a pause in typing and posts `SearchDone`; an answer to an older query than the
last one is dropped. Nothing typed lists organizations by name. `enter` pushes
`CustomerScreen`: facts, figures (open, breached, average first response and resolution,
last contact), an organization's top requesters, and its tickets newest first, a page at a
time ("more" reads the next); `enter` on a ticket opens it.

Customer text is untrusted: every row is a `rich.text.Text` built from plain, cleaned
strings. Errors from the services are notifications. The App registers the mode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.screens.context import ConsoleContext, DeskChanged
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import customer_views as views
from tui_helpdesk.services.customer_views import CustomerResults, CustomerRow, CustomerView
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.queue import Cursor

CSS = Path(__file__).with_name("customers.tcss")  # absolute: subclasses live elsewhere
DEBOUNCE = 0.2  # seconds of quiet typing before a search runs
MORE = "more"  # the option id of "load more tickets"


def row_prompt(row: CustomerRow) -> Text:
    """One line: a marker for organizations, the name, then dim details."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("▣ " if row.kind == "org" else "  ", style="bold cyan")
    text.append(row.name, style="bold" if row.kind == "org" else "")
    if row.vip:
        text.append(" VIP", style="bold magenta")
    if row.detail:
        text.append(f"  {row.detail}", style="dim")
    return text


def results_summary(results: CustomerResults) -> Text:
    count = len(results.rows)
    if results.browsing:
        return Text.assemble(
            f"{count} organization{'' if count == 1 else 's'}", (" · type to search", "dim")
        )
    if not count:
        return Text("nobody matches", style="bold")
    orgs = sum(1 for r in results.rows if r.kind == "org")
    people = count - orgs
    return Text(
        f"{orgs} organization{'' if orgs == 1 else 's'} · "
        f"{people} contact{'' if people == 1 else 's'}"
    )


class CustomersScreen(Screen[None]):
    """Find an organization or a contact; enter opens it."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#customers-query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", id="customers.search"),
        Binding("down", "results", "Results", show=False, id="customers.results"),
        Binding("escape", "clear", "Clear", id="customers.clear"),
        Binding("ctrl+r", "refresh", "Refresh", id="customers.refresh"),
    ]

    @dataclass
    class SearchDone(Message):
        request: int
        results: CustomerResults | None
        error: str | None

    def __init__(self, context: ConsoleContext) -> None:
        super().__init__()
        self.context = context
        self.results: CustomerResults | None = None
        self._request = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="organization, name, phone or email", id="customers-query")
        yield Static(Text(""), id="customers-summary")
        yield OptionList(id="customers-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#customers-list").loading = True
        self.search("", debounce=False)

    def search(self, text: str, *, debounce: bool = True) -> None:
        self._request += 1
        self._search(self._request, text, DEBOUNCE if debounce else 0.0)

    @work(thread=True, exclusive=True, group="customer-search", exit_on_error=False)
    def _search(self, request: int, text: str, wait: float) -> None:
        worker = get_current_worker()
        if wait:
            time.sleep(wait)  # a keystroke meanwhile cancels this worker
            if worker.is_cancelled:
                return
        try:
            found = views.find_customers(self.context.store, text)
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.SearchDone(request, None, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.SearchDone(request, found, None))

    def on_customers_screen_search_done(self, message: SearchDone) -> None:
        if message.request != self._request:
            return  # the answer to a query typed past
        rows = self.query_one("#customers-list", OptionList)
        rows.loading = False
        if message.results is None:
            self.notify(message.error or "", title="Customers", severity="error", markup=False)
            return
        self.results = message.results
        rows.set_options(Option(row_prompt(r), id=f"{r.kind}:{r.id}") for r in message.results.rows)
        rows.highlighted = 0 if message.results.rows else None
        self.query_one("#customers-summary", Static).update(results_summary(message.results))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.query_one("#customers-list").loading = False
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    def on_desk_changed(self, _message: DeskChanged) -> None:
        pass  # names and figures change seldom: ctrl+r reads them again

    def action_search(self) -> None:
        self.query_one("#customers-query", Input).focus()

    def action_results(self) -> None:
        self.query_one("#customers-list", OptionList).focus()

    def action_clear(self) -> None:
        field = self.query_one("#customers-query", Input)
        field.value = ""
        field.focus()

    def action_refresh(self) -> None:
        self.search(self.query_one("#customers-query", Input).value, debounce=False)

    @on(Input.Changed, "#customers-query")
    def _typed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#customers-query")
    def _submitted(self) -> None:
        rows = self.query_one("#customers-list", OptionList)
        if rows.highlighted is not None and rows.option_count:
            rows.action_select()

    @on(OptionList.OptionSelected, "#customers-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        kind, _, ident = (event.option.id or "").partition(":")
        if ident:
            self.app.push_screen(CustomerScreen(self.context, kind, int(ident)))


def customer_header(view: CustomerView) -> Text:
    """Name, facts, figures (and an organization's top requesters): plain strings only."""
    text = Text()
    text.append("Organization  " if view.kind == "org" else "Contact  ", style="dim")
    text.append(view.name, style="bold")
    text.append("\n")
    text.append(" · ".join(f"{label} {value}" for label, value in view.facts), style="dim")
    text.append("\n")
    f = view.figures
    text.append(f"{f.open} open", style="bold" if f.open else "")
    text.append(" · ")
    text.append(f"{f.breached} breached", style="bold red" if f.breached else "")
    text.append(f" · {f.total} tickets, {f.done} done")
    text.append(f" · avg first response {f.first_response}")
    text.append(f" · avg resolution {f.resolution}")
    if f.resolution_working != "—":
        text.append(f" ({f.resolution_working} working)")
    text.append(f" · last contact {f.last_contact}")
    if view.people:
        text.append("\nasks most: ", style="dim")
        text.append(", ".join(f"{name} ({n})" for name, n in view.people))
    return text


def ticket_prompt(ticket: views.CustomerTicket) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{ticket.key:<8} ", style="bold")
    text.append(f"{ticket.status:<9} {ticket.priority:<7} ", style="dim")
    text.append(ticket.subject)
    text.append(f"  {ticket.age}", style="dim")
    return text


class CustomerScreen(Screen[None]):
    """One organization or contact: facts, figures and tickets; enter opens a ticket."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#customer-tickets"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="customer.back"),
        Binding("ctrl+r", "refresh", "Refresh", id="customer.refresh"),
    ]

    @dataclass
    class Loaded(Message):
        view: CustomerView | None
        more: bool  # a next page, to add to the tickets shown
        error: str | None

    def __init__(self, context: ConsoleContext, kind: str, customer_id: int) -> None:
        super().__init__()
        self.context = context
        self.kind = kind
        self.customer_id = customer_id
        self.view: CustomerView | None = None
        self.tickets: list[views.CustomerTicket] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("…"), id="customer-header")
        yield OptionList(id="customer-tickets", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#customer-tickets").loading = True
        self._load(None)

    @work(thread=True, exclusive=True, group="customer", exit_on_error=False)
    def _load(self, after: Cursor | None) -> None:
        worker = get_current_worker()
        try:
            found = views.customer_view(
                self.context.store,
                self.kind,
                self.customer_id,
                now=self.context.now(),
                after=after,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.Loaded(None, after is not None, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(found, after is not None, None))

    def on_customer_screen_loaded(self, message: Loaded) -> None:
        tickets = self.query_one("#customer-tickets", OptionList)
        tickets.loading = False
        if message.view is None:
            self.notify(message.error or "", title="Customers", severity="error", markup=False)
            if self.view is None and self.is_current:
                self.dismiss()
            return
        self.view = message.view
        self.tickets = (
            [*self.tickets, *message.view.tickets] if message.more else [*message.view.tickets]
        )
        self.query_one("#customer-header", Static).update(customer_header(message.view))
        keep = tickets.highlighted if message.more else 0
        options = [Option(ticket_prompt(t), id=t.key) for t in self.tickets]
        if message.view.next is not None:
            options.append(Option(Text("more tickets…", style="italic"), id=MORE))
        if not options:
            options.append(Option(Text("no tickets", style="dim italic"), disabled=True))
        tickets.set_options(options)
        tickets.highlighted = keep if self.tickets else None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.query_one("#customer-tickets").loading = False
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    def action_refresh(self) -> None:
        self.tickets = []
        self._load(None)

    @on(OptionList.OptionSelected, "#customer-tickets")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == MORE:
            if self.view is not None and self.view.next is not None:
                self._load(self.view.next)
        elif event.option.id:
            self.app.push_screen(TicketScreen(self.context, event.option.id))

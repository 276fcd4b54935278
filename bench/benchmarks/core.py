"""Foundation benchmarks: CLI cold start, queue pages, opening a long ticket.

The queue and ticket benchmarks call the services the console's workers call
(`services.views.queue_page`, `services.views.ticket_detail` and the history tab's
`services.ticket_panel.ticket_history`), each in its own read transaction; `extra` gives how
many SQL statements one call sends (BEGIN and ROLLBACK aside), which does not depend on the
machine's load.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import Context, Measurement, Samples, benchmark, timed

if TYPE_CHECKING:  # the product is imported inside each benchmark, in its own process
    from tui_helpdesk.store.engine import Store

HELPDESK = str(Path(sys.executable).with_name("helpdesk"))
DEEP_ROWS = 50_000
PAGE = 50


def _process(command: list[str], ctx: Context) -> Samples:
    def run() -> None:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    return timed(run, ctx.repeat, warmup=0 if ctx.quick else 1)


def _import_reference(ctx: Context) -> Samples:
    return _process([sys.executable, "-c", "import sqlalchemy.orm, typer"], ctx)


REFERENCE = 'python -c "import sqlalchemy.orm, typer"'


@benchmark(
    "cli_create",
    "helpdesk ticket create, whole process",
    target="ratio < 1.3",
    reference=_import_reference,
    reference_what=REFERENCE,
)
def cli_create(ctx: Context) -> Samples:
    return _process(
        [
            HELPDESK,
            "--db",
            ctx.url,
            "--as",
            "agent1",
            "ticket",
            "create",
            "--subject",
            "Benchmark ticket",
            "--requester",
            "bench@bench.example",
            "--body",
            "Created by the benchmark.",
        ],
        ctx,
    )


@benchmark(
    "cli_list_json",
    "helpdesk ticket list --json, whole process",
    target="ratio < 1.3",
    reference=_import_reference,
    reference_what=REFERENCE,
)
def cli_list_json(ctx: Context) -> Samples:
    return _process([HELPDESK, "--db", ctx.url, "--as", "agent1", "ticket", "list", "--json"], ctx)


def _store(ctx: Context):  # type: ignore[no-untyped-def]
    from tui_helpdesk.store.engine import Store

    return Store(ctx.url)


LOGIN = "agent1"


def _desk_now(store: Store) -> datetime:
    """The desk's last creation time: the instant its open queue is seen at."""
    from sqlalchemy import func, select

    from tui_helpdesk.store.models import Ticket

    with store.read() as session:
        return session.scalar(select(func.max(Ticket.created_at))) or datetime.now(UTC)


def _statements(store: Store, fn: Callable[[], object]) -> int:
    """How many SQL statements one call of `fn` sends (BEGIN and ROLLBACK aside)."""
    from sqlalchemy import event

    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if not statement.startswith("BEGIN"):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return len(sent)


def _measured(store: Store, fn: Callable[[], object], ctx: Context) -> Measurement:
    samples = timed(fn, ctx.repeat)
    return Measurement(samples, extra={"statements": _statements(store, fn)})


@benchmark(
    "queue_first_page",
    f"queue: first page of {PAGE} (all open, by due time), as the console reads it",
    target="< 10 ms",
)
def queue_first_page(ctx: Context) -> Measurement:
    from tui_helpdesk.services.views import View, queue_page

    store = _store(ctx)
    now = _desk_now(store)

    def page() -> None:
        queue_page(store, LOGIN, View.ALL_OPEN, now=now, limit=PAGE)

    return _measured(store, page, ctx)


@benchmark(
    "queue_deep_page",
    f"queue: a page of {PAGE} up to {DEEP_ROWS:,} rows deep, as the console reads it",
    target="< 10 ms",
)
def queue_deep_page(ctx: Context) -> Measurement:
    from tui_helpdesk.services.queue import TicketFilter, count_tickets, list_rows
    from tui_helpdesk.services.views import View, queue_page

    store = _store(ctx)
    now = _desk_now(store)
    with store.read() as session:
        depth = min(DEEP_ROWS, max(0, count_tickets(session, TicketFilter()) - PAGE))
        cursor = None
        walked = 0
        while walked < depth:  # walk there once, 500 rows a step
            step = min(500, depth - walked)
            _, cursor = list_rows(session, TicketFilter(), limit=step, after=cursor)
            walked += step

    def page() -> None:
        queue_page(store, LOGIN, View.ALL_OPEN, now=now, after=cursor, limit=PAGE)

    return _measured(store, page, ctx)


@benchmark(
    "open_ticket_200",
    "open a ticket with 200 messages as the console does (header and thread, history tab)",
    target="< 20 ms",
)
def open_ticket_200(ctx: Context) -> Measurement:
    from tui_helpdesk.services.ticket_panel import ticket_history
    from tui_helpdesk.services.views import ticket_detail

    store = _store(ctx)
    now = _desk_now(store)

    def open_ticket() -> None:
        detail = ticket_detail(store, LOGIN, "1", now=now)
        ticket_history(store, LOGIN, "1")
        assert len(detail.messages) >= 200

    return _measured(store, open_ticket, ctx)

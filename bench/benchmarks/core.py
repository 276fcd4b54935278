"""Foundation benchmarks: CLI cold start, queue pages, opening a long ticket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.harness import Context, Samples, benchmark, timed

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


@benchmark(
    "queue_first_page", f"queue: first page of {PAGE} (all open, by due time)", target="< 10 ms"
)
def queue_first_page(ctx: Context) -> Samples:
    from tui_helpdesk.services.queue import TicketFilter, list_tickets

    store = _store(ctx)

    def page() -> None:
        with store.read() as session:
            list_tickets(session, TicketFilter(), limit=PAGE)

    return timed(page, ctx.repeat)


@benchmark(
    "queue_deep_page", f"queue: a page of {PAGE} up to {DEEP_ROWS:,} rows deep", target="< 10 ms"
)
def queue_deep_page(ctx: Context) -> Samples:
    from tui_helpdesk.services.queue import TicketFilter, count_tickets, list_tickets

    store = _store(ctx)
    with store.read() as session:
        depth = min(DEEP_ROWS, max(0, count_tickets(session, TicketFilter()) - PAGE))
        cursor = None
        walked = 0
        while walked < depth:  # walk there once, 500 rows a step
            step = min(500, depth - walked)
            result = list_tickets(session, TicketFilter(), limit=step, after=cursor)
            cursor = result.next_cursor
            walked += step

    def page() -> None:
        with store.read() as session:
            list_tickets(session, TicketFilter(), limit=PAGE, after=cursor)

    return timed(page, ctx.repeat)


@benchmark(
    "open_ticket_200", "open a ticket with 200 messages (ticket, thread, history)", target="< 20 ms"
)
def open_ticket_200(ctx: Context) -> Samples:
    from tui_helpdesk.services.tickets import get_ticket, ticket_events, ticket_messages

    store = _store(ctx)

    def open_ticket() -> None:
        with store.read() as session:
            ticket = get_ticket(session, 1)
            messages = ticket_messages(session, ticket)
            ticket_events(session, ticket)
            assert len(messages) >= 200

    return timed(open_ticket, ctx.repeat)

"""Benchmarks of the reports capability (registered in bench.harness).

- `report_<kind>`: `services.reports.build` of each dashboard kind over one year of the
  generated desk (the 366 local days ending at its latest ticket), rows by week (the
  dashboard's chart) for the kinds split by time, in one read transaction as the CLI and
  the console run it. Target: under 1 s each.
- `report_export_tickets_csv`: the full `tickets` export of that year to CSV (written to a
  sink that keeps nothing): rows per second and the worker's peak memory, which must stay
  flat whatever the size. Target: over 200,000 rows/s. Its reference is the same export
  through the typed rows and `write_csv` (the path before the CSV fast path), measured in
  the same run, so the ratio is the fast path's gain.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import Context, Measurement, Samples, benchmark, timed

YEAR = timedelta(days=366)


def _store(ctx: Context) -> Any:
    from tui_helpdesk.store.engine import Store

    return Store(ctx.url)


def _year_scope(session: Any, grouping: str) -> Any:
    from sqlalchemy import func, select

    from tui_helpdesk.services import reports
    from tui_helpdesk.store.models import Ticket

    last = session.scalar(select(func.max(Ticket.created_at))) or datetime.now(UTC)
    end = last.date()
    start = (last - YEAR + timedelta(days=1)).date()
    return reports.scope(
        session,
        last,
        start=start.isoformat(),
        end=end.isoformat(),
        grouping=grouping,
    )


def _kind_benchmark(kind: str) -> None:
    grouping = "week" if kind in ("volume", "response", "sla") else "day"

    @benchmark(
        f"report_{kind}",
        f"report {kind} over one year (services.reports.build)",
        target="< 1 s",
    )
    def run(ctx: Context) -> Samples:
        from tui_helpdesk.reports.model import Kind
        from tui_helpdesk.services import reports

        store = _store(ctx)
        try:

            def once() -> None:
                with store.read() as session:
                    reports.build(session, Kind(kind), _year_scope(session, grouping))

            return timed(once, ctx.repeat, warmup=0 if ctx.quick else 1)
        finally:
            store.dispose()


for _kind in (
    "summary",
    "volume",
    "response",
    "sla",
    "customers",
    "categories",
    "escalations",
    "agents",
    "csat",
):
    _kind_benchmark(_kind)


class _Sink(io.RawIOBase):
    """A binary stream that counts what it is given and keeps nothing."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


def _export_samples(ctx: Context, typed: bool) -> tuple[Samples, int, int]:
    """Full exports of the year to a sink: (samples, rows, bytes). `typed`: the typed rows
    through `write_csv` (the path before the CSV fast path), else `reports.export`."""
    from tui_helpdesk.reports.export import Format, write_csv
    from tui_helpdesk.reports.model import Kind
    from tui_helpdesk.reports.tickets import COLUMNS, SAFE_COLUMNS, ticket_rows
    from tui_helpdesk.services import reports

    store = _store(ctx)
    samples: Samples = []
    rows = size = 0
    try:
        # A warm-up (the first run compiles the query and reads the file in), then at least
        # three samples even when quick: a sample is short and the machine noisy.
        for run in range(1 + max(3, ctx.repeat // 4)):
            sink = _Sink()
            started = time.perf_counter()
            with store.read() as session:
                scope = _year_scope(session, "day")
                out: Any = sink
                if typed:
                    rows = write_csv(COLUMNS, ticket_rows(session, scope), out, safe=SAFE_COLUMNS)
                else:
                    rows = reports.export(session, Kind.TICKETS, scope, Format.CSV, out)
            if run:
                samples.append(time.perf_counter() - started)
            size = sink.size
    finally:
        store.dispose()
    return samples, rows, size


def _typed_export(ctx: Context) -> Samples:
    return _export_samples(ctx, typed=True)[0]


@benchmark(
    "report_export_tickets_csv",
    "report export tickets --format csv over one year (streamed)",
    target="> 200,000 rows/s, flat memory",
    reference=_typed_export,
    reference_what="typed rows through write_csv (before the CSV fast path)",
)
def export_tickets_csv(ctx: Context) -> Measurement:
    samples, rows, size = _export_samples(ctx, typed=False)
    best = min(samples)
    return Measurement(
        samples,
        extra={
            "rows": rows,
            "bytes": size,
            "rows_per_s": round(rows / best) if best else None,
        },
    )

"""`helpdesk report ...`: metrics for managers, exports and scheduled reports.

Thin glue over `services.reports`:
- `show KIND` prints the key figures and tables as Rich tables (`--json`: the report document
  with stable keys, ISO 8601 UTC timestamps);
- `export KIND --format csv|json|jsonl|xlsx|md [--out FILE|-]` streams the report's main table
  (for `tickets`: one row per ticket created in the period) to a file or stdout;
- `run NAME | --all-due [--now T]` renders report definitions (TOML files in the reports
  folder) and queues them in the outbox, once per period; `list` shows the definitions.
  `--all-due` is cron's: it says only what it queued or what failed (a period already sent
  is said only to `run NAME`), and a database it cannot reach is exit 75, as everywhere.

Periods: `--from` takes a phrase (today, yesterday, this-week, last-week, this-month,
last-month, this-year, last-year, last-30d, last-12w, last-3m) or a date, `--to` a date
(inclusive); days are the desk's local days.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError

from tui_helpdesk.config import user_config_dir
from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.reports.export import Format
from tui_helpdesk.reports.model import Figure, Kind, Report
from tui_helpdesk.reports.model import Table as ReportTable
from tui_helpdesk.reports.periods import Grouping, iso
from tui_helpdesk.reports.schedule import (
    Definition,
    DefinitionError,
    Unusable,
    find,
    load_each,
    load_folder,
)
from tui_helpdesk.reports.sql import ReportFilter
from tui_helpdesk.services import reports
from tui_helpdesk.text import short_duration

from .common import EX_SOME_FAILED, JsonFlag, instant, refuse_terminal, runtime
from .output import error, inert, print_json, say, show
from .plain import counted
from .runtime import CliError

app = typer.Typer(
    rich_markup_mode=None,
    help="Reports: show metrics, export them, run scheduled ones.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

REPORTS_DIR_ENV = "HELPDESK_REPORTS_DIR"

KindArg = Annotated[Kind, typer.Argument(metavar="KIND", help="; ".join(k.value for k in Kind))]
From = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="WHEN",
        help="A period (last-week, this-month, last-30d, ...) or a date. Default: last-30d.",
    ),
]
To = Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day (inclusive).")]
By = Annotated[
    Grouping,
    typer.Option(
        "--by",
        help="Rows by time bucket or by a ticket dimension (volume, response and sla; "
        "the other reports have rows of their own: agents by agent, ...).",
    ),
]
GroupOpt = Annotated[str | None, typer.Option("--group", "-g", metavar="NAME")]
AgentOpt = Annotated[
    str | None, typer.Option("--agent", metavar="LOGIN", help="An agent, or 'none'.")
]
CategoryOpt = Annotated[
    str | None, typer.Option("--category", metavar="PATH", help="Includes sub-categories.")
]
PriorityOpt = Annotated[Priority | None, typer.Option("--priority", "-p")]
ChannelOpt = Annotated[Channel | None, typer.Option("--channel")]
OrgOpt = Annotated[str | None, typer.Option("--org", metavar="NAME")]
SegmentOpt = Annotated[str | None, typer.Option("--segment", metavar="NAME")]
TopOpt = Annotated[int, typer.Option("--top", min=1, max=100, help="Rows of top-N tables.")]
Folder = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        metavar="FOLDER",
        envvar=REPORTS_DIR_ENV,
        help="Report definitions (default: $HELPDESK_REPORTS_DIR, else reports/ in the "
        "config dir).",
    ),
]


def _filter(
    group: str | None,
    agent: str | None,
    category: str | None,
    priority: Priority | None,
    channel: Channel | None,
    org: str | None,
    segment: str | None,
) -> ReportFilter:
    return ReportFilter(group, agent, category, priority, channel, org, segment)


# --- show -----------------------------------------------------------------------------------


def _shown(column: str, value: Any) -> Text:
    if value is None:
        return Text("-", style="dim")
    if column.endswith("_s") and isinstance(value, int | float):
        return Text(short_duration(timedelta(seconds=float(value))))
    if column.endswith("_pct") and isinstance(value, int | float):
        return Text(f"{value:.1f}%")
    if hasattr(value, "isoformat"):
        return Text(iso(value) or "")
    return inert(value)


_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def _figures_table(figures: list[Figure]) -> Table:
    """Figure, value and, when the report has a previous period's, previous and change."""
    compared = any(f.previous is not None for f in figures)
    columns = ("Figure", "Value", "Previous", "Change") if compared else ("Figure", "Value")
    table = Table(*columns, box=None, header_style="bold")
    for f in figures:
        good = (f.trend == f.better) if f.trend != "flat" else None
        style = "" if good is None else ("green" if good else "red")
        change = f.change_text()
        cells = [Text(f.label), Text(f.shown(f.value), style="bold")]
        if compared:
            cells += [
                Text(f.shown(f.previous) if f.previous is not None else ""),
                Text(
                    f"{_ARROWS[f.trend]} {change}".strip() if f.previous is not None else "", style
                ),
            ]
        table.add_row(*cells)
    return table


# Words for the column names' short forms, in headers only: --json and exports keep the names.
_HEADER_WORDS = {
    "frt": "1st reply",
    "fr": "1st reply",
    "rt": "resolution",
    "res": "resolution",
    "fcr": "first contact",
    "pct": "%",
}


def _header(column: str, key: str) -> str:
    """A column's header: "frt_median_working_s" -> "1st reply median working" (the cells
    are durations; "frt_median_s" -> "1st reply median wall"), "fr_compliance_pct" ->
    "1st reply compliance %"; the rows' key column is named by what it holds (`key`:
    "week", "group", ...)."""
    if column == "key":
        return key
    words = column.split("_")
    if len(words) > 1 and words[-1] == "s":
        words = words[:-1]
        if words[0] in ("frt", "rt") and "working" not in words:
            words.append("wall")  # beside the same figure in working time
    return " ".join(_HEADER_WORDS.get(word, word) for word in words)


CHUNK = 5  # value columns per printed table: wide reports are split, not squeezed


def _rich_tables(t: ReportTable, key: str) -> list[Table]:
    """A report table as Rich tables: the label column cut with an ellipsis, the value
    columns in chunks of CHUNK (with the label repeated), headers folded if they must;
    `key` names the rows' key column."""
    first, *rest = t.columns
    out = []
    for start in range(0, max(1, len(rest)), CHUNK):
        names = rest[start : start + CHUNK]
        title = t.name if start == 0 else f"{t.name} (continued)"
        table = Table(title=Text(title), box=None, header_style="bold", pad_edge=False)
        table.add_column(_header(first, key), no_wrap=True, max_width=28, overflow="ellipsis")
        for name in names:
            table.add_column(_header(name, key), overflow="fold", justify="right")
        for row in t.rows:
            cells = [row[0], *row[1 + start : 1 + start + CHUNK]]
            table.add_row(*(_shown(c, v) for c, v in zip([first, *names], cells, strict=True)))
        out.append(table)
    return out


def renderables(report: Report) -> list[RenderableType]:
    p = report.scope.period
    split = f", {report.rows_by}" if report.rows_by else ""
    head = Text(
        f"{report.kind.value}: {p.label} ({iso(p.start)} .. {iso(p.end)}, {p.zone}){split}",
        style="bold",
    )
    parts: list[RenderableType] = [head]
    if report.figures and report.kind is not Kind.SUMMARY:
        parts.append(_figures_table(report.figures))
    elif report.kind is Kind.SUMMARY:
        return [head, _figures_table(report.figures)]
    key = report.scope.grouping.value
    parts += [table for t in report.tables for table in _rich_tables(t, key)]
    return parts


@app.command("show")
def show_(
    ctx: typer.Context,
    kind: KindArg,
    start: From = None,
    end: To = None,
    by: By = Grouping.DAY,
    group: GroupOpt = None,
    agent: AgentOpt = None,
    category: CategoryOpt = None,
    priority: PriorityOpt = None,
    channel: ChannelOpt = None,
    org: OrgOpt = None,
    segment: SegmentOpt = None,
    top: TopOpt = 10,
    json_out: JsonFlag = False,
) -> None:
    """Print a report's key figures and tables.

    The key figures beside the previous period's, then the report's tables."""
    if kind is Kind.TICKETS:
        raise CliError("the tickets report is an export: `helpdesk report export tickets`", 2)
    rt = runtime(ctx)
    flt = _filter(group, agent, category, priority, channel, org, segment)
    with rt.store().read() as session:
        scope = reports.scope(
            session, rt.now, start=start, end=end, grouping=by, filter=flt, top=top
        )
        report = reports.build(session, kind, scope)
    if json_out:
        print_json(report.doc())
    else:
        show(Group(*renderables(report)))


# --- export ---------------------------------------------------------------------------------


@app.command("export")
def export(
    ctx: typer.Context,
    kind: KindArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="The file format.")] = Format.CSV,
    out: Annotated[
        str, typer.Option("--out", "-o", metavar="FILE", help="Where to write (- for stdout).")
    ] = "-",
    bom: Annotated[
        bool, typer.Option("--bom", help="CSV: start with a UTF-8 byte order mark (Excel).")
    ] = False,
    start: From = None,
    end: To = None,
    by: By = Grouping.DAY,
    group: GroupOpt = None,
    agent: AgentOpt = None,
    category: CategoryOpt = None,
    priority: PriorityOpt = None,
    channel: ChannelOpt = None,
    org: OrgOpt = None,
    segment: SegmentOpt = None,
    top: TopOpt = 10,
) -> None:
    """Write a report's rows to a file.

    For `tickets`: every ticket created in the period. Formats: CSV, JSON, JSON lines,
    XLSX, Markdown."""
    if fmt is Format.XLSX:
        refuse_terminal(
            out, "XLSX is a binary file: write it to a file (--out report.xlsx) or a pipe"
        )
    rt = runtime(ctx)
    flt = _filter(group, agent, category, priority, channel, org, segment)
    with rt.store().read() as session:
        scope = reports.scope(
            session, rt.now, start=start, end=end, grouping=by, filter=flt, top=top
        )
        if out == "-":
            stream: BinaryIO = sys.stdout.buffer
            reports.export(session, kind, scope, fmt, stream, bom=bom)
            stream.flush()
            return
    path = Path(out).expanduser()
    n = reports.export_to_file(rt.store(), kind, scope, fmt, path, bom=bom)
    sys.stderr.write(f"{counted(n, 'row')} written to {path}\n")


# --- scheduled reports ----------------------------------------------------------------------


def _folder(folder: Path | None) -> Path:
    return (folder or user_config_dir() / "reports").expanduser()


def _definition_doc(d: Definition) -> dict[str, Any]:
    return {
        "name": d.name,
        "kind": d.kind.value,
        "period": d.period,
        "grouping": d.grouping.value,
        "format": d.format.value,
        "recipients": list(d.recipients),
        "filters": d.filter.doc(),
    }


@app.command("list")
def list_(ctx: typer.Context, folder: Folder = None, json_out: JsonFlag = False) -> None:
    """List the report definitions and which are due.

    Due: the current period is still to be sent."""
    rt = runtime(ctx)
    try:
        definitions = load_folder(_folder(folder))
    except DefinitionError as exc:
        raise CliError(str(exc), 2) from None
    with rt.store().read() as session:
        due = {d.name for d in reports.due(session, definitions, rt.now)}
    docs = [{**_definition_doc(d), "due": d.name in due} for d in definitions]
    if json_out:
        print_json({"reports": docs})
        return
    if not docs:
        say(f"no report definitions in {_folder(folder)}")
        return
    table = Table("Name", "Kind", "Period", "Format", "Due", "Recipients", box=None)
    for doc in docs:
        table.add_row(
            inert(doc["name"]),
            Text(doc["kind"]),
            inert(doc["period"]),
            Text(doc["format"]),
            Text("yes" if doc["due"] else "no"),
            inert(", ".join(doc["recipients"])),
        )
    show(table)


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="A report definition.")
    ] = None,
    all_due: Annotated[
        bool, typer.Option("--all-due", help="Every definition whose period was not sent yet.")
    ] = False,
    now: Annotated[
        str | None,
        typer.Option("--now", metavar="ISO", help="Run as of this instant (default: now)."),
    ] = None,
    folder: Folder = None,
    json_out: JsonFlag = False,
) -> None:
    """Render report definitions and queue them as mail.

    A period is sent once (cron-safe). --all-due prints only what it queued; exit 3 when
    some failed (the others are sent)."""
    if (name is None) == (not all_due):
        raise CliError("give a report NAME or --all-due", 2)
    rt = runtime(ctx)
    at = instant(now, "--now") if now else rt.now
    where = _folder(folder)
    try:
        # --all-due: a broken file is one failure among the runs, not the end of them all.
        chosen = [find(where, name)] if name else load_each(where)
    except DefinitionError as exc:
        raise CliError(str(exc), 2) from None
    rt.reach_database()  # with nothing due, cron still hears of a database it cannot reach
    docs: list[dict[str, Any]] = []
    failed = 0
    stopped: CliError | None = None
    for definition in chosen:
        if isinstance(definition, Unusable):
            failed += 1
            error(str(definition.error))
            docs.append({"name": definition.name, "error": str(definition.error)})
            continue
        try:
            with rt.store().write() as session:
                outcome = reports.run_scheduled(session, definition, at)
        except OperationalError as exc:
            # The database is gone or refuses writes: every other report would fail the
            # same way. What was queued before stays queued, and is printed below.
            stopped = rt.database_error(exc)
            docs.append({"name": definition.name, "error": str(stopped)})
            break
        except Exception as exc:  # one bad definition must not stop the others
            failed += 1
            error(f"{definition.name}: {exc}")
            docs.append({"name": definition.name, "error": str(exc).splitlines()[0]})
            continue
        docs.append(
            {
                "name": outcome.name,
                "period": outcome.period.doc(),
                "sent": outcome.sent,
                "outbox_id": outcome.outbox_id,
                "rows": outcome.rows,
            }
        )
        if not json_out and (outcome.sent or name is not None):
            verb = "queued" if outcome.sent else "already sent"
            say(f"{outcome.name}  {outcome.period.label}  {verb}")
    if json_out:
        print_json({"runs": docs})
    if stopped is not None:
        raise stopped  # one line on stderr; exit 75 when the next run may get through
    if failed:
        raise typer.Exit(EX_SOME_FAILED)

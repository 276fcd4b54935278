"""The reports mode: a dashboard of the desk over a period.

Key figures with trend arrows against the previous period, the volume over time (a
sparkline and one bar per day, week or month), SLA compliance per group, top categories,
top customers and escalations by rule. `p` and `g` cycle the period (`P` back) and the
grouping; `r` reloads; `enter` on a bar posts `ReportsScreen.DrillDown` with the `Drill`
describing the tickets behind it (the App opens them as a queue view, where `escape` comes
back here; `services.reports.drill_tickets` lists them); `e` exports the focused chart's
report as CSV into `export_dir`.

Everything is loaded by `services.reports.dashboard` in a thread worker (exclusive group
"reports"); each load carries a request number and an older answer is dropped. Names from
the desk's data are drawn as plain text (see `widgets.charts`). The lead registers the mode
in app.py: `self.add_mode("reports", lambda: ReportsScreen(self.context))`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList, Sparkline
from textual.worker import Worker, WorkerState, get_current_worker

from tui_helpdesk.reports.export import Format
from tui_helpdesk.reports.model import Drill, Figure, Kind, rows_by
from tui_helpdesk.reports.model import Table as ReportTable
from tui_helpdesk.reports.periods import Grouping
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.services import reports
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.widgets.charts import Bar, BarList, FigureStrip, FigureView

# What `p` steps through (`P` back), shortest first: the phrases of `helpdesk report`.
PERIODS = (
    "today",
    "this-week",
    "last-week",
    "last-7d",
    "last-30d",
    "this-month",
    "last-month",
    "last-12w",
    "this-year",
)
GROUPINGS = (Grouping.DAY, Grouping.WEEK, Grouping.MONTH)  # the volume chart's; `g` cycles
SLA_GROUPING = Grouping.GROUP  # the SLA chart's, whatever `g` chose (`reports.dashboard`)
# The charts, by widget id: the report kind each stands for (what `e` exports).
CHARTS: dict[str, Kind] = {
    "volume": Kind.VOLUME,
    "sla": Kind.SLA,
    "categories": Kind.CATEGORIES,
    "customers": Kind.CUSTOMERS,
    "escalations": Kind.ESCALATIONS,
}
FIGURE_LABELS = {
    "created": "Created",
    "resolved": "Resolved",
    "reopened": "Reopened",
    "backlog": "Backlog",
    "frt_median_working_s": "1st reply",
    "rt_median_working_s": "Resolution",
    "fr_compliance_pct": "SLA reply",
    "res_compliance_pct": "SLA resol.",
    "escalated_share_pct": "Escalated",
    "csat_avg": "CSAT",
    "at_risk_now": "At risk",
    "overdue_now": "Overdue",
}


def figure_view(f: Figure) -> FigureView:
    has_trend = f.previous is not None and f.value is not None
    return FigureView(
        label=FIGURE_LABELS.get(f.name, f.name),
        value=f.shown(f.value, decimals=0),
        trend=f.trend if has_trend else "",
        change=f.change_text(decimals=0),
        good=None if not has_trend or f.trend == "flat" else f.trend == f.better,
    )


def bars_of(table: ReportTable, column: str, *, percent: bool = False) -> list[Bar]:
    """One bar per row of a report table: the first column as label, `column` as length."""
    i = table.columns.index(column)
    out = []
    for n, row in enumerate(table.rows):
        value = row[i]
        shown = "-" if value is None else (f"{value:.1f}%" if percent else f"{value:g}")
        out.append(Bar(str(row[0]), float(value or 0), shown, str(n)))
    return out


class ReportsScreen(Screen[None]):
    """The desk over a period, in figures and charts; enter drills into a bar's tickets."""

    CSS_PATH = Path(__file__).with_name("reports.tcss")
    AUTO_FOCUS = "#volume"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "next_period", "Period", id="reports.period"),
        Binding("P", "next_period(-1)", "Previous period", show=False, id="reports.period_back"),
        Binding("g", "next_grouping", "Grouping", id="reports.grouping"),
        Binding("e", "export", "Export", id="reports.export"),
        Binding("r", "refresh", "Refresh", id="reports.refresh"),
    ]

    @dataclass
    class Loaded(Message):
        request: int
        dashboard: reports.Dashboard

    @dataclass
    class LoadFailed(Message):
        request: int
        error: str

    @dataclass
    class Exported(Message):
        path: Path
        rows: int

    @dataclass
    class DrillDown(Message):
        """The agent asked for the tickets behind a bar: open them as a queue view."""

        drill: Drill
        title: str

    def __init__(
        self,
        context: ConsoleContext,
        *,
        period: str = "last-30d",
        grouping: Grouping = Grouping.DAY,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.period = period
        self.grouping = grouping
        self.export_dir = export_dir
        self.dashboard: reports.Dashboard | None = None
        self._request = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(Text(""), id="reports-bar")
        yield FigureStrip(id="figures")
        with VerticalScroll(id="reports-body"):
            yield Label(Text(self._volume_title()), classes="chart-title", id="volume-title")
            yield Sparkline([], summary_function=max, id="volume-spark")
            yield BarList(id="volume")
            sla_title = f"SLA compliance {rows_by(Kind.SLA, SLA_GROUPING)} (first reply)"
            yield Label(Text(sla_title), classes="chart-title")
            yield BarList(id="sla", maximum=100.0)
            yield Label(Text("Top categories"), classes="chart-title")
            yield BarList(id="categories")
            yield Label(Text("Top customers"), classes="chart-title")
            yield BarList(id="customers")
            escalations_title = f"Escalations {rows_by(Kind.ESCALATIONS, self.grouping)}"
            yield Label(Text(escalations_title), classes="chart-title")
            yield BarList(id="escalations", empty="no escalation in this period")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    # --- loading ---------------------------------------------------------------------

    def _volume_title(self) -> str:
        return f"Volume: tickets created {rows_by(Kind.VOLUME, self.grouping)}"

    def reload(self) -> None:
        self._request += 1
        self.query_one("#reports-body").loading = self.dashboard is None
        self.query_one("#volume-title", Label).update(Text(self._volume_title()))
        self._show_bar(loading=True)
        self._load(self._request, self.period, self.grouping)

    @work(thread=True, exclusive=True, group="reports", exit_on_error=False)
    def _load(self, request: int, period: str, grouping: Grouping) -> None:
        worker = get_current_worker()
        try:
            found = reports.dashboard(
                self.context.store,
                self.context.now(),
                period=period,
                grouping=grouping,
                zone=self.context.timezone,
            )
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(request, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(request, found))

    def on_reports_screen_loaded(self, message: Loaded) -> None:
        if message.request != self._request:
            return  # an answer for a period the agent has moved past
        self.dashboard = board = message.dashboard
        self.query_one("#reports-body").loading = False
        self._show_bar()
        self.query_one(FigureStrip).show_figures([figure_view(f) for f in board.figures])
        self.query_one("#volume-spark", Sparkline).data = [
            float(v) for v in board.volume.column("created")
        ] or [0.0]
        self._bars("volume", bars_of(board.volume, "created"))
        self._bars("sla", bars_of(board.sla, "fr_compliance_pct", percent=True))
        self._bars("categories", bars_of(board.categories, "tickets"))
        self._bars("customers", bars_of(board.customers, "tickets"))
        self._bars("escalations", bars_of(board.escalations, "escalations"))

    def _bars(self, chart: str, bars: list[Bar]) -> None:
        self.query_one(f"#{chart}", BarList).show_bars(bars)

    def on_reports_screen_load_failed(self, message: LoadFailed) -> None:
        if message.request != self._request:
            return
        self.query_one("#reports-body").loading = False
        self._show_bar()
        self.notify(message.error, title="Reports", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.query_one("#reports-body").loading = False
            self.notify(
                f"{event.worker.error}", title="Unexpected error", severity="error", markup=False
            )

    def _show_bar(self, *, loading: bool = False) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {self.period}", style="bold")  # the charts say how they are split
        if self.dashboard is not None and not loading:
            p = self.dashboard.scope.period
            text.append(f"  {p.local_dates()}", style="dim")
        if loading:
            text.append("  loading…", style="dim")
        self.query_one("#reports-bar", Label).update(text)

    # --- actions ---------------------------------------------------------------------

    def action_next_period(self, step: int = 1) -> None:
        at = PERIODS.index(self.period) if self.period in PERIODS else -step
        self.period = PERIODS[(at + step) % len(PERIODS)]
        self.reload()

    def action_next_grouping(self) -> None:
        self.grouping = GROUPINGS[(GROUPINGS.index(self.grouping) + 1) % len(GROUPINGS)]
        self.reload()

    def action_refresh(self) -> None:
        self.reload()

    def focused_chart(self) -> str:
        focused = self.focused
        if isinstance(focused, BarList) and focused.id in CHARTS:
            return focused.id
        return "volume"

    def action_export(self) -> None:
        if self.dashboard is None:
            return
        chart = self.focused_chart()
        kind = CHARTS[chart]
        scope = self.dashboard.scope
        if chart == "sla":
            scope = replace(scope, grouping=SLA_GROUPING)  # the chart is by group
        start = scope.period.first_day.isoformat()
        folder = self.export_dir or Path.cwd()
        self._export(kind, scope, folder / f"report-{kind.value}-{self.period}-{start}.csv")

    @work(thread=True, group="reports-export", exit_on_error=False)
    def _export(self, kind: Kind, scope: reports.Scope, path: Path) -> None:
        try:
            rows = reports.export_to_file(self.context.store, kind, scope, Format.CSV, path)
        except ServiceError as exc:
            self.post_message(self.LoadFailed(self._request, str(exc)))
            return
        self.post_message(self.Exported(path, rows))

    def on_reports_screen_exported(self, message: Exported) -> None:
        self.notify(f"{message.rows} rows written to {message.path}", title="Export", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "export":
            return self.dashboard is not None
        return True

    # --- drilling down -----------------------------------------------------------------

    @on(OptionList.OptionSelected)
    def _drill(self, event: OptionList.OptionSelected) -> None:
        chart = event.option_list.id
        if self.dashboard is None or chart not in CHARTS or event.option.id is None:
            return
        table: ReportTable = getattr(self.dashboard, chart)
        index = int(event.option.id)
        drill = table.drills[index] if index < len(table.drills) else None
        if drill is None:
            self.notify("no ticket list behind this bar", title="Reports", markup=False)
            return
        self.post_message(self.DrillDown(drill, f"{chart}: {table.rows[index][0]}"))

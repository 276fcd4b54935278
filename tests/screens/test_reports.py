"""The reports dashboard through Pilot, on SQLite and PostgreSQL, over the crafted history
(tests/reports/history.py): figures with trends, charts, period and grouping pickers, the
drill-down message and its tickets, export from a key."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Label, Sparkline

from tests.conftest import Desk
from tests.reports.history import NOW, History, craft
from tests.screens.conftest import SIZES, RecordingApp, settle
from tui_helpdesk.reports.periods import Grouping
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.reports import PERIODS, ReportsScreen, figure_view
from tui_helpdesk.services import reports
from tui_helpdesk.services.views import View
from tui_helpdesk.widgets.charts import BarList, FigureStrip, figures_text


class DrillApp(RecordingApp):
    """The App, keeping the drill-downs the reports screen asks for."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.drills: list[ReportsScreen.DrillDown] = []

    def on_reports_screen_drill_down(self, message: ReportsScreen.DrillDown) -> None:
        self.drills.append(message)


@pytest.fixture
def history(desk_store: Desk) -> History:
    return craft(desk_store)


def _app(desk: Desk) -> DrillApp:
    return DrillApp(desk.store, "bob", clock=lambda: NOW)


def labels(screen: ReportsScreen, chart: str) -> list[str]:
    return [b.label for b in screen.query_one(f"#{chart}", BarList).bars]


def titles(screen: ReportsScreen) -> list[str]:
    return [str(label.render()) for label in screen.query(".chart-title").results(Label)]


async def _open(app: DrillApp, pilot: object, tmp_path: Path | None = None) -> ReportsScreen:
    screen = ReportsScreen(app.context, export_dir=tmp_path)
    await app.push_screen(screen)
    await settle(pilot)  # type: ignore[arg-type]
    return screen


@pytest.mark.parametrize("size", SIZES)
async def test_dashboard_loads_in_a_worker(
    desk_store: Desk, history: History, size: tuple[int, int]
) -> None:
    app = _app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, pilot)
        board = screen.dashboard
        assert board is not None
        # last-30d at Friday 2026-10-30: the local days 2026-10-01..30, T1-T5 all inside.
        assert board.scope.period.label == "last-30d"
        figures = {f.name: (f.value, f.previous) for f in board.figures}
        assert figures["created"] == (5, 0)
        assert figures["at_risk_now"] == (1, None)
        strip_widget = screen.query_one(FigureStrip)
        strip = str(strip_widget.render())
        assert "Created 5" in strip and "At risk 1" in strip
        # Lines break between figures, never inside one, and fit the strip.
        lines = strip.splitlines()
        for f in board.figures:
            whole = figures_text([figure_view(f)]).plain
            assert any(whole in line for line in lines), (whole, lines)
        assert max(len(line) for line in lines) <= strip_widget.content_region.width
        volume = screen.query_one("#volume", BarList)
        assert len(volume.bars) == 30
        assert [b.value for b in volume.bars if b.value] == [1.0, 1.0, 1.0, 1.0, 1.0]
        assert max(screen.query_one("#volume-spark", Sparkline).data or []) == 1.0
        assert labels(screen, "categories") == ["Billing", "(none)", "Technical > Network"]
        assert labels(screen, "customers") == ["Acme", "(none)"]
        assert labels(screen, "escalations") == ["(manual)"]
        assert labels(screen, "sla")[:1] == ["L1"]
        bar = str(screen.query_one("#reports-bar", Label).render())
        assert "last-30d" in bar and "2026-10-01 .. 2026-10-30 (to date)" in bar
        # Each chart says how it is split (`g` splits the volume alone), the bar does not.
        assert " by " not in bar
        assert titles(screen) == [
            "Volume: tickets created by day",
            "SLA compliance by group (first reply)",
            "Top categories",
            "Top customers",
            "Escalations by rule",
        ]
        assert app.focused is volume


async def test_pickers_change_period_and_grouping(desk_store: Desk, history: History) -> None:
    app = _app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("g")
        await settle(pilot)
        assert screen.grouping is Grouping.WEEK
        assert titles(screen)[:2] == [
            "Volume: tickets created by week",
            "SLA compliance by group (first reply)",
        ]
        assert " by " not in str(screen.query_one("#reports-bar", Label).render())
        assert labels(screen, "volume") == [
            "2026-W40",
            "2026-W41",
            "2026-W42",
            "2026-W43",
            "2026-W44",
        ]
        assert [b.value for b in screen.query_one("#volume", BarList).bars] == [
            0,
            0,
            1,
            3,
            1,
        ]  # T5 on the 13th: W42
        await pilot.press("p")
        await settle(pilot)
        assert screen.period == "this-month"
        assert screen.dashboard is not None
        assert screen.dashboard.scope.period.label == "this-month"


async def test_the_period_key_steps_through_the_cli_phrases(
    desk_store: Desk, history: History
) -> None:
    app = _app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        seen = [screen.period]
        for _ in range(len(PERIODS)):
            await pilot.press("p")
            await settle(pilot)
            assert screen.dashboard is not None
            assert screen.dashboard.scope.period.label == screen.period
            seen.append(screen.period)
        assert seen == [
            "last-30d",
            "this-month",
            "last-month",
            "last-12w",
            "this-year",
            "today",
            "this-week",
            "last-week",
            "last-7d",
            "last-30d",
        ]
        await pilot.press("P")  # back
        await settle(pilot)
        assert screen.period == "last-7d"
        assert not [n for n in app.notices if n[0] == "error"]


async def test_escape_from_a_drill_down_goes_back_to_the_dashboard(
    desk_store: Desk, history: History
) -> None:
    app = RecordingApp(desk_store.store, "bob", clock=lambda: NOW, live=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        reports_screen = app.screen
        assert isinstance(reports_screen, ReportsScreen)
        await pilot.press("p")  # this-month: the dashboard comes back as it was left
        await settle(pilot)
        reports_screen.query_one("#categories", BarList).focus()
        await pilot.press("enter")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and queue.drill is not None
        assert queue.view == queue.drill
        footer = {str(getattr(k, "description", "")) for k in queue.query("FooterKey")}
        assert "Reports" in footer
        # A filter is cleared first, then escape goes back.
        await pilot.press("slash", *"printer", "enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is queue and queue.filter_text == "" and queue.drill is not None
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "reports" and app.screen is reports_screen
        assert reports_screen.period == "this-month"
        assert queue.drill is None and queue.view == View.MY_OPEN
        await pilot.press("f1")  # the queue, as it was before the drill
        await settle(pilot)
        assert app.screen is queue and queue.view == View.MY_OPEN
        await pilot.press("escape")  # nothing to go back to: escape does nothing
        await settle(pilot)
        assert app.screen is queue and app.current_mode == "queue"


async def test_enter_on_a_bar_drills_down(desk_store: Desk, history: History) -> None:
    app = _app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        screen.query_one("#categories", BarList).focus()
        await pilot.press("enter")  # the first bar: Billing
        await settle(pilot)
        (message,) = app.drills
        assert message.title == "categories: Billing"
        assert message.drill.category == "Billing"
        assert message.drill.doc()["start"] == "2026-09-30T22:00:00Z"
        with desk_store.store.read() as s:
            page, _ = reports.drill_tickets(s, message.drill)
            assert sorted(t.key for t in page) == sorted([history.t1, history.t2, history.t5])
        screen.query_one("#escalations", BarList).focus()
        await pilot.press("enter")  # escalations have no ticket list behind them
        await settle(pilot)
        assert len(app.drills) == 1
        assert ("information", "no ticket list behind this bar") in app.notices


async def test_export_from_a_key(desk_store: Desk, history: History, tmp_path: Path) -> None:
    app = _app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, tmp_path)
        screen.query_one("#customers", BarList).focus()
        await pilot.press("e")
        await settle(pilot)
        (path,) = tmp_path.glob("report-customers-*.csv")
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [(r["organization"], r["tickets"]) for r in rows] == [("Acme", "4"), ("(none)", "1")]
        assert any("2 rows written" in text for _, text in app.notices)

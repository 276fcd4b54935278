"""The reporting service over the crafted history (tests/reports/history.py), on both back
ends. Every expected number is worked out by hand in the history's docstring."""

from __future__ import annotations

import pytest

from tests.conftest import Desk
from tests.reports.history import (
    FORMULA,
    FROM,
    NOW,
    PERIOD_END,
    PERIOD_START,
    TO,
    History,
    at,
    craft,
)
from tui_helpdesk.reports.model import Drill, Kind, Report
from tui_helpdesk.reports.periods import Grouping
from tui_helpdesk.reports.sql import ReportFilter
from tui_helpdesk.services import escalation, reports, tickets
from tui_helpdesk.services.errors import ValidationError


@pytest.fixture
def history(desk_store: Desk) -> History:
    return craft(desk_store)


def build(
    d: Desk, kind: Kind, grouping: Grouping = Grouping.WEEK, flt: ReportFilter | None = None
) -> Report:
    with d.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO, grouping=grouping, filter=flt)
        return reports.build(s, kind, scope)


def rows(report: Report, table: str | None = None) -> dict[str, list[object]]:
    t = report.table(table) if table else report.main
    return {str(r[0]): r[1:] for r in t.rows}


def test_the_period_is_the_desks_local_days(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.VOLUME)
    assert report.scope.period.start == PERIOD_START
    assert report.scope.period.end == PERIOD_END
    assert [b.label for b in report.buckets] == ["2026-W43", "2026-W44"]
    # The DST week is 169 hours long: 2026-10-18T22:00Z to 2026-10-25T23:00Z.
    assert (report.buckets[0].end - report.buckets[0].start).total_seconds() == 169 * 3600


def test_volume_by_week(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.VOLUME)
    #                      created resolved closed reopened
    # T1's survey answer (a 4) confirmed its resolution: it closed on Sat 24.
    assert rows(report) == {"2026-W43": [3, 2, 1, 1], "2026-W44": [1, 1, 0, 0]}
    figures = {f.name: f.value for f in report.figures}
    assert figures == {"created": 4, "resolved": 3, "closed": 1, "reopened": 1, "backlog": 2}
    assert rows(report, "channels") == {"email": [4, 100.0]}


def test_volume_by_organization_and_filter(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.VOLUME, Grouping.ORGANIZATION)
    assert rows(report) == {"Acme": [3, 2, 1, 1], "(none)": [1, 1, 0, 0]}
    # T3 was escalated to L2: the current group counts.
    l1 = build(desk_store, Kind.VOLUME, Grouping.WEEK, ReportFilter(group="L1"))
    assert rows(l1) == {"2026-W43": [2, 1, 1, 0], "2026-W44": [1, 1, 0, 0]}


def test_response_times_by_segment(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.RESPONSE, Grouping.SEGMENT)
    # premium (Acme): T1 and T3; (none): T2. Working first response 5400 and 14400: median
    # 9900, p90 5400 + 0.9 * 9000; T3's resolution working time is left out (reopened).
    assert rows(report) == {
        "premium": [
            2, 9900.0, 13500.0, 9900.0, 9900.0, 13500.0, 9900.0,
            2, 50400.0, 50400.0, 50400.0, 183600.0, 244080.0, 183600.0,
        ],
        "(none)": [
            1, 10800.0, 10800.0, 10800.0, 331200.0, 331200.0, 331200.0,
            1, 21600.0, 21600.0, 21600.0, 428400.0, 428400.0, 428400.0,
        ],
    }  # fmt: skip


def test_response_times_overall(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.RESPONSE, Grouping.CHANNEL)
    got = dict(zip(report.main.columns, report.main.rows[0], strict=True))
    assert got["key"] == "email"
    # First responses: working 5400, 10800, 14400; wall 5400, 14400, 331200.
    assert got["first_responses"] == 3
    assert got["frt_median_working_s"] == 10800.0
    assert got["frt_p90_working_s"] == 13680.0  # 10800 + 0.8 * 3600
    assert got["frt_mean_working_s"] == 10200.0
    assert got["frt_median_s"] == 14400.0
    assert got["frt_p90_s"] == 267840.0  # 14400 + 0.8 * 316800
    assert got["frt_mean_s"] == 117000.0
    # Resolutions: working 21600, 50400 (T3 reopened: left out); wall 108000, 259200, 428400.
    assert got["resolutions"] == 3
    assert got["rt_median_working_s"] == 36000.0
    assert got["rt_p90_working_s"] == 47520.0  # 21600 + 0.9 * 28800
    assert got["rt_mean_working_s"] == 36000.0
    assert got["rt_median_s"] == 259200.0
    assert got["rt_p90_s"] == 394560.0  # 259200 + 0.8 * 169200
    assert got["rt_mean_s"] == 265200.0
    medians = {f.name: f.value for f in report.figures}
    assert medians == {"frt_median_working_s": 10800.0, "rt_median_working_s": 36000.0}


def test_sla_compliance_and_risk(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.SLA)
    #                fr: measured in_time breached pct; res: measured in_time breached pct
    assert rows(report) == {
        "2026-W43": [2, 1, 1, 50.0, 2, 2, 0, 100.0],
        "2026-W44": [1, 1, 0, 100.0, 1, 1, 0, 100.0],
    }
    figures = {f.name: f.value for f in report.figures}
    assert figures == {
        "fr_compliance_pct": 66.7,
        "res_compliance_pct": 100.0,
        "breaches": 1,
        "overdue_now": 1,  # T5
        "at_risk_now": 1,  # T4, due in 30 minutes
    }


def test_customers(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.CUSTOMERS)
    # tickets, open now, fr compliance, res compliance
    assert rows(report) == {"Acme": [3, 2, 50.0, 100.0], "(none)": [1, 0, 100.0, 100.0]}
    requesters = report.table("requesters")
    assert [(r[1], r[2], r[3]) for r in requesters.rows] == [
        ("anna@acme.example", "Acme", 3),
        ("zed@globex.example", None, 1),
    ]


def test_categories_and_tags_against_the_previous_period(
    desk_store: Desk, history: History
) -> None:
    report = build(desk_store, Kind.CATEGORIES)
    assert rows(report) == {
        "Billing": [2, 1, 100.0],
        "(none)": [1, 0, None],
        "Technical > Network": [1, 0, None],
    }
    assert rows(report, "tags") == {"vpn": [2, 0, None], "outage": [1, 0, None]}
    assert report.main.drills[0] == Drill(start=PERIOD_START, end=PERIOD_END, category="Billing")


def test_escalations(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.ESCALATIONS)
    assert rows(report) == {"(manual)": [1, 1, 10800.0]}
    assert rows(report, "levels") == {"1": [1, 1, 10800.0]}
    assert rows(report, "groups") == {"L2": [1, 1, 10800.0]}
    figures = {f.name: f.value for f in report.figures}
    assert figures == {"escalations": 1, "escalated_share_pct": 25.0}


def test_agents(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.AGENTS)
    # handled, first contact, fcr %, median working first response, open now
    assert rows(report) == {"bob": [2, 1, 50.0, 8100.0, 1]}


def test_csat(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.CSAT)
    assert rows(report) == {
        "5": [0, 0.0],
        "4": [1, 50.0],
        "3": [0, 0.0],
        "2": [1, 50.0],
        "1": [0, 0.0],
    }
    figures = {f.name: f.value for f in report.figures}
    assert figures == {
        "csat_avg": 3.0,
        "csat_responses": 2,
        "surveys_sent": 3,
        "csat_response_rate_pct": 66.7,
    }
    assert rows(report, "comments") == {
        history.t1: [4, report.table("comments").rows[0][2], FORMULA]
    }


def test_summary_compares_with_the_previous_period(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.SUMMARY)
    got = {f.name: (f.value, f.previous) for f in report.figures}
    assert got["created"] == (4, 1)
    assert got["backlog"] == (2, 1)
    assert got["resolved"] == (3, 0)
    assert got["fr_compliance_pct"] == (66.7, None)
    assert got["escalated_share_pct"] == (25.0, 0.0)
    assert got["csat_avg"] == (3.0, None)
    assert got["at_risk_now"] == (1, None)
    assert report.figure("created").change == 300.0
    assert report.figure("created").trend == "up"
    # A share's change is told in points, any other figure's relative to the previous one.
    assert report.figure("escalated_share_pct").points == 25.0
    assert report.figure("escalated_share_pct").change_text() == "+25.0pp"
    assert report.figure("created").change_text() == "+300.0%"
    assert report.figure("fr_compliance_pct").change_text() == ""  # nothing to compare with


def test_drill_down_lists_the_tickets_behind_a_row(desk_store: Desk, history: History) -> None:
    report = build(desk_store, Kind.VOLUME)
    drill = report.main.drills[0]
    assert drill is not None
    assert drill.doc() == {
        "time_field": "created_at",
        "start": "2026-10-18T22:00:00Z",
        "end": "2026-10-25T23:00:00Z",
    }
    with desk_store.store.read() as s:
        page, more = reports.drill_tickets(s, drill)
        assert sorted(t.key for t in page) == sorted([history.t1, history.t2, history.t3])
        assert more is None
        by_org = build(desk_store, Kind.VOLUME, Grouping.ORGANIZATION).main.drills[0]
        assert by_org is not None and by_org.organization == "Acme"
        page, _ = reports.drill_tickets(s, by_org)
        assert sorted(t.key for t in page) == sorted([history.t1, history.t3, history.t4])
        first, after = reports.drill_tickets(s, by_org, limit=2)
        assert len(first) == 2 and after is not None
        rest, _ = reports.drill_tickets(s, by_org, limit=2, after_id=after)
        assert len(rest) == 1


def test_bad_periods_are_validation_errors(desk_store: Desk) -> None:
    with desk_store.store.read() as s:
        with pytest.raises(ValidationError, match="neither a date"):
            reports.scope(s, NOW, start="fortnight")
        with pytest.raises(ValidationError, match="before --from"):
            reports.scope(s, NOW, start="2026-10-30", end="2026-10-01")
        with pytest.raises(ValidationError, match="coarser grouping"):
            reports.scope(s, NOW, start="2020-01-01", end="2026-01-01", grouping="day")
        with pytest.raises(ValidationError, match="unknown grouping"):
            reports.scope(s, NOW, grouping="hour")


def test_a_recorded_breach_counts_before_the_late_answer(
    desk_store: Desk, history: History
) -> None:
    """T5 was never answered: once cron records its breaches, the first response (due Tue 13
    12:00Z) and the resolution (due Thu 15 08:00Z) count as breaches of the previous period,
    the one their deadlines passed in, while they run on. Answered late on Fri 30, the first
    response counts at the answer, in the report's period, and leaves the earlier one."""
    previous = {"start": "2026-10-07", "end": "2026-10-18"}

    def sla(**period: str) -> tuple[dict[str, list[object]], dict[str, object]]:
        with desk_store.store.read() as s:
            start, end = period.get("start", FROM), period.get("end", TO)
            scope = reports.scope(s, NOW, start=start, end=end, grouping=Grouping.WEEK)
            report = reports.build(s, Kind.SLA, scope)
            return rows(report), {f.name: f.value for f in report.figures}

    def drilled(row: str, **period: str) -> list[str]:
        """The tickets the console lists behind the SLA table's row."""
        with desk_store.store.read() as s:
            start, end = period.get("start", FROM), period.get("end", TO)
            scope = reports.scope(s, NOW, start=start, end=end, grouping=Grouping.WEEK)
            table = reports.build(s, Kind.SLA, scope).main
            drill = table.drills[[r[0] for r in table.rows].index(row)]
            assert drill is not None
            return sorted(t.key for t in reports.drill_tickets(s, drill)[0])

    def customers(**period: str) -> dict[str, list[object]]:
        with desk_store.store.read() as s:
            scope = reports.scope(s, NOW, start=period["start"], end=period["end"])
            return rows(reports.build(s, Kind.CUSTOMERS, scope))

    assert sla(**previous)[1]["breaches"] == 0  # nothing recorded yet: overdue, not counted
    run = escalation.run_escalations(desk_store.store, at(30, 11))
    assert run.breaches == 2
    table, figures = sla(**previous)
    #                          fr: measured in_time breached pct; res: the same
    assert table == {
        "2026-W41": [0, 0, 0, None, 0, 0, 0, None],
        "2026-W42": [1, 0, 1, 0.0, 1, 0, 1, 0.0],
    }
    assert (figures["breaches"], figures["fr_compliance_pct"]) == (2, 0.0)
    # The breaches' row lists T5, though neither clock is met yet.
    assert drilled("2026-W42", **previous) == [history.t5]
    assert drilled("2026-W41", **previous) == []
    # The report's period: the tickets whose clocks were met in each week.
    assert drilled("2026-W43") == sorted([history.t1, history.t3])
    assert drilled("2026-W44") == [history.t2]
    assert customers(**previous) == {"Acme": [1, 1, 0.0, 0.0]}
    with desk_store.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO)
        summary = {
            f.name: (f.value, f.previous) for f in reports.build(s, Kind.SUMMARY, scope).figures
        }
    assert summary["fr_compliance_pct"] == (66.7, 0.0)
    assert summary["res_compliance_pct"] == (100.0, 0.0)
    # The report's own period is as the hand-computed tests have it.
    assert sla()[0] == {
        "2026-W43": [2, 1, 1, 50.0, 2, 2, 0, 100.0],
        "2026-W44": [1, 1, 0, 100.0, 1, 1, 0, 100.0],
    }

    with desk_store.store.write() as s:
        tickets.reply(s, desk_store.agent, at(30, 11, 15), history.t5, "Sorry for the wait.")
    table, figures = sla(**previous)
    assert table["2026-W42"] == [0, 0, 0, None, 1, 0, 1, 0.0]  # the resolution runs on
    assert sla()[0]["2026-W44"] == [2, 1, 1, 50.0, 1, 1, 0, 100.0]
    # T5 is listed under both: answered in W44, its resolution still breached since W42.
    assert drilled("2026-W44") == sorted([history.t2, history.t5])
    assert drilled("2026-W42", **previous) == [history.t5]

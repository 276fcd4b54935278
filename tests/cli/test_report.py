"""`helpdesk report show|export|list|run` over the crafted history, on both back ends."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.cli.conftest import Run, ok, one_line_error
from tests.conftest import Desk
from tests.reports.history import FROM, NOW, T4_SUBJECT, TO, History, craft
from tui_helpdesk.reports.schedule import Definition
from tui_helpdesk.services import reports
from tui_helpdesk.store.models import Outbox, ReportRun

PERIOD = ("--from", FROM, "--to", TO)


@pytest.fixture
def history(desk_store: Desk) -> History:
    return craft(desk_store)


def test_show_json_is_the_report_document(hd: Run, history: History) -> None:
    # The CLI's clock is real; an explicit period makes the numbers independent of it.
    doc = ok(hd("report", "show", "volume", *PERIOD, "--by", "week", "--json")).json()
    assert doc["period"] == {
        "label": f"{FROM}..{TO}",
        "start": "2026-10-18T22:00:00Z",
        "end": "2026-10-30T23:00:00Z",
    }
    assert doc["tables"]["volume"] == [
        {"key": "2026-W43", "created": 3, "resolved": 2, "closed": 1, "reopened": 1},
        {"key": "2026-W44", "created": 1, "resolved": 1, "closed": 0, "reopened": 0},
    ]
    figures = {f["name"]: f["value"] for f in doc["figures"]}
    assert figures["backlog"] == 2


@pytest.mark.parametrize(
    ("kind", "by", "rows_by"),
    [
        ("volume", "week", "week"),
        ("sla", "agent", "agent"),
        ("agents", "day", "agent"),  # an agents report's rows are agents, whatever was asked
        ("customers", "day", "organization"),
        ("categories", "week", "category"),
        ("summary", "day", None),  # figures only
    ],
)
def test_show_json_says_what_its_rows_stand_for(
    hd: Run, history: History, kind: str, by: str, rows_by: str | None
) -> None:
    """`grouping` is what was asked (kept for scripts that read it); `rows_by` is what a row
    of the report stands for, as the headings say it ("by agent")."""
    doc = ok(hd("report", "show", kind, *PERIOD, "--by", by, "--json")).json()
    assert (doc["grouping"], doc["rows_by"]) == (by, rows_by)


def test_show_prints_tables(hd: Run, history: History) -> None:
    out = ok(hd("report", "show", "sla", *PERIOD, "--by", "week")).stdout
    assert "first responses in time" in out  # figures in words; --json keeps the keys
    assert "66.7%" in out
    assert "2026-W43" in out
    # Headers in words (--json keeps the names); no previous period, no empty columns.
    assert "1st reply compliance %" in out and "fr_compliance_pct" not in out
    assert "week" in out.split("2026-W43")[0].splitlines()[-1]  # the key column's header
    assert "Previous" not in out
    wide = {"COLUMNS": "200"}  # headers whole, not folded
    response = ok(hd("report", "show", "response", *PERIOD, "--by", "week", env=wide)).stdout
    assert "1st reply median working" in response and "1st reply median wall" in response
    summary = ok(hd("report", "show", "summary", *PERIOD)).stdout
    assert "created" in summary and "↑" in summary


@pytest.mark.parametrize(
    ("args", "split"),
    [
        (("volume", "--by", "category"), ", by category"),
        (("response", "--by", "agent"), ", by agent"),
        (("sla", "--by", "week"), ", by week"),
        (("agents",), ", by agent"),  # its own rows, not the default --by day
        (("agents", "--by", "category"), ", by agent"),
        (("categories", "--by", "week"), ", by category"),
        (("customers",), ", by organization"),
        (("escalations",), ", by rule"),
        (("csat",), ", by score"),
        (("summary",), ""),  # key figures only
    ],
)
def test_show_heading_names_how_rows_are_split(
    hd: Run, history: History, args: tuple[str, ...], split: str
) -> None:
    """The first line names the grouping the rows really have: the asked one for the
    reports split by it, each other report's own (never the unused default "by day")."""
    heading = ok(hd("report", "show", *args, *PERIOD, env={"COLUMNS": "200"})).stdout
    first = heading.splitlines()[0]
    assert first.startswith(f"{args[0]}: {FROM}..{TO} (")
    assert first.endswith(f"Europe/Rome){split}"), first


def test_show_filters(hd: Run, history: History) -> None:
    doc = ok(hd("report", "show", "volume", *PERIOD, "--by", "week", "--group", "L1", "--json"))
    assert [r["created"] for r in doc.json()["tables"]["volume"]] == [2, 1]
    assert doc.json()["filters"] == {"group": "L1"}


def test_export_tickets_csv_round_trips(hd: Run, history: History, tmp_path: Path) -> None:
    target = tmp_path / "tickets.csv"
    result = ok(hd("report", "export", "tickets", *PERIOD, "--format", "csv", "--out", target))
    assert "4 rows written" in result.stderr
    raw = target.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert [r["ticket"] for r in rows] == [history.t3, history.t1, history.t2, history.t4]
    t1 = rows[1]
    assert t1["created_at"] == "2026-10-22T08:00:00Z"
    assert t1["first_response_at"] == "2026-10-22T09:30:00Z"
    assert t1["frt_s"] == "5400.0"
    assert t1["frt_working_s"] == "5400"
    assert t1["rt_working_s"] == "50400"
    assert t1["fr_breached"] == "false"
    assert rows[0]["fr_breached"] == "true"  # T3
    assert rows[0]["rt_working_s"] == ""  # reopened: the ledger holds the last cycle only
    assert rows[0]["reopened"] == "1"
    assert rows[2]["rt_working_s"] == "21600"  # T2, with its pause
    assert rows[3]["subject"] == "'" + T4_SUBJECT  # neutralised for spreadsheets


def test_export_csv_bom_and_formula_neutralised(hd: Run, history: History) -> None:
    result = ok(hd("report", "export", "csat", *PERIOD, "--format", "csv", "--bom"))
    assert result.stdout.startswith("\ufeff")
    comments = ok(hd("report", "export", "tickets", *PERIOD, "--format", "jsonl"))
    docs = [json.loads(line) for line in comments.stdout.splitlines()]
    assert len(docs) == 4 and docs[0]["ticket"] == history.t3
    assert docs[3]["subject"] == T4_SUBJECT  # JSON is data: as written


def test_export_xlsx_round_trips(hd: Run, history: History, tmp_path: Path) -> None:
    target = tmp_path / "tickets.xlsx"
    ok(hd("report", "export", "tickets", *PERIOD, "--format", "xlsx", "--out", target))
    sheet = load_workbook(target, read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, *body = rows
    assert header[0] == "ticket" and len(body) == 4
    assert body[1][header.index("frt_working_s")] == 5400
    assert body[1][header.index("fr_breached")] is False
    assert body[1][header.index("created_at")] == datetime(2026, 10, 22, 8, 0)  # UTC
    assert body[3][header.index("subject")] == T4_SUBJECT  # a text cell, never a formula


def test_summary_exports_give_a_share_its_change_in_points(
    hd: Run, history: History, tmp_path: Path
) -> None:
    """The screen and `report show` give a share's change in points ("-5.6pp"): the CSV and
    XLSX exports carry it too (`change_points`, as in --json), beside the relative change."""
    period = ("--from", "2026-10-22", "--to", TO)  # shares moved since the 9 days before
    figures = ok(hd("report", "show", "summary", *period, "--json")).json()["figures"]
    points = {f["name"]: f["change_points"] for f in figures}
    share = next(name for name, value in points.items() if value not in (None, 0))
    shown = ok(hd("report", "show", "summary", *period)).stdout
    assert f"{points[share]:+.1f}pp" in shown
    rows = list(csv.DictReader(io.StringIO(ok(hd("report", "export", "summary", *period)).stdout)))
    assert list(rows[0]) == [
        "metric", "value", "previous", "change_pct", "change_points", "trend", "unit"
    ]  # fmt: skip
    by_name = {row["metric"]: row for row in rows}
    assert float(by_name[share]["change_points"]) == points[share]
    assert by_name["created"]["change_points"] == ""  # a count changes relatively only
    target = tmp_path / "summary.xlsx"
    ok(hd("report", "export", "summary", *period, "--format", "xlsx", "--out", target))
    sheet = load_workbook(target, read_only=True).active
    assert sheet is not None
    header, *body = list(sheet.iter_rows(values_only=True))
    cells = {row[0]: row[header.index("change_points")] for row in body}
    assert cells[share] == points[share]


def test_export_md_and_json(hd: Run, history: History) -> None:
    md = ok(hd("report", "export", "categories", *PERIOD, "--format", "md")).stdout
    assert md.splitlines()[0] == "| category | tickets | previous | change_pct |"
    assert "| Billing | 2 | 1 | 100.0 |" in md
    doc = json.loads(ok(hd("report", "export", "agents", *PERIOD, "--format", "json")).stdout)
    assert doc == [
        {
            "agent": "bob",
            "handled": 2,
            "first_contact": 1,
            "fcr_pct": 50.0,
            "frt_median_working_s": 8100.0,
            "open": 1,
        }
    ]


def test_bad_input_is_one_line(hd: Run, desk_store: Desk) -> None:
    assert "neither a date" in one_line_error(hd("report", "show", "sla", "--from", "soon"), 2)
    assert "export" in one_line_error(hd("report", "show", "tickets"), 2)
    assert "NAME or --all-due" in one_line_error(hd("report", "run"), 2)


def _definition(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")


def test_scheduled_report_is_sent_once_per_period(
    hd: Run, history: History, desk_store: Desk, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    _definition(
        folder,
        "weekly-sla",
        'kind = "sla"\nperiod = "last-week"\ngrouping = "day"\nformat = "csv"\n'
        'recipients = ["Lead@Desk.example"]\n',
    )
    _definition(
        folder,
        "weekly-tickets",
        'kind = "tickets"\nperiod = "last-week"\nformat = "xlsx"\nrecipients = ["a@b.example"]\n',
    )
    now = NOW.isoformat()  # Friday 2026-10-30: last week is 2026-10-19..25
    first = ok(hd("report", "run", "--all-due", "--dir", folder, "--now", now, "--json")).json()
    assert [(r["name"], r["sent"]) for r in first["runs"]] == [
        ("weekly-sla", True),
        ("weekly-tickets", True),
    ]
    assert first["runs"][1]["rows"] == 3  # T3, T1, T2 created that week
    again = ok(hd("report", "run", "weekly-sla", "--dir", folder, "--now", now, "--json")).json()
    assert again["runs"][0]["sent"] is False
    listed = ok(hd("report", "list", "--dir", folder, "--json")).json()
    assert {r["name"] for r in listed["reports"]} == {"weekly-sla", "weekly-tickets"}
    with desk_store.store.read() as s:
        from sqlalchemy import select

        mails = list(s.scalars(select(Outbox).where(Outbox.kind == "report").order_by(Outbox.id)))
        assert len(mails) == 2
        mail = mails[0]
        assert mail.ticket_id is None and mail.to_addrs == ["lead@desk.example"]
        # For people: the figures' labels, durations and shares written out, no keys.
        assert "fr_compliance_pct" not in mail.body
        assert mail.body.startswith("Report: weekly-sla (sla, by day)\n")
        assert mails[1].body.startswith("Report: weekly-tickets (tickets, one row per ticket)\n")
        assert re.search(r"^  first responses in time: (-|\d+\.\d%)", mail.body, re.M)
        assert re.search(r"^  first response, median working time: (-|\d+[mhdw])", mail.body, re.M)
        (attachment,) = mail.attachments
        assert attachment.filename == "weekly-sla-20261019.csv"
        assert attachment.content_type == "text/csv"
        days = list(csv.DictReader(io.StringIO(attachment.content.decode())))
        assert [d["key"] for d in days][:2] == ["2026-10-19", "2026-10-20"]
        assert len(days) == 7
        runs = list(s.scalars(select(ReportRun).order_by(ReportRun.name)))
        assert [(r.name, r.period_start.isoformat()) for r in runs] == [
            ("weekly-sla", "2026-10-18T22:00:00+00:00"),
            ("weekly-tickets", "2026-10-18T22:00:00+00:00"),
        ]
        sheet = load_workbook(io.BytesIO(mails[1].attachments[0].content), read_only=True).active
        assert sheet is not None
        assert len(list(sheet.iter_rows(values_only=True))) == 4


def test_all_due_is_quiet_unless_it_queued_something(
    hd: Run, history: History, tmp_path: Path
) -> None:
    """Cron mails whatever a job prints: --all-due says what it queued, then nothing on
    later runs of the same period; `run NAME` still says the period was sent already."""
    folder = tmp_path / "reports"
    _definition(
        folder,
        "weekly-sla",
        'kind = "sla"\nperiod = "last-week"\nformat = "csv"\nrecipients = ["lead@desk.example"]\n',
    )
    run = ("report", "run", "--dir", folder, "--now", NOW.isoformat())
    first = ok(hd(*run, "--all-due"))
    assert first.stdout == "weekly-sla  last-week  queued\n"
    again = ok(hd(*run, "--all-due"))
    assert (again.stdout, again.stderr) == ("", "")
    named = ok(hd(*run, "weekly-sla"))
    assert named.stdout == "weekly-sla  last-week  already sent\n"


def test_scheduled_mail_names_the_rows_of_its_report(
    hd: Run, history: History, desk_store: Desk, tmp_path: Path
) -> None:
    """A report whose rows are its own (agents) says so, whatever grouping its definition
    names: the same words as `report show`."""
    folder = tmp_path / "reports"
    _definition(
        folder,
        "weekly-agents",
        'kind = "agents"\nperiod = "last-week"\ngrouping = "day"\nformat = "csv"\n'
        'recipients = ["lead@desk.example"]\n',
    )
    ok(hd("report", "run", "weekly-agents", "--dir", folder, "--now", NOW.isoformat()))
    shown = ok(hd("report", "show", "agents", "--by", "day", env={"COLUMNS": "200"})).stdout
    assert shown.splitlines()[0].endswith(", by agent")
    with desk_store.store.read() as s:
        from sqlalchemy import select

        (mail,) = s.scalars(select(Outbox).where(Outbox.kind == "report"))
        assert mail.body.splitlines()[0] == "Report: weekly-agents (agents, by agent)"
        assert "by day" not in mail.body


@pytest.mark.parametrize(
    ("driver_error", "code"),
    [
        (sqlite3.OperationalError("database is locked"), 75),  # cron tries again
        (sqlite3.OperationalError("attempt to write a readonly database"), 1),
    ],
)
def test_a_database_lost_mid_run_still_prints_what_was_queued(
    hd: Run,
    history: History,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    driver_error: sqlite3.OperationalError,
    code: int,
) -> None:
    """The first report is queued, then the database fails: the run stops (every other
    report would fail the same way), and --json still lists the one queued, then the one
    that failed; the exit code says whether trying again later may help."""
    folder = tmp_path / "reports"
    for name in ("a-weekly", "b-weekly", "c-weekly"):
        _definition(
            folder,
            name,
            'kind = "sla"\nperiod = "last-week"\nformat = "csv"\nrecipients = ["l@d.example"]\n',
        )
    real = reports.run_scheduled

    def run_scheduled(session: Session, definition: Definition, at: datetime) -> object:
        if definition.name != "a-weekly":
            raise OperationalError("INSERT INTO report_runs ...", None, driver_error)
        return real(session, definition, at)

    monkeypatch.setattr(reports, "run_scheduled", run_scheduled)
    run = ("report", "run", "--all-due", "--dir", folder, "--now", NOW.isoformat())
    result = hd(*run, "--json")
    line = one_line_error(result, code)
    assert line == f"helpdesk: database error: {driver_error}"
    runs = result.json()["runs"]
    assert [(r["name"], r.get("sent")) for r in runs] == [("a-weekly", True), ("b-weekly", None)]
    assert runs[1]["error"] == f"database error: {driver_error}"
    monkeypatch.setattr(reports, "run_scheduled", real)
    later = ok(hd(*run, "--json")).json()["runs"]  # the database is back: the rest go
    assert [(r["name"], r["sent"]) for r in later] == [
        ("a-weekly", False),
        ("b-weekly", True),
        ("c-weekly", True),
    ]


def test_a_bad_definition_names_file_and_key(hd: Run, desk_store: Desk, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    _definition(folder, "bad", 'kind = "nope"\nrecipients = ["a@b.example"]\n')
    line = one_line_error(hd("report", "run", "bad", "--dir", folder), 2)
    assert "bad.toml: kind: 'nope' is not one of" in line


def test_all_due_sends_the_good_definitions_past_a_broken_one(
    hd: Run, desk_store: Desk, tmp_path: Path
) -> None:
    """Cron's run: a broken file is told (every problem of it) and counted, exit 3, and
    the other definitions are queued all the same."""
    folder = tmp_path / "reports"
    _definition(folder, "a-bad", 'kind = "slaa"\nformat = "pdf"\nrecipients = ["l@d.example"]\n')
    _definition(folder, "b-weekly", 'kind = "sla"\nrecipients = ["l@d.example"]\n')
    result = hd("report", "run", "--all-due", "--dir", folder, "--now", NOW.isoformat())
    assert result.exit_code == 3, result.stderr
    errors = result.stderr.splitlines()
    assert errors[0].startswith("helpdesk: ") and "a-bad.toml: kind: 'slaa'" in errors[0]
    assert "a-bad.toml: format: 'pdf'" in errors[1]
    assert "b-weekly" in result.stdout and "queued" in result.stdout

"""The streaming writers: every format parsed back and compared, formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tui_helpdesk.domain import Priority
from tui_helpdesk.reports.export import XLSX_DATETIME, Format, neutralise, write

COLUMNS = ["ticket", "subject", "priority", "created_at", "frt_s", "breached", "csat"]
ROWS: list[list[Any]] = [
    [
        "HD-1",
        'Printer, "on" fire\nsecond line',
        Priority.HIGH,
        datetime(2026, 10, 22, 8, tzinfo=UTC),
        5400.0,
        False,
        4,
    ],
    [
        "HD-2",
        '=HYPERLINK("http://evil")',
        Priority.LOW,
        datetime(2026, 10, 23, 13, 30, tzinfo=UTC),
        None,
        True,
        None,
    ],
    ["HD-3", "+1 call me", Priority.NORMAL, datetime(2026, 10, 24, tzinfo=UTC), -3.0, False, None],
    [
        "HD-4",
        "@SUM(A1) and \x1b]0;title\x07 ünïcödé | pipe",
        Priority.NORMAL,
        datetime(2026, 10, 25, tzinfo=UTC),
        0,
        False,
        5,
    ],
    ["HD-5", "-2+3", Priority.NORMAL, datetime(2026, 10, 26, tzinfo=UTC), 1.5, False, 1],
]


def _out(fmt: Format, **kw: Any) -> bytes:
    buffer = io.BytesIO()
    assert write(fmt, COLUMNS, iter(ROWS), buffer, **kw) == len(ROWS)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_csv_round_trip() -> None:
    raw = _out(Format.CSV)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0] == COLUMNS
    assert rows[1] == [
        "HD-1",
        'Printer, "on" fire\nsecond line',
        "high",
        "2026-10-22T08:00:00Z",
        "5400.0",
        "false",
        "4",
    ]
    assert rows[2][1] == '\'=HYPERLINK("http://evil")'
    assert rows[2][4:] == ["", "true", ""]
    assert rows[3][1] == "'+1 call me"
    assert rows[3][4] == "-3.0"  # numbers are numbers, never neutralised
    assert rows[4][1] == "'@SUM(A1) and  ünïcödé | pipe"  # the OSC sequence is gone
    assert rows[5][1] == "'-2+3"
    assert _out(Format.CSV, bom=True).startswith(b"\xef\xbb\xbf" + b"ticket,")  # fmt: skip


def test_xlsx_round_trip_without_formulas() -> None:
    book = load_workbook(io.BytesIO(_out(Format.XLSX)))
    sheet = book.active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == COLUMNS
    assert rows[1] == [
        "HD-1",
        'Printer, "on" fire\nsecond line',
        "high",
        datetime(2026, 10, 22, 8),  # a real date-time, in UTC (Excel has no zones)
        5400,
        False,
        4,
    ]
    # Text is text, as written: no apostrophe to see, never a formula.
    assert rows[2][1] == '=HYPERLINK("http://evil")'
    assert rows[2][4:] == [None, True, None]
    assert rows[3][1] == "+1 call me"
    assert rows[3][4] == -3
    assert rows[4][1] == "@SUM(A1) and  ünïcödé | pipe"  # the OSC sequence is gone
    assert rows[5][1] == "-2+3"
    formula_like = {"HD-2", "HD-3", "HD-4", "HD-5"}
    for row in sheet.iter_rows(min_row=2):
        assert row[3].is_date and row[3].number_format == XLSX_DATETIME
        for cell in row:
            assert cell.data_type != "f"  # no formula anywhere
        # Formula-looking text keeps Excel's quote prefix: still text once edited.
        assert row[1].data_type == "s"
        assert row[1].quotePrefix == (row[0].value in formula_like)


def test_json_and_jsonl_round_trip() -> None:
    docs = json.loads(_out(Format.JSON))
    lines = [json.loads(line) for line in _out(Format.JSONL).decode().splitlines()]
    assert docs == lines
    assert docs[0] == {
        "ticket": "HD-1",
        "subject": 'Printer, "on" fire\nsecond line',
        "priority": "high",
        "created_at": "2026-10-22T08:00:00Z",
        "frt_s": 5400.0,
        "breached": False,
        "csat": 4,
    }
    assert docs[1]["subject"] == '=HYPERLINK("http://evil")'  # JSON is data: left as is
    empty = io.BytesIO()
    write(Format.JSON, COLUMNS, iter([]), empty)
    assert json.loads(empty.getvalue()) == []


def test_markdown_escapes_pipes_and_lines() -> None:
    lines = _out(Format.MD).decode().splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert lines[1] == "|---|---|---|---|---|---|---|"
    assert lines[2].startswith('| HD-1 | Printer, "on" fire second line | high |')
    assert "ünïcödé \\| pipe" in lines[5]
    assert len(lines) == 2 + len(ROWS)


def _many(n: int) -> Iterator[list[Any]]:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        yield [f"HD-{i}", "subject " * 5, Priority.NORMAL, stamp, float(i), False, None]


@pytest.mark.parametrize("fmt", [Format.CSV, Format.JSONL, Format.JSON])
def test_memory_stays_flat(fmt: Format) -> None:
    """Writing 20x the rows must not need 20x the memory: rows are never held."""

    class Sink(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            return len(b)

    peaks = []
    for n in (2_000, 40_000):
        tracemalloc.start()
        write(fmt, COLUMNS, _many(n), Sink())  # type: ignore[arg-type]
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 3

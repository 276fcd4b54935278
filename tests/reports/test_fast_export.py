"""The CSV fast path of the `tickets` export (raw batches, `write_csv_batches`) writes the
same bytes as the typed rows through `write_csv`, on both back ends, whatever the text."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Integer, literal, null, select, update

from tests.conftest import Desk
from tests.reports.history import FROM, NOW, TO, at, craft
from tui_helpdesk.domain import Channel
from tui_helpdesk.reports.export import Format, write, write_csv, write_csv_batches
from tui_helpdesk.reports.model import Kind
from tui_helpdesk.reports.sql import csv_join
from tui_helpdesk.reports.tickets import (
    COLUMNS,
    CSV_TEXT,
    CSV_WALL,
    SAFE_COLUMNS,
    ticket_batches,
    ticket_rows,
)
from tui_helpdesk.services import reports, tickets
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Organization, Ticket

# Text a spreadsheet would run, text the csv module must quote, control characters and
# terminal sequences `clean()` removes (one hiding a formula), non-ASCII, empty text.
NASTY = [
    "=cmd|' /C calc'!A0",
    "+1 call me",
    "-x minus",
    "@y at",
    "\ttab first",
    "\rcarriage first",
    'a, b and "quoted"',
    "two\nlines",
    "crlf\r\nline",
    "\x1b[31mred\x1b[0m text",
    "\x07=bell then formula",
    "zero\u200bwidth",
    "ünïcödé ✓ 日本",
    "",
    "plain subject",
    "ok\n=second line formula",
]


@pytest.fixture
def nasty(desk_store: Desk) -> list[str]:
    """The crafted history plus a ticket per nasty subject, the organization named like a
    formula with a comma; returns the keys of the new tickets."""
    craft(desk_store)
    keys = []
    for i, subject in enumerate(NASTY):
        with desk_store.store.write() as s:
            new = tickets.NewTicket(
                "placeholder",
                body="help",
                channel=Channel.EMAIL,
                # A caller known by phone only: the export names them by their number.
                requester="+39 02 1234 5678" if i == 0 else "anna@acme.example",
                group="L1" if i % 2 else None,
            )
            key = tickets.create_ticket(s, desk_store.agent, at(24, 10, i), new).key
            # Written as is: the services clean subjects, an import or an old row may not.
            s.execute(update(Ticket).where(Ticket.key == key).values(subject=subject))
            keys.append(key)
    with desk_store.store.write() as s:
        s.execute(update(Organization).values(name='=HYPERLINK("x"), Inc.'))
    return keys


def _typed(d: Desk, **kw: Any) -> bytes:
    """What the export wrote before the fast path: typed rows through `write_csv`."""
    out = io.BytesIO()
    with d.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO)
        write_csv(COLUMNS, ticket_rows(s, scope), out, safe=SAFE_COLUMNS, **kw)
    return out.getvalue()


def _fast(d: Desk, size: int, **kw: Any) -> bytes:
    out = io.BytesIO()
    with d.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO)
        batches = ticket_batches(s, scope, size)
        write_csv_batches(COLUMNS, batches, out, text=CSV_TEXT, rounded=CSV_WALL, **kw)
    return out.getvalue()


@pytest.mark.parametrize("size", [1, 3, 5000])
def test_fast_path_is_byte_identical(desk_store: Desk, nasty: list[str], size: int) -> None:
    typed = _typed(desk_store)
    assert _fast(desk_store, size) == typed
    assert _fast(desk_store, size, bom=True) == _typed(desk_store, bom=True)
    text = typed.decode("utf-8")
    assert text.count("\r\n") >= 1 + 4 + len(NASTY)
    assert "'=cmd|' /C calc'!A0" in text
    assert '"\'=HYPERLINK(""x""), Inc."' in text  # neutralised, then quoted
    assert "\x1b" not in text and "\x07" not in text
    assert "ünïcödé ✓ 日本" in text
    assert ",'+390212345678," in text  # the phone-only requester, neutralised like a formula


def test_service_export_takes_the_fast_path(desk_store: Desk, nasty: list[str]) -> None:
    out = io.BytesIO()
    with desk_store.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO)
        n = reports.export(s, Kind.TICKETS, scope, Format.CSV, out)
    assert n == 4 + len(NASTY)
    assert out.getvalue() == _typed(desk_store)


def test_empty_period_writes_the_header(desk_store: Desk) -> None:
    out = io.BytesIO()
    with desk_store.store.read() as s:
        scope = reports.scope(s, NOW, start=FROM, end=TO)
        assert reports.export(s, Kind.TICKETS, scope, Format.CSV, out) == 0
    assert out.getvalue() == (",".join(COLUMNS) + "\r\n").encode()


def test_csv_join_writes_cells_as_the_csv_module(store: Store) -> None:
    """The database joins a stretch of cells: numbers in decimal, NULL empty, text as is."""
    cells = [literal(7), literal(-3), null(), literal("open"), literal("2026-01-01T00:00:00Z")]
    with store.read() as s:
        joined = s.execute(select(csv_join(*cells), csv_join(literal(None, Integer())))).one()
    expected = io.StringIO()
    csv.writer(expected).writerow([7, -3, None, "open", "2026-01-01T00:00:00Z"])
    assert joined == (expected.getvalue()[:-2], "")


# --- the batch writer alone, on cells of any kind -----------------------------------------

# Each row: a stretch the database wrote (verbatim), the desk's text, float seconds.
NAMES = ["key", "note", "n", "secs", "flag"]
ROWS: list[tuple[Any, ...]] = [
    ("A-1", "=1+1", 3, 5400.04, "true"),
    ("A-2", None, None, None, ""),
    ("A-3", "x\ny", -7, 0.05, "false"),
    ("A-4", "", 2.5, 12.35, None),
    ("A-5", "\x1b]0;t\x07@x", True, -0.04, "true"),
    ("A-6", "-", 10**20, 1e-7, "\r"),
    ("A-7", 'a, "b"', 0, 12.25, "false"),
    ("A-8", "\tx", 1, 1e17, "true"),
]


def _raw(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as the fast query returns it: the plain cells joined as CSV by the database."""
    key, note, n, secs, flag = row
    text = io.StringIO()
    csv.writer(text).writerow([key])
    head = text.getvalue()[:-2]
    text = io.StringIO()
    csv.writer(text).writerow([n, flag])
    return head, note, secs, text.getvalue()[:-2]


def _batches(rows: Sequence[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    for i in range(0, len(rows), size):
        yield [_raw(row) for row in rows[i : i + size]]


def _rounded(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for key, note, n, secs, flag in rows:
        yield (key, note, None if secs is None else round(secs, 1), n, flag)


@pytest.mark.parametrize("size", [1, 2, 100])
def test_batch_writer_matches_csv_writer(size: int) -> None:
    names = ["key", "note", "secs", "n", "flag"]
    expected = io.BytesIO()
    write(Format.CSV, names, _rounded(ROWS), expected, safe={"key", "n", "secs", "flag"})
    out = io.BytesIO()
    n = write_csv_batches(names, _batches(ROWS, size), out, text=[1], rounded=[2])
    assert n == len(ROWS)
    assert out.getvalue() == expected.getvalue()


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18))
def test_seconds_are_written_as_round_writes_them(secs: float) -> None:
    expected = io.BytesIO()
    write(Format.CSV, ["s"], [[round(secs, 1)]], expected, safe={"s"})
    out = io.BytesIO()
    write_csv_batches(["s"], [[(secs,)]], out, rounded=[0])
    assert out.getvalue() == expected.getvalue()


def test_batch_writer_memory_stays_flat() -> None:
    """Writing 20x the rows must not need 20x the memory: only a batch is held."""

    class Sink(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            return len(b)

    def many(n: int) -> Iterator[list[tuple[Any, ...]]]:
        for start in range(0, n, 500):
            yield [
                (f"HD-{i}", "subject " * 5, float(i), "2026-01-01T00:00:00Z,false")
                for i in range(start, min(n, start + 500))
            ]

    peaks = []
    for n in (2_000, 40_000):
        tracemalloc.start()
        sink: Any = Sink()
        write_csv_batches(
            ["key", "note", "secs", "at", "flag"], many(n), sink, text=[1], rounded=[2]
        )
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 3

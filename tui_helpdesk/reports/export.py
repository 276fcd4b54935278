"""Streaming writers for report rows: CSV, JSON, JSON Lines, XLSX and Markdown.

Each writer takes the column names and an iterator of rows and writes as it reads, so an
export of any size runs in constant memory (XLSX through xlsxwriter's constant-memory mode).
Values are written the same way everywhere: timestamps ISO 8601 UTC (`2026-11-23T09:30:00Z`),
enums by value, text UTF-8 with terminal control characters removed; XLSX has real types
instead: numbers, booleans, and timestamps as date-times in UTC (`XLSX_DATETIME`).

Formulas: in CSV a text cell that a spreadsheet would read as a formula (starting with `=`,
`+`, `-`, `@`, a tab or a carriage return) is neutralised with a leading apostrophe (a CSV
cell has no type; the spreadsheet guesses). XLSX cells are typed: text is always written
as a string cell (`write_string`; xlsxwriter never turns strings into formulas, numbers or
links), which no spreadsheet evaluates, so the text is kept as it is. Only editing such a
cell would make Excel read it again as typed: formula-looking text gets the "quote prefix"
style (`quote_prefix`, what Excel itself sets for a typed leading apostrophe), which keeps
it text then too, without showing an apostrophe. CSV may start with a UTF-8 BOM for Excel.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, BinaryIO

from tui_helpdesk.reports.periods import iso
from tui_helpdesk.text import UNSAFE, clean


class Format(enum.StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    XLSX = "xlsx"
    MD = "md"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]


_CONTENT_TYPES = {
    Format.CSV: "text/csv",
    Format.JSON: "application/json",
    Format.JSONL: "application/x-ndjson",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.MD: "text/markdown",
}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_START)
XLSX_SHEET = "report"
XLSX_DATETIME = "yyyy-mm-dd hh:mm:ss"  # the number format of timestamps (UTC) in XLSX


def value(cell: Any) -> Any:
    """A cell as data: timestamps ISO UTC, enums by value, text cleaned."""
    kind = type(cell)
    if kind is str:
        return clean(cell)
    if cell is None or kind is int or kind is float or kind is bool:
        return cell
    if isinstance(cell, datetime):
        return iso(cell)
    if isinstance(cell, enum.Enum):
        return cell.value
    if isinstance(cell, str):
        return clean(cell)
    return cell


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _sheet_text(cell: Any) -> Any:
    """A cell for CSV: text neutralised, booleans as true/false, None empty."""
    kind = type(cell)
    if kind is str:
        text = clean(cell)
        return "'" + text if text[:1] in _FORMULA_FIRST and text else text
    if cell is None:
        return ""
    if kind is bool:
        return "true" if cell else "false"
    if kind is int or kind is float:
        return cell
    return _sheet_text(value(cell))


def write_csv_header(columns: Sequence[str], out: BinaryIO, *, bom: bool = False) -> None:
    """The first line of a CSV export (after a UTF-8 BOM for Excel, if asked)."""
    if bom:
        out.write(codecs.BOM_UTF8)
    header = io.StringIO()
    csv.writer(header).writerow(columns)
    out.write(header.getvalue().encode("utf-8"))


def write_csv(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    out: BinaryIO,
    *,
    bom: bool = False,
    safe: Collection[str] = (),
) -> int:
    """CSV, RFC 4180 quoting. `safe` names columns that need no conversion (numbers, ISO
    text and enum values the query made itself): only the others are looked at per row."""
    write_csv_header(columns, out, bom=bom)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        n = _write_rows(csv.writer(text), columns, rows, safe)
        text.flush()
    finally:
        text.detach()
    return n


def _write_rows(
    writer: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]], safe: Collection[str]
) -> int:
    check = [i for i, name in enumerate(columns) if name not in safe]
    convert = _sheet_text
    n = 0
    if len(check) == len(columns):
        for row in rows:
            writer.writerow([convert(c) for c in row])
            n += 1
        return n
    for row in rows:
        cells = list(row)
        for i in check:
            cells[i] = convert(cells[i])
        writer.writerow(cells)
        n += 1
    return n


# Characters that make the csv module quote a field (QUOTE_MINIMAL, lines ending `\r\n`).
_QUOTE_CHARS = (",", '"', "\n", "\r")


def _csv_field(cell: Any) -> str:
    """A cell as `csv.writer` writes it (QUOTE_MINIMAL): floats by repr, None empty."""
    if cell is None:
        text = ""
    elif type(cell) is float:
        text = repr(cell)
    else:
        text = str(cell)
    if any(c in text for c in _QUOTE_CHARS):
        return '"' + text.replace('"', '""') + '"'
    return text


def _sheet_field(cell: Any) -> str:
    return _csv_field(_sheet_text(cell))


_FORMULA_LINE = re.compile(r"\n[=+\-@\t\r]")


def _needs_care(joined: str) -> bool:
    """Whether some cell of a text column, joined by newlines, starts like a formula or has
    a character `clean()` touches (a later line of a cell starting so is a false alarm: it
    only costs the cell-by-cell way for that column of that batch). `isprintable` answers
    the usual batch fast: every character `clean()` touches is unprintable."""
    if joined.startswith(FORMULA_START) or _FORMULA_LINE.search(joined):
        return True
    return not joined.replace("\n", "").isprintable() and bool(UNSAFE.search(joined))


def _text_column(column: Sequence[Any]) -> Sequence[str]:
    """A batch's column of the desk's text (or None) as CSV fields: cleaned, made inert
    and quoted, cell by cell only when a few searches over the joined column find a cell
    that needs it (a formula, a control character, a comma or quote to quote, a None)."""
    try:
        joined = "\n".join(column)
    except TypeError:  # None (or not text): the slow way, which also quotes
        return [_sheet_field(c) for c in column]
    if (
        _needs_care(joined)
        or "," in joined
        or '"' in joined
        or "\r" in joined
        or joined.count("\n") != len(column) - 1  # a cell's own line break
    ):
        return [_sheet_field(c) for c in column]
    return column


def write_csv_batches(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    out: BinaryIO,
    *,
    bom: bool = False,
    text: Collection[int] = (),
    rounded: Collection[int] = (),
) -> int:
    """CSV with the header `columns`, the same bytes as `write_csv`, from batches of rows
    as a DB-API cursor's `fetchmany` returns them, whose cells are stretches of the line
    the database wrote already (see `reports.sql.csv_join`: text, never None), but for
    those at the positions `text` and `rounded`: `text` cells are the desk's text or None
    (cleaned, made inert and quoted here, as `write_csv` does), `rounded` ones float
    seconds or None, written as `round(c, 1)` is (`.1f` rounds the same way, half to
    even on the exact binary value, and prints the same digits below 1e15, 3x faster).

    The work goes a batch and a column at a time, in C where the data allows: a text
    column is checked with a few searches over its cells joined and converted cell by cell
    only if that finds something; the lines are then joined from the columns. So the usual
    cell costs no Python of its own but for the rounding."""
    write_csv_header(columns, out, bom=bom)
    n = 0
    for batch in batches:
        if not batch:
            continue
        cells: list[Sequence[Any]] = list(zip(*batch, strict=True))
        for i in text:
            cells[i] = _text_column(cells[i])
        for i in rounded:
            cells[i] = [
                "" if c is None else f"{c:.1f}" if -1e15 < c < 1e15 else repr(round(c, 1))
                for c in cells[i]
            ]
        lines = "\r\n".join(map(",".join, zip(*cells, strict=True)))
        out.write((lines + "\r\n").encode("utf-8"))
        n += len(batch)
    return n


def _json_row(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    return {c: value(v) for c, v in zip(columns, row, strict=True)}


def write_jsonl(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(_json_row(columns, row), ensure_ascii=False).encode() + b"\n")
        n += 1
    return n


def write_json(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    """A JSON array of objects, written one object at a time."""
    out.write(b"[")
    n = 0
    for row in rows:
        out.write(
            (b",\n" if n else b"\n")
            + json.dumps(_json_row(columns, row), ensure_ascii=False).encode()
        )
        n += 1
    out.write(b"\n]\n" if n else b"]\n")
    return n


def _md_cell(cell: Any) -> str:
    cell = value(cell)
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    text = clean(str(cell), single_line=True)
    return text.replace("\\", "\\\\").replace("|", "\\|")


def write_md(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    out.write(("| " + " | ".join(columns) + " |\n").encode())
    out.write(("|" + "|".join("---" for _ in columns) + "|\n").encode())
    n = 0
    for row in rows:
        out.write(("| " + " | ".join(_md_cell(c) for c in row) + " |\n").encode())
        n += 1
    return n


def write_xlsx(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO | str | os.PathLike[str]
) -> int:
    """An XLSX workbook of one sheet. To a path directly; to a stream through a temporary
    file (a zip file is assembled at the end, after the rows are on disk)."""
    import xlsxwriter  # imported here: only XLSX exports need it

    if isinstance(out, (str, os.PathLike)):
        return _xlsx(xlsxwriter, columns, rows, os.fspath(out))
    with tempfile.TemporaryDirectory(prefix="helpdesk-xlsx-") as tmp:
        path = os.path.join(tmp, "report.xlsx")
        n = _xlsx(xlsxwriter, columns, rows, path)
        with open(path, "rb") as produced:
            shutil.copyfileobj(produced, out)
    return n


def _xlsx(xlsxwriter: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]], path: str) -> int:
    book = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        sheet = book.add_worksheet(XLSX_SHEET)
        bold = book.add_format({"bold": True})
        stamp = book.add_format({"num_format": XLSX_DATETIME})
        quoted = book.add_format({"quote_prefix": True})
        for col, name in enumerate(columns):
            sheet.write_string(0, col, name, bold)
        n = 0
        for n, row in enumerate(rows, start=1):
            for col, cell in enumerate(row):
                if isinstance(cell, datetime):
                    # Excel has no time zones: the UTC wall time, as every export gives it.
                    utc = cell.astimezone(UTC).replace(tzinfo=None)
                    sheet.write_datetime(n, col, utc, stamp)
                    continue
                cell = value(cell)
                if cell is None:
                    continue
                if isinstance(cell, bool):
                    sheet.write_boolean(n, col, cell)
                elif isinstance(cell, (int, float)):
                    sheet.write_number(n, col, cell)
                else:
                    text = str(cell)
                    if text.startswith(FORMULA_START):
                        sheet.write_string(n, col, text, quoted)
                    else:
                        sheet.write_string(n, col, text)
    finally:
        book.close()
    return n


def write(
    fmt: Format,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    out: BinaryIO,
    *,
    bom: bool = False,
    safe: Collection[str] = (),
) -> int:
    """Write the rows in `fmt` to a binary stream; returns how many rows were written.
    `safe`: columns whose values need no conversion for CSV (see `write_csv`)."""
    if fmt is Format.CSV:
        return write_csv(columns, rows, out, bom=bom, safe=safe)
    if fmt is Format.JSON:
        return write_json(columns, rows, out)
    if fmt is Format.JSONL:
        return write_jsonl(columns, rows, out)
    if fmt is Format.XLSX:
        return write_xlsx(columns, rows, out)
    return write_md(columns, rows, out)

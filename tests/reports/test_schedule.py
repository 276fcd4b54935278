"""Report definition files: parsed, validated with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_helpdesk.domain import Priority
from tui_helpdesk.reports.export import Format
from tui_helpdesk.reports.model import Kind
from tui_helpdesk.reports.periods import Grouping
from tui_helpdesk.reports.schedule import DefinitionError, find, load_folder
from tui_helpdesk.reports.sql import ReportFilter


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_definition(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "monthly",
        """
kind = "customers"
period = "Last-Month"
grouping = "organization"
format = "xlsx"
recipients = ["Boss@Example.com", "ops@example.com"]
subject = "Customers"
bom = true
[filters]
group = "L1"
priority = "high"
""",
    )
    (d,) = load_folder(tmp_path)
    assert d.name == "monthly"
    assert (d.kind, d.period, d.grouping, d.format) == (
        Kind.CUSTOMERS,
        "last-month",
        Grouping.ORGANIZATION,
        Format.XLSX,
    )
    assert d.recipients == ("boss@example.com", "ops@example.com")
    assert d.filter == ReportFilter(group="L1", priority=Priority.HIGH)
    assert d.subject == "Customers" and d.bom
    assert find(tmp_path, "monthly") == d


def test_defaults(tmp_path: Path) -> None:
    _write(tmp_path, "w", 'kind = "sla"\nrecipients = ["a@b.example"]\n')
    d = find(tmp_path, "w")
    assert (d.period, d.grouping, d.format) == ("last-week", Grouping.DAY, Format.CSV)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('recipients = ["a@b.example"]', "kind: missing"),
        ('kind = "x"\nrecipients = ["a@b.example"]', "kind: 'x' is not one of"),
        ('kind = "sla"', "recipients: expected a list"),
        ('kind = "sla"\nrecipients = ["nobody"]', "recipients\\[0\\]: 'nobody' is not an email"),
        ('kind = "sla"\nrecipients = ["a@b.example"]\nformat = "pdf"', "format: 'pdf'"),
        ('kind = "sla"\nrecipients = ["a@b.example"]\ncolour = 1', "colour: unknown key"),
        ('kind = "sla"\nrecipients = ["a@b.example"]\n[filters]\nteam = "x"', "filters.team"),
        (
            'kind = "sla"\nrecipients = ["a@b.example"]\n[filters]\nchannel = "fax"',
            "filters.channel",
        ),
        ("kind = ", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "bad", text)
    with pytest.raises(DefinitionError, match=message) as caught:
        find(tmp_path, "bad")
    assert str(caught.value).startswith(str(path)) or "not valid" in str(caught.value)


def test_every_problem_of_a_file_is_told_at_once(tmp_path: Path) -> None:
    text = 'kind = "slaa"\nformat = "pdf"\nrecipient = "x"\nrecipients = ["a@b.example", "b"]\n'
    path = _write(tmp_path, "typo", text)
    with pytest.raises(DefinitionError) as caught:
        find(tmp_path, "typo")
    lines = str(caught.value).splitlines()
    assert [line.removeprefix(f"{path}: ").split(":")[0] for line in lines] == [
        "recipient",
        "kind",
        "recipients[1]",
        "format",
    ]
    assert "'slaa' is not one of" in lines[1] and "'b' is not an email address" in lines[2]


def test_unknown_name_lists_the_known(tmp_path: Path) -> None:
    _write(tmp_path, "weekly", 'kind = "sla"\nrecipients = ["a@b.example"]\n')
    with pytest.raises(DefinitionError, match=r"no report 'daily' .* \(known: weekly\)"):
        find(tmp_path, "daily")
    with pytest.raises(DefinitionError, match="no report"):
        find(tmp_path, "../etc/passwd")
    assert load_folder(tmp_path / "missing") == []

"""Scheduled report definitions: one TOML file per report in a reports folder.

    # weekly-sla.toml  (the name is the file's stem: "weekly-sla")
    kind = "sla"                      # a report kind (see `helpdesk report show --help`)
    period = "last-week"              # a period phrase, evaluated when the report runs
    grouping = "day"                  # day, week, month, group, agent, category, ...
                                      #   (volume, response and sla; others have their own)
    format = "xlsx"                   # csv, json, jsonl, xlsx, md
    recipients = ["lead@desk.example"]
    subject = "SLA last week"         # optional
    [filters]                         # optional: group, agent, category, priority,
    group = "L1"                      #   channel, organization, segment

A definition names a period phrase, not dates, so "last-week" run on any day of a week means
that week's previous week: the run is recorded per (name, period start) and never repeats.
Errors name the file and the key, every problem of a file at once. Pure parsing:
`services.reports` does the rest.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.reports.export import Format
from tui_helpdesk.reports.model import Kind
from tui_helpdesk.reports.periods import Grouping
from tui_helpdesk.reports.sql import ReportFilter

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_KEYS = {"kind", "period", "grouping", "format", "recipients", "subject", "filters", "bom"}
_FILTERS = {"group", "agent", "category", "priority", "channel", "organization", "segment"}


class DefinitionError(ValueError):
    """A report definition that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Definition:
    name: str
    kind: Kind
    period: str
    grouping: Grouping
    format: Format
    recipients: tuple[str, ...]
    subject: str | None = None
    filter: ReportFilter = field(default_factory=ReportFilter)
    bom: bool = False
    path: Path | None = None


class _Problems:
    """The problems of one definition file, all found before any is reported."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[str] = []

    def add(self, key: str, reason: str) -> None:
        self.found.append(f"{self.path}: {key}: {reason}")

    def choice(self, key: str, raw: Any, enum_cls: type[Any]) -> Any:
        try:
            return enum_cls(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            self.add(key, f"{raw!r} is not one of {allowed}")
            return None

    def text(self, key: str, raw: Any) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.add(key, "expected a non-empty string")
            return ""
        return raw.strip()


def parse_definition(path: Path, data: dict[str, Any]) -> Definition:
    """The definition in `data`, or a DefinitionError listing every problem, a line each."""
    problems = _Problems(path)
    name = path.stem
    if not NAME.match(name):
        raise DefinitionError(f"{path}: the file name is not a usable report name")
    for key in sorted(set(data) - _KEYS):
        problems.add(key, f"unknown key (expected one of {', '.join(sorted(_KEYS))})")
    kind = problems.choice("kind", data["kind"], Kind) if "kind" in data else None
    if "kind" not in data:
        problems.add("kind", "missing")
    recipients = data.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        problems.add("recipients", "expected a list of email addresses")
        recipients = []
    for i, address in enumerate(recipients):
        if not isinstance(address, str) or "@" not in address:
            problems.add(f"recipients[{i}]", f"{address!r} is not an email address")
    filters = data.get("filters", {})
    if not isinstance(filters, dict):
        problems.add("filters", "expected a table")
        filters = {}
    for key in sorted(set(filters) - _FILTERS):
        problems.add(
            f"filters.{key}", f"unknown filter (expected one of {', '.join(sorted(_FILTERS))})"
        )
    values = {k: problems.text(f"filters.{k}", v) for k, v in filters.items() if k in _FILTERS}
    if values.get("priority"):
        values["priority"] = problems.choice("filters.priority", values["priority"], Priority)
    if values.get("channel"):
        values["channel"] = problems.choice("filters.channel", values["channel"], Channel)
    subject = data.get("subject")
    period = problems.text("period", data.get("period", "last-week")).lower()
    grouping = problems.choice("grouping", data.get("grouping", "day"), Grouping)
    fmt = problems.choice("format", data.get("format", "csv"), Format)
    if subject is not None:
        subject = problems.text("subject", subject)
    if problems.found:
        raise DefinitionError("\n".join(problems.found))
    return Definition(
        name=name,
        kind=kind,
        period=period,
        grouping=grouping,
        format=fmt,
        recipients=tuple(str(r).strip().lower() for r in recipients),
        subject=subject,
        filter=ReportFilter(**values),
        bom=bool(data.get("bom", False)),
        path=path,
    )


def load_definition(path: Path) -> Definition:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DefinitionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}: not valid TOML: {exc}") from None
    return parse_definition(path, data)


def load_folder(folder: Path) -> list[Definition]:
    """Every `*.toml` definition in the folder, by name (a missing folder has none); the
    first unusable one raises (`load_each` goes on past it)."""
    found = load_each(folder)
    for item in found:
        if isinstance(item, Unusable):
            raise item.error
    return [d for d in found if isinstance(d, Definition)]


@dataclass(frozen=True)
class Unusable:
    """A definition file that cannot be used, and why."""

    path: Path
    error: DefinitionError

    @property
    def name(self) -> str:
        return self.path.stem


def load_each(folder: Path) -> list[Definition | Unusable]:
    """Every `*.toml` file in the folder, by name: its definition, or why it is unusable,
    so one broken file does not stop the others' runs."""
    if not folder.is_dir():
        return []
    found: list[Definition | Unusable] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            found.append(load_definition(path))
        except DefinitionError as exc:
            found.append(Unusable(path, exc))
    return found


def find(folder: Path, name: str) -> Definition:
    path = folder / f"{name}.toml"
    if not NAME.match(name) or not path.is_file():
        known = ", ".join(d.name for d in load_each(folder)) or "none"
        raise DefinitionError(f"no report {name!r} in {folder} (known: {known})")
    return load_definition(path)

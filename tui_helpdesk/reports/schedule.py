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
Errors name the file and the key. Pure parsing: `services.reports` does the rest.
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


def _choice(path: Path, key: str, raw: Any, enum_cls: type[Any]) -> Any:
    try:
        return enum_cls(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise DefinitionError(f"{path}: {key}: {raw!r} is not one of {allowed}") from None


def _text(path: Path, key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise DefinitionError(f"{path}: {key}: expected a non-empty string")
    return raw.strip()


def parse_definition(path: Path, data: dict[str, Any]) -> Definition:
    name = path.stem
    if not NAME.match(name):
        raise DefinitionError(f"{path}: the file name is not a usable report name")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise DefinitionError(f"{path}: {unknown[0]}: unknown key")
    if "kind" not in data:
        raise DefinitionError(f"{path}: kind: missing")
    recipients = data.get("recipients")
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(isinstance(r, str) and "@" in r for r in recipients)
    ):
        raise DefinitionError(f"{path}: recipients: expected a list of email addresses")
    filters = data.get("filters", {})
    if not isinstance(filters, dict):
        raise DefinitionError(f"{path}: filters: expected a table")
    bad = sorted(set(filters) - _FILTERS)
    if bad:
        raise DefinitionError(f"{path}: filters.{bad[0]}: unknown filter")
    values = {k: _text(path, f"filters.{k}", v) for k, v in filters.items()}
    if "priority" in values:
        values["priority"] = _choice(path, "filters.priority", values["priority"], Priority)
    if "channel" in values:
        values["channel"] = _choice(path, "filters.channel", values["channel"], Channel)
    subject = data.get("subject")
    return Definition(
        name=name,
        kind=_choice(path, "kind", data["kind"], Kind),
        period=_text(path, "period", data.get("period", "last-week")).lower(),
        grouping=_choice(path, "grouping", data.get("grouping", "day"), Grouping),
        format=_choice(path, "format", data.get("format", "csv"), Format),
        recipients=tuple(r.strip().lower() for r in recipients),
        subject=_text(path, "subject", subject) if subject is not None else None,
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
    """Every `*.toml` definition in the folder, by name (a missing folder has none)."""
    if not folder.is_dir():
        return []
    return [load_definition(p) for p in sorted(folder.glob("*.toml"))]


def find(folder: Path, name: str) -> Definition:
    path = folder / f"{name}.toml"
    if not NAME.match(name) or not path.is_file():
        known = ", ".join(d.name for d in load_folder(folder)) or "none"
        raise DefinitionError(f"no report {name!r} in {folder} (known: {known})")
    return load_definition(path)

"""Saved queue views: an agent's own filters, kept in `views.toml` next to the config file.

A saved view is a name and a filter on the fields the queue can filter on (status,
priority, group, assignee, organization, category, tag, channel, text). The queue's `/`
field speaks the same language, so a filter tried there can be saved as it is:

    status:open,pending priority:urgent,high group:L1 assignee:me org:Acme
    category:"Hardware > Printers" tag:vip channel:email vpn drops

`status:` takes what `helpdesk ticket list --status` takes (`services.statuses`): statuses,
`active` (the default) or `all`. Words without a key are looked for in the subject and the
requester's name or email. The file is one `[[view]]` table per view with the same keys
(lists for status and priority):

    [[view]]
    name = "Acme urgent"
    priority = ["urgent", "high"]
    organization = "Acme"

A malformed file or entry never stops the console: `load` returns the views it could read
and one line per problem, naming the file and the key, for a notification. `save` writes the
whole file with tomli-w (atomically: a temporary file renamed over it).

Pure except `load`/`save`, which read and write that one file.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from tui_helpdesk.domain import ACTIVE_STATUSES, Channel, Priority, Status
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.queue import TicketFilter
from tui_helpdesk.services.statuses import STATUS_WORDS, UnknownStatus, status_words
from tui_helpdesk.services.statuses import parse_statuses as _parse_statuses

FILE_NAME = "views.toml"
MAX_VIEWS = 20
MAX_NAME = 40
# What the `/` field accepts before a colon, and the field each one sets.
KEYS = {
    "status": "statuses",
    "priority": "priorities",
    "group": "group",
    "assignee": "assignee",
    "org": "organization",
    "organization": "organization",
    "category": "category",
    "tag": "tag",
    "channel": "channel",
}
# The TOML spelling of each field (singular, as people write them).
_TOML_KEYS = {
    "statuses": "status",
    "priorities": "priority",
    "group": "group",
    "assignee": "assignee",
    "organization": "organization",
    "category": "category",
    "tag": "tag",
    "channel": "channel",
    "text": "text",
}


@dataclass(frozen=True)
class ViewFilter:
    """What a saved view (or the `/` field) asks for. Empty fields ask for nothing."""

    statuses: tuple[Status, ...] = ()  # none given: the active statuses (`status:all`: all six)
    priorities: tuple[Priority, ...] = ()
    group: str | None = None
    assignee: str | None = None  # a login, "me" or "none"
    organization: str | None = None
    category: str | None = None
    tag: str | None = None
    channel: Channel | None = None
    text: str | None = None

    @property
    def is_empty(self) -> bool:
        return self == ViewFilter()

    def ticket_filter(self, login: str) -> TicketFilter:
        """The queue service's filter for the agent `login` ("me" is that agent)."""
        assignee = login if self.assignee and self.assignee.lower() == "me" else self.assignee
        return TicketFilter(
            statuses=self.statuses or ACTIVE_STATUSES,
            group=self.group,
            assignee=assignee,
            priorities=self.priorities,
            organization=self.organization,
            category=self.category,
            tag=self.tag,
            channel=self.channel,
            text=self.text,
        )

    def narrowed(self, other: ViewFilter) -> ViewFilter:
        """This filter with every field `other` sets replaced by `other`'s."""
        changes = {f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name)}
        return replace(self, **changes)


@dataclass(frozen=True)
class SavedView:
    name: str
    filter: ViewFilter

    @property
    def label(self) -> str:
        return self.name

    @property
    def value(self) -> str:
        return f"saved:{self.name}"


# --- the `/` language ---------------------------------------------------------------------


def _enum_values(kind: type[Any], raw: str, key: str) -> tuple[Any, ...]:
    out = []
    for part in raw.replace(" ", ",").split(","):
        if not part:
            continue
        try:
            out.append(kind(part.strip().lower().replace(" ", "_")))
        except ValueError:
            allowed = ", ".join(v.value for v in kind)
            raise ValidationError(f"{key}: unknown value {part!r} (one of {allowed})") from None
    return tuple(dict.fromkeys(out))


def _statuses(raw: str, key: str) -> tuple[Status, ...]:
    """`status:` as --status reads it: statuses, `active` or `all` (`services.statuses`)."""
    try:
        return _parse_statuses(raw.replace(" ", ","))
    except UnknownStatus as exc:
        raise ValidationError(
            f"{key}: unknown value {exc.word!r} (one of {STATUS_WORDS})"
        ) from None


def _set(values: dict[str, Any], key: str, raw: str) -> None:
    name = KEYS[key]
    raw = raw.strip()
    if not raw:
        raise ValidationError(f"{key}: needs a value")
    if name == "statuses":
        values[name] = _statuses(raw, key)
    elif name == "priorities":
        values[name] = _enum_values(Priority, raw, key)
    elif name == "channel":
        values[name] = _enum_values(Channel, raw, key)[0]
    else:
        values[name] = raw


def parse_filter(text: str) -> ViewFilter:
    """The filter typed in the `/` field; `ValidationError` names a bad key or value."""
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.replace('"', " ").replace("'", " ").split()
    values: dict[str, Any] = {}
    words: list[str] = []
    for part in parts:
        key, colon, raw = part.partition(":")
        if colon and key.lower() in KEYS:
            _set(values, key.lower(), raw)
        else:
            words.append(part)
    if words:
        values["text"] = " ".join(words)
    return ViewFilter(**values)


def format_filter(flt: ViewFilter) -> str:
    """The `/` spelling of a filter (`parse_filter` reads it back)."""
    out: list[str] = []

    def put(key: str, value: str) -> None:
        out.append(f"{key}:{shlex.quote(value) if (' ' in value or not value) else value}")

    if flt.statuses:
        put("status", ",".join(status_words(flt.statuses)))
    if flt.priorities:
        put("priority", ",".join(p.value for p in flt.priorities))
    for key in ("group", "assignee", "organization", "category", "tag"):
        value = getattr(flt, key)
        if value:
            put("org" if key == "organization" else key, value)
    if flt.channel:
        put("channel", flt.channel.value)
    if flt.text:
        out.append(flt.text)
    return " ".join(out)


# --- the file -----------------------------------------------------------------------------


def views_path(config_path: Path) -> Path:
    return config_path.parent / FILE_NAME


def _entry(table: Any, where: str) -> SavedView:
    if not isinstance(table, dict):
        raise ValidationError(f"{where}: expected a table")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{where}.name: expected a non-empty string")
    values: dict[str, Any] = {}
    by_toml = {v: k for k, v in _TOML_KEYS.items()}
    for key, value in table.items():
        if key == "name":
            continue
        field = by_toml.get(key)
        if field is None:
            raise ValidationError(f"{where}.{key}: unknown key")
        if field in ("statuses", "priorities"):
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in items):
                raise ValidationError(f"{where}.{key}: expected a list of strings")
            try:
                values[field] = (
                    _statuses(",".join(items), key)
                    if field == "statuses"
                    else _enum_values(Priority, ",".join(items), key)
                )
            except ValidationError as exc:
                raise ValidationError(f"{where}.{exc}") from None
            continue
        if not isinstance(value, str):
            raise ValidationError(f"{where}.{key}: expected a string")
        if field == "channel":
            try:
                values[field] = Channel(value.lower())
            except ValueError:
                raise ValidationError(f"{where}.{key}: unknown channel {value!r}") from None
        else:
            values[field] = value
    return SavedView(name.strip()[:MAX_NAME], ViewFilter(**values))


def load(path: Path) -> tuple[tuple[SavedView, ...], list[str]]:
    """The saved views in `path` (none if it does not exist) and what was wrong with it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return (), []
    except (OSError, UnicodeDecodeError) as exc:
        return (), [f"{path}: cannot read it ({exc.__class__.__name__})"]
    except tomllib.TOMLDecodeError as exc:
        return (), [f"{path}: not valid TOML ({exc})"]
    problems: list[str] = []
    unknown = sorted(set(data) - {"view"})
    problems += [f"{path}: {key}: unknown key (expected [[view]] tables)" for key in unknown]
    tables = data.get("view", [])
    if not isinstance(tables, list):
        return (), [*problems, f"{path}: view: expected [[view]] tables"]
    found: dict[str, SavedView] = {}
    for i, table in enumerate(tables):
        try:
            view = _entry(table, f"view[{i}]")
        except ValidationError as exc:
            problems.append(f"{path}: {exc}")
            continue
        found.setdefault(view.name.lower(), view)
    return tuple(found.values())[:MAX_VIEWS], problems


def _table(view: SavedView) -> dict[str, Any]:
    table: dict[str, Any] = {"name": view.name}
    for field, key in _TOML_KEYS.items():
        value = getattr(view.filter, field)
        if not value:
            continue
        if field == "statuses":
            table[key] = status_words(value)
        elif field == "priorities":
            table[key] = [v.value for v in value]
        elif field == "channel":
            table[key] = value.value
        else:
            table[key] = value
    return table


def save(path: Path, views: Iterable[SavedView]) -> None:
    """Write `views` as the whole file (a temporary file renamed over the old one)."""
    text = tomli_w.dumps({"view": [_table(v) for v in views]})
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".views-", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def with_view(views: Sequence[SavedView], view: SavedView) -> tuple[SavedView, ...]:
    """`views` with `view` added, or replacing the one of the same name (case aside)."""
    name = view.name.strip()
    if not name:
        raise ValidationError("a saved view needs a name")
    if view.filter.is_empty:
        raise ValidationError("nothing to save: type a filter with / first")
    kept = [v for v in views if v.name.lower() != name.lower()]
    if len(kept) >= MAX_VIEWS:
        raise ValidationError(f"at most {MAX_VIEWS} saved views: delete one first")
    return (*kept, SavedView(name[:MAX_NAME], view.filter))


def without_view(views: Sequence[SavedView], name: str) -> tuple[SavedView, ...]:
    return tuple(v for v in views if v.name.lower() != name.lower())

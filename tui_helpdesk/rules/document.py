"""The rules document (rules.toml): parsing and validation into plain, frozen data.

The admin edits a TOML file; `helpdesk rules apply` validates it here and stores the parsed
document in the database as the active version, so every process evaluates the same rules.
Errors name the file and the exact key (`rules.toml: desk.ticket_prefix: ...`).

This module owns the `[desk]` table and the shape of the document; calendars (`calendar`),
SLA policies (`sla`), escalation rules and routes (`escalation`) are validated by their own
modules, whose errors start at the key path and get the file name prefixed here. Services
re-read the stored document with `rules_from_document`.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui_helpdesk.domain import Priority
from tui_helpdesk.rules.calendar import Calendar, CalendarError, parse_calendar
from tui_helpdesk.rules.escalation import EscalationRule, parse_escalations
from tui_helpdesk.rules.routing import Route, parse_routes
from tui_helpdesk.rules.sla import WHERE_KEYS, SlaPolicy, parse_policies

KNOWN_SECTIONS = ("desk", "calendars", "sla", "escalation", "route")
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")


class RulesError(ValueError):
    """An invalid rules document. `errors` lists every problem found, each
    `<source>: <key path>: <reason>` on one line; the message is the one error, or
    `<source>: N errors` followed by them, one a line."""

    def __init__(self, errors: str | list[str], source: str = "rules.toml") -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        if len(self.errors) == 1:
            message = self.errors[0]
        else:
            message = "\n".join([f"{source}: {len(self.errors)} errors", *self.errors])
        super().__init__(message)


@dataclass(frozen=True)
class DeskSettings:
    name: str = "Help Desk"
    ticket_prefix: str = "HD"
    timezone: str = "UTC"
    phone_region: str | None = None  # region for phone numbers written without +country
    reopen_window_days: int = 14  # a reply to a closed ticket reopens it within this window
    auto_close_days: int = 5  # resolved tickets close after this many days without objection
    # Groups whose new and incoming tickets go to an agent automatically (by skills and
    # workload); "*" means every group.
    auto_assign: tuple[str, ...] = ()
    # Where a new ticket goes when neither the caller, a route nor its category names a
    # group (a triage queue), so that no ticket sits in nobody's queue.
    default_group: str | None = None
    # The first public reply to an unassigned ticket makes the replier its assignee (if the
    # ticket's group is theirs), so that whoever answers owns the ticket and its figures.
    assign_on_reply: bool = True
    # Mail the desk writes by itself: an acknowledgement of every new ticket (at most
    # `acknowledge_per_hour` to one sender, so two auto-responders cannot ping-pong), and a
    # satisfaction survey when a ticket is resolved.
    acknowledge: bool = True
    acknowledge_per_hour: int = 5
    survey: bool = True

    def assigns_automatically(self, group: str) -> bool:
        return "*" in self.auto_assign or group in self.auto_assign


@dataclass(frozen=True, kw_only=True)
class Rules:
    """The parsed rules: what services and batch jobs evaluate."""

    desk: DeskSettings = DeskSettings()
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    sla: tuple[SlaPolicy, ...] = ()  # first matching policy wins, top to bottom
    escalations: tuple[EscalationRule, ...] = ()
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RulesDocument(Rules):
    """A validated rules file, ready to be applied as a new version."""

    data: dict[str, Any]  # the raw TOML document, as stored in the database
    source_text: str
    sha256: str
    # Valid but probably not meant, each `<source>: <key>: ...` (see `_warnings`).
    warnings: tuple[str, ...] = ()


def _fail(source: str, key: str, reason: str) -> RulesError:
    return RulesError(f"{source}: {key}: {reason}")


def _parse_desk(source: str, table: Any, errors: list[str]) -> DeskSettings:
    """The `[desk]` table; each bad key's error goes to `errors` and the key keeps its
    default, so the other keys are checked too."""
    if not isinstance(table, dict):
        errors.append(str(_fail(source, "desk", "expected a table")))
        return DeskSettings()
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            values[key] = _desk_value(source, key, value)
        except RulesError as error:
            errors.extend(error.errors)
    return DeskSettings(**values)


def _desk_value(source: str, key: str, value: Any) -> Any:
    path = f"desk.{key}"
    if key == "name":
        if not isinstance(value, str) or not value.strip():
            raise _fail(source, path, "expected a non-empty string")
        return value.strip()
    if key == "ticket_prefix":
        if not isinstance(value, str) or not _PREFIX.match(value):
            raise _fail(source, path, f"expected 1-10 capital letters or digits, got {value!r}")
        return value
    if key == "timezone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail(source, path, f"unknown time zone {value!r}") from None
        return value
    if key == "phone_region":
        import phonenumbers  # a large import: only for the rules that name a region

        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise _fail(source, path, f'expected a two-letter region code like "IT", got {value!r}')
        return value
    if key == "default_group":
        if not isinstance(value, str) or not value.strip():
            raise _fail(source, path, f"expected a group name, got {value!r}")
        return value.strip()
    if key == "auto_assign":
        if value is True:
            return ("*",)
        if value is False:
            return ()
        if isinstance(value, list) and all(
            isinstance(item, str) and item.strip() for item in value
        ):
            return tuple(dict.fromkeys(item.strip() for item in value))
        raise _fail(source, path, f"expected true, false or a list of group names, got {value!r}")
    if key in ("acknowledge", "survey", "assign_on_reply"):
        if not isinstance(value, bool):
            raise _fail(source, path, f"expected true or false, got {value!r}")
        return value
    if key == "acknowledge_per_hour":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _fail(source, path, f"expected a whole number >= 1, got {value!r}")
        return value
    if key in ("reopen_window_days", "auto_close_days"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _fail(source, path, f"expected a whole number of days >= 0, got {value!r}")
        return value
    known = ", ".join(DeskSettings.__dataclass_fields__)
    raise _fail(source, path, f"unknown key (expected one of: {known})")


def _storable(value: Any) -> Any:
    """The document as JSON can hold it: TOML dates and times become ISO strings (the
    parsers accept both forms, so the stored document parses to the same rules)."""
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, date | time):  # datetime is a date
        return value.isoformat()
    return value


def parse_rules(text: str, source: str = "rules.toml") -> RulesDocument:
    """Validate a rules file. Every problem found is reported at once (`RulesError.errors`):
    each bad key of `[desk]`, and the first problem of each calendar, SLA policy,
    escalation rule and route."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from None
    rules = _parse_sections(source, data)
    return RulesDocument(
        desk=rules.desk,
        calendars=rules.calendars,
        sla=rules.sla,
        escalations=rules.escalations,
        routes=rules.routes,
        data=_storable(data),
        source_text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        warnings=tuple(_warnings(source, rules)),
    )


def _catches_every_ticket(policy: SlaPolicy) -> bool:
    where = policy.where
    every_priority = where.priority is None or len(where.priority) == len(Priority)
    return every_priority and all(
        getattr(where, key) is None for key in WHERE_KEYS if key != "priority"
    )


def _warnings(source: str, rules: Rules) -> list[str]:
    """What is valid but probably a mistake: SLA policies none of which takes every
    ticket, so a ticket they all miss (no organization, another segment) runs without
    clocks. A desk without any policy is one without SLAs, which is a choice."""
    if rules.sla and not any(_catches_every_ticket(policy) for policy in rules.sla):
        last = len(rules.sla) - 1
        return [
            f"{source}: sla: no policy takes every ticket (each has a where), so a ticket "
            f"none matches has no SLA clocks: end with a policy without where after "
            f"sla[{last}] ({rules.sla[last].name})"
        ]
    return []


def _parse_sections(source: str, data: Mapping[str, Any], *, strict: bool = True) -> Rules:
    """The rules of a document. `strict=False` reads a version stored by an older release as
    it was applied: the checks added since for rules files (minutes after hours under 60, a
    segment organizations can have, tags tickets can carry) are left to `stored_problems`."""
    errors: list[str] = []
    for key in data:
        if key not in KNOWN_SECTIONS:
            known = ", ".join(KNOWN_SECTIONS)
            errors.append(str(_fail(source, key, f"unknown section (expected one of: {known})")))
    desk = _parse_desk(source, data.get("desk", {}), errors)
    found: list[str] = []  # from key paths on; the file name is prefixed below
    tables = data.get("calendars", {})
    calendars: dict[str, Calendar] = {}
    if not isinstance(tables, Mapping):
        found.append("calendars: expected a table of calendars ([calendars.<name>])")
        tables = {}
    for name, table in tables.items():
        try:
            calendars[name] = parse_calendar(name, table)
        except CalendarError as error:
            found.append(" ".join(str(error).split()))  # always one line
    rules = Rules(
        desk=desk,
        calendars=calendars,
        # A policy naming a calendar whose table has an error of its own is not told that
        # the calendar is unknown: the calendar's error says what is wrong.
        sla=parse_policies(data.get("sla", []), tables.keys(), found, strict=strict),
        escalations=parse_escalations(data.get("escalation", []), found, strict=strict),
        routes=parse_routes(data.get("route", []), found, strict=strict),
    )
    errors += [f"{source}: {error}" for error in found]
    if errors:
        raise RulesError(errors, source)
    return rules


def rules_from_document(data: Mapping[str, Any] | None, source: str = "active rules") -> Rules:
    """The parsed rules of a stored (already validated) document, read as it was applied:
    a version applied before today's checks of rules files still works (see
    `_parse_sections`); empty rules when none is active. Services call it on the active
    version's `document`."""
    if not data:
        return Rules()
    return _parse_sections(source, data, strict=False)


def stored_problems(data: Mapping[str, Any] | None, source: str = "active rules") -> list[str]:
    """What the checks of a rules file (`parse_rules`) refuse in a stored document, each
    `<source>: <key path>: <reason>`; none for a document they accept or for no document.
    `helpdesk db check` reports them: the version keeps working as it was applied, until a
    corrected file is applied."""
    if not data:
        return []
    try:
        _parse_sections(source, data)
    except RulesError as error:
        return error.errors
    return []

"""SLA policies: which targets apply to a ticket, and why.

This module owns the `[[sla]]` array of the rules file (parsed into frozen `SlaPolicy` values),
the `where` matcher shared by SLA policies and escalation rules (`Where`, `parse_where`), and
the ticket facts they match on (`TicketFacts`). `select_policy` picks the first policy whose
`where` matches, top to bottom, and says why in words an agent can read. The SLA clock services
call it when a ticket changes; `document.parse_rules` calls the parsers. No clock, no I/O.

Errors are `RuleError`s (`rules.parsing`) whose message starts at the key path
(`sla[1].calendar: ...`); `document.parse_rules` prefixes the file name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from tui_helpdesk.domain import SEGMENTS, Channel, Priority, Status
from tui_helpdesk.rules.calendar import parse_duration
from tui_helpdesk.rules.parsing import (
    KeyChecks,
    RuleError,
    check_keys,
    expect_list,
    expect_table,
    expect_text,
    parse_array,
    show,
)
from tui_helpdesk.rules.tags import read_tag

SLA_KEYS = ("name", "calendar", "where", "first_response", "resolution")
WHERE_KEYS = ("priority", "segment", "group", "level", "category", "channel", "status", "tag")
LEVELS = (1, 2, 3)
PRIORITY_NAMES = tuple(priority.value for priority in Priority)
CATEGORY_SEPARATOR = ">"


def parse_priority(value: Any, key: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        names = ", ".join(Priority)
        raise RuleError(f"{key}: unknown priority {show(value)} (expected {names})") from None


def category_parts(path: str) -> tuple[str, ...]:
    """A category path ("Security > Phishing") as its names, whitespace around ">" ignored."""
    return tuple(part.strip() for part in path.split(CATEGORY_SEPARATOR))


def normalise_category(value: Any, key: str) -> str:
    text = expect_text(value, key)
    parts = category_parts(text)
    if not all(parts):
        raise RuleError(
            f'{key}: expected a category path like "Security > Phishing", got {show(value)}'
        )
    return f" {CATEGORY_SEPARATOR} ".join(parts)


# --- ticket facts and the where matcher ----------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What policies and escalation rules may ask about a ticket (plain values, no ORM)."""

    priority: Priority
    segment: str | None = None  # the requester organization's segment
    group: str | None = None
    level: int | None = None  # the group's support level, None for a functional team
    category: str | None = None  # the full path, "Security > Phishing"
    channel: Channel | None = None
    status: Status | None = None
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Where:
    """Conditions on ticket facts: every key given must match; within a key, any value does.

    An empty `Where` matches every ticket. `category` matches the path or any path below it
    ("Security" matches "Security > Phishing"); `tag` matches when any of the ticket's tags is
    listed.
    """

    priority: frozenset[Priority] | None = None
    segment: frozenset[str] | None = None
    group: frozenset[str] | None = None
    level: frozenset[int] | None = None
    category: tuple[str, ...] | None = None  # normalised paths, in the order written
    channel: frozenset[Channel] | None = None
    status: frozenset[Status] | None = None
    tag: frozenset[str] | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, key) is None for key in WHERE_KEYS)

    def matches(self, facts: TicketFacts) -> bool:
        return self.explain(facts) is not None

    def explain(self, facts: TicketFacts) -> str | None:
        """Why `facts` match ("segment is premium and priority is urgent"), or None."""
        reasons: list[str] = []
        for key, allowed, value in (
            ("priority", self.priority, facts.priority),
            ("segment", self.segment, facts.segment),
            ("group", self.group, facts.group),
            ("level", self.level, facts.level),
            ("channel", self.channel, facts.channel),
            ("status", self.status, facts.status),
        ):
            if allowed is None:
                continue
            if value is None or value not in allowed:
                return None
            reasons.append(f"{key} is {value}")
        if self.category is not None:
            under = _category_under(facts.category, self.category)
            if under is None:
                return None
            if under == facts.category:
                reasons.append(f"category is {under}")
            else:
                reasons.append(f"category {facts.category} is under {under}")
        if self.tag is not None:
            tags = sorted(self.tag & facts.tags)
            if not tags:
                return None
            reasons.append(f"tagged {', '.join(tags)}")
        return " and ".join(reasons) if reasons else "matches every ticket"


def _category_under(category: str | None, allowed: Iterable[str]) -> str | None:
    """The first allowed path that `category` equals or lies below, or None."""
    if not category:
        return None
    parts = category_parts(category)
    for path in allowed:
        prefix = category_parts(path)
        if parts[: len(prefix)] == prefix:
            return path
    return None


def parse_where(value: Any, path: str, *, strict: bool = True) -> Where:
    """Validate a `where` table (of an SLA policy or an escalation rule). `strict=False`
    reads a stored version as it was applied: any segment (one no organization has matches
    none), and tags no ticket can carry left out (so they match none)."""
    table = expect_table(value, path)
    check_keys(table, WHERE_KEYS, path)
    fields: dict[str, Any] = {}
    for key, items in table.items():
        key_path = f"{path}.{key}"
        values = expect_list(items, key_path)
        parsed = [
            _parse_where_value(key, item, f"{key_path}[{i}]", strict)
            for i, item in enumerate(values)
        ]
        parsed = [item for item in parsed if item is not None]  # tags read_tag dropped
        fields[key] = tuple(dict.fromkeys(parsed)) if key == "category" else frozenset(parsed)
    return Where(**fields)


def _parse_where_value(key: str, value: Any, path: str, strict: bool) -> Any:
    if key == "priority":
        return parse_priority(value, path)
    if key == "channel":
        try:
            return Channel(value)
        except ValueError:
            names = ", ".join(Channel)
            raise RuleError(f"{path}: unknown channel {show(value)} (expected {names})") from None
    if key == "status":
        try:
            return Status(value)
        except ValueError:
            names = ", ".join(Status)
            raise RuleError(f"{path}: unknown status {show(value)} (expected {names})") from None
    if key == "level":
        if type(value) is not int or value not in LEVELS:
            raise RuleError(f"{path}: expected a support level 1, 2 or 3, got {show(value)}")
        return value
    if key == "category":
        return normalise_category(value, path)
    if key == "tag":
        return read_tag(value, path, strict=strict)
    # A stored version's unknown segment is kept: no organization has it, so it matches none.
    if key == "segment" and strict and value not in SEGMENTS:
        names = ", ".join(SEGMENTS)
        raise RuleError(f"{path}: unknown segment {show(value)} (expected {names})")
    return expect_text(value, path)


# --- SLA policies ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    calendar: str  # the name of a calendar of the same document
    where: Where
    first_response: Mapping[Priority, timedelta]
    resolution: Mapping[Priority, timedelta]

    def targets(self, priority: Priority) -> tuple[timedelta, timedelta]:
        """(first response, resolution) working-time targets for a priority."""
        return self.first_response[priority], self.resolution[priority]


def parse_sla(
    index: int, table: Any, calendars: Iterable[str], *, strict: bool = True
) -> SlaPolicy:
    """Validate `sla[index]`, naming every bad key; `calendars` are the names of the
    document's calendars. `strict=False` reads a stored version (see `parse_where`)."""
    path = f"sla[{index}]"
    table = expect_table(table, path)
    checks = KeyChecks()
    checks.take(lambda: check_keys(table, SLA_KEYS, path))
    for key in ("name", "calendar", "first_response", "resolution"):
        if key not in table:
            checks.fail(f"{path}.{key}: missing")
    known = sorted(calendars)

    def calendar_name() -> str:
        calendar = expect_text(table["calendar"], f"{path}.calendar")
        if calendar not in known:
            listed = ", ".join(known) if known else "none defined"
            raise RuleError(
                f"{path}.calendar: unknown calendar {show(calendar)} (calendars: {listed})"
            )
        return calendar

    name = (
        checks.take(partial(expect_text, table["name"], f"{path}.name"))
        if "name" in table
        else None
    )
    calendar = checks.take(calendar_name) if "calendar" in table else None
    where: Where | None = Where()
    if "where" in table:
        where = checks.take(partial(parse_where, table["where"], f"{path}.where", strict=strict))
    targets = {
        key: checks.take(partial(_parse_targets, table[key], f"{path}.{key}", strict))
        for key in ("first_response", "resolution")
        if key in table
    }
    checks.done()
    first_response, resolution = targets.get("first_response"), targets.get("resolution")
    # done() raised unless every part parsed
    assert name and calendar and where is not None and first_response and resolution
    return SlaPolicy(
        name=name,
        calendar=calendar,
        where=where,
        first_response=first_response,
        resolution=resolution,
    )


def _parse_targets(value: Any, path: str, strict: bool) -> dict[Priority, timedelta]:
    table = expect_table(value, path)
    names = ", ".join(Priority)
    checks = KeyChecks()
    for key in table:
        if key not in PRIORITY_NAMES:
            checks.fail(f"{path}.{key}: unknown priority (expected {names})")
    targets: dict[Priority, timedelta] = {}
    for priority in Priority:
        key = f"{path}.{priority}"
        if priority.value not in table:
            checks.fail(f"{key}: missing (every priority needs a target: {names})")
            continue
        duration = checks.take(partial(parse_duration, table[priority.value], key, strict=strict))
        if duration is None:
            continue
        if not duration:
            checks.fail(f"{key}: a target must be longer than zero")
        targets[priority] = duration
    checks.done()
    return targets


def parse_policies(
    items: Any, calendars: Iterable[str], errors: list[str], *, strict: bool = True
) -> tuple[SlaPolicy, ...]:
    """Validate the whole `[[sla]]` array (see `parse_array`); policy names are unique.
    `calendars` are the names of the document's calendar tables."""
    names = tuple(calendars)
    return parse_array(
        items, "sla", lambda index, table: parse_sla(index, table, names, strict=strict), errors
    )


def select_policy(
    policies: Iterable[SlaPolicy], facts: TicketFacts
) -> tuple[SlaPolicy, str] | None:
    """The first policy whose `where` matches, top to bottom, and why ("premium: segment is
    premium"); None when no policy matches (the ticket then has no SLA clocks)."""
    for policy in policies:
        reason = policy.where.explain(facts)
        if reason is not None:
            return policy, f"{policy.name}: {reason}"
    return None

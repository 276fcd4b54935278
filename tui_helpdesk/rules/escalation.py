"""Automation rules of the rules file: escalation (`[[escalation]]`) and routing (`[[route]]`).

This module owns the parsing and validation of both arrays into frozen values, and the pure
routing decision `classify`. Escalation rules are only data here: `helpdesk escalate` (services)
selects candidates by due time, asks `Where.matches` and `EscalationRule.at` whether a rule is
due, and applies its typed actions. `document.parse_rules` calls the parsers. No clock, no I/O.

Escalation rule (DESIGN §4, issue 4)::

    [[escalation]]
    name = "warn-first-response"    # unique
    on = "first_response"   # first_response | resolution | idle | unassigned | customer_request
    at = "80%"                      # "NN%" (1-100) or "breach" for first_response / resolution,
                                    # a working-time duration ("15m", "4h") for idle / unassigned,
                                    # nothing for customer_request
    where = { priority = ["high", "urgent"] }   # optional, see sla.Where
    actions = ["notify:assignee", "notify:group_lead"]

Actions: `raise_priority`, `set_priority:<p>`, `level_up`, `move:<group>`, `assign:<login>`,
`unassign`, `tag:<t>`, `note:<text>`, `notify:assignee|group_lead|group|requester|<email>`.

Route (DESIGN §5)::

    [[route]]
    name = "phishing-reports"       # unique
    [route.where]                   # or inline: where = { subject = ["phishing"] }
    channel = ["email"]
    sender_domain = ["example.com"]
    contact = ["a@b.com"]
    subject = ["phishing"]
    body = ["suspicious link"]
    subject_regex = "^\\[SEC\\]"
    body_regex = "(?i)invoice #\\d+"
    [route.set]
    category = "Security > Phishing"
    priority = "high"
    group = "SecOps"
    tags = ["security"]
    skills = ["forensics"]

Every `where` key given must match, and within a key any value does. `sender_domain` matches
the sender's domain or any subdomain of it; `set.skills` are what an agent needs to be
given the ticket by automatic assignment; `contact` is the sender's address; `subject` and
`body` are keywords matched case-insensitively anywhere in the text; the regexes are Python
regular expressions searched in the text. A route without `where` matches every message (a
catch-all default at the bottom). `set` needs at least one of its keys.

Routing semantics (chosen so that a small tag rule never hides a category rule, and every
decision still names exactly one rule): every matching route applies, top to bottom; the first
route to set a field wins it, later routes only fill fields still unset; tags and skills
accumulate.
`classify` returns, per contributing route, the changes it decided.

Errors are `RuleError`s whose message starts at the key path (`escalation[2].actions[1]: ...`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.rules.calendar import CalendarError, parse_duration
from tui_helpdesk.rules.sla import (
    RuleError,
    Where,
    check_keys,
    check_unique,
    expect_list,
    expect_table,
    expect_text,
    normalise_category,
    parse_priority,
    parse_where,
    show,
)

ESCALATION_KEYS = ("name", "on", "at", "where", "actions")
ROUTE_KEYS = ("name", "where", "set")
ROUTE_WHERE_KEYS = (
    "channel",
    "sender_domain",
    "contact",
    "subject",
    "body",
    "subject_regex",
    "body_regex",
)
ROUTE_SET_KEYS = ("category", "priority", "group", "tags", "skills")

_PERCENT = re.compile(r"(\d{1,3})%", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Trigger(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"
    IDLE = "idle"  # no public message for a duration
    UNASSIGNED = "unassigned"  # nobody assigned for a duration
    CUSTOMER_REQUEST = "customer_request"  # the customer asked to escalate

    @property
    def is_target(self) -> bool:
        """Triggers measured against an SLA target (percentage or breach)."""
        return self in (Trigger.FIRST_RESPONSE, Trigger.RESOLUTION)


# --- when a rule fires -----------------------------------------------------------------------


@dataclass(frozen=True)
class AtPercent:
    """Fires when this share of the SLA target has elapsed (100 = at the due time)."""

    percent: int

    def __str__(self) -> str:
        return f"{self.percent}%"


@dataclass(frozen=True)
class AtBreach:
    """Fires once the SLA target is breached."""

    def __str__(self) -> str:
        return "breach"


@dataclass(frozen=True)
class AtDuration:
    """Fires after this much working time idle or unassigned."""

    duration: timedelta

    def __str__(self) -> str:
        minutes = int(self.duration.total_seconds()) // 60
        hours, minutes = divmod(minutes, 60)
        return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


At = AtPercent | AtBreach | AtDuration


# --- actions ---------------------------------------------------------------------------------


class NotifyTarget(enum.StrEnum):
    ASSIGNEE = "assignee"
    GROUP_LEAD = "group_lead"
    GROUP = "group"
    REQUESTER = "requester"


@dataclass(frozen=True)
class RaisePriority:
    def __str__(self) -> str:
        return "raise_priority"


@dataclass(frozen=True)
class SetPriority:
    priority: Priority

    def __str__(self) -> str:
        return f"set_priority:{self.priority}"


@dataclass(frozen=True)
class LevelUp:
    """Hierarchical escalation: to the group's next-level group."""

    def __str__(self) -> str:
        return "level_up"


@dataclass(frozen=True)
class MoveToGroup:
    """Functional escalation: to a named group."""

    group: str

    def __str__(self) -> str:
        return f"move:{self.group}"


@dataclass(frozen=True)
class Assign:
    login: str

    def __str__(self) -> str:
        return f"assign:{self.login}"


@dataclass(frozen=True)
class Unassign:
    def __str__(self) -> str:
        return "unassign"


@dataclass(frozen=True)
class AddTag:
    tag: str

    def __str__(self) -> str:
        return f"tag:{self.tag}"


@dataclass(frozen=True)
class AddNote:
    text: str

    def __str__(self) -> str:
        return f"note:{self.text}"


@dataclass(frozen=True)
class Notify:
    """Queue a notification (outbox) to a role of the ticket, or to a fixed address."""

    to: NotifyTarget | str  # a NotifyTarget, or an email address

    def __str__(self) -> str:
        return f"notify:{self.to}"


Action = (
    RaisePriority
    | SetPriority
    | LevelUp
    | MoveToGroup
    | Assign
    | Unassign
    | AddTag
    | AddNote
    | Notify
)

ACTION_FORMS = (
    "raise_priority",
    "set_priority:<p>",
    "level_up",
    "move:<group>",
    "assign:<login>",
    "unassign",
    "tag:<t>",
    "note:<text>",
    "notify:assignee|group_lead|group|requester|<email>",
)
_NO_ARGUMENT = {"raise_priority": RaisePriority, "level_up": LevelUp, "unassign": Unassign}
_ARGUMENT_EXAMPLE = {
    "set_priority": "set_priority:urgent",
    "move": "move:SecOps",
    "assign": "assign:alice",
    "tag": "tag:needs-owner",
    "note": "note:First response target missed",
    "notify": "notify:group_lead",
}


def parse_action(value: Any, path: str) -> Action:
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f'{path}: expected an action like "notify:assignee", got {show(value)}')
    verb, colon, argument = value.strip().partition(":")
    verb, argument = verb.strip(), argument.strip()
    if verb in _NO_ARGUMENT:
        if colon:
            raise RuleError(f"{path}: {verb} takes no argument, got {show(value)}")
        return _NO_ARGUMENT[verb]()
    if verb not in _ARGUMENT_EXAMPLE:
        raise RuleError(
            f"{path}: unknown action {show(value)} (expected one of {', '.join(ACTION_FORMS)})"
        )
    if not argument:
        raise RuleError(f"{path}: {verb} needs an argument, like {show(_ARGUMENT_EXAMPLE[verb])}")
    if verb == "set_priority":
        return SetPriority(parse_priority(argument, path))
    if verb == "move":
        return MoveToGroup(argument)
    if verb == "assign":
        return Assign(argument)
    if verb == "tag":
        return AddTag(argument)
    if verb == "note":
        return AddNote(argument)
    if argument in {target.value for target in NotifyTarget}:
        return Notify(NotifyTarget(argument))
    if _EMAIL.fullmatch(argument):
        return Notify(argument)
    targets = ", ".join(NotifyTarget)
    raise RuleError(f"{path}: notify needs one of {targets} or an email address, got {show(value)}")


# --- escalation rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class EscalationRule:
    name: str
    on: Trigger
    at: At | None  # None only for customer_request
    where: Where
    actions: tuple[Action, ...]


def parse_escalation(index: int, table: Any) -> EscalationRule:
    path = f"escalation[{index}]"
    table = expect_table(table, path)
    check_keys(table, ESCALATION_KEYS, path)
    for key in ("name", "on", "actions"):
        if key not in table:
            raise RuleError(f"{path}.{key}: missing")
    name = expect_text(table["name"], f"{path}.name")
    try:
        on = Trigger(table["on"])
    except ValueError:
        names = " | ".join(Trigger)
        raise RuleError(f"{path}.on: expected {names}, got {show(table['on'])}") from None
    at = _parse_at(on, table.get("at"), f"{path}.at")
    where = parse_where(table["where"], f"{path}.where") if "where" in table else Where()
    actions_path = f"{path}.actions"
    actions = tuple(
        parse_action(item, f"{actions_path}[{i}]")
        for i, item in enumerate(expect_list(table["actions"], actions_path))
    )
    return EscalationRule(name=name, on=on, at=at, where=where, actions=actions)


def _parse_at(on: Trigger, value: Any, path: str) -> At | None:
    if on is Trigger.CUSTOMER_REQUEST:
        if value is not None:
            raise RuleError(f'{path}: on = "customer_request" takes no at (it fires on request)')
        return None
    if value is None:
        example = '"80%" or "breach"' if on.is_target else 'a duration like "4h"'
        raise RuleError(f'{path}: missing (on = "{on}" needs {example})')
    if not isinstance(value, str):
        value_text = show(value)
        raise RuleError(
            f'{path}: expected a percentage like "80%", "breach" or a duration, got {value_text}'
        )
    text = value.strip()
    at: At
    percent = _PERCENT.fullmatch(text)
    if percent:
        number = int(percent.group(1))
        if not 1 <= number <= 100:
            raise RuleError(f"{path}: a percentage runs from 1% to 100%, got {show(value)}")
        at = AtPercent(number)
    elif text == "breach":
        at = AtBreach()
    else:
        try:
            duration = parse_duration(text, path)
        except CalendarError:
            raise RuleError(
                f'{path}: expected a percentage like "80%", "breach" or a duration '
                f'like "4h" or "1h30m", got {show(value)}'
            ) from None
        if not duration:
            raise RuleError(f"{path}: a duration must be longer than zero")
        at = AtDuration(duration)
    if on.is_target and isinstance(at, AtDuration):
        raise RuleError(
            f'{path}: on = "{on}" takes a percentage of the target like "80%" or "breach", '
            f"got {show(value)}"
        )
    if not on.is_target and not isinstance(at, AtDuration):
        raise RuleError(
            f'{path}: on = "{on}" takes a working-time duration like "4h", got {show(value)} '
            "(percentages and breach apply to first_response and resolution)"
        )
    return at


def parse_escalations(items: Any) -> tuple[EscalationRule, ...]:
    """Validate the whole `[[escalation]]` array; rule names are unique."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise RuleError("escalation: expected an array of tables ([[escalation]])")
    rules = tuple(parse_escalation(index, table) for index, table in enumerate(items))
    check_unique([rule.name for rule in rules], "escalation")
    return rules


# --- routing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageFacts:
    """What routes may ask about an incoming message (plain values)."""

    channel: Channel
    sender: str | None = None  # the sender's email address, if any
    subject: str = ""
    body: str = ""


@dataclass(frozen=True)
class RouteWhere:
    channel: frozenset[Channel] | None = None
    sender_domain: tuple[str, ...] | None = None  # lower case
    contact: frozenset[str] | None = None  # lower case
    subject: tuple[str, ...] | None = None  # lower case keywords
    body: tuple[str, ...] | None = None
    subject_regex: re.Pattern[str] | None = None
    body_regex: re.Pattern[str] | None = None

    def matches(self, facts: MessageFacts) -> bool:
        sender = (facts.sender or "").strip().lower()
        domain = sender.rpartition("@")[2] if "@" in sender else ""
        subject, body = facts.subject.lower(), facts.body.lower()
        checks = (
            self.channel is None or facts.channel in self.channel,
            self.sender_domain is None
            or any(domain == d or domain.endswith(f".{d}") for d in self.sender_domain),
            self.contact is None or sender in self.contact,
            self.subject is None or any(word in subject for word in self.subject),
            self.body is None or any(word in body for word in self.body),
            self.subject_regex is None or self.subject_regex.search(facts.subject) is not None,
            self.body_regex is None or self.body_regex.search(facts.body) is not None,
        )
        return all(checks)


@dataclass(frozen=True)
class RouteSet:
    """Fields a route sets; None (or no tags) leaves the field alone."""

    category: str | None = None
    priority: Priority | None = None
    group: str | None = None
    tags: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.category, self.priority, self.group, self.tags, self.skills))


@dataclass(frozen=True)
class Route:
    name: str
    where: RouteWhere
    set: RouteSet


class RouteDecision(NamedTuple):
    rule: str
    changes: RouteSet


def parse_route(index: int, table: Any) -> Route:
    path = f"route[{index}]"
    table = expect_table(table, path)
    check_keys(table, ROUTE_KEYS, path)
    for key in ("name", "set"):
        if key not in table:
            raise RuleError(f"{path}.{key}: missing")
    name = expect_text(table["name"], f"{path}.name")
    where = _parse_route_where(table["where"], f"{path}.where") if "where" in table else None
    return Route(name=name, where=where or RouteWhere(), set=_parse_route_set(table["set"], path))


def _parse_route_where(value: Any, path: str) -> RouteWhere:
    table = expect_table(value, path)
    check_keys(table, ROUTE_WHERE_KEYS, path)
    fields: dict[str, Any] = {}
    for key, item in table.items():
        key_path = f"{path}.{key}"
        if key.endswith("_regex"):
            pattern = expect_text(item, key_path)
            try:
                fields[key] = re.compile(pattern)
            except re.error as error:
                raise RuleError(f"{key_path}: invalid regex {show(pattern)}: {error}") from None
            continue
        values = expect_list(item, key_path)
        texts = [expect_text(v, f"{key_path}[{i}]") for i, v in enumerate(values)]
        if key == "channel":
            fields[key] = frozenset(
                _parse_channel(v, f"{key_path}[{i}]") for i, v in enumerate(texts)
            )
        elif key == "contact":
            for i, text in enumerate(texts):
                if not _EMAIL.fullmatch(text):
                    raise RuleError(f"{key_path}[{i}]: expected an email address, got {show(text)}")
            fields[key] = frozenset(text.lower() for text in texts)
        elif key == "sender_domain":
            for i, text in enumerate(texts):
                if "@" in text or " " in text or "." not in text.strip("."):
                    raise RuleError(
                        f'{key_path}[{i}]: expected a domain like "example.com", got {show(text)}'
                    )
            fields[key] = tuple(text.lower().strip(".") for text in texts)
        else:
            fields[key] = tuple(text.lower() for text in texts)
    return RouteWhere(**fields)


def _parse_channel(value: str, path: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        names = ", ".join(Channel)
        raise RuleError(f"{path}: unknown channel {show(value)} (expected {names})") from None


def _parse_route_set(value: Any, route_path: str) -> RouteSet:
    path = f"{route_path}.set"
    table = expect_table(value, path)
    check_keys(table, ROUTE_SET_KEYS, path)
    if not table:
        raise RuleError(f"{path}: expected at least one of {', '.join(ROUTE_SET_KEYS)}")
    tags = _texts(table, "tags", path)
    skills = _texts(table, "skills", path)
    return RouteSet(
        category=normalise_category(table["category"], f"{path}.category")
        if "category" in table
        else None,
        priority=parse_priority(table["priority"], f"{path}.priority")
        if "priority" in table
        else None,
        group=expect_text(table["group"], f"{path}.group") if "group" in table else None,
        tags=tags,
        skills=skills,
    )


def _texts(table: Any, key: str, path: str) -> tuple[str, ...]:
    """An optional list of non-empty strings, duplicates dropped, in the order written."""
    if key not in table:
        return ()
    items = expect_list(table[key], f"{path}.{key}")
    return tuple(dict.fromkeys(expect_text(t, f"{path}.{key}[{i}]") for i, t in enumerate(items)))


def parse_routes(items: Any) -> tuple[Route, ...]:
    """Validate the whole `[[route]]` array; route names are unique."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise RuleError("route: expected an array of tables ([[route]])")
    routes = tuple(parse_route(index, table) for index, table in enumerate(items))
    check_unique([route.name for route in routes], "route")
    return routes


def classify(routes: Iterable[Route], facts: MessageFacts) -> list[RouteDecision]:
    """What the routes decide for a message: one decision per route that changed something,
    top to bottom. The first route to set a field wins it; tags accumulate (see the module
    docstring). An empty list means no route matched."""
    decisions: list[RouteDecision] = []
    taken: set[str] = set()
    tags: set[str] = set()
    skills: set[str] = set()
    for route in routes:
        if not route.where.matches(facts):
            continue
        wanted = route.set
        changes = RouteSet(
            category=wanted.category if "category" not in taken else None,
            priority=wanted.priority if "priority" not in taken else None,
            group=wanted.group if "group" not in taken else None,
            tags=tuple(tag for tag in wanted.tags if tag not in tags),
            skills=tuple(skill for skill in wanted.skills if skill not in skills),
        )
        for key in ("category", "priority", "group"):
            if getattr(changes, key) is not None:
                taken.add(key)
        tags.update(changes.tags)
        skills.update(changes.skills)
        if changes:
            decisions.append(RouteDecision(route.name, changes))
    return decisions

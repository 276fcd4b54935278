"""Routing rules of the rules file (`[[route]]`, DESIGN §5): how new tickets are classified.

This module owns the parsing and validation of the array into frozen values and the pure
decision `classify`. Ticket creation (services.routing) asks it what the routes decide for a
new ticket's message. No clock, no I/O.

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

Errors are `RuleError`s whose message starts at the key path (`route[2].set.group: ...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from tui_helpdesk.domain import Channel, Priority
from tui_helpdesk.rules.escalation import EMAIL
from tui_helpdesk.rules.parsing import (
    RuleError,
    check_keys,
    expect_list,
    expect_table,
    expect_text,
    parse_array,
    show,
)
from tui_helpdesk.rules.sla import normalise_category, parse_priority
from tui_helpdesk.rules.tags import read_tag

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


def parse_route(index: int, table: Any, *, strict: bool = True) -> Route:
    """Validate `route[index]`; `strict=False` reads a stored version as it was applied
    (tags no ticket can carry, refused since, are left out of its `set`)."""
    path = f"route[{index}]"
    table = expect_table(table, path)
    check_keys(table, ROUTE_KEYS, path)
    for key in ("name", "set"):
        if key not in table:
            raise RuleError(f"{path}.{key}: missing")
    name = expect_text(table["name"], f"{path}.name")
    where = _parse_route_where(table["where"], f"{path}.where") if "where" in table else None
    return Route(
        name=name, where=where or RouteWhere(), set=_parse_route_set(table["set"], path, strict)
    )


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
                if not EMAIL.fullmatch(text):
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


def _parse_route_set(value: Any, route_path: str, strict: bool) -> RouteSet:
    path = f"{route_path}.set"
    table = expect_table(value, path)
    check_keys(table, ROUTE_SET_KEYS, path)
    if not table:
        raise RuleError(f"{path}: expected at least one of {', '.join(ROUTE_SET_KEYS)}")
    read = (
        read_tag(tag, f"{path}.tags[{i}]", strict=strict)
        for i, tag in enumerate(
            expect_list(table["tags"], f"{path}.tags") if "tags" in table else ()
        )
    )
    tags = tuple(dict.fromkeys(tag for tag in read if tag is not None))
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


def parse_routes(items: Any, errors: list[str], *, strict: bool = True) -> tuple[Route, ...]:
    """Validate the whole `[[route]]` array (see `parse_array`); route names are unique."""
    return parse_array(items, "route", partial(parse_route, strict=strict), errors)


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

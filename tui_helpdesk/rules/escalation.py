"""Escalation rules of the rules file (`[[escalation]]`): triggers, thresholds and actions.

This module owns the parsing and validation of the array into frozen values. The rules are
only data here: `rules.triggers` says when each is due for a ticket, and `helpdesk escalate`
(services.escalation) applies its typed actions. `document.parse_rules` calls the parsers.
No clock, no I/O.

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

Errors are `RuleError`s whose message starts at the key path (`escalation[2].actions[1]: ...`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from tui_helpdesk.domain import Priority
from tui_helpdesk.rules.calendar import CalendarError, parse_duration
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
from tui_helpdesk.rules.sla import Where, parse_priority, parse_where
from tui_helpdesk.rules.tags import read_tag

_HOURS_AND_MINUTES = re.compile(r"\d+h\d+m", re.ASCII)
ESCALATION_KEYS = ("name", "on", "at", "where", "actions")

_PERCENT = re.compile(r"(\d{1,3})%", re.ASCII)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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


def parse_action(value: Any, path: str, *, strict: bool = True) -> Action | None:
    """One action of a rule. None only when `strict=False` (a stored version, applied before
    tags were checked) and it adds a tag no ticket can carry: the rule goes without it."""
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
        tag = read_tag(argument, path, strict=strict)
        return AddTag(tag) if tag is not None else None
    if verb == "note":
        return AddNote(argument)
    if argument in {target.value for target in NotifyTarget}:
        return Notify(NotifyTarget(argument))
    if EMAIL.fullmatch(argument):
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


def parse_escalation(index: int, table: Any, *, strict: bool = True) -> EscalationRule:
    """Validate `escalation[index]`, naming every bad key of it. `strict=False` reads a
    stored version as it was applied (see `parse_where` and `parse_action`)."""
    path = f"escalation[{index}]"
    table = expect_table(table, path)
    checks = KeyChecks()
    checks.take(partial(check_keys, table, ESCALATION_KEYS, path))
    for key in ("name", "on", "actions"):
        if key not in table:
            checks.fail(f"{path}.{key}: missing")
    name = (
        checks.take(partial(expect_text, table["name"], f"{path}.name"))
        if "name" in table
        else None
    )
    on = checks.take(partial(_parse_on, table["on"], f"{path}.on")) if "on" in table else None
    at = checks.take(partial(_parse_at, on, table.get("at"), f"{path}.at", strict)) if on else None
    where: Where | None = Where()
    if "where" in table:
        where = checks.take(partial(parse_where, table["where"], f"{path}.where", strict=strict))
    actions: list[Action | None] = []
    if "actions" in table:
        actions_path = f"{path}.actions"
        items = checks.take(partial(expect_list, table["actions"], actions_path)) or ()
        actions = [
            checks.take(partial(parse_action, item, f"{actions_path}[{i}]", strict=strict))
            for i, item in enumerate(items)
        ]
    checks.done()
    assert name and on and where is not None  # else done() raised
    return EscalationRule(
        name=name, on=on, at=at, where=where, actions=tuple(a for a in actions if a is not None)
    )


def _parse_on(value: Any, path: str) -> Trigger:
    try:
        return Trigger(value)
    except ValueError:
        names = " | ".join(Trigger)
        raise RuleError(f"{path}: expected {names}, got {show(value)}") from None


def _parse_at(on: Trigger, value: Any, path: str, strict: bool) -> At | None:
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
            duration = parse_duration(text, path, strict=strict)
        except CalendarError as error:
            if _HOURS_AND_MINUTES.fullmatch(text):  # a duration, with a slip in its minutes
                raise RuleError(str(error)) from None
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


def parse_escalations(
    items: Any, errors: list[str], *, strict: bool = True
) -> tuple[EscalationRule, ...]:
    """Validate the whole `[[escalation]]` array (see `parse_array`); names are unique."""
    return parse_array(items, "escalation", partial(parse_escalation, strict=strict), errors)

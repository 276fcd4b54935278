"""The generic parsing of the rules document's tables: errors and their key paths.

`RuleError` (one problem, `<key path>: <reason>`) and `RuleErrors` (several of one table),
checks of a value's shape (`expect_table`, `expect_text`, `expect_list`, `check_keys`),
`KeyChecks` to name every bad key of a table in one run, and `parse_array` for the arrays of
tables (`[[sla]]`, `[[escalation]]`, `[[route]]`). The SLA, escalation, routing and tag
parsers build on them; `document.parse_rules` prefixes the file name. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from tui_helpdesk.rules.calendar import CalendarError


class RuleError(ValueError):
    """An invalid SLA policy, escalation or route; the message is `<key path>: <reason>`."""


class RuleErrors(RuleError):
    """Several problems of one table, each `<key path>: <reason>` in `messages`."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def messages_of(error: Exception) -> list[str]:
    """The one-line messages of a rule error (several for `RuleErrors`)."""
    if isinstance(error, RuleErrors):
        return error.messages
    return [" ".join(str(error).split())]


T = TypeVar("T")


class KeyChecks:
    """Checks a table's keys one by one, so that one run names every bad key of it:
    `take` runs a parser and keeps its error, `done` raises them all as `RuleErrors`."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def fail(self, message: str) -> None:
        self.messages.append(message)

    def take(self, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except (RuleError, CalendarError) as error:
            self.messages.extend(messages_of(error))
            return None

    def done(self) -> None:
        if self.messages:
            raise RuleErrors(self.messages)


def show(value: Any) -> str:
    """A value as the admin wrote it: strings in double quotes, like TOML."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def expect_table(value: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RuleError(f"{key}: expected a table, got {show(value)}")
    return value


def expect_text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{key}: expected a non-empty string, got {show(value)}")
    return value.strip()


def expect_list(value: Any, key: str) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise RuleError(f"{key}: expected a non-empty list, got {show(value)}")
    return value


def check_keys(table: Mapping[str, Any], known: Sequence[str], path: str) -> None:
    for key in table:
        if key not in known:
            raise RuleError(f"{path}.{key}: unknown key (expected one of {', '.join(known)})")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def parse_array(
    items: Any, section: str, parse_one: Callable[[int, Any], N], errors: list[str]
) -> tuple[N, ...]:
    """Validate each table of an array of tables (`[[sla]]`, `[[escalation]]`, `[[route]]`)
    on its own, so one run reports a problem in each: a table's first error goes to `errors`
    (one line, from its key path on) and the table is left out. Names are unique among the
    tables that parsed."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        errors.append(f"{section}: expected an array of tables ([[{section}]])")
        return ()
    parsed: list[N] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(items):
        try:
            item = parse_one(index, table)
        except (RuleError, CalendarError) as error:
            errors.extend(messages_of(error))
            continue
        if item.name in seen:
            errors.append(
                f"{section}[{index}].name: duplicate name {show(item.name)} "
                f"(already used by {section}[{seen[item.name]}])"
            )
            continue
        seen[item.name] = index
        parsed.append(item)
    return tuple(parsed)

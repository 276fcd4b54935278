"""Mail templates: the subject and body of every kind of mail the desk writes.

Each event (ack, reply, survey, notify) has a built-in template file in
`tui_helpdesk/templates/<event>.txt`; a file of the same name in the folder named by the
config's `mail.templates` overrides it. A template is a `Subject: ...` line, a blank line and
the body, with `{placeholders}` (`{{` and `}}` for literal braces). Templates are checked when
they are loaded, not when a mail is written: an unknown placeholder, a format spec, or a file
without its subject line is a `TemplateError` naming the file, so a typo stops `mail send` or
the console at start-up instead of sending "{tikcet}" to a customer.

`services.outgoing` and `services.notify` render them when they queue a mail.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from tui_helpdesk.services.errors import ValidationError

# What every template may use, then what each event adds.
COMMON = frozenset(
    {"ticket", "subject", "desk", "requester_name", "requester_email", "status", "priority"}
)
PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "ack": COMMON,
    "reply": COMMON | {"body", "agent_name"},
    "survey": COMMON,
    "notify": COMMON | {"title", "body"},
}
EVENTS = tuple(PLACEHOLDERS)
SUFFIX = ".txt"


class TemplateError(ValidationError):
    """A template that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Template:
    event: str
    subject: str
    body: str
    source: str  # the file it came from, for messages

    def render(self, values: Mapping[str, str]) -> tuple[str, str]:
        """(subject, body) with the placeholders filled in. Values are inserted as they
        are: nothing in them is interpreted (a customer's "{ticket}" stays as written)."""
        subject = " ".join(self.subject.format_map(_Values(values)).split())
        return subject, self.body.format_map(_Values(values))


class _Values(dict[str, str]):
    """Placeholders checked at load time that a caller did not fill render empty."""

    def __missing__(self, key: str) -> str:
        return ""


def _check_placeholders(source: str, event: str, text: str) -> None:
    allowed = PLACEHOLDERS[event]
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        raise TemplateError(f"{source}: {exc} (write {{{{ or }}}} for a literal brace)") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            known = ", ".join(f"{{{n}}}" for n in sorted(allowed))
            shown = name or "(empty)"
            raise TemplateError(
                f"{source}: unknown placeholder {{{shown}}} (a {event} template may use {known})"
            )
        if spec or conversion:
            raise TemplateError(f"{source}: placeholder {{{name}}} takes no format or conversion")


def parse_template(event: str, text: str, source: str) -> Template:
    """A template from its file's text, checked."""
    if event not in PLACEHOLDERS:
        raise TemplateError(f"{source}: unknown template (expected one of: {', '.join(EVENTS)})")
    first, newline, rest = text.replace("\r\n", "\n").partition("\n")
    head, colon, subject = first.partition(":")
    if not colon or head.strip().lower() != "subject" or not subject.strip():
        raise TemplateError(f"{source}: the first line must be 'Subject: ...'")
    if newline and rest and rest.split("\n", 1)[0].strip():
        raise TemplateError(f"{source}: a blank line must follow the subject line")
    body = rest.split("\n", 1)[1] if "\n" in rest else ""
    _check_placeholders(source, event, subject)
    _check_placeholders(source, event, body)
    return Template(event, subject.strip(), body, source)


@dataclass(frozen=True)
class TemplateSet:
    """The templates in use: the built-in ones, each possibly overridden."""

    templates: Mapping[str, Template]

    def render(self, event: str, values: Mapping[str, str]) -> tuple[str, str]:
        return self.templates[event].render(values)


def _builtin(event: str) -> Template:
    text = (resources.files("tui_helpdesk") / "templates" / f"{event}{SUFFIX}").read_text("utf-8")
    return parse_template(event, text, f"built-in {event}{SUFFIX}")


@lru_cache(maxsize=1)
def builtin_templates() -> TemplateSet:
    return TemplateSet({event: _builtin(event) for event in EVENTS})


def load_templates(folder: Path | None) -> TemplateSet:
    """The built-in templates, with `<event>.txt` files of `folder` overriding them. Other
    `.txt` files in the folder are errors too: a misspelt name would otherwise be ignored."""
    if folder is None:
        return builtin_templates()
    if not folder.is_dir():
        raise TemplateError(f"{folder}: mail.templates: not a folder")
    chosen = dict(builtin_templates().templates)
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        event = path.name.removesuffix(SUFFIX)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{path}: cannot read: {exc}") from None
        chosen[event] = parse_template(event, text, str(path))
    return TemplateSet(chosen)

"""Plain output for the CLI: JSON documents, status lines and one-line errors.

What scripts and cron read, written without Rich: `helpdesk ticket list --json` or
`helpdesk escalate` never import it. Tables, panels and dim hints for people are in
`output`, imported by a command only on the path that prints them. `--json` output is one
document with the stable keys of `services.serialize`, ISO 8601 UTC timestamps with `Z`,
UTF-8 as is. Stored text is untrusted: every line goes through `clean()`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from tui_helpdesk.text import clean


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def error(message: str) -> None:
    """The error on stderr: one line, then any detail lines (an import lists each bad row)
    indented below it. Messages may quote user input, so each line is cleaned."""
    first, *details = str(message).splitlines() or [""]
    lines = [f"helpdesk: {clean(first, single_line=True)}"]
    lines += [f"  {clean(line, single_line=True)}" for line in details if line.strip()]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def say(line: str) -> None:
    """A plain status line on stdout, never wrapped (scripts may read it). Written as is:
    a batch job says thousands of these, and a styleless line needs no Rich console."""
    sys.stdout.write(clean(line) + "\n")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the right number: "1 ticket", "2 tickets", "0 replies"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def stamp(value: datetime | None) -> str:
    """An instant in a line for people: ISO 8601 UTC to the second (`--json` keeps it
    whole)."""
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

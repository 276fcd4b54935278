"""Option aliases and small helpers shared by the command modules."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from .runtime import EX_TEMPFAIL as EX_TEMPFAIL  # re-exported for the batch commands
from .runtime import CliError, Runtime

# Exit codes of the batch commands beyond 0/1/2 (DESIGN §8), what cron acts on; 75
# (EX_TEMPFAIL, try again later) is in `runtime`, as every command's unreachable database.
EX_SOME_FAILED = 3  # some items failed, the rest were done

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
Number = Annotated[str, typer.Argument(metavar="NUMBER", help="HD-12, 12 or #12.")]
ExpectedVersion = Annotated[
    int | None,
    typer.Option(
        "--expected-version",
        metavar="N",
        help="Refuse the change if the ticket is no longer at version N (someone else changed it).",
    ),
]
# The batch commands' instant (`escalate`, `auto-close`): see `run_instant`.
RunNow = Annotated[
    str | None,
    typer.Option(
        "--now",
        metavar="ISO",
        help="Evaluate as of this instant (default: now; UTC unless it has an offset; "
        "a future instant only with --dry-run).",
    ),
]
FUTURE_SLACK = timedelta(minutes=1)  # clocks of cron hosts and the database may differ a little
Body = Annotated[str | None, typer.Option("--body", metavar="TEXT", help="The message text.")]
BodyFile = Annotated[
    str | None,
    typer.Option("--body-file", metavar="FILE", help="Read the message from FILE (- for stdin)."),
]


def runtime(ctx: typer.Context) -> Runtime:
    obj = ctx.find_root().obj
    assert isinstance(obj, Runtime), "the root callback sets the runtime"
    return obj


def read_text(name: str, what: str = "file") -> str:
    """The content of a file, or of stdin for `-`; unreadable input is a usage error."""
    if name == "-":
        return sys.stdin.read()
    path = Path(name).expanduser()
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{name}: the {what} is not UTF-8 text", 2) from None
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}", 2) from None


def read_body(body: str | None, body_file: str | None, *, required: bool) -> str | None:
    """The message text from --body, --body-file FILE or --body-file - (stdin)."""
    if body is not None and body_file is not None:
        raise CliError("give the message with --body or --body-file, not both", 2)
    if body_file is not None:
        return read_text(body_file, "message")
    if body is None and required:
        raise CliError("no message: give --body TEXT, --body-file FILE or --body-file - (stdin)", 2)
    return body


def instant(text: str, option: str) -> datetime:
    """An ISO date (midnight) or datetime given to `option`, in UTC; without an offset it is
    UTC, as every time the desk stores. A bad one is a usage error naming the option."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"{option}: expected an ISO date or datetime in UTC like 2026-11-01 or "
            f"2026-11-01T09:30, got {text!r}",
            2,
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run_instant(rt: Runtime, now: str | None, *, dry_run: bool) -> datetime:
    """A batch run's instant: `--now`, else now. A real run stamps its changes with it, so a
    future one would write future history: only a dry run may look ahead."""
    at = instant(now, "--now") if now else rt.now
    if at > rt.now + FUTURE_SLACK and not dry_run:
        from tui_helpdesk.services.serialize import iso

        raise typer.BadParameter(
            f"{iso(at)} is in the future; look ahead with --dry-run", param_hint="--now"
        )
    return at


def refuse_terminal(out: str | None, message: str) -> None:
    """`--out -` while stdout is a terminal: a usage error saying `message` (binary bytes
    would scramble it); a pipe or a file is fine."""
    if out == "-" and sys.stdout.isatty():
        raise typer.BadParameter(message, param_hint="--out")

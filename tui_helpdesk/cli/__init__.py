"""The `helpdesk` command: the root Typer app, its global options and all error handling.

Nouns are sub-apps in their own modules (`ticket`, `agent`/`group`/`org`/`contact`/
`category` in `people`, `init` and `db` in `db`); their bodies parse, call services in one
unit of work and print. Every failure becomes one line on stderr and an exit code here, in
`main()`: 0 success, 1 failed operation, 2 usage or validation error (DESIGN §8). The console
(Textual) is imported only when `helpdesk` runs with no command, never at import time.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError
from typer.core import TyperGroup

from tui_helpdesk.config import ENV_AGENT, ConfigError
from tui_helpdesk.services.errors import ServiceError

from .output import error
from .runtime import CliError, Runtime, db_reason

PROG = "helpdesk"
# The invocation's runtime, for main() to explain a database error after the command ended.
_current: ContextVar[Runtime | None] = ContextVar("helpdesk_runtime", default=None)

# Click ships inside Typer from 0.25 on (its exceptions derive from TyperException);
# older Typer uses Click itself. Catch both spellings so the pin can stay loose.
_USAGE_ERRORS: tuple[type[BaseException], ...] = (typer.TyperException,)
_ABORTS: tuple[type[BaseException], ...] = (typer.Abort,)
try:  # pragma: no cover - depends on the installed Typer
    import click

    _USAGE_ERRORS += (click.ClickException,)
    _ABORTS += (click.Abort,)
except ImportError:  # pragma: no cover
    pass


# --- commands, loaded when used ---------------------------------------------------------
# A command's module (and what it imports: services, rules, Rich tables) is imported only
# when that command runs, so `helpdesk escalate` from cron or `helpdesk ticket list` in a
# script starts without loading the knowledge base, the SLA explainer or the reports.


def _ticket() -> typer.Typer:
    from . import clocks, escalate, search, ticket

    ticket.app.command("escalate")(escalate.ticket_escalate)
    ticket.app.command("sla")(clocks.sla)
    ticket.app.command("search")(search.ticket_search)
    return ticket.app


def _people(noun: str) -> Callable[[], typer.Typer]:
    def load() -> typer.Typer:
        from . import people

        return people.apps[noun]

    return load


def _rules() -> typer.Typer:
    from . import rules

    return rules.app


def _db() -> typer.Typer:
    from . import db

    return db.app


def _kb() -> typer.Typer:
    from . import kb, search

    kb.app.command("search")(search.kb_search)
    kb.app.command("suggest")(search.kb_suggest)
    return kb.app


def _mail() -> typer.Typer:
    from . import mail, outbox  # outbox adds `mail send` and `mail outbox`

    del outbox
    return mail.app


def _report() -> typer.Typer:
    from . import report

    return report.app


def _init() -> Callable[..., Any]:
    from . import db

    return db.init


def _escalate() -> Callable[..., Any]:
    from . import escalate

    return escalate.escalate


# Name -> loader, in the order `helpdesk --help` lists them. A loader returns a sub-app (a
# noun with verbs) or the function of a single command.
_COMMANDS: dict[str, Callable[[], Any]] = {
    "ticket": _ticket,
    **{noun: _people(noun) for noun in ("agent", "group", "org", "contact", "category")},
    "init": _init,
    "rules": _rules,
    "escalate": _escalate,
    "db": _db,
    "kb": _kb,
    "mail": _mail,
    "report": _report,
}


class _LazyGroup(TyperGroup):
    """The root group: its commands are built from their modules on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *_COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in _COMMANDS:
            found = _load(cmd_name)
            if found is not None:
                self.add_command(found, cmd_name)
        return found


def _load(name: str) -> click.Command | None:
    loaded = _COMMANDS[name]()
    if isinstance(loaded, typer.Typer):
        if not loaded.registered_commands and not loaded.registered_groups:
            return None  # a noun with no verbs yet
        command = typer.main.get_command(loaded)
    else:
        single = typer.Typer()
        single.command(name)(loaded)
        command = typer.main.get_command(single)
    command.name = name
    return command


app = typer.Typer(
    name=PROG,
    help="A help desk that lives in the terminal. With no command, opens the console.",
    cls=_LazyGroup,
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="PATH",
            help="Config file (default: $HELPDESK_CONFIG, else config.toml in the XDG config dir).",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL (default: $HELPDESK_DATABASE_URL, the config file, "
            "else a SQLite file in the XDG data dir).",
        ),
    ] = None,
    login: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="LOGIN",
            envvar=ENV_AGENT,
            help="Act as this agent (default: $HELPDESK_AGENT, else your OS login name).",
        ),
    ] = None,
) -> None:
    runtime = Runtime(config, database, login, now=datetime.now(UTC))
    ctx.obj = runtime
    _current.set(runtime)
    ctx.call_on_close(runtime.close)
    if ctx.invoked_subcommand is None:
        _open_console(runtime)


def _open_console(runtime: Runtime) -> None:
    """Check the database and the agent here, where errors are one line, then hand over."""
    with runtime.store().read() as session:
        login = runtime.actor(session).login
    runtime.close()
    from tui_helpdesk.app import run  # Textual loads only for the console

    run(runtime.settings, login)


def _usage_hint(exc: BaseException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or PROG
    return f" (see `{path} --help`)"


def _rules_error() -> type[Exception]:
    """The rules file's error type, imported when an error is being handled, not at start."""
    from tui_helpdesk.rules.document import RulesError

    return RulesError


@functools.cache
def _command() -> Any:
    """The Click command behind `app`, built once per process."""
    return typer.main.get_command(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `helpdesk` with `argv` (default: the process arguments); returns the exit code."""
    command = _command()
    token = _current.set(None)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name=PROG, standalone_mode=False)
        return result if isinstance(result, int) else 0
    except ServiceError as exc:
        error(str(exc))
        return exc.exit_code
    except _rules_error() as exc:
        error(str(exc))
        return 2
    except CliError as exc:
        error(str(exc))
        return exc.exit_code
    except ConfigError as exc:
        error(str(exc))
        return 2
    except _ABORTS:
        error("aborted")
        return 1
    except _USAGE_ERRORS as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        error(message.rstrip(".") + _usage_hint(exc))
        return int(getattr(exc, "exit_code", 2))
    except DBAPIError as exc:
        runtime = _current.get()
        error(runtime.explain(exc) if runtime else f"database error: {db_reason(exc)}")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`helpdesk ticket list | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        runtime = _current.get()
        if runtime is not None:
            runtime.close()
        _current.reset(token)

"""The `helpdesk` command: the root Typer app, its global options and all error handling.

Nouns are sub-apps in their own modules (`ticket`, `agent`/`group`/`org`/`contact`/
`category` in `people`, `init` and `db` in `db`); their bodies parse, call services in one
unit of work and print. Every failure becomes one line on stderr and an exit code here, in
`main()`: 0 success, 1 failed operation, 2 usage or validation error (DESIGN §8), 75 the
database cannot be reached (`Runtime.database_error`, the same for every command). The console
(Textual) is imported only when `helpdesk` runs with no command, never at import time.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError

from tui_helpdesk import heap
from tui_helpdesk.config import ENV_AGENT, ConfigError, console_keymap
from tui_helpdesk.services.errors import ServiceError

from . import params
from .lazy import Loader, as_command, from_module, lazy_group
from .plain import error
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
# script starts without loading the knowledge base, the SLA explainer or the reports
# (`lazy.LazyGroup`; `ticket` and `kb` load some of their verbs the same way).


def _people(noun: str) -> Loader:
    def load() -> typer.Typer:
        from . import people

        return people.apps[noun]

    return load


def _mail() -> typer.Typer:
    from . import mail, outbox  # outbox adds `mail send` and `mail outbox`

    del outbox
    return mail.app


# Name -> loader, in the order `helpdesk --help` lists them.
_COMMANDS: dict[str, Loader] = {
    "ticket": from_module(".ticket", "app"),
    **{noun: _people(noun) for noun in ("agent", "group", "org", "contact", "category")},
    "init": from_module(".db", "init"),
    "rules": from_module(".rules", "app"),
    "escalate": from_module(".escalate", "escalate"),
    "auto-close": from_module(".auto_close", "close_resolved"),
    "db": from_module(".db", "app"),
    "kb": from_module(".kb", "app"),
    "mail": _mail,
    "report": from_module(".report", "app"),
}


def _load(name: str) -> Any:
    """The Click command `name` of the root, built from its module (the tests load each)."""
    return as_command(name, _COMMANDS[name]())


app = typer.Typer(
    rich_markup_mode=None,
    name=PROG,
    help="A help desk that lives in the terminal. With no command, opens the console.",
    cls=lazy_group(_COMMANDS),
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    # The shell-completion options are the program's (`helpdesk --install-completion`), not
    # each command's: a command's help lists its own options only.
    add_completion=True,
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
    """Check the keymap, the database and the agent here, where errors are one line, then
    hand over. The keymap is the console's alone: no other command checks it."""
    console_keymap(runtime.settings)  # a ConfigError naming the file and the key: exit 2
    store = runtime.store()
    with store.read() as session:
        login = runtime.actor(session).login
    from tui_helpdesk.app import run  # Textual loads only for the console

    run(runtime.settings, login, store)  # the runtime closes the store after


def _usage_hint(exc: BaseException) -> str:
    """Where to read more: the help of the command whose arguments were wrong (its context
    is on the error, `lazy.CommandContext` sees to that), else of `helpdesk`."""
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
    params.install()  # plain option values converted without importing pydantic
    return typer.main.get_command(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `helpdesk` with `argv` (default: the process arguments); returns the exit code."""
    command = _command()
    token = _current.set(None)
    if argv is None:  # the `helpdesk` program itself, not a caller running it in-process
        heap.own_process()
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
        # Typer's converter passes pydantic's wording on: "Value error, 'x' is not one of".
        message = message.replace("Value error, ", "")
        # One line: click lists a choice's values one a line ("Choose from:\n  low,\n ...").
        message = " ".join(message.split())
        error(message.rstrip(".") + _usage_hint(exc))
        return int(getattr(exc, "exit_code", 2))
    except DBAPIError as exc:
        runtime = _current.get()
        failure = (
            runtime.database_error(exc)
            if runtime is not None
            else CliError(f"database error: {db_reason(exc)}")
        )
        error(str(failure))
        return failure.exit_code
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

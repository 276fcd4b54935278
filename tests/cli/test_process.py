"""The installed `helpdesk` script as a separate process: exit codes, stdin, no traceback for
bad input, no Textual loaded by the CLI, what a script's command imports, and the console
hand-over."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cli.conftest import Run, imported, ok, one_line_error
from tui_helpdesk.config import Settings
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent

HELPDESK = Path(sys.executable).with_name("helpdesk")


def run(*args: object, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HELPDESK), *map(str, args)],
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def desk_url(sqlite_url: str, cli: Run) -> str:
    ok(cli("--db", sqlite_url, "init"))  # the OS login ("tester") becomes the admin
    return sqlite_url


def test_the_script_runs_with_stdin_and_exit_codes(desk_url: str) -> None:
    created = run(
        "--db",
        desk_url,
        "ticket",
        "create",
        "-s",
        "From a pipe",
        "-r",
        "p@q.example",
        "--body-file",
        "-",
        input="Body from stdin\n",
    )
    assert (created.returncode, created.stdout, created.stderr) == (0, "HD-1\n", "")
    shown = run("--db", desk_url, "ticket", "show", "HD-1")
    assert shown.returncode == 0 and "Body from stdin" in shown.stdout
    assert "\x1b" not in shown.stdout  # a pipe gets no colour

    for args, code in (
        (("ticket", "priority", "HD-1", "asap"), 2),
        (("ticket", "create", "-s", "x", "-r", "a@b.example", "-p", "asap"), 2),
        (("ticket", "status", "HD-1", "closed"), 1),
        (("--as", "mallory", "ticket", "list"), 1),
    ):
        result = run("--db", desk_url, *args)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.startswith("helpdesk: ") and result.stderr.count("\n") == 1, args
        assert "Traceback" not in result.stderr
        assert "Value error" not in result.stderr  # the library's wording, not ours


def test_python_dash_m_is_the_same_command(desk_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui_helpdesk", "--db", desk_url, "ticket", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("{")


def test_an_unreachable_database_is_one_line() -> None:
    result = run("--db", "postgresql://helpdesk:pw@127.0.0.1:1/desk", "ticket", "list")
    assert result.returncode == 75  # try again later, as the README's exit codes say
    assert result.stderr.startswith("helpdesk: cannot open the database at ")
    assert result.stderr.count("\n") == 1 and ":pw@" not in result.stderr


def test_importing_the_cli_leaves_textual_out() -> None:
    code = (
        "import sys, tui_helpdesk.cli, tui_helpdesk.cli.ticket, tui_helpdesk.cli.people, "
        "tui_helpdesk.cli.db; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'alembic')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# What a scripted command must not import (bench/README.md, `cli_*` and `escalate_*`): the
# console, Rich (tables are for people), alembic (migrations), pydantic (Typer converts plain
# values without it, `cli.params`), phone numbers and holidays. Nor the modules of commands
# or services it does not use.
HEAVY = ("textual", "rich", "alembic", "pydantic", "phonenumbers", "holidays")
OTHER_COMMANDS = tuple(
    f"tui_helpdesk.cli.{name}"
    for name in (
        "output",
        "clocks",
        "search",
        "kb",
        "people",
        "report",
        "rules",
        "db",
        "mail",
        "auto_close",
    )
)
OTHER_SERVICES = (
    *(
        f"tui_helpdesk.services.{name}"
        for name in ("search", "sla_explain", "reports", "kb", "customers", "views", "replay")
    ),
    "tui_helpdesk.store.migrate",
    "tui_helpdesk.store.search",
    "tui_helpdesk.reports",
)


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_scripted_commands_leave_heavy_modules_out(desk_url: str) -> None:
    create = ("ticket", "create", "-s", "Printer", "-r", "p@q.example", "--body", "jammed")
    created = imported("--db", desk_url, *create)
    assert _loaded(created, HEAVY + OTHER_COMMANDS + OTHER_SERVICES) == []
    assert "tui_helpdesk.services.tickets" in created  # the checker sees what is imported

    listed = imported("--db", desk_url, "ticket", "list", "--json")
    not_for_a_list = (
        "tui_helpdesk.services.tickets",
        "tui_helpdesk.services.escalation",
        "tui_helpdesk.services.sla",  # nor the rules: a list reads what the tickets hold
        "tui_helpdesk.rules.document",
    )
    assert _loaded(listed, HEAVY + OTHER_COMMANDS + OTHER_SERVICES + not_for_a_list) == []
    assert "tui_helpdesk.services.queue" in listed

    escalated = imported("--db", desk_url, "escalate", "--now", "2020-01-01T00:00:00Z")
    # Nothing is due then: cron's common run is one Core probe, without the ORM or the models.
    not_for_cron = (
        "tui_helpdesk.cli.ticket",
        "tui_helpdesk.services.queue",
        "sqlalchemy.orm",
        "tui_helpdesk.store.models",
        # SQLite consoles poll for changes: a SQLite store needs no commit notification
        "tui_helpdesk.store.changes",
        "tui_helpdesk.domain",
    )
    assert _loaded(escalated, HEAVY + OTHER_COMMANDS + OTHER_SERVICES + not_for_cron) == []

    # The other cron job, nothing resolved: one Core probe too, nor escalation's modules.
    closing = imported("--db", desk_url, "auto-close", "--now", "2020-01-01T00:00:00Z")
    assert "tui_helpdesk.services.auto_close" in closing
    others = tuple(m for m in OTHER_COMMANDS if not m.endswith(".auto_close"))
    not_escalation = ("tui_helpdesk.cli.escalate", "tui_helpdesk.services.escalation")
    assert _loaded(closing, HEAVY + others + OTHER_SERVICES + not_for_cron + not_escalation) == []


def test_settings_parse_toml_only_when_there_is_a_config_file(desk_url: str, home: Path) -> None:
    """Every command loads settings: the TOML parser (and the time zones a config file may
    name) load only when a config file is there to read."""
    escalate = ("--db", desk_url, "escalate", "--now", "2020-01-01T00:00:00Z")
    config = home / ".config" / "helpdesk" / "config.toml"
    assert config.exists()  # `init` wrote the starter
    assert "tomllib" in imported(*escalate)
    config.unlink()
    assert _loaded(imported(*escalate), ("tomllib", "zoneinfo")) == []


def test_a_noun_builds_only_the_verb_that_runs() -> None:
    """`helpdesk ticket list` builds the Click command of `list` alone (building one reads
    its function's signature and annotations); help still lists every verb, in order."""
    code = (
        "import tui_helpdesk.cli as cli; ticket = cli._load('ticket'); "
        "print(sorted(ticket.commands)); ticket.get_command(None, 'list'); "
        "print(sorted(ticket.commands)); print(' '.join(ticket.list_commands(None)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    before, after, listed = result.stdout.splitlines()
    assert (before, after) == ("[]", "['list']")
    assert listed.split()[:3] == ["create", "list", "show"]
    assert listed.split()[-3:] == ["escalate", "sla", "search"]


def test_commands_that_need_them_still_load_them(desk_url: str) -> None:
    """The modules kept out of scripts load where they are used: Rich for people, phone
    numbers for a caller's number (and the process test above would see them)."""
    shown = imported("--db", desk_url, "ticket", "list")
    assert {"rich", "tui_helpdesk.cli.output"} <= shown
    by_phone = ("ticket", "create", "-s", "Call", "-r", "+39 02 1234 5678", "--name", "Carla")
    assert "phonenumbers" in imported("--db", desk_url, *by_phone)


def test_no_command_opens_the_console_as_the_acting_agent(
    cli: Run, desk_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = pytest.importorskip("tui_helpdesk.app")
    opened: list[tuple[str, str]] = []

    def run(settings: Settings, login: str, store: Store) -> None:
        with store.read() as session:  # the store that checked the agent, still open
            assert session.scalar(select(Agent.login).where(Agent.login == login)) == login
        opened.append((settings.database_url, login))

    monkeypatch.setattr(app, "run", run)
    ok(cli("--db", desk_url))
    assert opened == [(desk_url, "tester")]

    # An unknown agent is told so in one line, before any console starts.
    line = one_line_error(cli("--db", desk_url, "--as", "mallory"), 1)
    assert "mallory" in line and opened == [(desk_url, "tester")]


def test_a_bad_keymap_stops_the_console_alone(
    cli: Run, desk_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keymap is the console's preference: a binding id no screen has (a typo, or one a
    later release renamed) leaves cron's commands working, and the console refuses to open
    with a line naming the file and the key."""
    app = pytest.importorskip("tui_helpdesk.app")
    opened: list[str] = []
    monkeypatch.setattr(app, "run", lambda settings, login, store: opened.append(login))
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{desk_url}"\n[keymap]\n"queue.nonexistent" = "x"\n')
    for args in (
        ("escalate", "--dry-run"),
        ("escalate",),
        ("report", "run", "--all-due", "--json"),
        ("ticket", "list", "--json"),
    ):
        ok(cli("--config", config, *args))
    line = one_line_error(cli("--config", config), 2)
    assert line.startswith(f"helpdesk: {config}: keymap.queue.nonexistent: no such binding")
    assert opened == []
    config.write_text(f'[database]\nurl = "{desk_url}"\n[keymap]\n"queue.refresh" = "f9"\n')
    ok(cli("--config", config))
    assert opened == ["tester"]


def test_xlsx_is_not_written_to_a_terminal(desk_url: str) -> None:
    """A binary export to stdout is refused when stdout is a terminal (exit 2, one line);
    to a pipe it is written."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [str(HELPDESK), "--db", desk_url, "report", "export", "summary", "-f", "xlsx"],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("helpdesk: ") and "XLSX is a binary file" in lines[-1]
    assert "Traceback" not in done.stderr
    piped = subprocess.run(
        [str(HELPDESK), "--db", desk_url, "report", "export", "summary", "-f", "xlsx"],
        capture_output=True,
        timeout=120,
    )
    assert piped.returncode == 0 and piped.stdout.startswith(b"PK")  # a zip: the workbook

"""The installed `helpdesk` script as a separate process: exit codes, stdin, no traceback for
bad input, no Textual loaded by the CLI, and the console hand-over."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Run, ok, one_line_error

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
        (("ticket", "status", "HD-1", "closed"), 1),
        (("--as", "mallory", "ticket", "list"), 1),
    ):
        result = run("--db", desk_url, *args)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.startswith("helpdesk: ") and result.stderr.count("\n") == 1, args
        assert "Traceback" not in result.stderr


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
    assert result.returncode == 1
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


def test_no_command_opens_the_console_as_the_acting_agent(
    cli: Run, desk_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = pytest.importorskip("tui_helpdesk.app")
    opened: list[tuple[str, str]] = []
    monkeypatch.setattr(
        app, "run", lambda settings, login: opened.append((settings.database_url, login))
    )
    ok(cli("--db", desk_url))
    assert opened == [(desk_url, "tester")]

    # An unknown agent is told so in one line, before any console starts.
    line = one_line_error(cli("--db", desk_url, "--as", "mallory"), 1)
    assert "mallory" in line and opened == [(desk_url, "tester")]

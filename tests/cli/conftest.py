"""Running the real `helpdesk` command in-process: `main(argv)` with stdin, stdout and stderr
captured, in a HOME and XDG directories of the test's own (so no real config is read), with
no HELPDESK_* variables from the environment leaking in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import Desk
from tui_helpdesk.cli import main

OS_LOGIN = "tester"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Run = Callable[..., Result]


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path, config_dirs: Path) -> None:
    """HOME and the XDG directories set to `home` (and `config_dirs`), the OS login set to
    OS_LOGIN, and no HELPDESK_* or colour variables from the environment."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(config_dirs))
    # getpass.getuser() reads these first: the "OS login" of the person running helpdesk.
    monkeypatch.setenv("LOGNAME", OS_LOGIN)
    monkeypatch.setenv("USER", OS_LOGIN)
    for name in (
        "HELPDESK_CONFIG",
        "HELPDESK_DATABASE_URL",
        "HELPDESK_AGENT",
        "NO_COLOR",
        "FORCE_COLOR",
        "COLUMNS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    isolate(monkeypatch, home, tmp_path / "etc-xdg")
    return home


def run_cli(*args: object, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """`helpdesk ARGS` run in-process, its output captured."""
    runner = CliRunner()
    with runner.isolation(input=input, env=env) as (out, err, _mixed):
        code = main([str(a) for a in args])
        sys.stdout.flush()
        sys.stderr.flush()
        return Result(code, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def cli() -> Run:
    """`cli("ticket", "list", input=...)` runs `helpdesk ticket list` and returns a Result."""
    return run_cli


@pytest.fixture(scope="session")
def _demo_home_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME in which `helpdesk init --demo` has run on a fresh machine, once per test worker:
    seeding the demo is slow, so tests starting from it get a copy (`demo_home`)."""
    root = tmp_path_factory.mktemp("demo")
    home = root / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, home, root / "etc-xdg")
        ok(run_cli("init", "--demo"))
    return home


@pytest.fixture
def demo_home(home: Path, _demo_home_template: Path) -> Path:
    """This test's HOME as `helpdesk init --demo` leaves it on a fresh machine (SQLite): a copy
    of `_demo_home_template`, its config naming the copied database. Tests using it belong to
    the xdist group "demo-home", so one test worker seeds the demo for all of them."""
    shutil.copytree(_demo_home_template, home, dirs_exist_ok=True)
    config = home / ".config" / "helpdesk" / "config.toml"
    config.write_text(config.read_text().replace(str(_demo_home_template), str(home)))
    return home


@pytest.fixture
def hd(desk_store: Desk, db_url: str, cli: Run) -> Run:
    """`helpdesk --db <the small desk> --as bob ...`; pass as_="admin" to act as another."""

    def run(*args: object, as_: str = "bob", **kwargs: Any) -> Result:
        return cli("--db", db_url, "--as", as_, *args, **kwargs)

    return run


def ok(result: Result) -> Result:
    """The result of a command that must succeed (shows stderr when it did not)."""
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}"
    return result


def one_line_error(result: Result, code: int) -> str:
    """The single stderr line of a failed command, checked to carry no traceback."""
    assert result.exit_code == code, f"exit {result.exit_code}: {result.stderr}{result.stdout}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("helpdesk: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def imported(*args: str) -> set[str]:
    """Every module a `helpdesk ARGS` process imported, read from `python -X importtime`."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tui_helpdesk", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    }

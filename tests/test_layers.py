"""Layering, enforced: rules are pure; store, services and the CLI never load Textual (the
console is imported only when it is launched)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tui_helpdesk"
RULES_FORBIDDEN = ("sqlalchemy", "textual", "typer", "tui_helpdesk.store", "tui_helpdesk.services")
NEVER_TEXTUAL = ("textual",)


def _imports(path: Path) -> set[str]:
    """Every module a source file imports, at any depth (inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]


def test_rules_are_pure() -> None:
    files = sorted((PACKAGE / "rules").rglob("*.py"))
    assert files
    assert _offending(files, RULES_FORBIDDEN) == []


@pytest.mark.parametrize("layer", ["store", "services"])
def test_store_and_services_never_import_textual(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    assert _offending(files, NEVER_TEXTUAL) == []


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\ndef f():\n    from textual.app import App\n")
    assert _imports(sample) == {"os", "textual.app"}


def _loads_textual(modules: str) -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys, {modules}\nprint(sorted(m for m in sys.modules if m.startswith('textual')))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_services_load_without_textual() -> None:
    result = _loads_textual("tui_helpdesk.services.tickets, tui_helpdesk.services.queue")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# Every command of the CLI, loaded: the nouns and, inside them, the verbs loaded on use.
LOAD_EVERY_COMMAND = (
    "tui_helpdesk.cli; import tui_helpdesk.cli as cli\n"
    "def walk(command):\n"
    "    for name in command.list_commands(None) if hasattr(command, 'commands') else ():\n"
    "        walk(command.get_command(None, name))\n"
    "for name in cli._COMMANDS:\n"
    "    walk(cli._load(name))\n"
    "assert 'tui_helpdesk.cli.clocks' in sys.modules  # `ticket sla`, loaded on use\n"
)


def test_cli_loads_without_textual() -> None:
    """Every command, loaded: none of them brings Textual in."""
    assert importlib.util.find_spec("tui_helpdesk.cli") is not None, "tui_helpdesk.cli is missing"
    result = _loads_textual(LOAD_EVERY_COMMAND)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_cli_loads_a_command_only_when_it_runs() -> None:
    """Starting `helpdesk` imports no command module (only the machinery that loads them and
    plain output); running one imports that one alone."""
    code = (
        "import sys, tui_helpdesk.cli as cli; before = {m for m in sys.modules "
        "if m.startswith('tui_helpdesk.cli.')}; cli._load('escalate'); after = {m for m in "
        "sys.modules if m.startswith('tui_helpdesk.cli.')}; print(sorted(before)); "
        "print(sorted(after - before))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    before, loaded = result.stdout.splitlines()
    assert before == (
        "['tui_helpdesk.cli.lazy', 'tui_helpdesk.cli.params', 'tui_helpdesk.cli.plain', "
        "'tui_helpdesk.cli.runtime']"
    )
    assert "tui_helpdesk.cli.escalate" in loaded
    assert "tui_helpdesk.cli.kb" not in loaded and "tui_helpdesk.cli.report" not in loaded
    assert "tui_helpdesk.cli.ticket" not in loaded  # `escalate` needs nothing of `ticket`


def test_the_ticket_noun_loads_its_own_verbs_only() -> None:
    """`ticket` builds its verbs; `ticket sla`, `search` and `escalate` load when asked for."""
    code = (
        "import sys, tui_helpdesk.cli as cli; ticket = cli._load('ticket'); "
        "print(sorted(m for m in sys.modules if m.startswith('tui_helpdesk.cli.'))); "
        "ticket.get_command(None, 'sla'); print('tui_helpdesk.cli.clocks' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded, sla_loaded = result.stdout.splitlines()
    for module in ("clocks", "search", "escalate", "output"):
        assert f"tui_helpdesk.cli.{module}'" not in loaded
    assert sla_loaded == "True"

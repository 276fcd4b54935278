"""The README's CLI tour runs as written, line by line, on a fresh demo desk (a copy of the
HOME `helpdesk init --demo` leaves: see `demo_home` in tests/cli/conftest.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _tour() -> str:
    text = README.read_text()
    section = text[text.index("## CLI") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the CLI section has a sh block"
    return match.group(1)


@pytest.mark.xdist_group("demo-home")
def test_readme_cli_tour_runs(tmp_path: Path, demo_home: Path) -> None:
    # `demo_home`: the suite's own HOME and XDG directories (tests/cli/conftest.py), after
    # `helpdesk init --demo`.
    (tmp_path / "contacts.csv").write_text(
        "name,email,phone,organization\nRita Levi,rita@acme.com,+39 06 555 0101,Acme Corp\n"
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "NO_COLOR": "1",
    }
    script = "set -euo pipefail\n" + _tour()
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "imported 1 contact" in done.stdout

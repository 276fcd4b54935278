"""The README's CLI tour runs as written, line by line, on a fresh demo desk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _tour() -> str:
    text = README.read_text()
    section = text[text.index("## CLI") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "the CLI section has a sh block"
    return match.group(1)


def test_readme_cli_tour_runs(tmp_path: Path, home: Path) -> None:
    # `home`: the suite's own HOME and XDG directories (tests/cli/conftest.py).
    (tmp_path / "contacts.csv").write_text(
        "name,email,phone,organization\nRita Levi,rita@acme.com,+39 06 555 0101,Acme Corp\n"
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "NO_COLOR": "1",
    }
    script = "set -euo pipefail\nhelpdesk init --demo\n" + _tour()
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

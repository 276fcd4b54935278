"""The agent's own editor for long replies: `$VISUAL`, else `$EDITOR`, else vi, on a private
temp file, with the console suspended meanwhile (`App.suspend()`). Used by the ticket
screen's `E` and the reply editor's `ctrl+e` (`screens.ticket_actions`).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from textual.app import App, SuspendNotSupported


class EditorError(Exception):
    """The editor could not be run, or gave up (the text is left as it was)."""


def editor_command(env: Mapping[str, str]) -> list[str]:
    """`$VISUAL`, else `$EDITOR`, else vi (git's order); "code --wait" keeps its arguments."""
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if value:
            return shlex.split(value)
    return ["vi"]


def run_editor(text: str, env: Mapping[str, str] | None = None) -> str:
    """Edit `text` in the agent's editor on a private temp file; the text it saved, without
    the trailing newline editors add. Blocks until the editor exits."""
    env = os.environ if env is None else env
    command = editor_command(env)
    # mkstemp: created 0600, so a draft reply is not readable by other users of the host.
    handle, name = tempfile.mkstemp(prefix="helpdesk-", suffix=".txt")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            done = subprocess.run([*command, str(path)], check=False, env=dict(env))
        except OSError as exc:
            raise EditorError(f"cannot run {command[0]!r}: {exc.strerror or exc}") from exc
        if done.returncode != 0:
            raise EditorError(f"{command[0]} exited with status {done.returncode}; text kept")
        return path.read_text(encoding="utf-8").rstrip("\n")
    finally:
        path.unlink(missing_ok=True)


def edit_externally(app: App[object], text: str) -> str | None:
    """Hand the terminal to the editor on `text`; the edited text, or None (with a
    notification) when there is no terminal to hand over or the editor failed."""
    error: str | None = None
    edited: str | None = None
    try:
        with app.suspend():
            # Caught inside: an exception leaving `suspend()` would not resume the app.
            try:
                edited = run_editor(text)
            except EditorError as exc:
                error = str(exc)
    except SuspendNotSupported:
        error = "this terminal cannot be handed to an editor"
    else:
        # The editor drew over the whole terminal: repaint every screen showing, the ones
        # under a dialog too (a resumed app repaints only what changed on the top one).
        for screen in app.screen_stack:
            screen.refresh()
        app.refresh(repaint=True)
    if error is not None:
        app.notify(error, title="Editor", severity="error")
    return edited

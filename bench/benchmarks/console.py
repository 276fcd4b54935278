"""Console benchmarks (registered in bench.harness): launch to the first painted queue row.

`console_launch`: what an agent waits for after typing `helpdesk`: the command as a whole
process in a pseudo-terminal of 80x24, from its start to the first output that paints a
ticket row ("HD-..."); the process is killed then. Its reference, launched the same way in
the same run, is `bench/minimal_app.py`, a Textual app that paints a 50-row `DataTable`.
Both pay for Python and Textual starting; the console also loads SQLAlchemy, its models and
the CLI's option parsing, opens the desk and reads the agent, the first page and the SLA
rules. Peak memory is the console process's own until it was stopped.

`console_first_row`: the real `HelpdeskApp` on the generated desk, headless
(`App.run_test` at 80x24), from constructing the App to the moment the compositor paints a
line of the queue's table that holds a ticket number: the profile and the first page come
from thread workers, so this is the time an agent waits for something to work on. Its
reference, measured in the same run the same way, is a minimal Textual app that paints a
50-row `DataTable` filled on mount: the ratio is what the console costs over Textual
itself. Peak memory is the worker's own (one process per benchmark, see the harness), with
the desk's first page loaded.

How the first row is seen: the table's `render_line` (Textual's line API: the compositor
calls it for every line it paints) is wrapped for the run, and the clock stops at the first
painted line that shows a ticket number ("HD-..."), not when rows are merely added to the
table (they are painted a frame later) nor when the whole process has gone idle (the count
and the footer may still be working then: that is not what the agent waits for). The runner
awaits that moment on an event instead of polling, so measuring adds no work to the UI
thread; the reference is measured with the same probe. `extra` gives the import time of the
console's module in a fresh process beside Textual's own (the in-process runs are warm).

The agent is the generated desk's `agent1`, whose home view (My open) has tickets; if it had
none the All open view is measured instead (the figure says which).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness import Context, Measurement, Samples, benchmark

LOGIN = "agent1"
SIZE = (80, 24)
ROWS = 50  # the reference's (bench/minimal_app.py)
HELPDESK = str(Path(sys.executable).with_name("helpdesk"))
MINIMAL_APP = str(Path(__file__).resolve().parents[1] / "minimal_app.py")
TIMEOUT = 60.0  # seconds: a console that never shows a row is a failure, not a hang
ROW_MARK = "HD-"  # a painted line holding this shows a ticket row (the header says "#")


class FirstRow:
    """Set when a table first paints a line that shows a ticket number."""

    def __init__(self) -> None:
        self.painted = asyncio.Event()
        self.at: float | None = None

    def seen(self, text: str) -> None:
        if self.at is None and ROW_MARK in text:
            self.at = time.perf_counter()
            self.painted.set()

    async def wait(self) -> float:
        try:
            await asyncio.wait_for(self.painted.wait(), TIMEOUT)
        except TimeoutError:
            raise RuntimeError("no row painted within the timeout") from None
        assert self.at is not None
        return self.at


@contextmanager
def _probe(table_class: type[Any]) -> Iterator[FirstRow]:
    """Wrap `table_class.render_line` for the duration: every painted line is looked at."""
    first = FirstRow()
    original = table_class.__dict__.get("render_line")
    inherited = table_class.render_line

    def render_line(self: Any, y: int) -> Any:
        strip = inherited(self, y)
        first.seen(strip.text)
        return strip

    table_class.render_line = render_line
    try:
        yield first
    finally:
        if original is None:
            del table_class.render_line
        else:
            table_class.render_line = original


async def _until(pilot: Any, condition: Any) -> None:
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > TIMEOUT:
            raise RuntimeError("no queue table within the timeout")
        await pilot.pause(0.01)


async def _console_once(url: str, view: str | None) -> tuple[float, int]:
    from tui_helpdesk.app import HelpdeskApp
    from tui_helpdesk.store.engine import Store
    from tui_helpdesk.widgets.ticket_table import TicketTable

    store = Store(url)
    try:
        with _probe(TicketTable) as first:
            started = time.perf_counter()
            app = HelpdeskApp(store, LOGIN)
            async with app.run_test(size=SIZE) as pilot:
                if view is not None:
                    await _until(pilot, lambda: bool(app.screen.query(TicketTable)))
                    app.screen.action_show_view(view)  # type: ignore[attr-defined]
                took = await first.wait() - started
                rows = app.screen.query_one(TicketTable).row_count
        return took, rows
    finally:
        store.dispose()


async def _reference_once() -> float:
    from textual.widgets import DataTable

    from bench.minimal_app import Minimal

    with _probe(DataTable) as first:
        started = time.perf_counter()
        app = Minimal()
        async with app.run_test(size=SIZE):
            return await first.wait() - started


def _reference(ctx: Context) -> Samples:
    asyncio.run(_reference_once())  # warm-up: imports and Textual's first start
    return [asyncio.run(_reference_once()) for _ in range(ctx.repeat)]


def _import_seconds(module: str, runs: int) -> float:
    """How long a fresh interpreter takes to import `module` (best of `runs`)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return min(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    )


@benchmark(
    "console_first_row",
    "console: launch to the first painted queue row (headless, 80x24)",
    target="ratio < 1.5",
    reference=_reference,
    reference_what=f"minimal Textual app painting a {ROWS}-row DataTable",
)
def console_first_row(ctx: Context) -> Measurement:
    view: str | None = None
    try:
        asyncio.run(asyncio.wait_for(_console_once(ctx.url, None), TIMEOUT / 2))  # warm-up
    except (TimeoutError, RuntimeError):
        view = "all_open"  # the agent has no open tickets: measure the desk-wide view
        asyncio.run(_console_once(ctx.url, view))
    samples: Samples = []
    rows = 0
    for _ in range(ctx.repeat):
        took, rows = asyncio.run(_console_once(ctx.url, view))
        samples.append(took)
    runs = 1 if ctx.quick else 3
    extra = {
        "view": view or "my_open",
        "rows": rows,
        "import_app_s": round(_import_seconds("tui_helpdesk.app", runs), 3),
        "import_textual_s": round(_import_seconds("textual.app", runs), 3),
    }
    return Measurement(samples, extra=extra)


# --- launch as a program, in a terminal ---------------------------------------------------


def _launch(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Start `command` on a new pseudo-terminal of SIZE; the seconds from its start to the
    first output holding ROW_MARK, and its peak memory (KB) by then. It is killed then."""
    columns, lines = SIZE
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
    mark = ROW_MARK.encode()
    seen = b""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True
    )
    os.close(follower)
    took: float | None = None
    try:
        while took is None and time.perf_counter() - started < TIMEOUT:
            if not select.select([leader], [], [], 0.5)[0]:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the program ended
                break
            if not chunk:
                break
            seen = seen[-200:] + chunk
            if mark in seen:
                took = time.perf_counter() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = -signal.SIGKILL  # reaped here, not by Popen
        os.close(leader)
    if took is None:
        tail = seen[-300:].decode("utf-8", "replace")
        raise RuntimeError(f"{command[0]}: no ticket row painted; its last output: {tail!r}")
    return took, usage.ru_maxrss


def _terminal_env(home: str) -> dict[str, str]:
    """A colour terminal, and configuration directories of its own (no user settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        XDG_CONFIG_HOME=home,
        XDG_DATA_HOME=home,
        XDG_STATE_HOME=home,
    )
    env.pop("NO_COLOR", None)
    return env


def _launch_reference(ctx: Context) -> Samples:
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as home:
        env = _terminal_env(home)
        command = [sys.executable, MINIMAL_APP]
        _launch(command, env)  # warm-up: the operating system's file cache
        return [_launch(command, env)[0] for _ in range(ctx.repeat)]


@benchmark(
    "console_launch",
    "console: `helpdesk` started in an 80x24 terminal, to its first painted queue row",
    target="ratio < 1.5",
    reference=_launch_reference,
    reference_what=f"`python bench/minimal_app.py` (Textual, a {ROWS}-row DataTable)",
)
def console_launch(ctx: Context) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as home:
        env = _terminal_env(home)
        command = [HELPDESK, "--db", ctx.url, "--as", LOGIN]
        _launch(command, env)  # warm-up
        runs = [_launch(command, env) for _ in range(ctx.repeat)]
    return Measurement([took for took, _ in runs], peak_kb=max(kb for _, kb in runs))

"""The "Also here: Bea Rossi (viewing) · Tom Chen (typing…)" line of the ticket screen, and
the heartbeat behind it (`services.presence`).

`PresenceBar` is given the ticket (`follow(key)`) and told when the agent edits a reply or
note (`typed()`); it does the rest in its own thread workers, never on the UI thread:

- every `EVERY` seconds while its screen is on top (modal questions over it count as on
  top), it announces the agent on the ticket (VIEWING, or TYPING if the editor was edited in
  the last `TYPING_QUIET` seconds) and reads who else is there;
- typing is debounced: the first keystroke announces TYPING at once, later ones only move a
  timer, and `TYPING_QUIET` seconds after the last one VIEWING is announced: two writes per
  burst of typing, whatever its length;
- when its screen is covered by another full screen (another ticket, another mode) or
  closes, or the ticket changes, the agent leaves the ticket (their row is deleted);
- every `LOOK_EVERY` seconds in between, and on a desk change (the screen calls it), it
  reads who else is there without writing (`look()`): a colleague who starts typing shows
  within that, not a heartbeat later.

Writes run one at a time (a lock) and a write asked for later wins, so a slow heartbeat
never overwrites the TYPING that followed it. Names are agent data: plain `Text`, never
markup. Hidden while nobody else is there.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from tui_helpdesk.domain import Activity
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.services import presence
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.presence import Colleague

LABELS = {Activity.VIEWING: "viewing", Activity.TYPING: "typing…"}


def presence_text(others: Sequence[Colleague]) -> Text:
    """ "Also here: Bea Rossi (viewing) · Tom Chen (typing…)", names appended as plain text."""
    line = Text("Also here: ", style="bold")
    for i, colleague in enumerate(others):
        if i:
            line.append(" · ")
        line.append(colleague.name)  # agent data: never markup
        style = "bold" if colleague.activity is Activity.TYPING else "italic"
        line.append(f" ({LABELS[colleague.activity]})", style=style)
    return line


class PresenceBar(Static):
    """Who else has this ticket open; keeps the agent's own presence on it fresh."""

    DEFAULT_CSS = """
    PresenceBar {
        display: none;
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    PresenceBar.-shown {
        display: block;
    }
    PresenceBar.-typing {
        color: $warning;
    }
    """

    EVERY: ClassVar[float] = presence.HEARTBEAT.total_seconds()  # seconds between heartbeats
    TYPING_QUIET: ClassVar[float] = 4.0  # seconds after the last keystroke: typing stopped
    LOOK_EVERY: ClassVar[float] = 2.0  # seconds between reads of who else is there

    @dataclass
    class Seen(Message):
        ticket: str
        others: tuple[Colleague, ...]

    def __init__(self, context: ConsoleContext, *, id: str | None = None) -> None:
        super().__init__(Text(""), id=id)
        self.context = context
        self.ticket: str | None = None  # the ticket the agent is on (its key)
        self.others: tuple[Colleague, ...] = ()
        self.activity = Activity.VIEWING
        self.here = False  # the agent's row is (or is being) written on `ticket`
        self._asked = 0  # the number of the latest write asked for
        self._lock = threading.Lock()  # one presence write at a time, in order
        self._quiet: Timer | None = None

    def on_mount(self) -> None:
        self.set_interval(self.EVERY, self.beat, name="presence-heartbeat")
        self.set_interval(self.LOOK_EVERY, self._glance, name="presence-look")

    def _glance(self) -> None:
        # Not while a read or write is under way (a slow database): glances never queue.
        if self._on_top() and not self._lock.locked():
            self.look()

    def on_unmount(self) -> None:
        self._leave()

    # --- what the screen tells it ----------------------------------------------------

    def follow(self, ticket: str) -> None:
        """The agent is on `ticket` (again: a reload); a new ticket leaves the old one."""
        if ticket == self.ticket:
            if not self.here:
                self.beat()
            return
        self._leave()
        self.ticket = ticket
        self._show(())
        self.beat()

    def typed(self) -> None:
        """The agent edited the reply or note: TYPING now, VIEWING once they pause."""
        if self._quiet is not None:
            self._quiet.stop()  # debounced: a keystroke only moves the timer
        self._quiet = self.set_timer(self.TYPING_QUIET, self._stopped_typing)
        if self.activity is not Activity.TYPING:
            self.activity = Activity.TYPING
            self.beat()

    def _stopped_typing(self) -> None:
        self._quiet = None
        self.activity = Activity.VIEWING
        self.beat()

    def beat(self) -> None:
        """Announce the agent on the ticket and read who else is there, if the ticket is
        on top; else leave it."""
        if self.ticket is None:
            return
        if not self._on_top():
            self._leave()
            return
        self.here = True
        self._asked += 1
        self._sync(self.ticket, self.activity, self._asked)

    def look(self) -> None:
        """Read who else is there, writing nothing."""
        if self.ticket is not None and self.here:
            self._sync(self.ticket, None, self._asked)

    def _on_top(self) -> bool:
        stack = self.app.screen_stack
        if self.screen not in stack:
            return False  # another mode is shown
        above = stack[stack.index(self.screen) + 1 :]
        return all(isinstance(screen, ModalScreen) for screen in above)

    # --- the database, in workers ----------------------------------------------------

    @work(thread=True, group="presence", exit_on_error=False)
    def _sync(self, ticket: str, activity: Activity | None, asked: int) -> None:
        login, store = self.context.login, self.context.store
        seen: tuple[Colleague, ...] = ()
        with self._lock:
            try:
                # A later write asked for (or a leave) supersedes this one.
                if activity is not None and asked == self._asked and self.here:
                    presence.announce(store, ticket, login, activity, self.context.now())
                seen = presence.others(store, ticket, login, self.context.now())
            except ServiceError:
                # Not known who is there: no line. No toast every heartbeat either: a lost
                # database has its banner, and the next heartbeat tries again.
                pass
        if not get_current_worker().is_cancelled:
            self.post_message(self.Seen(ticket, seen))

    def _leave(self) -> None:
        """Delete the agent's row on the ticket, in a worker of the App's (this widget may
        be going away)."""
        if not self.here or self.ticket is None:
            return
        self.here = False
        self._asked += 1
        self._show(())
        self.app.run_worker(partial(self._delete, self.ticket), thread=True, group="presence-leave")

    def _delete(self, ticket: str) -> None:
        with self._lock, contextlib.suppress(ServiceError):  # else stale within `FRESH`
            presence.leave(self.context.store, ticket, self.context.login)

    # --- showing ---------------------------------------------------------------------

    def on_presence_bar_seen(self, message: Seen) -> None:
        if message.ticket == self.ticket and self.here:
            self._show(message.others)

    def _show(self, others: tuple[Colleague, ...]) -> None:
        self.others = others
        self.set_class(bool(others), "-shown")
        self.set_class(any(o.activity is Activity.TYPING for o in others), "-typing")
        self.update(presence_text(others) if others else Text(""))

"""Textual's `Footer`, redrawn once however many times the bindings change before it redraws.

Textual's footer rebuilds every key (a widget each, styled one by one) after the next
refresh each time its screen says the bindings changed, and a screen says so several times
while it starts (focus, the stack, the first rows making "Open" apply): each saying queued a
rebuild of its own. Here a change that comes while a rebuild is already queued is left to
that rebuild, which reads the bindings as they are when it runs; a change that comes after
the rebuild has read them queues another. What the footer shows is the same.

A footer made with `hold=True` builds no keys until its screen calls `release()` (the
queue does once its first rows are in, so the keys are built once, after those rows are
painted and with "Open" already applying, instead of twice before them), or `HOLD_AT_MOST`
seconds after it is mounted, whichever comes first: a slow first page never leaves the
footer empty for longer.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    HOLD_AT_MOST: ClassVar[float] = 0.2  # seconds a held footer waits for `release()`

    def __init__(self, *, compact: bool = False, hold: bool = False) -> None:
        super().__init__(compact=compact)
        self._changes = 0  # bindings changes heard so far
        self._shown = 0  # the changes the keys on show were built after
        self._queued = False  # a rebuild is queued and has not read the bindings yet
        self._rebuilt = False  # the queued rebuild ran (Textual may skip it)
        self._held = hold  # no keys built until `release()`

    def on_mount(self) -> None:  # Footer's own (subscribing to the bindings) runs as well
        if self._held:
            self.set_timer(self.HOLD_AT_MOST, self.release)

    def release(self) -> None:
        """Build the keys from now on (at once, from the bindings as they are then)."""
        if not self._held:
            return
        self._held = False
        if self.is_attached:
            # In the footer's own message loop, as the screen's signal calls it (the keys
            # bind to the footer's reactives while it is the active message pump).
            self.call_later(self.bindings_changed, self.screen)

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self._held:
            return  # `release()` builds the keys from the bindings as they are then
        self._changes += 1
        if self._queued:
            return  # the queued rebuild will read this change too
        self._queued = True
        self._rebuilt = False
        super().bindings_changed(screen)
        self.call_after_refresh(self._after_rebuild, screen)

    def compose(self) -> ComposeResult:
        self._shown = self._changes
        self._rebuilt = True
        yield from super().compose()

    def _after_rebuild(self, screen: Screen[object]) -> None:
        self._queued = False
        if self._rebuilt and self._shown != self._changes:
            self.bindings_changed(screen)  # changed while the keys were being built

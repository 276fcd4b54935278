"""The "database unreachable" banner: docked on top of whatever screen the agent is on.

The App mounts one on the active screen when the desk watcher loses its connection, and
removes every one when the connection is back (`HelpdeskApp.on_helpdesk_app_database_lost`).
Meanwhile the screens keep what they show; their own loads report their own failures.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ConnectionBanner(Static):
    DEFAULT_CSS = """
    ConnectionBanner {
        dock: top;
        height: 1;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    """

    def __init__(self, error: str) -> None:
        super().__init__(id="connection-banner")
        self.show_error(error)

    def show_error(self, error: str) -> None:
        # The driver's text can hold anything: plain Text, never markup.
        self.update(
            Text(
                f"⚠ {error} — retrying; what you see may be out of date",
                no_wrap=True,
                overflow="ellipsis",
            )
        )

"""What every screen is given: the database, who is acting, and the console's settings; and
the console-wide message screens react to.

Built once by the App and passed down to screens as a constructor argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.message import Message

from tui_helpdesk.services.views import Store

# How often a screen showing SLA countdowns and ages reads them again (they are working time
# on each ticket's calendar, not something the UI can count down by itself).
COUNTDOWN_REFRESH = 60.0


@dataclass(frozen=True)
class ConsoleContext:
    store: Store  # opened by workers only, never on the UI thread
    login: str
    page_size: int = 100
    timezone: str | None = None  # the personal display zone from the config, if any
    clock: Callable[[], datetime] | None = None  # for tests; None = the system clock
    views_file: Path | None = None  # the agent's saved queue views (None: not kept)
    # Replies and notes kept for later (`ticket_editor.Draft`), by ticket key, then kind:
    # the console's, not a ticket screen's, so they wait for the agent to come back to the
    # ticket, and quitting asks about all of them.
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)

    def drafted(self) -> list[str]:
        """The tickets with a draft kept and not sent."""
        return [
            key for key, kept in self.drafts.items() if any(d.text.strip() for d in kept.values())
        ]

    def unsent_drafts(self) -> list[str]:
        """The drafts kept and not sent, as quitting names them: "reply on HD-12"."""
        return [
            f"{kind} on {key}"
            for key, kept in self.drafts.items()
            for kind, draft in kept.items()
            if draft.text.strip()
        ]


class DeskChanged(Message):
    """Someone committed to the desk's database (another agent, a cron job, this console).

    The App posts it to the active screen within about a second of the commit (see
    `store.changes`); a screen reloads what it shows, keeping the agent's place, and says
    what changed if that matters (the ticket screen: `views.describe_changes`). It carries
    no detail: what changed is whatever the reload finds different. Handler name:
    `on_desk_changed`.
    """

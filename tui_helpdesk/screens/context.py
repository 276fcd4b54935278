"""What every screen is given: the database, who is acting, and the console's settings.

Built once by the App and passed down to screens as a constructor argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tui_helpdesk.services.views import Store


@dataclass(frozen=True)
class ConsoleContext:
    store: Store  # opened by workers only, never on the UI thread
    login: str
    page_size: int = 100
    timezone: str | None = None  # the personal display zone from the config, if any
    clock: Callable[[], datetime] | None = None  # for tests; None = the system clock

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)

"""The console: a Textual App that opens on the queue.

Owns only what is console-wide: the modes (the queue is the home mode, then knowledge;
later customers and reports), the global bindings (quit, help, `f1`/`f2` to switch mode,
`f3` for the new-ticket form of a caller),
the theme and keymap from the settings, and the header naming the desk and the agent.
Screens do their own loading.

`run()` is the entry point the CLI imports lazily, so the headless commands never import
Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import HelpPanel
from textual.worker import get_current_worker

from tui_helpdesk.config import Settings
from tui_helpdesk.screens.context import ConsoleContext
from tui_helpdesk.screens.knowledge import KnowledgeScreen
from tui_helpdesk.screens.new_ticket import NewTicketScreen
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services import views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.views import Profile, Store

DEFAULT_THEME = "textual-dark"
FEW_COLOURS_THEME = "ansi-dark"  # the terminal's own 16 colours
# Names the config may use for themes Textual spells differently.
THEME_ALIASES = {"textual-ansi": "ansi-dark"}


class HelpdeskApp(App[None]):
    """The help desk console for one agent on one database."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "Help Desk"
    DEFAULT_MODE = "queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("question_mark", "toggle_help", "Help", id="app.help"),
        Binding("f1", "switch_mode('queue')", "Queue", id="app.mode.queue"),
        Binding(
            "f2",
            "switch_mode('knowledge')",
            "KB",  # short: the queue's footer is full at 80 columns
            tooltip="Knowledge base",
            id="app.mode.knowledge",
        ),
        # Not in the footer: the queue's and the ticket's are full at 80 columns (help lists it).
        Binding(
            "f3",
            "new_ticket",
            "New ticket",
            tooltip="New ticket for a caller",
            show=False,
            id="app.new_ticket",
        ),
    ]

    @dataclass
    class ProfileLoaded(Message):
        profile: Profile

    @dataclass
    class ProfileFailed(Message):
        error: str

    def __init__(
        self,
        store: Store,
        login: str,
        settings: Settings | None = None,
        *,
        page_size: int = 100,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.context = ConsoleContext(
            store=store,
            login=login,
            page_size=max(1, min(page_size, views.MAX_PAGE)),
            timezone=settings.timezone if settings else None,
            clock=clock,
        )
        self.add_mode("queue", lambda: QueueScreen(self.context))
        self.add_mode("knowledge", lambda: KnowledgeScreen(self.context))
        self.sub_title = login
        self.profile: Profile | None = None

    def on_mount(self) -> None:
        self._apply_settings()
        self._load_profile()

    def _apply_settings(self) -> None:
        wanted = self.settings.theme if self.settings else DEFAULT_THEME
        wanted = THEME_ALIASES.get(wanted, wanted)
        if wanted == DEFAULT_THEME and self.console.color_system in ("standard", "windows"):
            wanted = FEW_COLOURS_THEME  # 8/16-colour terminal: keep to its own palette
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notify(
                f"unknown theme {wanted!r} in the config; using {self.theme}",
                severity="warning",
            )
        if self.settings and self.settings.keymap:
            self.set_keymap(dict(self.settings.keymap))

    # --- the agent and the desk ------------------------------------------------------

    @work(thread=True, exclusive=True, group="profile", exit_on_error=False)
    def _load_profile(self) -> None:
        worker = get_current_worker()
        try:
            found = views.profile(self.context.store, self.context.login, self.context.timezone)
        except ServiceError as exc:
            if not worker.is_cancelled:
                self.post_message(self.ProfileFailed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.ProfileLoaded(found))

    def on_helpdesk_app_profile_loaded(self, message: ProfileLoaded) -> None:
        self.profile = message.profile
        self.title = message.profile.desk_name
        self.sub_title = f"{message.profile.name} ({message.profile.login})"

    def on_helpdesk_app_profile_failed(self, message: ProfileFailed) -> None:
        self.notify(message.error, title="Agent", severity="error", timeout=10)

    # --- actions ---------------------------------------------------------------------

    def action_toggle_help(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_mode":
            return parameters[0] != self.current_mode  # the key of the mode you are in hides
        if action == "new_ticket":
            return not isinstance(self.screen, NewTicketScreen)  # one form at a time
        return True

    def action_new_ticket(self) -> None:
        """The new-ticket form for a caller, over whatever the agent was looking at."""
        self.push_screen(NewTicketScreen(self.context))

    def action_open_ticket(self, ref: str) -> None:
        """Open a ticket by "HD-12", "12" or "#12" (the queue's enter, later the palette)."""
        self.push_screen(TicketScreen(self.context, ref))


def run(settings: Settings, login: str) -> None:
    """Open the console for `login` on the database of `settings` (blocks until quit)."""
    store = Store(settings.database_url)
    try:
        HelpdeskApp(store, login, settings).run()
    finally:
        store.dispose()

"""The console: a Textual App that opens on the queue.

Owns only what is console-wide: the modes (the queue is the home mode, then knowledge,
customers and reports), the global bindings (quit, help, `f1`/`f2`/`f4`/`f5` to switch mode,
`f3` for the new-ticket form of a caller), the command palette's console-wide entries
(`ctrl+p`: go to a ticket by number, views, modes), the theme and keymap from the settings,
and the header naming the desk and the agent. Screens do their own loading.

Live refresh: a plain daemon thread waits on a `store.changes.DeskWatcher` (never the UI
thread) and posts `DeskChanged` to the active screen when someone commits; when the
watcher's connection fails, a banner says so on the active screen until it comes back.

`run()` is the entry point the CLI imports lazily, so the headless commands never import
Textual.

Start-up is kept to what the first queue rows need (`tests/screens/test_startup.py`): the
other screens' modules are imported when their mode, form or ticket is first opened, the
theme is chosen before the first style is computed (changing it later restyles and lays out
every widget again), and the queue's stylesheet is read with the App's so mounting the home
screen does not parse every stylesheet a second time.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path, PurePath
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.message import Message
from textual.notifications import Notify
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import get_current_worker

from tui_helpdesk.config import ConfigError, Settings, console_keymap, save_theme
from tui_helpdesk.screens.context import ConsoleContext, DeskChanged
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.services import views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.saved_views import views_path
from tui_helpdesk.services.views import DrillView, Profile, Store, View
from tui_helpdesk.store.changes import DeskWatcher, WatchLost, notify_on_commit
from tui_helpdesk.widgets.banner import ConnectionBanner
from tui_helpdesk.widgets.palette import GoToTicket

DEFAULT_THEME = "textual-dark"
FEW_COLOURS_THEME = "ansi-dark"  # the terminal's own 16 colours
# Names the config may use for themes Textual spells differently.
THEME_ALIASES = {"textual-ansi": "ansi-dark"}
WATCH_SLICE = 0.5  # seconds the watcher blocks at a time (and so how soon it stops)
RETRY_AFTER = 2.0  # seconds between two tries to reach a lost database
# Toasts on screen at once: at 80x24 more would cover the editor the agent is typing in.
MAX_TOASTS = 3


NEW_TICKET_MODULE = "tui_helpdesk.screens.new_ticket"


class HelpdeskApp(App[None]):
    """The help desk console for one agent on one database."""

    # Absolute paths: subclasses live elsewhere. The queue's own stylesheet is the home
    # screen's: read here, it is parsed once with the rest instead of again at its mount.
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        Path(__file__).with_name("app.tcss"),
        QueueScreen.CSS_PATH,
    ]
    TITLE = "Help Desk"
    DEFAULT_MODE = "queue"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("question_mark", "toggle_help", "Help", id="app.help"),
        # The queue's list, also from a ticket opened over it (`action_queue`). Out of the
        # footer, as f4 and f5 are: the ticket screen's own keys fill it at 80 columns.
        Binding("f1", "queue", "Queue", show=False, id="app.mode.queue"),
        Binding(
            "f2",
            "switch_mode('knowledge')",
            "KB",  # short: the queue's footer is full at 80 columns
            tooltip="Knowledge base",
            id="app.mode.knowledge",
        ),
        Binding("f4", "switch_mode('customers')", "Customers", show=False, id="app.mode.customers"),
        Binding("f5", "switch_mode('reports')", "Reports", show=False, id="app.mode.reports"),
        # Last in the footer: where the screen's own keys leave no room, it is cut off first
        # (help and the palette list it).
        Binding(
            "f3",
            "new_ticket",
            "New",
            tooltip="New ticket for a caller",
            id="app.new_ticket",
        ),
    ]
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {
        *App.COMMANDS,
        GoToTicket,
    }

    @dataclass
    class ProfileLoaded(Message):
        profile: Profile

    @dataclass
    class ProfileFailed(Message):
        error: str

    @dataclass
    class DatabaseLost(Message):
        error: str

    class DatabaseBack(Message):
        pass

    class Changed(Message):
        """From the watcher thread: forwarded to the active screen as `DeskChanged`."""

    def __init__(
        self,
        store: Store,
        login: str,
        settings: Settings | None = None,
        *,
        page_size: int = 100,
        clock: Callable[[], datetime] | None = None,
        live: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        # Checked before anything opens: a bad keymap is a ConfigError naming file and key.
        self._keymap = console_keymap(settings) if settings else {}
        self._theme_on_file: str | None = None  # the theme last saved to the config file
        self.context = ConsoleContext(
            store=store,
            login=login,
            page_size=max(1, min(page_size, views.MAX_PAGE)),
            timezone=settings.timezone if settings else None,
            clock=clock,
            views_file=views_path(settings.config_path) if settings else None,
        )
        self.add_mode("queue", lambda: QueueScreen(self.context))
        for mode, module, name in (KNOWLEDGE_MODE, *EXTRA_MODES):
            if importlib.util.find_spec(module) is not None:
                self.add_mode(mode, partial(_build_screen, module, name, self.context))
        self._theme_warning = self._pick_theme()
        self.sub_title = login
        self.profile: Profile | None = None
        self.live = live
        self.database_error: str | None = None  # set while the database is unreachable
        self._stop_watching = threading.Event()
        self._watcher: threading.Thread | None = None
        if live:
            notify_on_commit(store)  # this console's own writes wake the others at once

    def on_mount(self) -> None:
        if self._theme_warning:
            self.notify(self._theme_warning, severity="warning")
        if self._keymap:
            self.set_keymap(self._keymap)
        # From now on a theme the agent picks (palette: "Change theme") is remembered.
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        # The header's names wait for the first paint: the queue's first page is read
        # meanwhile, and nothing else competes with it for the interpreter.
        self.call_after_refresh(self._load_profile)
        if self.live:
            self._watcher = threading.Thread(target=self._watch, name="desk-watcher", daemon=True)
            self._watcher.start()

    def on_unmount(self) -> None:
        self._stop_watching.set()
        if self._watcher is not None:
            self._watcher.join(timeout=WATCH_SLICE * 4)

    # --- live refresh ----------------------------------------------------------------

    def _watch(self) -> None:
        """The watcher thread: blocks on the database's change signal, posts what it sees."""
        watcher = DeskWatcher(self.context.store)
        lost = False
        first = True
        try:
            while not self._stop_watching.is_set():
                try:
                    changed = watcher.wait(WATCH_SLICE)
                except WatchLost as exc:
                    lost = True
                    self.post_message(self.DatabaseLost(str(exc)))
                    self._stop_watching.wait(RETRY_AFTER)
                    continue
                if lost:
                    lost = False
                    self.post_message(self.DatabaseBack())
                elif changed and not first:
                    self.post_message(self.Changed())
                first = False
        finally:
            watcher.close()

    def _open_screen(self) -> Screen[object] | None:
        """The screen in front, or None once the app is closing (its screens are gone while
        a message the watcher posted just before may still arrive)."""
        stack = self.screen_stack
        return stack[-1] if stack else None

    def on_helpdesk_app_changed(self, _message: Changed) -> None:
        if screen := self._open_screen():
            screen.post_message(DeskChanged())

    def on_helpdesk_app_database_lost(self, message: DatabaseLost) -> None:
        self.database_error = message.error
        screen = self._open_screen()
        if screen is None:
            return
        banners = screen.query(ConnectionBanner)
        if banners:
            for banner in banners:
                banner.show_error(message.error)
        else:
            screen.mount(ConnectionBanner(message.error))

    def on_helpdesk_app_database_back(self, _message: DatabaseBack) -> None:
        self.database_error = None
        for screen in self._all_screens():
            for banner in screen.query(ConnectionBanner):
                banner.remove()
        self.notify("database reachable again", title="Database")
        if screen := self._open_screen():
            screen.post_message(DeskChanged())

    async def action_quit(self) -> None:
        """Quit; when that would lose text not sent (a screen's `unsent()`, the drafts kept
        for later on any ticket), ask first: `ctrl+q` again, or the button, quits."""
        from tui_helpdesk.screens.ticket_actions import QuitScreen

        unsent = [what for screen in self._all_screens() for what in _unsent(screen)]
        unsent += self.context.unsent_drafts()
        if not unsent or isinstance(self.screen, QuitScreen):
            self.exit()
            return
        question = f"Not sent, and lost if you quit: {'; '.join(unsent)}."
        self.push_screen(QuitScreen(question), self._quit_answered)

    def _quit_answered(self, answer: str | None) -> None:
        if answer == "quit":
            self.exit()

    def _all_screens(self) -> Iterable[Screen[object]]:
        seen: list[Screen[object]] = list(self.screen_stack)
        for stack in self._screen_stacks.values():
            seen += [s for s in stack if s not in seen]
        return seen

    def _pick_theme(self) -> str | None:
        """Set the theme of the settings (or the terminal's own colours on an 8/16-colour
        terminal) before anything is styled; returns a warning if the config names an
        unknown theme."""
        wanted = self.settings.theme if self.settings else DEFAULT_THEME
        wanted = THEME_ALIASES.get(wanted, wanted)
        if wanted == DEFAULT_THEME and self.console.color_system in ("standard", "windows"):
            wanted = FEW_COLOURS_THEME  # 8/16-colour terminal: keep to its own palette
        if wanted == self.theme:
            return None  # setting it again would restyle every widget for nothing
        if wanted not in self.available_themes:
            return f"unknown theme {wanted!r} in the config; using {self.theme}"
        self.theme = wanted
        # Styles are computed from these variables: the first parse uses the chosen theme's.
        self.stylesheet.set_variables(self.get_css_variables())
        return None

    def _remember_theme(self, theme: Theme) -> None:
        if self.settings is None:
            return
        on_file = self._theme_on_file or THEME_ALIASES.get(self.settings.theme, self.settings.theme)
        if theme.name != on_file:
            self._theme_on_file = theme.name
            self._save_theme(self.settings.config_path, theme.name)

    @work(thread=True, exclusive=True, group="save-theme")
    def _save_theme(self, path: Path, theme: str) -> None:
        """Write the theme into the config file, off the UI thread (one line there)."""
        try:
            save_theme(path, theme)
        except ConfigError as exc:
            self.call_from_thread(self.notify, str(exc), severity="warning")

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

    def on_notify(self, _event: Notify) -> None:
        """Make room for a new toast (this runs before Textual adds it): beyond
        `MAX_TOASTS`, the oldest give way, errors last (an unsaved reply's must stay)."""
        shown = list(self._notifications)
        excess = len(shown) + 1 - MAX_TOASTS
        if excess <= 0:
            return
        by_age = sorted(shown, key=lambda n: n.severity == "error")  # stable: oldest first
        for old in by_age[:excess]:
            self._unnotify(old, refresh=False)

    def on_helpdesk_app_profile_loaded(self, message: ProfileLoaded) -> None:
        self.profile = message.profile
        self.title = message.profile.desk_name
        self.sub_title = f"{message.profile.name} ({message.profile.login})"

    def on_helpdesk_app_profile_failed(self, message: ProfileFailed) -> None:
        self.notify(message.error, title="Agent", severity="error", timeout=10)

    # --- actions ---------------------------------------------------------------------

    def action_toggle_help(self) -> None:
        if self.screen.query("KeysHelp"):  # by name: its module loads on first use
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_show_help_panel(self) -> None:
        """The keys panel (`?`, and the palette's "Keys"): the screen's own keys first, then
        the console's, then the generic ones, under headings (`widgets.keys_help`)."""
        from tui_helpdesk.widgets.keys_help import KeysHelp

        if not self.screen.query(KeysHelp):
            self.screen.mount(KeysHelp())

    def action_hide_help_panel(self) -> None:
        self.screen.query("KeysHelp").remove()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_mode":
            # The key of the mode you are in hides, and so do modes this console lacks.
            return parameters[0] != self.current_mode and parameters[0] in self._modes
        if action == "queue":
            return self.current_mode != "queue" or not isinstance(self.screen, QueueScreen)
        if action == "new_ticket":
            return not _is_new_ticket_form(self.screen)  # one form at a time
        return True

    def action_new_ticket(self) -> None:
        """The new-ticket form for a caller, over whatever the agent was looking at."""
        from tui_helpdesk.screens.new_ticket import NewTicketScreen

        self.push_screen(NewTicketScreen(self.context))

    def action_open_ticket(self, ref: str) -> None:
        """Open a ticket by "HD-12", "12" or "#12" (the queue's enter, the palette)."""
        from tui_helpdesk.screens.ticket import TicketScreen

        self.push_screen(TicketScreen(self.context, ref))

    def action_queue(self) -> None:
        """The queue's list: from another mode, and from the tickets opened over it."""
        self._to_queue_list()

    def _to_queue_list(self) -> bool:
        """Bring the queue's list to the front, leaving the ticket screens opened over it
        (they lose nothing: their drafts are the console's). A ticket still saving, a form
        or a dialog is not left: the agent is told, and False returned."""
        from tui_helpdesk.screens.ticket import TicketScreen

        if self.current_mode != "queue":
            self.switch_mode("queue")
        while len(self.screen_stack) > 1 and not isinstance(self.screen, QueueScreen):
            screen = self.screen
            if not isinstance(screen, TicketScreen) or screen.busy is not None:
                self.notify("finish or leave what is open first (escape)", severity="warning")
                return False
            self.pop_screen()
        return True

    def show_queue_view(self, name: str) -> None:
        """The queue in view `name` (a `View` value or a saved view's), from anywhere."""

        def show() -> None:
            if isinstance(self.screen, QueueScreen):
                self.screen.action_show_view(name)

        if self._to_queue_list():
            self.call_after_refresh(show)

    def on_reports_screen_drill_down(self, message: Message) -> None:
        """Enter on a report's bar: its tickets as a queue view (until another is chosen)."""
        drill = DrillView(message.title, message.drill)  # type: ignore[attr-defined]

        def show() -> None:
            if isinstance(self.screen, QueueScreen):
                self.screen.show_drill(drill)

        self.switch_mode("queue")
        self.call_after_refresh(show)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, then the console's: views, modes, new ticket."""
        yield from super().get_system_commands(screen)
        for view in View:
            yield SystemCommand(
                f"Queue: {view.label}",
                f"Show the {view.label} view",
                partial(self.show_queue_view, view.value),
            )
        yield SystemCommand("New ticket", "For a caller (f3)", self.action_new_ticket)
        for mode, label in (("knowledge", "Knowledge base"), *MODE_LABELS):
            if mode in self._modes and mode != self.current_mode:
                yield SystemCommand(
                    label, f"Switch to {label.lower()}", partial(self.switch_mode, mode)
                )


MODE_LABELS = (("customers", "Customers"), ("reports", "Reports"))


# Modes besides the queue: (mode, module, class), each screen's module imported when its
# mode is first shown. Customers (f4) and reports (f5) come from other parts of the console:
# a console without one of those modules simply has no such mode (its key stays hidden).
KNOWLEDGE_MODE = ("knowledge", "tui_helpdesk.screens.knowledge", "KnowledgeScreen")
EXTRA_MODES = (
    ("customers", "tui_helpdesk.screens.customers", "CustomersScreen"),
    ("reports", "tui_helpdesk.screens.reports", "ReportsScreen"),
)


def _build_screen(module: str, name: str, context: ConsoleContext) -> Screen[object]:
    """A mode's screen, its module imported on first use."""
    screen: Screen[object] = getattr(importlib.import_module(module), name)(context)
    return screen


def _is_new_ticket_form(screen: Screen[object]) -> bool:
    """Whether `screen` is the new-ticket form (without importing it to find out)."""
    module = sys.modules.get(NEW_TICKET_MODULE)
    return module is not None and isinstance(screen, module.NewTicketScreen)


def run(settings: Settings, login: str, store: Store) -> None:
    """Open the console for `login` on `store` (blocks until quit). The store is the CLI's,
    already open on the database of `settings` (with the desk's mail address, so replies
    written here go out as the desk): its connection is used again, and the caller closes it.
    """
    HelpdeskApp(store, login, settings).run()


def _unsent(screen: Screen[object]) -> list[str]:
    """What a screen holds that is not saved and quitting would lose (its `unsent()`)."""
    unsent: Callable[[], list[str]] | None = getattr(screen, "unsent", None)
    return unsent() if unsent is not None else []

"""Messages that arrive while the console closes: the watcher thread may post a change (or a
lost connection) just before the app's screens are gone, and handling it then must not fail."""

from __future__ import annotations

from tests.conftest import Desk
from tests.screens.conftest import make_app
from tui_helpdesk.app import HelpdeskApp


def test_a_change_heard_with_no_screen_open_is_dropped(desk_store: Desk) -> None:
    app = make_app(desk_store, live=True)
    assert app.screen_stack == []  # as when the app has closed its screens on the way out
    app.on_helpdesk_app_changed(HelpdeskApp.Changed())
    app.on_helpdesk_app_database_lost(HelpdeskApp.DatabaseLost("server closed the connection"))
    assert app.database_error == "server closed the connection"

"""The queue screen through Pilot, on SQLite and PostgreSQL, at 80x24 and 120x40."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widget import Widget
from textual.widgets import Static

from tests.conftest import NOW, Desk
from tests.screens.conftest import (
    SIZES,
    column,
    keys_shown,
    make_app,
    make_ticket,
    settle,
    table_of,
    wait_for,
)
from tui_helpdesk.app import MAX_TOASTS, HelpdeskApp
from tui_helpdesk.config import Settings, load_settings
from tui_helpdesk.domain import Status
from tui_helpdesk.screens.queue import VIEW_ORDER, QueueScreen
from tui_helpdesk.services import directory
from tui_helpdesk.services.views import View
from tui_helpdesk.widgets.ticket_table import COLUMNS
from tui_helpdesk.widgets.view_tabs import ViewTabs

pytestmark = pytest.mark.parametrize("size", SIZES)


async def test_my_open_then_all_open(desk_store: Desk, size: tuple[int, int]) -> None:
    mine = make_ticket(desk_store, "VPN drops", assignee="bob", due_in=timedelta(minutes=30))
    overdue = make_ticket(desk_store, "Printer offline", assignee="bob", due_in=-timedelta(hours=1))
    other = make_ticket(desk_store, "Invoice twice", assignee="cleo", due_in=timedelta(hours=5))
    make_ticket(desk_store, "Old one", status=Status.RESOLVED)

    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.title == "Help Desk" and "bob" in app.sub_title
        table = table_of(app)
        # Most urgent deadline first; an overdue one says by how much.
        assert keys_shown(app) == [overdue, mine]
        assert column(table, "sla") == ["-1h", "30m"]
        assert column(table, "subject") == ["Printer offline", "VPN drops"]
        assert "assignee" not in table.visible_columns()  # "My open": always me
        assert str(app.screen.query_one("#count").render()) == "2 tickets"

        await pilot.press("3")
        await settle(pilot)
        assert app.screen.view is View.ALL_OPEN
        assert keys_shown(app) == [overdue, mine, other]
        assert column(table, "status") == ["open", "open", "open"]
        assert str(app.screen.query_one("#count").render()) == "3 tickets"
        assert app.notices == []


async def test_columns_fit_the_width(desk_store: Desk, size: tuple[int, int]) -> None:
    make_ticket(desk_store, "A subject long enough to need cropping at eighty columns wide")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        table = table_of(app)
        shown = table.visible_columns()
        widths = sum(c.get_render_width(table) for c in table.ordered_columns)
        assert widths <= table.size.width  # nothing runs off the right edge
        if size[0] == 80:
            assert "organization" not in shown and "updated" not in shown
            # "All open": who owns each ticket, in the room the requester would take.
            assert shown == ["number", "priority", "sla", "subject", "assignee", "status"]
            await pilot.press("1")  # "My open" hides the assignee: the requester shows
            await settle(pilot)
            assert table.visible_columns() == [
                "number",
                "priority",
                "sla",
                "subject",
                "requester",
                "status",
            ]
        else:
            assert shown == [c.key for c in COLUMNS]
            assert column(table, "organization") == ["Acme"]
            assert column(table, "group") == [""]


async def test_views_switch(desk_store: Desk, size: tuple[int, int]) -> None:
    with desk_store.store.write() as session:
        directory.add_group(session, NOW, directory.GroupDraft("Team", members=["bob"]))
    in_l1 = make_ticket(desk_store, "Unassigned in L1", group="L1")
    in_team = make_ticket(desk_store, "Unassigned in Team", group="Team")
    make_ticket(desk_store, "Unassigned in L2", group="L2")  # not one of bob's groups
    make_ticket(desk_store, "Taken in L1", group="L1", assignee="admin")
    pending = make_ticket(desk_store, "Waiting on customer", assignee="bob", status=Status.PENDING)
    resolved = make_ticket(desk_store, "Fixed", assignee="bob", status=Status.RESOLVED)

    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert keys_shown(app) == [pending]
        await pilot.press("2")
        await settle(pilot)
        assert sorted(keys_shown(app)) == sorted([in_l1, in_team])
        await pilot.press("4")
        await settle(pilot)
        assert keys_shown(app) == [pending]
        await pilot.press("5")
        await settle(pilot)
        assert keys_shown(app) == [resolved]
        await pilot.press("6")
        await settle(pilot)
        assert app.screen.view is View.BREACHING
        await pilot.press("v")  # wraps round to the first view
        await settle(pilot)
        assert app.screen.view is View.MY_OPEN
        tabs = app.screen.query(".tab.-current")
        assert [t.id for t in tabs] == ["tab-my_open"]


async def test_every_view_tab_says_what_it_is(desk_store: Desk, size: tuple[int, int]) -> None:
    """The tabs name their views in full where they fit, else in a word (80 columns): a
    new agent can tell the views apart without pressing each key."""
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shown = [str(tab.render()) for tab in app.screen.query(".tab")]
        if size == (80, 24):
            assert shown == ["1 My open", "2 Groups", "3 All", "4 Pending", "5 Done", "6 Breach"]
        else:
            assert shown == [f"{i} {v.label}" for i, v in enumerate(VIEW_ORDER, start=1)]
        await pilot.press("2")
        await settle(pilot)
        shown = [str(tab.render()) for tab in app.screen.query(".tab")]
        assert shown[:2] == (
            ["1 Mine", "2 My groups"] if size == (80, 24) else ["1 My open", "2 My groups"]
        )


async def test_pages_load_as_the_cursor_nears_the_end(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    made = [make_ticket(desk_store, f"Ticket {i}") for i in range(12)]
    app = make_app(desk_store, page_size=5)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert keys_shown(app) == made[:5]  # one page, not the whole view
        assert str(app.screen.query_one("#count").render()) == "5/12 tickets"
        await pilot.press("j", "j", "j")  # within the load margin of the last row
        await settle(pilot)
        assert keys_shown(app) == made[:10]
        await pilot.press("G")
        await settle(pilot)
        assert keys_shown(app) == made
        assert str(app.screen.query_one("#count").render()) == "12 tickets"
        await pilot.press("g")
        assert table_of(app).cursor_row == 0


async def test_text_filter(desk_store: Desk, size: tuple[int, int]) -> None:
    vpn = make_ticket(desk_store, "VPN drops every hour")
    make_ticket(desk_store, "Printer offline")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert len(keys_shown(app)) == 2
        await pilot.press("slash", "v", "p", "n", "enter")
        await settle(pilot)
        assert keys_shown(app) == [vpn]
        assert "vpn" in str(app.screen.query_one("#count").render())
        assert app.focused is table_of(app)  # enter hands the keys back to the list
        await pilot.press("escape")
        await settle(pilot)
        assert len(keys_shown(app)) == 2
        assert not app.screen.has_class("-filtering")


async def test_the_count_stays_whole_beside_a_filter_and_marks(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """The count is what the bar's right end is for: the filter's text gives way to it."""
    for n in range(3):
        make_ticket(desk_store, f"VPN drops on floor {n}")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("slash", *"priority:normal vpn drops on floor", "enter")
        await settle(pilot)
        assert len(keys_shown(app)) == 3
        count = app.screen.query_one("#count")

        def shown() -> str:
            text = str(count.render())
            assert cell_len(text) <= count.content_size.width  # nothing cut off
            return text

        assert shown().endswith("3 tickets")
        if size[0] >= 120:
            assert shown() == "“priority:normal vpn drops on floor” 3 tickets"
        else:  # shortened: the filter field below the bar has it whole
            assert shown().startswith("“prior") and shown().endswith("…” 3 tickets")
        await pilot.press("space", "space")
        await settle(pilot)
        assert shown().endswith("3 tickets") and shown().startswith("2 marked")


async def test_keymap_and_theme_from_settings(
    desk_store: Desk, size: tuple[int, int], tmp_path: Path
) -> None:
    make_ticket(desk_store, "Anything")
    settings = Settings(
        database_url="unused://",
        config_path=tmp_path / "config.toml",
        rules_path=tmp_path / "rules.toml",
        theme="textual-ansi",
        keymap={"queue.view.all_open": "a"},
    )
    app = make_app(desk_store, settings=settings)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.theme == "ansi-dark"  # what Textual calls its ANSI theme
        await pilot.press("a")
        await settle(pilot)
        assert app.screen.view is View.ALL_OPEN
        assert len(keys_shown(app)) == 1


async def test_service_errors_are_notifications(desk_store: Desk, size: tuple[int, int]) -> None:
    make_ticket(desk_store, "Anything")
    app = make_app(desk_store, login="nobody")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        errors = [text for severity, text in app.notices if severity == "error"]
        assert any("unknown agent 'nobody'" in text for text in errors)
        assert table_of(app).row_count == 0
        await pilot.press("3")  # the desk-wide view does not need to know the agent
        await settle(pilot)
        assert len(keys_shown(app)) == 1
        assert app.is_running


async def test_back_from_a_ticket_the_queue_is_fresh(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    from tui_helpdesk.domain import Priority
    from tui_helpdesk.screens.ticket import TicketScreen
    from tui_helpdesk.services import ticket_changes

    key = make_ticket(desk_store, "VPN drops", assignee="bob", due_in=timedelta(minutes=30))
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert column(table_of(app), "priority") != ["urgent"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        # Someone else changes the ticket while it is open here.
        with desk_store.store.write() as session:
            ticket_changes.change_priority(session, desk_store.admin, NOW, key, Priority.URGENT)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert column(table_of(app), "priority") == ["urgent"]


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url="unused://",
        config_path=tmp_path / "config.toml",
        rules_path=tmp_path / "rules.toml",
    )


async def test_saved_views_leave_the_standard_tabs_their_words(
    desk_store: Desk, size: tuple[int, int], tmp_path: Path
) -> None:
    """Three saved views at 80 columns: the standard tabs keep their words, the saved ones
    show their keys (the current one its name); only a count too wide for the room left
    takes the words away."""
    from tui_helpdesk.services import saved_views

    views = [
        saved_views.SavedView(name, saved_views.parse_filter(f"priority:{p}"))
        for name, p in (("Hot", "urgent"), ("Warm", "high"), ("Cold", "low"))
    ]
    saved_views.save(tmp_path / "views.toml", views)
    app = make_app(desk_store, settings=_settings(tmp_path))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        # The view's own count in (else it could arrive after the one set below).
        count = app.screen.query_one("#count")
        await wait_for(pilot, lambda: str(count.render()) == "0 tickets")
        shown = [str(tab.render()) for tab in app.screen.query(".tab")]
        if size == (80, 24):
            words = ["1 My open", "2 Groups", "3 All", "4 Pending", "5 Done", "6 Breach"]
            assert shown == [*words, "7", "8", "9"]
            bar = app.screen.query_one(ViewTabs)
            bar.show_count("1,234/12,345 tickets")  # a count this wide needs their room
            await pilot.pause()
            shown = [str(tab.render()) for tab in app.screen.query(".tab")]
            assert shown == ["1 My open", *"23456789"]
        else:
            assert shown[6:] == ["7 ★Hot", "8 ★Warm", "9 ★Cold"]


async def test_save_a_filter_as_a_view(
    desk_store: Desk, size: tuple[int, int], tmp_path: Path
) -> None:
    from tui_helpdesk.services import saved_views

    urgent = make_ticket(desk_store, "Server down", group="L1")
    make_ticket(desk_store, "Printer offline", group="L1")
    with desk_store.store.write() as session:
        from tui_helpdesk.domain import Priority
        from tui_helpdesk.services import ticket_changes

        ticket_changes.change_priority(session, desk_store.admin, NOW, urgent, Priority.URGENT)
    app = make_app(desk_store, settings=_settings(tmp_path))
    async with app.run_test(size=size) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("slash", *"priority:urgent group:L1", "enter")
        await settle(pilot)
        assert keys_shown(app) == [urgent]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press(*"Hot L1", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.view.label == "Hot L1" and screen.filter_text == ""
        assert keys_shown(app) == [urgent]
        assert [t.id for t in screen.query(".tab.-current")] == ["tab-saved-0"]
        found, problems = saved_views.load(tmp_path / "views.toml")
        assert [v.name for v in found] == ["Hot L1"] and problems == []
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("7")  # the first saved view's key
        await settle(pilot)
        assert screen.view.label == "Hot L1"


async def test_a_malformed_views_file_is_one_notice(
    desk_store: Desk, size: tuple[int, int], tmp_path: Path
) -> None:
    (tmp_path / "views.toml").write_text('[[view]]\nname = "Odd"\nstatus = ["later"]\n')
    make_ticket(desk_store, "Anything", assignee="bob")
    app = make_app(desk_store, settings=_settings(tmp_path))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        warnings = [text for severity, text in app.notices if severity == "warning"]
        assert len(warnings) == 1
        assert "views.toml: view[0].status: unknown value 'later'" in warnings[0]
        assert len(keys_shown(app)) == 1  # the console works on


async def test_a_bad_filter_is_a_notice_and_no_stale_rows(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    make_ticket(desk_store, "Anything", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"priority:asap", "enter")
        await settle(pilot)
        errors = [text for severity, text in app.notices if severity == "error"]
        # The filter applies as it is typed (debounced): on a loaded machine a pause inside
        # the word may tell of a part of it first. What was typed last is what is told last.
        assert errors[-1] == "priority: unknown value 'asap' (one of low, normal, high, urgent)"
        assert all(error.startswith("priority: ") for error in errors), errors
        assert keys_shown(app) == []
        # Said over the empty list too, not only in a passing notice.
        screen = app.screen
        assert screen.has_class("-empty")
        said = str(screen.query_one("#queue-empty", Static).render())
        assert said.startswith("Nothing shown: priority: unknown value 'asap'")
        await pilot.press("slash", *"priority:high", "enter")  # the old filter selected
        await settle(pilot)
        said = str(screen.query_one("#queue-empty", Static).render())
        assert said.startswith("No ticket in My open matches “priority:high”")
        await pilot.press("escape")  # the filter cleared: the ticket is back, the line gone
        await settle(pilot)
        assert len(keys_shown(app)) == 1 and not screen.has_class("-empty")


async def test_a_report_drill_down_opens_as_a_view(desk_store: Desk, size: tuple[int, int]) -> None:
    from tui_helpdesk.domain import Priority
    from tui_helpdesk.reports.model import Drill
    from tui_helpdesk.screens.reports import ReportsScreen
    from tui_helpdesk.services import ticket_changes

    urgent = make_ticket(desk_store, "Server down")
    make_ticket(desk_store, "Printer offline")
    with desk_store.store.write() as session:
        ticket_changes.change_priority(session, desk_store.admin, NOW, urgent, Priority.URGENT)
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "reports" in app._modes  # registered once the module exists
        await pilot.press("f5")
        await settle(pilot)
        app.screen.post_message(ReportsScreen.DrillDown(Drill(priorities=("urgent",)), "Urgent"))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert screen.view.label == "Urgent"
        assert keys_shown(app) == [urgent]
        assert [t.id for t in screen.query(".tab.-current")] == ["tab-drill"]
        await pilot.press("3")
        await settle(pilot)
        assert not screen.query("#tab-drill")  # gone once the agent looks elsewhere


async def test_modes_of_the_other_screens(desk_store: Desk, size: tuple[int, int]) -> None:
    from tui_helpdesk.app import EXTRA_MODES

    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key, (mode, _module, name) in zip(("f4", "f5"), EXTRA_MODES, strict=True):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode and type(app.screen).__name__ == name
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_f1_brings_the_queue_list_back_from_the_tickets_opened_over_it(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """f1 from a ticket (or two, opened one over the other) is the queue's list; a form
    with typed text is not thrown away for it."""
    from tui_helpdesk.screens.new_ticket import NewTicketScreen
    from tui_helpdesk.screens.ticket import TicketScreen

    first = make_ticket(desk_store, "First", assignee="bob")
    second = make_ticket(desk_store, "Second", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for key in (first, second):
            app.action_open_ticket(key)
            await settle(pilot)
            assert isinstance(app.screen, TicketScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen) and len(app.screen_stack) == 1
        assert app.check_action("queue", ()) is False  # the list is in front already
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, NewTicketScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, NewTicketScreen)
        assert any("finish or leave" in text for _, text in app.notices)


async def test_a_theme_picked_in_the_console_is_remembered(
    desk_store: Desk, size: tuple[int, int], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '# my settings\n[database]\nurl = "sqlite:///x.db"\n\n[display]\ntheme = "textual-dark"\n'
    )
    settings = Settings(
        database_url="unused://",
        config_path=config,
        rules_path=tmp_path / "rules.toml",
        theme="textual-dark",
    )
    app = make_app(desk_store, settings=settings)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "nord" not in config.read_text()  # starting up writes nothing
        app.theme = "nord"
        await pilot.pause()
        await settle(pilot)
    assert load_settings(config, environ={}).theme == "nord"
    assert config.read_text().startswith("# my settings\n")  # the rest of the file is kept


def footer_keys(app: HelpdeskApp) -> dict[str, Widget]:
    """The footer's keys by description (by CSS type: the class is not public API)."""
    return {str(getattr(k, "description", "")): k for k in app.screen.query("FooterKey")}


async def test_the_footer_keys_come_with_the_first_rows(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """The footer's keys are built once the first rows are painted, "Open" applying then;
    an empty view still gets its keys (nothing to open: dimmed)."""
    make_ticket(desk_store, "VPN drops", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        keys = footer_keys(app)
        assert {"Open", "Next view", "Filter", "Refresh", "Quit", "New"} <= keys.keys()
        assert not keys["Open"].has_class("-disabled")

        await pilot.press("4")  # Pending: none
        await settle(pilot)
        assert table_of(app).row_count == 0

        # The keys are built again once the view's bindings changed (the footer's own
        # rebuild, after a refresh): "Open" comes back dimmed.
        def open_dimmed() -> bool:
            open_key = footer_keys(app).get("Open")
            return open_key is not None and open_key.has_class("-disabled")

        await wait_for(pilot, open_dimmed)


async def test_an_empty_first_view_still_shows_the_keys(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    app = make_app(desk_store)  # bob has nothing open
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert table_of(app).row_count == 0
        keys = footer_keys(app)
        assert {"Next view", "Filter", "Refresh", "Quit"} <= keys.keys()


async def test_toasts_give_way_to_newer_ones_errors_last(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """At 80x24 a pile of toasts would cover the screen: at most `MAX_TOASTS` are shown,
    the newest, and an error stays while newer notices push the others out."""
    app = make_app(desk_store)
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        app.notify("reply not saved", severity="error", markup=False)
        for n in range(1, 6):
            app.notify(f"notice {n}", markup=False)
        await settle(pilot)
        shown = [str(toast.render()) for toast in app.screen.query("Toast")]
        assert len(shown) == MAX_TOASTS == 3
        assert ["reply not saved" in s for s in shown] == [True, False, False]
        assert "notice 4" in shown[1] and "notice 5" in shown[2]

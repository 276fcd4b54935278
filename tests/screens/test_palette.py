"""The command palette (ctrl+p) through Pilot: go to a ticket by number or key, switch
views (standard and saved), the console-wide commands; and the help panel lists every
binding of the screen, its own first, under headings."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.geometry import Region
from textual.widgets import Footer, Header, Static

from tests.conftest import Desk
from tests.screens.conftest import SIZES, keys_shown, make_app, make_ticket, settle
from tui_helpdesk.config import Settings
from tui_helpdesk.screens.queue import QueueScreen
from tui_helpdesk.screens.ticket import TicketScreen
from tui_helpdesk.services.views import View
from tui_helpdesk.widgets.keys_help import KeysHelp, keys_table
from tui_helpdesk.widgets.palette import ticket_ref
from tui_helpdesk.widgets.ticket_table import TicketTable
from tui_helpdesk.widgets.view_tabs import ViewTabs

pytestmark = pytest.mark.parametrize("size", SIZES)


def test_ticket_refs(size: tuple[int, int]) -> None:
    assert ticket_ref("12") == "12"
    assert ticket_ref(" #12 ") == "12"
    assert ticket_ref("hd-7") == "HD-7"
    assert ticket_ref("go to 42") == "42"
    assert ticket_ref("ticket HD-3") == "HD-3"
    assert ticket_ref("printer") is None
    assert ticket_ref("[b]1[/b]") is None


async def _palette(pilot: object, typed: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*typed)  # type: ignore[attr-defined]
    for _ in range(20):  # the palette searches in a worker of its own
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]


async def test_go_to_ticket(desk_store: Desk, size: tuple[int, int]) -> None:
    make_ticket(desk_store, "First")
    second = make_ticket(desk_store, "Second")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await _palette(pilot, second.split("-")[1])
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.key == second


async def test_switch_view(desk_store: Desk, size: tuple[int, int], tmp_path: Path) -> None:
    (tmp_path / "views.toml").write_text(
        '[[view]]\nname = "Urgent L1"\npriority = ["urgent"]\ngroup = "L1"\n'
    )
    settings = Settings(
        database_url="unused://",
        config_path=tmp_path / "config.toml",
        rules_path=tmp_path / "rules.toml",
    )
    make_ticket(desk_store, "Anything")
    app = make_app(desk_store, settings=settings)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await _palette(pilot, "all open")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert app.screen.view is View.ALL_OPEN
        assert len(keys_shown(app)) == 1
        await _palette(pilot, "view urgent l1")
        await settle(pilot)
        assert app.screen.view.label == "Urgent L1"
        assert keys_shown(app) == []


async def test_help_lists_every_binding(desk_store: Desk, size: tuple[int, int]) -> None:
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        panel = app.screen.query_one(KeysHelp)
        assert panel is not None
        listed = {b.key for _, b, _, _ in app.screen.active_bindings.values()}
        for key in ("b", "ctrl+s", "space", "ctrl+a", "f3", "slash", "1", "6", "ctrl+p"):
            assert key in listed, key
        shown = [row.keys for _, rows in panel.groups for row in rows]
        for key in ("b", "^s", "space", "^a", "f3", "/", "1", "6", "^p"):
            assert any(key in keys.split() for keys in shown), key
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query(KeysHelp)


async def test_help_puts_the_screens_own_keys_first(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """The queue's own keys, then the list's, then the console's, then Textual's generic
    ones, each under a heading; on the ticket screen its actions come first, and the panel
    is in view at 80x24."""
    key = make_ticket(desk_store, "Anything", assignee="bob")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        panel = app.screen.query_one(KeysHelp)
        headings = [heading for heading, _ in panel.groups]
        assert headings == ["Queue", "Ticket list", "Everywhere", "Moving around"]
        groups = dict(panel.groups)
        assert [r.description for r in groups["Queue"]][:3] == ["My open", "My groups", "All open"]
        assert "Open" in [r.description for r in groups["Ticket list"]]
        down = next(r for r in groups["Ticket list"] if r.keys.startswith("j"))
        assert len(down.keys.split()) == 2  # j, and Textual's arrow for the same: one row
        assert {"Help", "KB", "New", "Quit"} <= {r.description for r in groups["Everywhere"]}
        console = Console(width=40, record=True, color_system=None)
        console.print(keys_table(panel.groups))
        lines = [line.strip() for line in console.export_text().splitlines()]
        assert lines[:3] == ["Queue", "1 My open", "2 My groups"]
        assert lines.index("Everywhere") < lines.index("Moving around")
        assert panel.region.width >= 30 and panel.region.right <= size[0]

        await pilot.press("question_mark")
        app.action_open_ticket(key)
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        panel = app.screen.query_one(KeysHelp)
        assert panel.groups[0][0] == "Ticket"
        first = {r.description for r in panel.groups[0][1]}
        assert {"Reply", "Note", "Status", "Merge", "History", "Info"} <= first
        assert panel.groups[-1][0] == "Moving around"


async def test_help_leaves_the_footer_and_the_views_whole(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    """With the keys panel open the footer keeps the whole width, under the panel, with the
    same keys as before; the queue's tabs and columns fit beside the panel (at 80 columns
    the tabs shrink to their keys); the same on the ticket screen."""
    key = make_ticket(desk_store, "Anything", assignee="bob")
    app = make_app(desk_store)

    def footer_keys() -> list[tuple[str, Region]]:
        footer = app.screen.query_one(Footer)
        # By name, as Textual does not export the footer's key widget.
        return [(str(getattr(k, "description", "")), k.region) for k in footer.query("FooterKey")]

    def assert_whole(before: list[str]) -> None:
        panel = app.screen.query_one(KeysHelp)
        footer = app.screen.query_one(Footer)
        header = app.screen.query_one(Header)
        assert footer.region == Region(0, size[1] - 1, size[0], 1)
        assert header.region.width == size[0]
        assert panel.region.y == header.region.bottom
        assert panel.region.bottom == footer.region.y
        assert panel.region.right == size[0]
        shown = footer_keys()
        assert [description for description, _ in shown] == before
        for description, region in shown:
            assert footer.region.contains_region(region), description
            assert not region.overlaps(panel.region), description

    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        before = [description for description, _ in footer_keys()]
        await pilot.press("question_mark")
        await settle(pilot)
        assert_whole(before)
        panel = app.screen.query_one(KeysHelp)
        bar = app.screen.query_one(ViewTabs)
        assert bar.region.right <= panel.region.x
        for tab in bar.query(".tab").results(Static):
            assert bar.region.contains_region(tab.region), tab.id
        count = app.screen.query_one("#count", Static)
        assert count.region.width >= len(str(count.render()).strip())
        assert "1 ticket" in str(count.render())
        table = app.screen.query_one(TicketTable)
        assert table.region.right <= panel.region.x
        assert table.max_scroll_x == 0  # every column in view, no sideways scrolling
        await pilot.press("question_mark")
        await settle(pilot)
        assert not app.screen.has_class("-keys-help")
        assert app.screen.query_one(Footer).region.width == size[0]

        app.action_open_ticket(key)
        await settle(pilot)
        before = [description for description, _ in footer_keys()]
        await pilot.press("question_mark")
        await settle(pilot)
        assert_whole(before)

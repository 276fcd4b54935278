"""A message's attachments on the ticket screen, through Pilot: listed under its body (the
customer's name for the file inert: markup as text, control sequences gone), and saved to a
file by keyboard (`S`: pick one, say where, confirm before overwriting), checked on disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from tests.conftest import Desk
from tests.screens.conftest import SIZES, RecordingApp, make_app, make_ticket, settle
from tui_helpdesk.screens.ticket import MessageBox, TicketScreen
from tui_helpdesk.screens.ticket_actions import PickScreen, TicketCommands
from tui_helpdesk.services import tickets
from tui_helpdesk.store.models import Attachment
from tui_helpdesk.widgets.confirm import ConfirmScreen
from tui_helpdesk.widgets.keys_help import KeyRow, key_groups
from tui_helpdesk.widgets.name_prompt import NamePrompt

EVIL = "[bold red]x\x1b]0;evil\x07.log"
LOG = b"boot\r\n\x00\xffpanic: no init found\n"


def attach(desk: Desk, key: str, name: str, content: bytes | None, size: int) -> int:
    """An attachment on the ticket's first message, as mail intake stores it (`content`
    None: over the size limit, only its name kept)."""
    with desk.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        message = tickets.ticket_messages(session, ticket)[0]
        row = Attachment(
            message_id=message.id,
            filename=name,
            content_type="text/plain",
            size=size,
            sha256=hashlib.sha256(content or b"").hexdigest(),
            content=content,
        )
        session.add(row)
        session.flush()
        return row.id


async def open_ticket(pilot: object, app: RecordingApp, key: str) -> TicketScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.action_open_ticket(key)
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, TicketScreen) and screen.detail is not None
    return screen


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The console's working directory, empty: where an attachment goes by default."""
    path = tmp_path / "out"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


@pytest.mark.parametrize("size", SIZES)
async def test_attachments_are_listed_under_their_message_inert(
    desk_store: Desk, size: tuple[int, int]
) -> None:
    key = make_ticket(desk_store, "Crash", group="L1", body="See the log.")
    attach(desk_store, key, EVIL, b"x" * 12 * 1024, 12 * 1024)
    attach(desk_store, key, "core.dump", None, 6 * 1024 * 1024)
    plain = make_ticket(desk_store, "No files", assignee="bob", body="Nothing attached.")
    app = make_app(desk_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_ticket(pilot, app, key)
        [box] = screen.query(MessageBox)
        shown = box.render()
        assert str(shown) == (
            "See the log.\n\n"
            "[bold red]x.log  text/plain  12.0 KB\n"
            "core.dump  text/plain  6.0 MB  not kept: over the size limit"
        )
        spans = getattr(shown, "spans", [])
        assert spans and not any("red" in str(s.style) for s in spans)  # nothing turned red
        # In the footer with the ticket's other keys, "Take" too (the ticket is nobody's yet),
        # all of them left of the palette's key at 80 columns (the app's own keys after them
        # give way first, as they do for "Reopen").
        footer = {str(getattr(k, "description", "")): k for k in app.screen.query("FooterKey")}
        palette = footer.pop("palette")
        ticket_keys = ("Reply", "Note", "Take", "Status", "Escalate", "Save file")
        for description in ticket_keys:
            assert footer[description].region.right <= palette.region.x, description
        assert KeyRow("S", "Save file", True) in dict(key_groups(screen, app))["Ticket"]  # `?`

        await pilot.press("escape")
        screen = await open_ticket(pilot, app, plain)
        [box] = screen.query(MessageBox)
        assert str(box.render()) == "Nothing attached."
        # No file to save: neither the key nor the palette offers it.
        assert screen.check_action("save_attachment", ()) is False
        assert "Save file" not in [r.description for r in dict(key_groups(screen, app))["Ticket"]]
        names = [hit.text async for hit in TicketCommands(screen).discover()]
        assert "Save attachment" not in names
    assert app.notices == []


async def test_saving_writes_the_exact_bytes_and_asks_before_overwriting(
    desk_store: Desk, out: Path
) -> None:
    key = make_ticket(desk_store, "Crash", assignee="bob", body="Two files.")
    attach(desk_store, key, "crash.log", LOG, len(LOG))
    attach(desk_store, key, EVIL, b"evil", 4)
    attach(desk_store, key, "core.dump", None, 6 * 1024 * 1024)  # not kept: not offered
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_ticket(pilot, app, key)
        await pilot.press("S")
        assert isinstance(app.screen, PickScreen)
        rows = app.screen.query_one("#pick-list", OptionList)
        prompts = [str(rows.get_option_at_index(i).prompt) for i in range(rows.option_count)]
        assert [p.split("  ")[0] for p in prompts] == ["crash.log", "[bold red]x.log"]
        await pilot.press(*"crash", "enter")
        assert isinstance(app.screen, NamePrompt)
        where = app.screen.query_one(Input)
        assert where.value == str(out / "crash.log")  # here, under its own name
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert (out / "crash.log").read_bytes() == LOG
        assert ("information", f"{len(LOG)} B written to {out / 'crash.log'}") in app.notices

        # There already: nothing is written until the agent says yes.
        (out / "crash.log").write_bytes(b"mine")
        await pilot.press("S", *"crash", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        assert (out / "crash.log").read_bytes() == b"mine"
        assert ("information", f"{out / 'crash.log'} exists: nothing written") in app.notices

        await pilot.press("S", *"crash", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert (out / "crash.log").read_bytes() == LOG

        # The customer's name for the file, inert, is the default name too.
        await pilot.press("S", *"bold", "enter")
        assert app.screen.query_one(Input).value == str(out / "[bold red]x.log")
        await pilot.press("enter")
        await settle(pilot)
        assert (out / "[bold red]x.log").read_bytes() == b"evil"
        assert sorted(p.name for p in out.iterdir()) == ["[bold red]x.log", "crash.log"]
    assert not [n for n in app.notices if n[0] == "error"]


async def test_one_file_is_saved_where_the_agent_says(
    desk_store: Desk, out: Path, tmp_path: Path
) -> None:
    key = make_ticket(desk_store, "Crash", assignee="bob", body="One file.")
    attach(desk_store, key, "../../crash.log", LOG, len(LOG))
    app = make_app(desk_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_ticket(pilot, app, key)
        await pilot.press("S")  # one file: no picker
        assert isinstance(app.screen, NamePrompt)
        where = app.screen.query_one(Input)
        assert where.value == str(out / "_.._crash.log")  # it cannot leave the directory
        elsewhere = tmp_path / "saved  twice.log"  # spaces in a path are kept
        where.value = str(elsewhere)
        await pilot.press("enter")
        await settle(pilot)
        assert elsewhere.read_bytes() == LOG
        assert list(out.iterdir()) == []

        await pilot.press("S")
        app.screen.query_one(Input).value = str(tmp_path / "no such dir" / "x.log")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        [(_, said)] = [n for n in app.notices if n[0] == "error"]
        assert said.startswith(f"cannot write {tmp_path / 'no such dir' / 'x.log'}")

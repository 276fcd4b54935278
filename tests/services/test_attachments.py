"""A message's attachments in the console: what the opened ticket shows of them (names,
types, sizes, in one statement for the thread, never their content), and one written to a
file (`services.attachments`), never over an existing file unless asked."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk, statements
from tests.services.conftest import MakeTicket
from tui_helpdesk.domain import MessageKind
from tui_helpdesk.services import tickets, views
from tui_helpdesk.services.attachments import FileExists, default_path, save_attachment
from tui_helpdesk.services.errors import NotFound, ServiceError
from tui_helpdesk.services.views import AttachmentView, ticket_detail
from tui_helpdesk.store.models import Attachment, Message

EVIL = "[bold red]x\x1b]0;evil\x07.log"
LOG = b"line 1\r\n\x00\xff binary tail"


def attach(desk: Desk, key: str, index: int, name: str, content: bytes | None, size: int) -> int:
    """An attachment on the ticket's `index`th message (oldest first), as intake stores it;
    `content` None: over the size limit, only its name kept."""
    with desk.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        message = tickets.ticket_messages(session, ticket)[index]
        row = Attachment(
            message_id=message.id,
            filename=name,
            content_type="text/plain",
            size=size,
            sha256=hashlib.sha256(content or b"").hexdigest(),
            content=content,
            skipped_reason=None if content is not None else "over the limit",
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def thread(desk_store: Desk, make_ticket: MakeTicket) -> str:
    """A ticket of three messages: the customer's with two files (one not kept), an agent's
    reply without any, then the customer's with one."""
    key = make_ticket("Crash on start", assignee="bob")
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW + timedelta(minutes=1), key, "Send the log?")
        ticket = tickets.get_ticket(session, key)
        session.add(
            Message(
                ticket_id=ticket.id,
                kind=MessageKind.CUSTOMER,
                body="Here.",
                created_at=NOW + timedelta(minutes=2),
                author_contact_id=ticket.requester_id,
            )
        )
    attach(desk_store, key, 0, "crash.log", LOG, len(LOG))
    attach(desk_store, key, 0, "dump.bin", None, 6 * 1024 * 1024)
    attach(desk_store, key, 2, EVIL, b"evil", 12 * 1024)
    return key


def test_the_thread_lists_each_messages_attachments(desk_store: Desk, thread: str) -> None:
    detail = ticket_detail(desk_store.store, "bob", thread, now=NOW)
    assert [m.body for m in detail.messages] == ["It is smoking.", "Send the log?", "Here."]
    first, reply, last = (m.attachments for m in detail.messages)
    with desk_store.store.read() as session:
        ids = list(session.scalars(select(Attachment.id).order_by(Attachment.id)))
    assert first == (
        AttachmentView(ids[0], "crash.log", "text/plain", len(LOG), kept=True),
        AttachmentView(ids[1], "dump.bin", "text/plain", 6 * 1024 * 1024, kept=False),
    )
    assert reply == ()
    # The customer's name for the file without its control sequence; the markup is text.
    assert last == (AttachmentView(ids[2], "[bold red]x.log", "text/plain", 12 * 1024, True),)
    assert [a.size_text for a in first + last] == ["22 B", "6.0 MB", "12.0 KB"]


def test_attachments_are_one_statement_for_the_thread(
    desk_store: Desk, thread: str, make_ticket: MakeTicket
) -> None:
    ticket_detail(desk_store.store, "bob", thread, now=NOW)  # the rules parsed once
    with statements(desk_store.store) as sent:
        ticket_detail(desk_store.store, "bob", thread, now=NOW)
    assert len(sent) == 4  # the header, the rules' version, the thread, its attachments
    [listed] = [s for s in sent if "FROM attachments" in s and "message_id IN" in s]
    # Whether the content was kept, never the content itself.
    kept = "attachments.content IS NOT NULL"
    assert re.findall(r"attachments\.content\b(?: IS NOT NULL)?", listed) == [kept]
    plain = make_ticket("No files")
    with statements(desk_store.store) as sent:
        detail = ticket_detail(desk_store.store, "bob", plain, now=NOW)
    assert len(sent) == 3 and all(m.attachments == () for m in detail.messages)


def test_a_long_thread_lists_the_attachments_of_the_messages_shown(
    desk_store: Desk, thread: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "MAX_THREAD", 2)
    detail = ticket_detail(desk_store.store, "bob", thread, now=NOW)
    assert detail.hidden_messages == 1
    assert [[a.filename for a in m.attachments] for m in detail.messages] == [
        [],
        ["[bold red]x.log"],
    ]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory to save into (the test's database is in `tmp_path`)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def test_an_attachment_is_written_with_its_exact_bytes(
    desk_store: Desk, thread: str, out: Path
) -> None:
    detail = ticket_detail(desk_store.store, "bob", thread, now=NOW)
    log = detail.messages[0].attachments[0]
    target = default_path(log.filename, log.id, out)
    saved = save_attachment(desk_store.store, thread, log.id, target)
    assert (saved.path, saved.size) == (out / "crash.log", len(LOG))
    assert target.read_bytes() == LOG

    target.write_bytes(b"mine")
    with pytest.raises(FileExists) as refused:
        save_attachment(desk_store.store, thread, log.id, target)
    assert refused.value.path == target and target.read_bytes() == b"mine"
    save_attachment(desk_store.store, thread, log.id, target, overwrite=True)
    assert target.read_bytes() == LOG

    # A directory gets the file under its own name, made safe.
    evil = detail.messages[2].attachments[0]
    into = save_attachment(desk_store.store, thread, evil.id, out)
    assert into.path == out / "[bold red]x.log" and into.path.read_bytes() == b"evil"
    assert sorted(p.name for p in out.iterdir()) == ["[bold red]x.log", "crash.log"]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "attachment-7"),
        (".bashrc", "bashrc"),
        ("a\\b.txt", "a_b.txt"),
        ("x\x1b]0;evil\x07\x00.log", "x.log"),
    ],
)
def test_the_default_path_stays_in_the_directory(tmp_path: Path, name: str, safe: str) -> None:
    path = default_path(name, 7, tmp_path)
    assert path == tmp_path / safe and path.parent == tmp_path


def test_what_cannot_be_saved_says_why(desk_store: Desk, thread: str, out: Path) -> None:
    detail = ticket_detail(desk_store.store, "bob", thread, now=NOW)
    dump = detail.messages[0].attachments[1]
    with pytest.raises(ServiceError, match="over the size limit"):
        save_attachment(desk_store.store, thread, dump.id, out / "dump.bin")
    with pytest.raises(NotFound, match="has no attachment 999"):
        save_attachment(desk_store.store, thread, 999, out / "x")
    with pytest.raises(ServiceError, match="cannot write"):
        save_attachment(desk_store.store, thread, dump.id - 1, out / "none" / "x.log")
    assert list(out.iterdir()) == []

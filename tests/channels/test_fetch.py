"""The fetch loop on both back ends: a mail that another run claimed between our duplicate
check and our insert (overlapping runs without the lock) counts as a duplicate, and the mail
is still marked done; nothing is written twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Desk
from tui_helpdesk.channels.fetch import fetch
from tui_helpdesk.channels.mailboxes import MailItem
from tui_helpdesk.services import mail_intake
from tui_helpdesk.store.models import InboundMail, Ticket

CORPUS = Path(__file__).resolve().parents[1] / "mail_corpus"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class ListSource:
    """A mailbox in memory that remembers what was marked done."""

    label = "memory"

    def __init__(self, *raws: bytes) -> None:
        self.raws = raws
        self.done_keys: list[str] = []
        self.closed = False

    def items(self) -> Any:
        for n, raw in enumerate(self.raws):
            yield MailItem(str(n), raw)

    def done(self, item: MailItem) -> None:
        self.done_keys.append(item.key)

    def close(self) -> None:
        self.closed = True


def test_a_race_on_the_message_id_is_a_duplicate(
    desk_store: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = (CORPUS / "gmail_new.eml").read_bytes()
    assert fetch(desk_store.store, ListSource(raw), NOW).counts == {"new-ticket": 1}
    # The second run's check sees nothing (the other run had not committed yet) ...
    real = mail_intake.duplicate_of
    calls: list[int] = []

    def blind_once(session: Any, message_id: str) -> Any:
        calls.append(1)
        return None if len(calls) == 1 else real(session, message_id)

    monkeypatch.setattr(mail_intake, "duplicate_of", blind_once)
    source = ListSource(raw)
    result = fetch(desk_store.store, source, NOW)
    # ... and its insert hits the unique Message-ID: reported, marked done, nothing twice.
    assert result.counts == {"duplicate": 1} and result.failed == []
    assert source.done_keys == ["0"] and source.closed
    with desk_store.store.read() as session:
        assert session.scalar(select(func.count()).select_from(InboundMail)) == 1
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_dry_run_marks_nothing_and_writes_nothing(desk_store: Desk) -> None:
    source = ListSource((CORPUS / "gmail_new.eml").read_bytes(), b"\xff\xfe garbage")
    result = fetch(desk_store.store, source, NOW, dry_run=True)
    assert [i.decision for i in result.taken] == ["new-ticket", "unusable-sender"]
    assert source.done_keys == [] and source.closed
    with desk_store.store.read() as session:
        assert session.scalar(select(func.count()).select_from(InboundMail)) == 0

"""Merging: messages move, tags join, the source closes with a link, events on both."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.domain import Priority, Status
from tui_helpdesk.services import tickets
from tui_helpdesk.services.errors import Conflict, InvalidTransition
from tui_helpdesk.services.serialize import iso

LATER = NOW + timedelta(hours=2)


def _messages(desk_store: Desk, key: str) -> list[tuple[str, str]]:
    with desk_store.store.read() as session:
        ticket = tickets.get_ticket(session, key)
        return [(m.kind.value, m.body) for m in tickets.ticket_messages(session, ticket)]


def test_merge(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    source = make_ticket("VPN down (again)", body="first mail", tags=["vpn", "remote"])
    target = make_ticket("VPN down", body="second mail", tags=["vpn", "acme"])
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW + timedelta(minutes=1), source, "on it")
        tickets.add_note(session, desk_store.agent, NOW + timedelta(minutes=2), source, "dup?")
    before_source, before_target = look(source), look(target)
    with desk_store.store.write() as session:
        merged, into = tickets.merge(
            session,
            desk_store.admin,
            LATER,
            source,
            target,
            expected_version=before_source.version,
            target_version=before_target.version,
        )
        assert (merged.key, into.key) == (source, target)
        assert into.tags == ["acme", "remote", "vpn"]

    assert _messages(desk_store, source) == []
    assert _messages(desk_store, target) == [
        ("customer", "first mail"),
        ("customer", "second mail"),
        ("reply", "on it"),
        ("note", "dup?"),
        ("system", f"{source} (VPN down (again)) was merged into this ticket."),
    ]
    s, t = look(source), look(target)
    assert (s.status, s.doc["merged_into"], s.doc["closed_at"]) == ("closed", target, iso(LATER))
    assert s.version == before_source.version + 1
    assert s.events[-2:] == [
        ("merged", "admin", "merged_into", None, target),
        ("status", "admin", "status", "open", "closed"),
    ]
    assert s.doc["tags"] == ["remote", "vpn"]  # the source keeps its own tags
    assert t.status == "new"
    assert t.doc["tags"] == ["acme", "remote", "vpn"]
    assert t.version == before_target.version + 1
    assert t.events[-2:] == [
        ("merged_from", "admin", "merged_from", None, source),
        ("tags", "admin", "tags", "acme vpn", "acme remote vpn"),
    ]
    with desk_store.store.read() as session:
        events = tickets.ticket_events(session, tickets.get_ticket(session, target))
        assert events[-2].detail == {"tags_added": ["remote"]}


def test_merge_without_new_tags_has_no_tag_event(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    source, target = make_ticket(tags=["vpn"]), make_ticket(tags=["vpn"])
    with desk_store.store.write() as session:
        tickets.merge(session, desk_store.agent, LATER, source, target)
    assert look(target).kinds() == ["created", "merged_from"]


def test_merge_refusals(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    a, b, c, closed = make_ticket("a"), make_ticket("b"), make_ticket("c"), make_ticket("d")
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, closed, Status.RESOLVED)
        tickets.change_status(session, desk_store.agent, NOW, closed, Status.CLOSED)
    with desk_store.store.write() as session:
        tickets.merge(session, desk_store.agent, NOW, a, b)
    snapshot = [look(k) for k in (a, b, c, closed)]
    refusals = [
        (c, c, "cannot merge a ticket into itself"),
        (a, c, f"{a} is already merged into {b}"),
        (c, a, f"{a} is closed: merge into an open ticket"),  # merged tickets are closed
        (c, closed, f"{closed} is closed"),
        (closed, c, f"{closed} is closed: only tickets still in work merge"),
    ]
    for source, target, message in refusals:
        with (
            pytest.raises(InvalidTransition, match=message),
            desk_store.store.write() as session,
        ):
            tickets.merge(session, desk_store.agent, LATER, source, target)
    assert [look(k) for k in (a, b, c, closed)] == snapshot


def test_merge_with_stale_version(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    source, target = make_ticket(), make_ticket()
    with desk_store.store.write() as session:
        tickets.change_priority(session, desk_store.admin, NOW, target, Priority.HIGH)
    before = (look(source), look(target))
    with (
        pytest.raises(Conflict, match="changed by admin") as info,
        desk_store.store.write() as session,
    ):
        tickets.merge(
            session, desk_store.agent, LATER, source, target, expected_version=1, target_version=1
        )
    assert info.value.current_version == 2
    assert (look(source), look(target)) == before

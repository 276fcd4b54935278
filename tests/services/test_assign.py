"""Assignment (agent, group, both, none), priority, category and tags: each change audited
with actor, old and new; no-ops write nothing; refusals leave the ticket as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket, events_of
from tui_helpdesk.domain import EventKind, Priority, Role, Status
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.services.errors import InvalidTransition, NotFound, ValidationError
from tui_helpdesk.services.tickets import UNSET

LATER = NOW + timedelta(minutes=5)


def _assign(desk_store: Desk, key: str, agent: object = UNSET, group: object = UNSET) -> None:
    with desk_store.store.write() as session:
        tickets.assign(session, desk_store.admin, LATER, key, agent=agent, group=group)  # type: ignore[arg-type]


def _where(seen: object) -> tuple[str | None, str | None, int | None, str]:
    doc = seen.doc  # type: ignore[attr-defined]
    return doc["assignee"], doc["group"], doc["level"], doc["status"]


def test_assign_agent_brings_group_level_and_opens(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket()
    _assign(desk_store, key, agent="bob")
    seen = look(key)
    assert _where(seen) == ("bob", "L1", 1, "open")
    assert seen.events[1:] == [
        ("group", "admin", "group", None, "L1"),
        ("level", "admin", "level", None, "1"),
        ("assignee", "admin", "assignee", None, "bob"),
        ("status", "admin", "status", "new", "open"),
    ]
    assert seen.version == 2


def test_assign_within_group_and_unassign(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket(group="L1")
    _assign(desk_store, key, agent="admin")
    assert _where(look(key)) == ("admin", "L1", 1, "open")
    _assign(desk_store, key, agent="bob")
    assert events_of(look(key), EventKind.ASSIGNEE)[-1] == (
        "assignee",
        "admin",
        "assignee",
        "admin",
        "bob",
    )
    _assign(desk_store, key, agent=None)
    seen = look(key)
    assert _where(seen) == (None, "L1", 1, "open")  # unassigning keeps status and group
    assert seen.events[-1] == ("assignee", "admin", "assignee", "bob", None)


def test_assign_group_only(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket()
    _assign(desk_store, key, group="l2")
    seen = look(key)
    assert _where(seen) == (None, "L2", 2, "new")  # a group alone does not open the ticket
    assert seen.events[1:] == [
        ("group", "admin", "group", None, "L2"),
        ("level", "admin", "level", None, "2"),
    ]


def test_assign_agent_and_group_together(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket(assignee="bob")
    _assign(desk_store, key, agent="cleo", group="L2")
    seen = look(key)
    assert _where(seen) == ("cleo", "L2", 2, "open")
    assert seen.events[-3:] == [
        ("group", "admin", "group", "L1", "L2"),
        ("level", "admin", "level", "1", "2"),
        ("assignee", "admin", "assignee", "bob", "cleo"),
    ]


def test_agent_outside_group_refused(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket(group="L1")
    before = look(key)
    for agent, group in (("cleo", UNSET), ("cleo", "L1"), ("bob", "L2")):
        with pytest.raises(ValidationError, match="is not a member of group"):
            _assign(desk_store, key, agent=agent, group=group)
    assert look(key) == before


def test_group_move_unassigns_a_non_member(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket(assignee="bob")
    _assign(desk_store, key, group="L2")
    seen = look(key)
    assert _where(seen) == (None, "L2", 2, "open")
    assert seen.events[-1] == ("assignee", "admin", "assignee", "bob", None)


def test_group_move_keeps_a_member(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    with desk_store.store.write() as session:
        directory.add_group(
            session, NOW, directory.GroupDraft("Network team", members=["bob", "cleo"])
        )
    key = make_ticket(assignee="bob", group="L1")
    _assign(desk_store, key, group="Network team")
    seen = look(key)
    assert _where(seen) == ("bob", "Network team", None, "open")  # a functional team: no level
    assert seen.events[-2:] == [
        ("group", "admin", "group", "L1", "Network team"),
        ("level", "admin", "level", "1", None),
    ]


def test_out_of_any_group(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket(assignee="bob")
    _assign(desk_store, key, group=None)
    assert _where(look(key)) == ("bob", None, None, "open")
    # An explicit "no group" stays so even with an assignee named in the same call.
    other = make_ticket()
    _assign(desk_store, other, agent="bob", group=None)
    assert _where(look(other)) == ("bob", None, None, "open")


def test_assigning_what_is_assigned_writes_nothing(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = make_ticket(assignee="bob")
    before = look(key)
    _assign(desk_store, key, agent="bob")
    _assign(desk_store, key, group="L1")
    _assign(desk_store, key, agent="bob", group="L1")
    _assign(desk_store, key)
    assert look(key) == before


def test_assign_refusals(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    with desk_store.store.write() as session:
        directory.add_agent(
            session, NOW, directory.AgentDraft("gone", "Gone", groups=["L1"], role=Role.AGENT)
        )
        directory.get_agent(session, "gone").active = False
    key = make_ticket()
    before = look(key)
    with pytest.raises(ValidationError, match="deactivated"):
        _assign(desk_store, key, agent="gone")
    with pytest.raises(NotFound, match="unknown agent"):
        _assign(desk_store, key, agent="nobody")
    with pytest.raises(NotFound, match="unknown group"):
        _assign(desk_store, key, group="L7")
    assert look(key) == before
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.RESOLVED)
        tickets.change_status(session, desk_store.agent, NOW, key, Status.CLOSED)
    with pytest.raises(InvalidTransition, match="closed"):
        _assign(desk_store, key, agent="bob")


def test_priority(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.change_priority(session, desk_store.agent, LATER, key, Priority.URGENT)
    seen = look(key)
    assert seen.doc["priority"] == "urgent"
    assert seen.events[-1] == ("priority", "bob", "priority", "normal", "urgent")
    with desk_store.store.write() as session:
        tickets.change_priority(session, desk_store.agent, LATER, key, Priority.URGENT)
    assert look(key) == seen


def test_category(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.change_category(session, desk_store.agent, LATER, key, "technical/network")
    seen = look(key)
    assert seen.doc["category"] == "Technical > Network"
    # Changing the category later does not re-route or re-prioritise the ticket.
    assert (seen.doc["group"], seen.doc["priority"]) == (None, "normal")
    assert seen.events[-1] == ("category", "bob", "category", None, "Technical > Network")
    with desk_store.store.write() as session:
        tickets.change_category(session, desk_store.agent, LATER, key, "Technical > Network")
        tickets.change_category(session, desk_store.agent, LATER, key, None)
    cleared = look(key)
    assert cleared.doc["category"] is None
    assert cleared.events[-1] == ("category", "bob", "category", "Technical > Network", None)
    assert cleared.version == seen.version + 1
    with pytest.raises(NotFound), desk_store.store.write() as session:
        tickets.change_category(session, desk_store.agent, LATER, key, "Nope")


def test_tags(desk_store: Desk, make_ticket: MakeTicket, look: Look) -> None:
    key = make_ticket(tags=["vpn"])
    with desk_store.store.write() as session:
        ticket = tickets.change_tags(
            session, desk_store.agent, LATER, key, add=["Remote Work", "ALPHA", "vpn"]
        )
        assert ticket.tags == ["alpha", "remote-work", "vpn"]
    seen = look(key)
    assert seen.doc["tags"] == ["alpha", "remote-work", "vpn"]
    assert seen.events[-1] == ("tags", "bob", "tags", "vpn", "alpha remote-work vpn")
    with desk_store.store.write() as session:
        tickets.change_tags(session, desk_store.agent, LATER, key, add=["x"], remove=["VPN", "x"])
    removed = look(key)
    assert removed.doc["tags"] == ["alpha", "remote-work"]
    assert removed.events[-1] == (
        "tags",
        "bob",
        "tags",
        "alpha remote-work vpn",
        "alpha remote-work",
    )
    with desk_store.store.write() as session:  # nothing to do: nothing written
        tickets.change_tags(session, desk_store.agent, LATER, key, add=["alpha"], remove=["zzz"])
    assert look(key) == removed
    with (
        pytest.raises(ValidationError, match="invalid tag 'bad!'"),
        desk_store.store.write() as session,
    ):
        tickets.change_tags(session, desk_store.agent, LATER, key, add=["ok", "bad!"])
    assert look(key) == removed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["  Mixed Case "], ["mixed-case"]),
        (["a", "A", "a "], ["a"]),
        (["", "  "], []),
        (["v1.2", "team:net", "x/y", "snake_case"], ["snake_case", "team:net", "v1.2", "x/y"]),
    ],
)
def test_normalise_tags(raw: list[str], expected: list[str]) -> None:
    assert tickets.normalise_tags(raw) == expected


@pytest.mark.parametrize("raw", ["-lead", "no!", "ü", "x" * 65, "a,b"])
def test_invalid_tags(raw: str) -> None:
    with pytest.raises(ValidationError, match="invalid tag"):
        tickets.normalise_tags([raw])


def test_changes_on_closed_ticket_refused(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket()
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, key, Status.RESOLVED)
        tickets.change_status(session, desk_store.agent, NOW, key, Status.CLOSED)
    for change in (
        lambda s: tickets.change_priority(s, desk_store.agent, LATER, key, Priority.HIGH),
        lambda s: tickets.change_category(s, desk_store.agent, LATER, key, "Billing"),
        lambda s: tickets.change_tags(s, desk_store.agent, LATER, key, add=["x"]),
    ):
        with pytest.raises(InvalidTransition, match="closed"), desk_store.store.write() as s:
            change(s)

"""Classification routes on new tickets and automatic assignment by skills and workload, on
creation and on group moves, each decision in the audit trail naming its rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import NOW, Desk
from tui_helpdesk.domain import Channel, EventKind, Presence, Priority, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, escalation, tickets
from tui_helpdesk.store.models import Agent, TicketEvent

RULES = """
[desk]
auto_assign = ["L1", "L2"]

[[route]]
name = "vpn-to-l2"
where = { subject = ["vpn"] }
[route.set]
category = "Technical > Network"
priority = "urgent"
group = "L2"
tags = ["vpn"]
skills = ["network"]

[[route]]
name = "acme-tag"
where = { sender_domain = ["acme.example"] }
set = { tags = ["acme"], priority = "low" }

[[route]]
name = "stale"
where = { subject = ["legacy"] }
set = { group = "Gone" }
"""


def _setup(desk_store: Desk, text: str = RULES) -> None:
    with desk_store.store.write() as session:
        directory.add_agent(
            session,
            NOW,
            directory.AgentDraft("dana", "Dana Net", "dana@desk.example", skills=["network"]),
        )
        directory.add_group(session, NOW, directory.GroupDraft("Net", members=["dana"]))
        directory.add_group(session, NOW, directory.GroupDraft("Gone"))
        dana = session.scalar(select(Agent).where(Agent.login == "dana"))
        assert dana is not None
        # dana joins L2 too; only she has the network skill there.
        l2 = directory.get_group(session, "L2")
        l2.members.append(dana)
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(text))


def _new(desk_store: Desk, subject: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    fields.setdefault("requester", "carla@acme.example")
    fields.setdefault("channel", Channel.EMAIL)
    with desk_store.store.write() as session:
        ticket = tickets.create_ticket(
            session, desk_store.agent, NOW, tickets.NewTicket(subject=subject, **fields)
        )
        events = session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        ).all()
        return ticket.key, {
            "category": ticket.category.path if ticket.category else None,
            "priority": ticket.priority,
            "group": ticket.group.name if ticket.group else None,
            "assignee": ticket.assignee.login if ticket.assignee else None,
            "status": ticket.status,
            "tags": ticket.tags,
            "skills": ticket.custom_fields.get("skills"),
            "events": [(e.kind, e.rule, e.new, (e.detail or {}).get("reason")) for e in events],
        }


def test_routes_fill_what_the_caller_left_open(desk_store: Desk) -> None:
    _setup(desk_store)
    _, seen = _new(desk_store, "VPN keeps dropping")
    assert seen["category"] == "Technical > Network"
    assert seen["priority"] is Priority.URGENT  # the first route to set it wins
    assert seen["group"] == "L2" and seen["tags"] == ["acme", "vpn"]
    assert seen["skills"] == ["network"]
    routed = [(kind, rule) for kind, rule, _, _ in seen["events"] if kind is EventKind.ROUTED]
    assert routed == [(EventKind.ROUTED, "vpn-to-l2"), (EventKind.ROUTED, "acme-tag")]
    # What the agent typed wins over every route.
    _, explicit = _new(desk_store, "VPN again", priority=Priority.NORMAL, group="L1")
    assert (explicit["priority"], explicit["group"]) == (Priority.NORMAL, "L1")


def test_a_route_naming_a_missing_group_is_skipped_not_fatal(desk_store: Desk) -> None:
    _setup(desk_store)
    with desk_store.store.write() as session:
        session.delete(directory.get_group(session, "Gone"))  # after the rules were applied
    _, seen = _new(desk_store, "legacy system", requester="x@other.example")
    assert seen["group"] is None
    with desk_store.store.read() as session:
        skipped = session.scalars(
            select(TicketEvent.detail).where(TicketEvent.rule == "stale")
        ).all()
    assert [detail["skipped"] for detail in skipped] == [
        "unknown group 'Gone' (see `helpdesk group list`)"
    ]


def test_auto_assign_by_skill_and_workload(desk_store: Desk) -> None:
    _setup(desk_store)
    # The VPN ticket needs the network skill: in L2 only dana has it (cleo does not).
    _, vpn = _new(desk_store, "VPN down")
    assert (vpn["assignee"], vpn["status"]) == ("dana", Status.OPEN)
    picked = [e for e in vpn["events"] if e[1] == "auto-assign"]
    assert picked == [
        (EventKind.ASSIGNEE, "auto-assign", "dana", "L2: dana: 0 open of 20, has network")
    ]
    # L1 has admin and bob, both with nothing open: login breaks the first tie, then the
    # one assigned longest ago, then the lighter load.
    owners = [
        _new(desk_store, f"Printer {n}", group="L1", requester="p@q.example")[1]["assignee"]
        for n in range(4)
    ]
    assert owners == ["admin", "bob", "admin", "bob"]


def test_nobody_available_leaves_the_ticket_in_the_queue_and_says_why(desk_store: Desk) -> None:
    _setup(desk_store)
    with desk_store.store.write() as session:
        for agent in session.scalars(select(Agent).where(Agent.login.in_(["admin", "bob"]))):
            agent.presence = Presence.AWAY
    _, seen = _new(desk_store, "Printer", group="L1", requester="p@q.example")
    assert seen["assignee"] is None and seen["status"] is Status.NEW
    reasons = [e[3] for e in seen["events"] if e[1] == "auto-assign"]
    assert reasons == ["L1: nobody available: admin away; bob away"]


def test_a_group_move_assigns_in_the_new_group(desk_store: Desk) -> None:
    _setup(desk_store, RULES.replace('"L1", "L2"', '"L2"'))
    key, seen = _new(desk_store, "Printer", group="L1", requester="p@q.example")
    assert seen["assignee"] is None  # L1 does not assign automatically here
    with desk_store.store.write() as session:
        escalation.escalate_ticket(session, desk_store.agent, NOW, key)
        ticket = tickets.get_ticket(session, key)
        assert ticket.group is not None and ticket.group.name == "L2"
        # cleo and dana both fit; cleo sorts first with nothing open.
        assert ticket.assignee is not None and ticket.assignee.login == "cleo"


def test_history_shows_only_what_a_route_set(desk_store: Desk) -> None:
    _setup(desk_store)
    _new(desk_store, "VPN down", priority=Priority.NORMAL, group="L1")
    with desk_store.store.read() as session:
        details = session.scalars(
            select(TicketEvent.detail).where(TicketEvent.kind == EventKind.ROUTED)
        ).all()
        decided = [sorted(k for k, v in d.items() if v) for d in details]
    # vpn-to-l2 still set category, tags and skills; its priority and group lost to the
    # agent's; acme-tag's priority lost too, its tag stayed.
    assert decided == [["category", "skills", "tags"], ["tags"]]

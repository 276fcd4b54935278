"""`helpdesk ticket sla NUMBER [--json]` on both back ends: tickets moved through services at
fixed instants, then the real command's human output (in the display zone, customer text
inert, long histories compacted) and JSON document, and the errors for unknown tickets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run, ok, one_line_error
from tests.conftest import Desk
from tests.services.test_sla_explain import RULES, rome
from tui_helpdesk.domain import Priority, Status
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, tickets
from tui_helpdesk.store.models import Escalation


@pytest.fixture
def office(desk_store: Desk) -> Desk:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, rome(1, 0), parse_rules(RULES))
    return desk_store


def late_then_resolved(d: Desk) -> str:
    """Monday 16:00 (Rome), high priority: first response 2h, answered 1h20m late on
    Tuesday; resolved on Wednesday 15:00, an hour before its 16h target; one escalation."""
    with d.store.write() as session:
        key = tickets.create_ticket(
            session,
            d.agent,
            rome(23, 16),
            tickets.NewTicket(
                "[bold red]VPN[/] drops",
                requester="anna@acme.example",
                category="Technical > Network",
            ),
        ).key
    with d.store.write() as session:
        tickets.reply(session, d.agent, rome(24, 10, 20), key, "Looking into it")
    with d.store.write() as session:
        ticket = tickets.get_ticket(session, key)
        session.add(
            Escalation(
                ticket_id=ticket.id,
                rule="warn-resolution",
                cycle=0,
                trigger="resolution",
                at=rome(24, 16),
                actor="system",
                reason="50% of the resolution target used",
                actions=["notify:assignee"],
            )
        )
    with d.store.write() as session:
        tickets.change_status(session, d.agent, rome(25, 15), key, Status.RESOLVED)
    return key


def test_human_output_explains_the_clocks(office: Desk, hd: Run) -> None:
    key = late_then_resolved(office)
    out = ok(hd("ticket", "sla", key)).stdout
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert f"{key} [bold red]VPN[/] drops" in lines  # customer text is never markup
    assert "policy standard: matches every ticket (since 2026-11-23 16:00)" in lines
    assert (
        "calendar office, Europe/Rome: mon-fri 09:00-13:00 14:00-18:00; holidays 2026-12-08"
        in lines
    )
    assert lines[lines.index("First response: met late: breached by 1h20m working time") + 1] == (
        "target 2h used 3h20m (166%) breached by 1h20m was due 2026-11-23 18:00"
    )
    # Times in the desk's zone (no display zone configured): Rome office hours.
    assert "running 2026-11-23 16:00 2026-11-23 18:00 2h 2h" in lines
    assert "outside hours 2026-11-23 18:00 2026-11-24 09:00 15h -" in lines
    assert "running 2026-11-24 09:00 2026-11-24 10:20 1h20m 1h20m" in lines
    assert "Resolution: met in time, 1h working time to spare" in lines
    assert any(line.startswith("times in Europe/Rome; now ") for line in lines)
    assert (
        "2026-11-24 16:00 warn-resolution 0 resolution system notify:assignee "
        "(50% of the resolution target used)"
    ) in lines
    assert "2026-11-24 10:20 first response breach left -1h20m; due 2026-11-23 18:00" in lines
    assert "\x1b[" not in out  # piped: no colour


def test_display_zone_comes_from_the_agent_config(office: Desk, hd: Run, home: Path) -> None:
    key = late_then_resolved(office)
    config = home / ".config" / "helpdesk" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[display]\ntimezone = "UTC"\n')
    lines = [" ".join(line.split()) for line in ok(hd("ticket", "sla", key)).stdout.splitlines()]
    assert "running 2026-11-23 15:00 2026-11-23 17:00 2h 2h" in lines
    assert any(line.startswith("times in UTC; now ") for line in lines)


def test_json_document(office: Desk, hd: Run) -> None:
    key = late_then_resolved(office)
    doc = ok(hd("ticket", "sla", key, "--json")).json()
    assert doc["number"] == key and doc["subject"] == "[bold red]VPN[/] drops"
    assert doc["policy"] == {
        "name": "standard",
        "reason": "standard: matches every ticket",
        "chosen_at": "2026-11-23T15:00:00Z",
        "rules_now": None,
    }
    assert doc["calendar"]["timezone"] == "Europe/Rome"
    first, resolution = doc["clocks"]
    assert (first["name"], first["state"], first["breached"], first["breached_by_s"]) == (
        "first_response",
        "met",
        True,
        80 * 60,
    )
    assert first["due_at"] == "2026-11-23T17:00:00Z"
    assert [(s["kind"], s["working_s"]) for s in first["segments"]] == [
        ("running", 7200),
        ("outside_hours", 0),
        ("running", 4800),
    ]
    assert (resolution["state"], resolution["remaining_s"], resolution["used_s"]) == (
        "met",
        3600,
        15 * 3600,
    )
    assert doc["escalations"] == [
        {
            "rule": "warn-resolution",
            "cycle": 0,
            "trigger": "resolution",
            "at": "2026-11-24T15:00:00Z",
            "actor": "system",
            "reason": "50% of the resolution target used",
            "actions": ["notify:assignee"],
        }
    ]
    assert doc["upcoming"] == []
    stamps = [doc["now"], *(s["at"] for s in doc["ledger"])]
    assert all(stamp.endswith("Z") for stamp in stamps)


def test_months_outside_hours_stay_readable(office: Desk, hd: Run) -> None:
    with office.store.write() as session:
        key = tickets.create_ticket(
            session,
            office.agent,
            rome(1, 9, month=6),
            tickets.NewTicket("Old one", requester="anna@acme.example", priority=Priority.LOW),
        ).key
    for day in range(2, 20):  # waiting on the customer every other day for weeks
        status = Status.PENDING if day % 2 == 0 else Status.OPEN
        with office.store.write() as session:
            tickets.change_status(session, office.agent, rome(day, 12, month=6), key, status)

    human = ok(hd("ticket", "sla", key))
    lines = human.stdout.splitlines()
    assert len(lines) < 80  # two clocks of at most 14 segment rows, the ledger's last 12
    assert any("rows" in line and "--json lists every segment" in line for line in lines)
    assert any("parts," in line and "outside hours" in line for line in lines)
    assert "earlier ledger steps not shown" in human.stderr

    doc = ok(hd("ticket", "sla", key, "--json")).json()
    resolution = doc["clocks"][1]
    assert len(resolution["segments"]) > 300  # every night and weekend since June
    assert sum(s["kind"] == "paused" for s in resolution["segments"]) == 9
    assert len(doc["ledger"]) > 12


def test_unknown_ticket_and_bad_number(office: Desk, hd: Run) -> None:
    assert "no ticket HD-99" in one_line_error(hd("ticket", "sla", "HD-99"), 1)
    assert "not a ticket number" in one_line_error(hd("ticket", "sla", "nope", "--json"), 2)


def test_listed_in_ticket_help(cli: Run) -> None:
    assert "sla" in ok(cli("ticket", "--help")).stdout

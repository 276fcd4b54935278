"""Choosing an assignee by availability, skills and workload, round robin on ties."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_helpdesk.domain import Presence
from tui_helpdesk.rules.assignment import Candidate, choose_assignee

EARLY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def agent(login: str, load: int = 0, **kw: object) -> Candidate:
    fields: dict[str, object] = {
        "active": True,
        "presence": Presence.AVAILABLE,
        "skills": frozenset(),
        "capacity": 5,
        "load": load,
    }
    fields.update(kw)
    return Candidate(login=login, **fields)  # type: ignore[arg-type]


def test_fewest_open_tickets_wins() -> None:
    login, why = choose_assignee([agent("ann", 3), agent("bob", 1), agent("cy", 2)])
    assert login == "bob"
    assert why == "bob: 1 open of 5, fewest open"


def test_ties_go_to_who_was_assigned_longest_ago_then_login() -> None:
    pair = [agent("ann", 1, last_assigned_at=LATE), agent("bob", 1, last_assigned_at=EARLY)]
    assert choose_assignee(pair)[0] == "bob"
    assert choose_assignee([agent("bob", 1), agent("ann", 1)])[0] == "ann"
    never = [agent("ann", 1, last_assigned_at=EARLY), agent("bob", 1)]
    assert choose_assignee(never)[0] == "bob"  # never assigned comes first


def test_skills_presence_capacity_and_deactivation_exclude() -> None:
    team = [
        agent("ann", 0, presence=Presence.AWAY),
        agent("bob", 5),  # at capacity
        agent("cy", 0, active=False),
        agent("dee", 0),  # no skills
        agent("eve", 2, skills=frozenset({"network", "vpn"})),
    ]
    assert choose_assignee(team, ["network"]) == (
        "eve",
        "eve: 2 open of 5, has network",
    )
    login, why = choose_assignee(team, ["forensics"])
    assert login is None
    assert why == (
        "nobody available: ann away; bob lacks forensics; cy deactivated; "
        "dee lacks forensics; eve lacks forensics"
    )


def test_empty_group() -> None:
    assert choose_assignee([]) == (None, "nobody available: the group has no members")

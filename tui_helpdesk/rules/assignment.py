"""Who gets a ticket when a group assigns automatically (DESIGN §5).

Inside the target group: an active agent who is available, has every skill the ticket needs
and is under capacity; of those, the one with the fewest open tickets, then the one who was
given a ticket longest ago (round robin on ties), then by login. Nobody fitting leaves the
ticket in the group's queue. The answer always says why, in words for the audit trail.

The assignment service gathers the candidates (members, skills, loads) and calls
`choose_assignee` when a ticket is created into, or moved to, a group that assigns
automatically (`[desk] auto_assign` in the rules file). Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tui_helpdesk.domain import Presence

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    login: str
    active: bool
    presence: Presence
    skills: frozenset[str]
    capacity: int
    load: int  # open tickets assigned now
    last_assigned_at: datetime | None = None


def _unfit(candidate: Candidate, needed: frozenset[str]) -> str | None:
    if not candidate.active:
        return "deactivated"
    if candidate.presence is not Presence.AVAILABLE:
        return str(candidate.presence)
    missing = sorted(needed - candidate.skills)
    if missing:
        return f"lacks {', '.join(missing)}"
    if candidate.load >= candidate.capacity:
        return f"at capacity ({candidate.load}/{candidate.capacity})"
    return None


def choose_assignee(
    candidates: Iterable[Candidate], needed: Iterable[str] = ()
) -> tuple[str | None, str]:
    """(login, why) of the agent to assign, or (None, why nobody)."""
    skills = frozenset(needed)
    fit: list[Candidate] = []
    reasons: list[str] = []
    for candidate in sorted(candidates, key=lambda c: c.login):
        unfit = _unfit(candidate, skills)
        if unfit is None:
            fit.append(candidate)
        else:
            reasons.append(f"{candidate.login} {unfit}")
    if not fit:
        why = "; ".join(reasons) if reasons else "the group has no members"
        return None, f"nobody available: {why}"
    best = min(fit, key=lambda c: (c.load, c.last_assigned_at or _NEVER, c.login))
    tied = [c for c in fit if c.load == best.load]
    parts = [f"{best.load} open of {best.capacity}"]
    if len(fit) > 1:
        parts.append("fewest open" if len(tied) == 1 else "fewest open, longest since assigned")
    if skills:
        parts.append(f"has {', '.join(sorted(skills))}")
    return best.login, f"{best.login}: " + ", ".join(parts)

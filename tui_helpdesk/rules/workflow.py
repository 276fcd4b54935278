"""The ticket status workflow (DESIGN §3) as one table and one predicate.

Screens offer only the targets `allowed_targets()` returns; services refuse the rest.
Closing needs the customer's confirmation, so `closed` is reached from `resolved` only
(merging closes a ticket through its own path). Reopening is its own service.
"""

from __future__ import annotations

from tui_helpdesk.domain import Status

ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.RESOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.RESOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.RESOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

REOPENABLE: frozenset[Status] = frozenset({Status.RESOLVED, Status.CLOSED})


def can_transition(current: Status, target: Status) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def allowed_targets(current: Status) -> list[Status]:
    """Targets in workflow order, for pickers."""
    return [s for s in Status if s in ALLOWED_TRANSITIONS[current]]

"""The status workflow table: every allowed transition, and the ones it must refuse."""

from __future__ import annotations

import pytest

from tui_helpdesk.domain import Status
from tui_helpdesk.rules.workflow import ALLOWED_TRANSITIONS, allowed_targets, can_transition

S = Status
ALLOWED = [
    (S.NEW, S.OPEN),
    (S.NEW, S.PENDING),
    (S.NEW, S.ON_HOLD),
    (S.NEW, S.RESOLVED),
    (S.OPEN, S.PENDING),
    (S.OPEN, S.ON_HOLD),
    (S.OPEN, S.RESOLVED),
    (S.PENDING, S.OPEN),
    (S.PENDING, S.ON_HOLD),
    (S.PENDING, S.RESOLVED),
    (S.ON_HOLD, S.OPEN),
    (S.ON_HOLD, S.PENDING),
    (S.ON_HOLD, S.RESOLVED),
    (S.RESOLVED, S.OPEN),
    (S.RESOLVED, S.CLOSED),
]
ALL_PAIRS = [(a, b) for a in Status for b in Status if a is not b]
REFUSED = [pair for pair in ALL_PAIRS if pair not in ALLOWED]


def test_table_is_exactly_the_documented_workflow() -> None:
    table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == set(ALLOWED)
    assert set(ALLOWED_TRANSITIONS) == set(Status)


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: s.value)
def test_allowed(current: Status, target: Status) -> None:
    assert can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=lambda s: s.value)
def test_refused(current: Status, target: Status) -> None:
    assert not can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CLOSED, S.PENDING),
        (S.CLOSED, S.OPEN),
        (S.RESOLVED, S.PENDING),
        (S.RESOLVED, S.ON_HOLD),
        (S.NEW, S.CLOSED),
        (S.OPEN, S.CLOSED),
        (S.PENDING, S.NEW),
    ],
    ids=lambda s: s.value,
)
def test_representative_refusals(current: Status, target: Status) -> None:
    assert not can_transition(current, target)


def test_no_status_moves_to_itself() -> None:
    assert not any(can_transition(s, s) for s in Status)


def test_allowed_targets_in_workflow_order() -> None:
    assert allowed_targets(S.NEW) == [S.OPEN, S.PENDING, S.ON_HOLD, S.RESOLVED]
    assert allowed_targets(S.RESOLVED) == [S.OPEN, S.CLOSED]
    assert allowed_targets(S.CLOSED) == []

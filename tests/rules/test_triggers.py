"""Escalation timing (`rules.triggers`): when each kind of rule fires, hand-checked on a real
office calendar (Europe/Rome, 09:00-13:00 and 14:00-18:00, Monday to Friday) with clocks built
by `reconcile`, what `schedule` says is due and when to look again, and properties: a fire
instant does not drift as time passes, and nothing falls due between `now` and `next_at`.

March 2026: Friday 6, weekend 7-8, Monday 9 to Friday 13.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.rules.calendar import working_time_between
from tui_helpdesk.rules.clock import ALWAYS, ClockName, Situation, Sla, mark_breached, reconcile
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.rules.escalation import AtPercent, EscalationRule, Trigger, Where
from tui_helpdesk.rules.sla import TicketFacts
from tui_helpdesk.rules.triggers import Due, Schedule, Timers, fire_time, percent_used, schedule

ROME = ZoneInfo("Europe/Rome")
H = timedelta(hours=1)
M = timedelta(minutes=1)

RULES = parse_rules("""
[calendars.office]
timezone = "Europe/Rome"
hours.mon = ["09:00-13:00", "14:00-18:00"]
hours.tue = ["09:00-13:00", "14:00-18:00"]
hours.wed = ["09:00-13:00", "14:00-18:00"]
hours.thu = ["09:00-13:00", "14:00-18:00"]
hours.fri = ["09:00-13:00", "14:00-18:00"]

[[sla]]
name = "standard"
calendar = "office"
where = { channel = ["email"] }
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }

[[escalation]]
name = "fr-warn"
on = "first_response"
at = "80%"
actions = ["notify:assignee"]

[[escalation]]
name = "fr-breach"
on = "first_response"
at = "breach"
actions = ["raise_priority"]

[[escalation]]
name = "res-half"
on = "resolution"
at = "50%"
where = { priority = ["high", "urgent"] }
actions = ["notify:group_lead"]

[[escalation]]
name = "res-full"
on = "resolution"
at = "100%"
actions = ["level_up"]

[[escalation]]
name = "idle"
on = "idle"
at = "2h"
actions = ["tag:idle"]

[[escalation]]
name = "urgent-unassigned"
on = "unassigned"
at = "15m"
where = { priority = ["urgent"] }
actions = ["notify:group_lead"]

[[escalation]]
name = "asked"
on = "customer_request"
actions = ["level_up"]
""")
OFFICE = RULES.calendars["office"]
RULE = {rule.name: rule for rule in RULES.escalations}
MONDAY_9 = datetime(2026, 3, 9, 9, tzinfo=ROME).astimezone(UTC)


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


def facts(status: Status = Status.OPEN, priority: Priority = Priority.NORMAL) -> TicketFacts:
    return TicketFacts(priority=priority, channel=Channel.EMAIL, status=status)


def clocks(
    start: datetime,
    priority: Priority = Priority.NORMAL,
    status: Status = Status.OPEN,
    *,
    changed: datetime | None = None,
    replied: datetime | None = None,
) -> Sla:
    """The clocks of a ticket created at `start`, then moved to `status` at `changed`."""
    sla, _ = reconcile(RULES, Sla(), Situation(facts(Status.NEW, priority)), start)
    if changed is not None or replied is not None:
        situation = Situation(facts(status, priority), first_response_at=replied)
        sla, _ = reconcile(RULES, sla, situation, changed or start)
    return sla


def fire(
    name: str,
    sla: Sla,
    now: datetime,
    status: Status = Status.OPEN,
    priority: Priority = Priority.NORMAL,
    *,
    last_activity: datetime = MONDAY_9,
    unassigned_since: datetime | None = None,
) -> tuple[datetime, str] | None:
    timers = Timers(last_activity_at=last_activity, unassigned_since=unassigned_since)
    return fire_time(RULE[name], sla, OFFICE, facts(status, priority), timers, now)


# --- fire_time: SLA targets ------------------------------------------------------------------

WARN = "80% of the first response target used"


@pytest.mark.parametrize(
    ("start", "now", "expected"),
    [
        # 80% of 4h = 3h12m of working time after the start.
        (MONDAY_9, MONDAY_9, rome(2026, 3, 9, 12, 12)),
        (rome(2026, 3, 9, 11), rome(2026, 3, 9, 11), rome(2026, 3, 9, 15, 12)),  # over lunch
        # Over the weekend: 2h on Friday, 1h12m on Monday; the same from any later `now`.
        (rome(2026, 3, 6, 16), rome(2026, 3, 6, 16), rome(2026, 3, 9, 10, 12)),
        (rome(2026, 3, 6, 16), rome(2026, 3, 7, 11), rome(2026, 3, 9, 10, 12)),
        (rome(2026, 3, 6, 16), rome(2026, 3, 9, 9, 30), rome(2026, 3, 9, 10, 12)),
        # Already past the share: due now.
        (MONDAY_9, rome(2026, 3, 9, 12, 12), rome(2026, 3, 9, 12, 12)),
        (MONDAY_9, rome(2026, 3, 9, 12, 30), rome(2026, 3, 9, 12, 30)),
    ],
)
def test_a_share_of_the_target(start: datetime, now: datetime, expected: datetime) -> None:
    assert fire("fr-warn", clocks(start), now) == (expected, WARN)


def test_a_share_of_the_target_after_a_pause() -> None:
    # 1h used, pending for a day, resumed Tuesday 09:00: 2h12m of the 80% are left.
    sla = clocks(MONDAY_9, changed=rome(2026, 3, 9, 10), status=Status.PENDING)
    situation = Situation(facts(Status.OPEN))
    sla, _ = reconcile(RULES, sla, situation, rome(2026, 3, 10, 9))
    assert fire("fr-warn", sla, rome(2026, 3, 10, 9)) == (rome(2026, 3, 10, 11, 12), WARN)


@pytest.mark.parametrize(
    ("name", "priority", "now", "expected"),
    [
        ("fr-breach", Priority.NORMAL, MONDAY_9,
         (rome(2026, 3, 9, 13), "first response target breached")),
        # Past the deadline it stays at the deadline.
        ("fr-breach", Priority.NORMAL, rome(2026, 3, 10, 9),
         (rome(2026, 3, 9, 13), "first response target breached")),
        # 100% is the breach; 36h from Monday 09:00 is Friday 13:00.
        ("res-full", Priority.NORMAL, MONDAY_9,
         (rome(2026, 3, 13, 13), "resolution target breached")),
        # 50% of 16h = one working day: Monday's closing time.
        ("res-half", Priority.HIGH, MONDAY_9,
         (rome(2026, 3, 9, 18), "50% of the resolution target used")),
        ("res-half", Priority.NORMAL, MONDAY_9, None),  # `where` does not match
    ],
)  # fmt: skip
def test_target_rules(
    name: str, priority: Priority, now: datetime, expected: tuple[datetime, str] | None
) -> None:
    assert fire(name, clocks(MONDAY_9, priority), now, priority=priority) == expected


@pytest.mark.parametrize(
    ("sla", "status"),
    [
        (clocks(MONDAY_9, status=Status.PENDING, changed=rome(2026, 3, 9, 10)), Status.PENDING),
        (clocks(MONDAY_9, replied=rome(2026, 3, 9, 10)), Status.OPEN),  # met
        (clocks(MONDAY_9, status=Status.RESOLVED, changed=rome(2026, 3, 9, 10)), Status.RESOLVED),
        (Sla(), Status.OPEN),  # no policy, no clocks
    ],
)
def test_a_clock_that_does_not_run_fires_nothing(sla: Sla, status: Status) -> None:
    for name in ("fr-warn", "fr-breach"):
        assert fire(name, sla, rome(2026, 3, 9, 11), status) is None


def test_on_hold_silences_resolution_rules_only() -> None:
    sla = clocks(MONDAY_9, Priority.HIGH, Status.ON_HOLD, changed=rome(2026, 3, 9, 10))
    now = rome(2026, 3, 9, 10)
    assert fire("res-half", sla, now, Status.ON_HOLD, Priority.HIGH) is None
    assert fire("fr-breach", sla, now, Status.ON_HOLD, Priority.HIGH) == (
        rome(2026, 3, 9, 11),
        "first response target breached",
    )


# --- fire_time: idle, unassigned, customer request -------------------------------------------


@pytest.mark.parametrize(
    ("status", "last_activity", "expected"),
    [
        (Status.OPEN, rome(2026, 3, 9, 12), (rome(2026, 3, 9, 15), "idle for 2h")),  # lunch
        (Status.NEW, rome(2026, 3, 6, 17), (rome(2026, 3, 9, 10), "idle for 2h")),  # weekend
        (Status.OPEN, rome(2026, 3, 9, 11), (rome(2026, 3, 9, 13), "idle for 2h")),  # closing
        (Status.PENDING, rome(2026, 3, 9, 12), None),  # the customer owes the next move
        (Status.ON_HOLD, rome(2026, 3, 9, 12), None),
        (Status.RESOLVED, rome(2026, 3, 9, 12), None),
        (Status.CLOSED, rome(2026, 3, 9, 12), None),
    ],
)
def test_idle(
    status: Status, last_activity: datetime, expected: tuple[datetime, str] | None
) -> None:
    sla = clocks(MONDAY_9)
    assert fire("idle", sla, MONDAY_9, status, last_activity=last_activity) == expected


def test_idle_without_a_policy_counts_every_hour() -> None:
    timers = Timers(last_activity_at=rome(2026, 3, 7, 10), unassigned_since=None)
    assert fire_time(RULE["idle"], Sla(), ALWAYS, facts(), timers, MONDAY_9) == (
        rome(2026, 3, 7, 12),
        "idle for 2h",
    )


@pytest.mark.parametrize(
    ("status", "priority", "since", "expected"),
    [
        # 10 minutes on Friday, 5 on Monday.
        (Status.OPEN, Priority.URGENT, rome(2026, 3, 6, 17, 50),
         (rome(2026, 3, 9, 9, 5), "unassigned for 15m")),
        # Unassigned counts in any active status, pending too.
        (Status.PENDING, Priority.URGENT, rome(2026, 3, 9, 12, 50),
         (rome(2026, 3, 9, 14, 5), "unassigned for 15m")),
        (Status.OPEN, Priority.URGENT, None, None),  # somebody owns it
        (Status.OPEN, Priority.HIGH, rome(2026, 3, 9, 12), None),  # `where` does not match
        (Status.RESOLVED, Priority.URGENT, rome(2026, 3, 9, 12), None),
    ],
)  # fmt: skip
def test_unassigned(
    status: Status,
    priority: Priority,
    since: datetime | None,
    expected: tuple[datetime, str] | None,
) -> None:
    sla = clocks(MONDAY_9, priority)
    got = fire("urgent-unassigned", sla, MONDAY_9, status, priority, unassigned_since=since)
    assert got == expected


def test_a_customer_request_never_fires_by_time() -> None:
    since = rome(2026, 3, 2, 9)
    assert fire("asked", clocks(MONDAY_9), rome(2026, 3, 20), unassigned_since=since) is None


# --- schedule --------------------------------------------------------------------------------


def plan(
    sla: Sla,
    now: datetime,
    *,
    fired: frozenset[str] = frozenset(),
    status: Status = Status.OPEN,
    priority: Priority = Priority.NORMAL,
    last_activity: datetime = MONDAY_9,
    unassigned_since: datetime | None = None,
    rules: tuple[EscalationRule, ...] = RULES.escalations,
) -> Schedule:
    timers = Timers(last_activity_at=last_activity, unassigned_since=unassigned_since)
    return schedule(rules, sla, OFFICE, facts(status, priority), timers, fired, now)


def test_nothing_due_yet_gives_the_earliest_upcoming_instant() -> None:
    sla = clocks(MONDAY_9)
    # Idle 2h from 09:00 comes first.
    assert plan(sla, rome(2026, 3, 9, 10)) == Schedule((), (), rome(2026, 3, 9, 11))
    # Idle from 11:00 ends at 13:00: the 80% warning (12:12) comes first.
    later = plan(sla, rome(2026, 3, 9, 10), last_activity=rome(2026, 3, 9, 11))
    assert later == Schedule((), (), rome(2026, 3, 9, 12, 12))


def test_a_warning_that_comes_after_the_breach_is_skipped() -> None:
    assert fire("fr-warn", clocks(MONDAY_9), rome(2026, 3, 10, 12)) is None
    breached = mark_breached(clocks(MONDAY_9), [ClockName.FIRST_RESPONSE])
    assert fire("fr-warn", breached, rome(2026, 3, 9, 12, 30)) is None


def test_due_rules_in_file_order_and_breaches() -> None:
    sla = clocks(MONDAY_9)
    now = rome(2026, 3, 9, 13, 30)
    assert plan(sla, now) == Schedule(
        due=(
            # fr-warn (80%) is not due: the clock is overdue, the warning too late.
            Due(RULE["fr-breach"], rome(2026, 3, 9, 13), "first response target breached"),
            Due(RULE["idle"], rome(2026, 3, 9, 11), "idle for 2h"),
        ),
        breaches=(ClockName.FIRST_RESPONSE,),
        next_at=now,
    )


def test_fired_rules_are_skipped() -> None:
    sla = clocks(MONDAY_9)
    now = rome(2026, 3, 9, 13, 30)
    fired = frozenset({"fr-warn", "fr-breach", "idle"})
    # The breach is still to record: the ticket stays a candidate.
    assert plan(sla, now, fired=fired) == Schedule((), (ClockName.FIRST_RESPONSE,), now)
    # Recorded: the next thing is the resolution deadline (Friday 13:00), which is also
    # when res-full fires.
    marked = mark_breached(sla, [ClockName.FIRST_RESPONSE])
    assert plan(marked, now, fired=fired) == Schedule((), (), rome(2026, 3, 13, 13))
    # Only the warning fired, at 12:15: the breach rule is next, at the deadline.
    early = plan(sla, rome(2026, 3, 9, 12, 15), fired=frozenset({"fr-warn", "idle"}))
    assert early == Schedule((), (), rome(2026, 3, 9, 13))


def test_without_rules_the_next_instant_is_the_next_deadline() -> None:
    sla = clocks(MONDAY_9)
    assert plan(sla, MONDAY_9, rules=()) == Schedule((), (), rome(2026, 3, 9, 13))
    now = rome(2026, 3, 9, 14)
    assert plan(sla, now, rules=()) == Schedule((), (ClockName.FIRST_RESPONSE,), now)
    marked = mark_breached(sla, [ClockName.FIRST_RESPONSE])
    assert plan(marked, now, rules=()) == Schedule((), (), rome(2026, 3, 13, 13))


def test_a_paused_or_finished_ticket() -> None:
    pending = clocks(MONDAY_9, Priority.URGENT, Status.PENDING, changed=rome(2026, 3, 9, 9, 30))
    now = rome(2026, 3, 9, 12)
    assert plan(pending, now, status=Status.PENDING, priority=Priority.URGENT) == Schedule(
        (), (), None
    )
    # Unassigned still counts while pending.
    since = rome(2026, 3, 9, 11, 50)
    got = plan(
        pending, now, status=Status.PENDING, priority=Priority.URGENT, unassigned_since=since
    )
    assert got == Schedule((), (), rome(2026, 3, 9, 12, 5))
    resolved = clocks(MONDAY_9, status=Status.RESOLVED, changed=rome(2026, 3, 9, 10))
    assert plan(resolved, now, status=Status.RESOLVED, unassigned_since=since) == Schedule(
        (), (), None
    )


@pytest.mark.parametrize(
    ("target", "left", "expected"),
    [
        (4 * H, 4 * H, 0),
        (4 * H, 48 * M, 80),
        (100 * H, 71 * H, 29),  # 0.29 * 100 is 28.999... in floating point
        (4 * H, timedelta(0), 100),
        (4 * H, -H, 125),
        (timedelta(0), H, 100),
    ],
)
def test_percent_used(target: timedelta, left: timedelta, expected: int) -> None:
    assert percent_used(target, left) == expected


# --- properties ------------------------------------------------------------------------------

PROPERTY = settings(deadline=None, max_examples=150)
BASE = rome(2026, 3, 16)  # three weeks around the spring DST change
offsets = st.timedeltas(timedelta(0), timedelta(days=21))
priorities = st.sampled_from(list(Priority))


@PROPERTY
@given(st.integers(1, 99), priorities, st.booleans(), offsets, st.floats(0, 1))
def test_a_share_fires_after_that_share_of_working_time(
    percent: int, priority: Priority, resolution: bool, start: timedelta, when: float
) -> None:
    on = Trigger.RESOLUTION if resolution else Trigger.FIRST_RESPONSE
    rule = EscalationRule("r", on, AtPercent(percent), Where(), ())
    start_at = BASE + start
    sla = clocks(start_at, priority)
    timers = Timers(last_activity_at=start_at, unassigned_since=None)
    got = fire_time(rule, sla, OFFICE, facts(Status.OPEN, priority), timers, start_at)
    assert got is not None
    fires = got[0]
    clock = sla.resolution if resolution else sla.first_response
    assert clock is not None and clock.due_at is not None
    rest = clock.target * (100 - percent) / 100
    assert working_time_between(OFFICE, fires, clock.due_at) == rest
    # Asked again at any instant before it fires, the answer is the same instant.
    later = start_at + (fires - start_at) * when
    again = fire_time(rule, sla, OFFICE, facts(Status.OPEN, priority), timers, later)
    assert again is not None and again[0] == fires


@PROPERTY
@given(
    priorities,
    st.sampled_from([Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]),
    offsets,
    offsets,
    st.none() | offsets,
    offsets,
    st.floats(0, 1, exclude_max=True),
)
def test_nothing_falls_due_before_next_at(
    priority: Priority,
    status: Status,
    start: timedelta,
    activity: timedelta,
    unassigned: timedelta | None,
    later: timedelta,
    between: float,
) -> None:
    start_at = BASE + start
    sla = clocks(start_at, priority, status, changed=start_at)
    now = start_at + later
    last_activity = start_at + activity
    since = None if unassigned is None else start_at + unassigned

    def look(at: datetime) -> Schedule:
        return plan(
            sla,
            at,
            status=status,
            priority=priority,
            last_activity=last_activity,
            unassigned_since=since,
        )

    planned = look(now)
    if planned.due or planned.breaches:
        assert planned.next_at == now
        return
    if planned.next_at is None:
        return
    assert planned.next_at > now
    # A share of the way (a product of a timedelta rounds to the microsecond: never at or
    # past `next_at`).
    before = now + (planned.next_at - now) * between
    before = min(before, planned.next_at - timedelta(microseconds=1))
    assert look(before) == Schedule((), (), planned.next_at)
    then = look(planned.next_at)
    assert then.due or then.breaches

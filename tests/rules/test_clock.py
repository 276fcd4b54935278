"""SLA clocks (`rules.clock`): hand-checked tables with a fixed `now` on a real office calendar
(Europe/Rome, 09:00-13:00 and 14:00-18:00, Monday to Friday) and an always-open UTC one, and
property tests: pausing never changes the working-time budget, and a random walk through the
ticket workflow agrees with a model that only adds up working time.

March 2026: Monday 2 to Friday 6, weekend 7-8, Monday 9 to Friday 13; Europe/Rome moves to
summer time on Sunday 29 (CET, UTC+1, before; CEST, UTC+2, after).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.rules.calendar import working_time_between
from tui_helpdesk.rules.clock import (
    ALWAYS,
    Clock,
    ClockName,
    ClockState,
    LedgerEntry,
    Situation,
    Sla,
    breaches,
    calendar_for,
    choose_policy,
    deadline,
    mark_breached,
    reconcile,
    remaining,
    signed_working_time,
)
from tui_helpdesk.rules.document import Rules, parse_rules
from tui_helpdesk.rules.sla import TicketFacts
from tui_helpdesk.rules.workflow import ALLOWED_TRANSITIONS

ROME = ZoneInfo("Europe/Rome")
H = timedelta(hours=1)
M = timedelta(minutes=1)
FR = ClockName.FIRST_RESPONSE
RES = ClockName.RESOLUTION

CALENDARS = """
[calendars.office]
timezone = "Europe/Rome"
hours.mon = ["09:00-13:00", "14:00-18:00"]
hours.tue = ["09:00-13:00", "14:00-18:00"]
hours.wed = ["09:00-13:00", "14:00-18:00"]
hours.thu = ["09:00-13:00", "14:00-18:00"]
hours.fri = ["09:00-13:00", "14:00-18:00"]

[calendars.always]
timezone = "UTC"
always_open = true
"""
STANDARD = """
[[sla]]
name = "standard"
calendar = "office"
where = { channel = ["email", "web", "phone"] }
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }
"""
RULES = parse_rules(
    CALENDARS
    + """
[[sla]]
name = "premium"
calendar = "always"
where = { segment = ["premium"] }
first_response = { urgent = "15m", high = "30m", normal = "1h", low = "2h" }
resolution     = { urgent = "4h",  high = "8h",  normal = "16h", low = "40h" }

[[sla]]                     # the standard targets around the clock
name = "night"
calendar = "always"
where = { tag = ["night"] }
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }
"""
    + STANDARD
)
OFFICE = RULES.calendars["office"]


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def situation(
    status: Status = Status.NEW,
    priority: Priority = Priority.NORMAL,
    *,
    replied: datetime | None = None,
    segment: str | None = None,
    channel: Channel = Channel.EMAIL,
    contract: str | None = None,
    tags: frozenset[str] = frozenset(),
) -> Situation:
    facts = TicketFacts(
        priority=priority, segment=segment, channel=channel, status=status, tags=tags
    )
    return Situation(facts=facts, contract=contract, first_response_at=replied)


def at(
    before: Sla,
    now: datetime,
    status: Status = Status.NEW,
    priority: Priority = Priority.NORMAL,
    *,
    rules: Rules = RULES,
    replied: datetime | None = None,
    segment: str | None = None,
    channel: Channel = Channel.EMAIL,
    contract: str | None = None,
    tags: frozenset[str] = frozenset(),
) -> tuple[Sla, list[LedgerEntry]]:
    """The clocks after the ticket changed to these facts at `now`."""
    facts = situation(
        status,
        priority,
        replied=replied,
        segment=segment,
        channel=channel,
        contract=contract,
        tags=tags,
    )
    return reconcile(rules, before, facts, now)


def started(
    now: datetime,
    status: Status = Status.NEW,
    priority: Priority = Priority.NORMAL,
    segment: str | None = None,
) -> Sla:
    return at(Sla(), now, status, priority, segment=segment)[0]


def first(sla: Sla) -> Clock:
    assert sla.first_response is not None
    return sla.first_response


def resolution(sla: Sla) -> Clock:
    assert sla.resolution is not None
    return sla.resolution


def running(target: timedelta, due: datetime, breached: bool = False) -> Clock:
    return Clock(ClockState.RUNNING, target, due_at=due, breached=breached)


def paused(target: timedelta, left: timedelta, breached: bool = False) -> Clock:
    return Clock(ClockState.PAUSED, target, remaining=left, breached=breached)


# --- start -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "priority", "segment", "first_due", "resolution_due"),
    [
        # Friday 17:30 + 4h: half an hour on Friday, 3h30 on Monday. 36h: 0.5 + 4 * 8 + 3.5.
        (rome(2026, 3, 6, 17, 30), Priority.NORMAL, None, rome(2026, 3, 9, 12, 30),
         rome(2026, 3, 13, 12, 30)),
        # Saturday: the clock waits for Monday's opening.
        (rome(2026, 3, 7, 10), Priority.URGENT, None, rome(2026, 3, 9, 10), rome(2026, 3, 9, 18)),
        # Monday 12:30 + 2h across lunch; 16h = 4.5 Monday + 8 Tuesday + 3.5 Wednesday.
        (rome(2026, 3, 9, 12, 30), Priority.HIGH, None, rome(2026, 3, 9, 15, 30),
         rome(2026, 3, 11, 12, 30)),
        # After closing: 8h is all of Tuesday, due at its closing time; 72h = 9 working days.
        (rome(2026, 3, 9, 18, 30), Priority.LOW, None, rome(2026, 3, 10, 18),
         rome(2026, 3, 20, 18)),
        # Across the spring DST weekend: 1h Friday (CET) + 7h Monday (CEST).
        (rome(2026, 3, 27, 17), Priority.URGENT, None, rome(2026, 3, 27, 18),
         utc(2026, 3, 30, 15)),
        # Premium: the always-open UTC calendar, Friday evening counts.
        (rome(2026, 3, 6, 17, 30), Priority.NORMAL, "premium", utc(2026, 3, 6, 17, 30),
         utc(2026, 3, 7, 8, 30)),
    ],
)  # fmt: skip
def test_a_new_ticket_gets_both_clocks(
    now: datetime,
    priority: Priority,
    segment: str | None,
    first_due: datetime,
    resolution_due: datetime,
) -> None:
    sla, entries = at(Sla(), now, Status.NEW, priority, segment=segment)
    first_target, resolution_target = RULES.sla[0 if segment else 2].targets(priority)
    assert sla.first_response == running(first_target, first_due)
    assert sla.resolution == running(resolution_target, resolution_due)
    assert sla.due_at == first_due  # the earliest running deadline
    assert sla.cycle == 0 and not sla.paused
    assert [(e.action, e.clock) for e in entries] == [("policy", None), ("start", FR),
                                                       ("start", RES)]  # fmt: skip
    assert entries[1] == LedgerEntry("start", FR, due_at=first_due, target=first_target)


def test_start_records_the_policy_and_its_calendar() -> None:
    sla, entries = at(Sla(), rome(2026, 3, 9, 9))
    assert (sla.policy, sla.calendar) == ("standard", "office")
    assert entries[0] == LedgerEntry("policy", reason="standard: channel is email")


@pytest.mark.parametrize(
    ("status", "replied", "first", "resolution"),
    [
        (Status.PENDING, None, paused(4 * H, 4 * H), paused(36 * H, 36 * H)),
        (Status.ON_HOLD, None, running(4 * H, rome(2026, 3, 9, 13)), paused(36 * H, 36 * H)),
        (Status.RESOLVED, None, Clock(ClockState.STOPPED, 4 * H, remaining=4 * H),
         Clock(ClockState.MET, 36 * H)),
        (Status.OPEN, rome(2026, 3, 9, 9), Clock(ClockState.MET, 4 * H),
         running(36 * H, rome(2026, 3, 13, 13))),
    ],
)  # fmt: skip
def test_a_ticket_created_in_another_state(
    status: Status, replied: datetime | None, first: Clock, resolution: Clock
) -> None:
    sla, entries = at(Sla(), rome(2026, 3, 9, 9), status, replied=replied)
    assert (sla.first_response, sla.resolution) == (first, resolution)
    assert len(entries) == 3
    assert sla.due_at == (first.due_at or resolution.due_at)


# --- which policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "contract", "channel", "expected"),
    [
        (None, None, Channel.EMAIL, ("standard", "standard: channel is email")),
        ("premium", None, Channel.EMAIL, ("premium", "premium: segment is premium")),
        ("premium", None, Channel.CHAT, ("premium", "premium: segment is premium")),
        (None, "premium", Channel.CHAT,
         ("premium", "premium: the organization's contract names it")),
        # The contract wins over the first policy whose `where` matches.
        ("premium", "standard", Channel.EMAIL,
         ("standard", "standard: the organization's contract names it")),
        # A contract naming no policy of the rules is ignored.
        (None, "platinum", Channel.EMAIL, ("standard", "standard: channel is email")),
        (None, None, Channel.CHAT, None),
        (None, "platinum", Channel.CHAT, None),
    ],
)  # fmt: skip
def test_choose_policy(
    segment: str | None, contract: str | None, channel: Channel, expected: tuple[str, str] | None
) -> None:
    facts = situation(segment=segment, channel=channel).facts
    choice = choose_policy(RULES, facts, contract)
    assert (None if choice is None else (choice[0].name, choice[1])) == expected


def test_no_policy_no_clocks() -> None:
    assert at(Sla(), rome(2026, 3, 9, 9), channel=Channel.CHAT) == (Sla(), [])


def test_a_policy_that_stops_matching_clears_the_clocks() -> None:
    sla = replace(started(rome(2026, 3, 9, 9)), cycle=2)
    cleared, entries = at(sla, rome(2026, 3, 9, 10), channel=Channel.CHAT)
    assert cleared == Sla(cycle=2)
    assert entries == [LedgerEntry("clear", reason="no SLA policy applies")]
    # Matching again starts afresh (the working time used before is not carried over).
    again, entries = at(cleared, rome(2026, 3, 9, 11))
    assert again.first_response == running(4 * H, rome(2026, 3, 9, 16))  # across lunch
    assert again.cycle == 2
    assert [e.action for e in entries] == ["policy", "start", "start"]


def test_the_contract_changing_switches_policy() -> None:
    sla = started(rome(2026, 3, 9, 9), Status.NEW, Priority.LOW)
    after, entries = at(sla, rome(2026, 3, 9, 10), Status.NEW, Priority.LOW, contract="premium")
    assert after.policy == "premium"
    assert entries[0] == LedgerEntry(
        "policy", reason="premium: the organization's contract names it"
    )
    assert {e.reason for e in entries[1:]} == {"policy standard -> premium"}


# --- pause and resume ------------------------------------------------------------------------

MONDAY_9 = rome(2026, 3, 9, 9)  # normal: first response due 13:00, resolution Friday 13:00


def test_pending_pauses_both_clocks_and_resuming_recomputes_the_deadlines() -> None:
    sla, entries = at(started(MONDAY_9), rome(2026, 3, 9, 11), Status.PENDING)
    assert (sla.first_response, sla.resolution) == (paused(4 * H, 2 * H), paused(36 * H, 34 * H))
    assert entries == [
        LedgerEntry("pause", FR, reason="status pending", remaining=2 * H),
        LedgerEntry("pause", RES, reason="status pending", remaining=34 * H),
    ]
    assert sla.paused and sla.due_at is None
    # Tuesday 15:00: 2h → Tuesday 17:00; 34h = 3 + 8 + 8 + 8 + 7 → Monday 16th 17:00.
    sla, entries = at(sla, rome(2026, 3, 10, 15), Status.OPEN)
    assert sla.first_response == running(4 * H, rome(2026, 3, 10, 17))
    assert sla.resolution == running(36 * H, rome(2026, 3, 16, 17))
    assert entries == [
        LedgerEntry("resume", FR, due_at=rome(2026, 3, 10, 17), remaining=2 * H),
        LedgerEntry("resume", RES, due_at=rome(2026, 3, 16, 17), remaining=34 * H),
    ]
    assert not sla.paused and sla.due_at == rome(2026, 3, 10, 17)


def test_on_hold_pauses_resolution_only() -> None:
    sla, entries = at(started(MONDAY_9), rome(2026, 3, 9, 11), Status.ON_HOLD)
    assert sla.first_response == running(4 * H, rome(2026, 3, 9, 13))
    assert sla.resolution == paused(36 * H, 34 * H)
    assert entries == [LedgerEntry("pause", RES, reason="status on_hold", remaining=34 * H)]
    assert sla.due_at == rome(2026, 3, 9, 13)


def test_pending_to_on_hold_resumes_first_response_only() -> None:
    sla, _ = at(started(MONDAY_9), rome(2026, 3, 9, 11), Status.PENDING)
    sla, entries = at(sla, rome(2026, 3, 10, 15), Status.ON_HOLD)
    assert sla.first_response == running(4 * H, rome(2026, 3, 10, 17))
    assert sla.resolution == paused(36 * H, 34 * H)
    assert entries == [LedgerEntry("resume", FR, due_at=rome(2026, 3, 10, 17), remaining=2 * H)]


@pytest.mark.parametrize(
    ("resume", "first_due", "resolution_due"),
    [
        (rome(2026, 3, 8, 12), rome(2026, 3, 9, 11), rome(2026, 3, 13, 11)),  # Sunday
        (rome(2026, 3, 9, 9), rome(2026, 3, 9, 11), rome(2026, 3, 13, 11)),  # Monday opening
        (rome(2026, 3, 9, 12), rome(2026, 3, 9, 15), rome(2026, 3, 13, 15)),  # Monday, lunch
    ],
)
def test_a_pause_over_the_weekend_consumes_nothing(
    resume: datetime, first_due: datetime, resolution_due: datetime
) -> None:
    # Friday 14:00, normal: unpaused, first response would be due Friday 18:00.
    sla = started(rome(2026, 3, 6, 14))
    assert sla.due_at == rome(2026, 3, 6, 18)
    sla, _ = at(sla, rome(2026, 3, 6, 16), Status.PENDING)
    assert sla.first_response == paused(4 * H, 2 * H)
    sla, _ = at(sla, resume, Status.OPEN)
    assert (first(sla).due_at, resolution(sla).due_at) == (first_due, resolution_due)


def test_a_pause_over_the_dst_weekend() -> None:
    sla = started(rome(2026, 3, 27, 16))  # Friday, CET
    sla, _ = at(sla, rome(2026, 3, 27, 17), Status.PENDING)
    assert sla.first_response == paused(4 * H, 3 * H)
    sla, _ = at(sla, rome(2026, 3, 30, 9), Status.OPEN)  # Monday, CEST
    assert sla.first_response == running(4 * H, utc(2026, 3, 30, 10))  # 12:00 in Rome


def test_an_overdue_clock_resumes_exactly_as_overdue() -> None:
    sla = started(MONDAY_9, Status.NEW, Priority.URGENT)  # first response due 10:00
    sla, entries = at(sla, rome(2026, 3, 9, 11, 30), Status.PENDING, Priority.URGENT)
    assert entries == [
        LedgerEntry("breach", FR, due_at=rome(2026, 3, 9, 10), remaining=-90 * M),
        LedgerEntry("pause", FR, reason="status pending", remaining=-90 * M),
        LedgerEntry("pause", RES, reason="status pending", remaining=330 * M),
    ]
    assert sla.first_response == paused(H, -90 * M, breached=True)
    # Tuesday 10:00: 1h30 of working time ago is Monday 17:30; no second breach.
    now = rome(2026, 3, 10, 10)
    sla, entries = at(sla, now, Status.OPEN, Priority.URGENT)
    assert sla.first_response == running(H, rome(2026, 3, 9, 17, 30), breached=True)
    assert entries == [
        LedgerEntry("resume", FR, due_at=rome(2026, 3, 9, 17, 30), remaining=-90 * M),
        LedgerEntry("resume", RES, due_at=rome(2026, 3, 10, 16, 30), remaining=330 * M),
    ]
    assert remaining(OFFICE, first(sla), now) == -90 * M
    assert breaches(sla, now) == []
    # An hour later it is 2h30 overdue, as if it had never been paused.
    assert remaining(OFFICE, first(sla), now + H) == -150 * M


# --- met, stopped, reopened ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "entries", "breached"),
    [
        (rome(2026, 3, 9, 12), [("met", "in time", H)], False),
        # At the deadline's instant the clock is breached (as `breaches` sees it).
        (rome(2026, 3, 9, 13), [("breach", "", timedelta(0)), ("met", "late", timedelta(0))],
         True),
        # During lunch after the deadline: no working time has passed, but it is late.
        (rome(2026, 3, 9, 13, 30),
         [("breach", "", timedelta(0)), ("met", "late", timedelta(0))], True),
        (rome(2026, 3, 9, 14, 30), [("breach", "", -30 * M), ("met", "late", -30 * M)], True),
    ],
)  # fmt: skip
def test_the_first_public_reply_meets_first_response(
    reply: datetime, entries: list[tuple[str, str, timedelta]], breached: bool
) -> None:
    sla, got = at(started(MONDAY_9), reply, Status.OPEN, replied=reply)
    assert [(e.action, e.reason, e.remaining) for e in got] == entries
    assert {e.due_at for e in got} == {rome(2026, 3, 9, 13)}
    # A met clock keeps what was left when met, as its ledger entry says.
    assert sla.first_response == Clock(
        ClockState.MET, 4 * H, due_at=rome(2026, 3, 9, 13), remaining=got[-1].remaining,
        breached=breached,
    )  # fmt: skip
    assert sla.due_at == rome(2026, 3, 13, 13)  # now the resolution deadline


def test_a_reply_after_a_deadline_at_closing_time_is_late() -> None:
    sla = started(rome(2026, 3, 6, 17), Status.NEW, Priority.URGENT)  # due Friday 18:00
    reply = rome(2026, 3, 6, 18, 30)
    sla, entries = at(sla, reply, Status.OPEN, Priority.URGENT, replied=reply)
    assert [(e.action, e.reason) for e in entries] == [("breach", ""), ("met", "late")]
    assert first(sla).breached


def test_a_reply_while_pending_meets_the_paused_clock() -> None:
    sla, _ = at(started(MONDAY_9), rome(2026, 3, 9, 11), Status.PENDING)
    reply = rome(2026, 3, 10, 11)
    sla, entries = at(sla, reply, Status.PENDING, replied=reply)
    assert entries == [LedgerEntry("met", FR, reason="in time", remaining=2 * H)]
    assert sla.first_response == Clock(ClockState.MET, 4 * H, remaining=2 * H)


def test_resolving_meets_resolution_and_stops_an_unanswered_first_response() -> None:
    sla, entries = at(started(MONDAY_9), rome(2026, 3, 9, 12), Status.RESOLVED)
    assert entries == [
        LedgerEntry("stop", FR, reason="status resolved", remaining=H),
        LedgerEntry("met", RES, reason="in time", due_at=rome(2026, 3, 13, 13), remaining=33 * H),
    ]
    assert sla.first_response == Clock(ClockState.STOPPED, 4 * H, remaining=H)
    assert sla.resolution == Clock(
        ClockState.MET, 36 * H, due_at=rome(2026, 3, 13, 13), remaining=33 * H
    )
    assert sla.due_at is None and not sla.paused
    # Closing changes nothing more.
    assert at(sla, rome(2026, 3, 20, 9), Status.CLOSED) == (sla, [])


def test_resolving_late_breaches_resolution() -> None:
    reply = rome(2026, 3, 9, 10)
    sla, _ = at(started(MONDAY_9), reply, Status.OPEN, replied=reply)
    sla, entries = at(sla, rome(2026, 3, 13, 14, 30), Status.RESOLVED, replied=reply)
    assert [(e.action, e.clock, e.reason, e.remaining) for e in entries] == [
        ("breach", RES, "", -30 * M),
        ("met", RES, "late", -30 * M),
    ]
    assert resolution(sla).breached and not first(sla).breached


def test_a_reopened_ticket_starts_a_new_cycle() -> None:
    reply = rome(2026, 3, 9, 10)
    sla, _ = at(started(MONDAY_9), reply, Status.OPEN, replied=reply)
    sla, _ = at(sla, rome(2026, 3, 9, 11), Status.RESOLVED, replied=reply)
    met_first = sla.first_response
    assert met_first is not None and met_first.remaining == 3 * H  # 1h used of 4h
    # Tuesday 10:00 + 36h = 7 + 8 + 8 + 8 + 5 → Monday 16th 15:00.
    sla, entries = at(sla, rome(2026, 3, 10, 10), Status.OPEN, replied=reply)
    assert sla.cycle == 1
    assert sla.first_response == met_first  # a met first response stays met
    assert sla.resolution == running(36 * H, rome(2026, 3, 16, 15))
    assert entries == [
        LedgerEntry(
            "restart",
            RES,
            reason="reopened: a new cycle",
            due_at=rome(2026, 3, 16, 15),
            target=36 * H,
        )
    ]
    sla, _ = at(sla, rome(2026, 3, 10, 11), Status.RESOLVED, replied=reply)
    assert resolution(sla).remaining == 35 * H  # what the new cycle left: 1h used
    sla, _ = at(sla, rome(2026, 3, 10, 12), Status.OPEN, replied=reply)
    assert sla.cycle == 2


def test_reopening_resumes_a_stopped_first_response() -> None:
    sla, _ = at(started(MONDAY_9), rome(2026, 3, 9, 11), Status.RESOLVED)
    sla, entries = at(sla, rome(2026, 3, 10, 10), Status.OPEN)
    assert sla.cycle == 1
    assert sla.first_response == running(4 * H, rome(2026, 3, 10, 12))
    assert [(e.action, e.clock) for e in entries] == [("resume", FR), ("restart", RES)]


# --- retarget --------------------------------------------------------------------------------


def test_a_priority_raised_past_the_used_time_is_overdue_at_once() -> None:
    # 1h used of 4h; urgent has 1h: nothing left.
    now = rome(2026, 3, 9, 10)
    sla, entries = at(started(MONDAY_9), now, Status.NEW, Priority.URGENT)
    assert entries == [
        LedgerEntry(
            "retarget", FR, reason="priority urgent", remaining=timedelta(0), target=H, due_at=now
        ),
        LedgerEntry("breach", FR, reason="retargeted", due_at=now, remaining=timedelta(0)),
        LedgerEntry(
            "retarget",
            RES,
            reason="priority urgent",
            remaining=7 * H,
            target=8 * H,
            due_at=rome(2026, 3, 9, 18),
        ),
    ]
    assert sla.first_response == running(H, now, breached=True)
    assert sla.due_at == now and breaches(sla, now) == []


@pytest.mark.parametrize(
    ("now", "priority", "first", "resolution"),
    [
        # 1h used: high leaves 1h and 15h (Monday 7h + Tuesday 8h).
        (rome(2026, 3, 9, 10), Priority.HIGH, running(2 * H, rome(2026, 3, 9, 11)),
         running(16 * H, rome(2026, 3, 10, 18))),
        # 2h30 used, urgent: 1h30 overdue, due 1h30 of working time ago.
        (rome(2026, 3, 9, 11, 30), Priority.URGENT, running(H, rome(2026, 3, 9, 10), True),
         running(8 * H, rome(2026, 3, 9, 18))),
        # 2h30 used, low: 5h30 left → Monday's closing time across lunch; 69h30 left of
        # 72h = 5h30 + 8 working days.
        (rome(2026, 3, 9, 11, 30), Priority.LOW, running(8 * H, rome(2026, 3, 9, 18)),
         running(72 * H, rome(2026, 3, 19, 18))),
    ],
)  # fmt: skip
def test_a_new_priority_keeps_the_working_time_used(
    now: datetime, priority: Priority, first: Clock, resolution: Clock
) -> None:
    sla, entries = at(started(MONDAY_9), now, Status.NEW, priority)
    assert (sla.first_response, sla.resolution) == (first, resolution)
    retargets = [e for e in entries if e.action == "retarget"]
    assert {e.reason for e in retargets} == {f"priority {priority}"}
    assert [e.due_at for e in retargets] == [first.due_at, resolution.due_at]


def test_a_reply_with_a_new_priority_is_measured_against_the_new_target() -> None:
    # 1h30 used; urgent allows 1h: the reply is 30 minutes late, its deadline 10:00.
    now = rome(2026, 3, 9, 10, 30)
    sla, entries = at(started(MONDAY_9), now, Status.OPEN, Priority.URGENT, replied=now)
    deadline_ = rome(2026, 3, 9, 10)
    assert [e for e in entries if e.clock is FR] == [
        LedgerEntry("retarget", FR, "priority urgent", deadline_, -30 * M, H),
        LedgerEntry("breach", FR, "retargeted", deadline_, -30 * M),
        LedgerEntry("met", FR, "late", deadline_, -30 * M),
    ]
    assert sla.first_response == Clock(
        ClockState.MET, H, due_at=deadline_, remaining=-30 * M, breached=True
    )


def test_a_breach_stays_recorded_when_the_target_grows_again() -> None:
    sla, _ = at(started(MONDAY_9), rome(2026, 3, 9, 11, 30), Status.NEW, Priority.URGENT)
    sla, entries = at(sla, rome(2026, 3, 9, 11, 30), Status.NEW, Priority.NORMAL)
    assert sla.first_response == running(4 * H, rome(2026, 3, 9, 13), breached=True)
    assert "breach" not in [e.action for e in entries]


def test_retargeting_a_paused_clock_keeps_it_paused() -> None:
    sla, _ = at(started(MONDAY_9), rome(2026, 3, 9, 10), Status.PENDING)
    sla, entries = at(sla, rome(2026, 3, 9, 11), Status.PENDING, Priority.HIGH)
    assert (sla.first_response, sla.resolution) == (paused(2 * H, H), paused(16 * H, 15 * H))
    assert entries == [
        LedgerEntry("retarget", FR, reason="priority high", remaining=H, target=2 * H),
        LedgerEntry("retarget", RES, reason="priority high", remaining=15 * H, target=16 * H),
    ]


def test_a_met_clock_is_not_retargeted() -> None:
    reply = rome(2026, 3, 9, 10)
    sla, _ = at(started(MONDAY_9), reply, Status.OPEN, replied=reply)
    after, entries = at(sla, rome(2026, 3, 9, 11), Status.OPEN, Priority.URGENT, replied=reply)
    assert after.first_response == sla.first_response
    assert [(e.action, e.clock) for e in entries] == [("retarget", RES)]


def test_a_new_policy_keeps_the_working_time_used() -> None:
    sla = started(MONDAY_9, Status.NEW, Priority.LOW)
    now = rome(2026, 3, 9, 10)  # 1h used on the office calendar
    sla, entries = at(sla, now, Status.NEW, Priority.LOW, segment="premium")
    assert (sla.policy, sla.calendar) == ("premium", "always")
    assert sla.first_response == running(2 * H, now + H)
    assert sla.resolution == running(40 * H, now + 39 * H)  # around the clock
    assert entries == [
        LedgerEntry("policy", reason="premium: segment is premium"),
        LedgerEntry("retarget", FR, "policy standard -> premium", now + H, H, 2 * H),
        LedgerEntry("retarget", RES, "policy standard -> premium", now + 39 * H, 39 * H, 40 * H),
    ]


def test_a_new_calendar_moves_the_deadline_even_with_the_same_target() -> None:
    sla = started(MONDAY_9)
    now = rome(2026, 3, 9, 10)
    sla, entries = at(sla, now, tags=frozenset({"night"}))
    assert sla.policy == "night"
    assert sla.first_response == running(4 * H, now + 3 * H)
    assert [(e.action, e.reason) for e in entries[1:]] == [
        ("retarget", "policy standard -> night")
    ] * 2
    # The same policy on another calendar (the rules were edited): retargeted too.
    edited = parse_rules(CALENDARS + STANDARD.replace('"office"', '"always"'))
    sla, entries = at(started(MONDAY_9), now, rules=edited)
    assert (sla.calendar, sla.first_response) == ("always", running(4 * H, now + 3 * H))
    assert {(e.action, e.reason) for e in entries} == {("retarget", "calendar office -> always")}


# --- breach ----------------------------------------------------------------------------------


def test_a_passed_deadline_is_breached_at_the_next_reconcile() -> None:
    sla = started(MONDAY_9, Status.NEW, Priority.URGENT)  # due 10:00
    now = rome(2026, 3, 9, 10, 30)
    after, entries = at(sla, now, Status.NEW, Priority.URGENT)
    assert entries == [LedgerEntry("breach", FR, due_at=rome(2026, 3, 9, 10), remaining=-30 * M)]
    assert after == replace(sla, first_response=replace(first(sla), breached=True))
    assert at(after, now + H, Status.NEW, Priority.URGENT) == (after, [])


def test_breaches_and_mark_breached() -> None:
    sla = started(MONDAY_9, Status.NEW, Priority.URGENT)
    assert breaches(sla, rome(2026, 3, 9, 9, 59)) == []
    assert breaches(sla, rome(2026, 3, 9, 10)) == [FR]  # at the deadline's instant
    assert breaches(sla, rome(2026, 3, 9, 19)) == [FR, RES]
    marked = mark_breached(sla, [FR])
    assert marked.first_response == replace(first(sla), breached=True)
    assert marked.resolution == sla.resolution
    assert breaches(marked, rome(2026, 3, 9, 19)) == [RES]
    assert mark_breached(Sla(), [FR, RES]) == Sla()
    # Paused clocks are never listed, however overdue.
    stopped, _ = at(sla, rome(2026, 3, 9, 9, 30), Status.PENDING, Priority.URGENT)
    assert breaches(stopped, rome(2026, 3, 20, 9)) == []


# --- the small functions ---------------------------------------------------------------------


def test_remaining_and_signed_working_time() -> None:
    due = rome(2026, 3, 9, 15)
    clock = running(4 * H, due)
    assert remaining(OFFICE, clock, rome(2026, 3, 9, 12)) == 2 * H  # lunch does not count
    assert remaining(OFFICE, clock, rome(2026, 3, 10, 10)) == -4 * H
    assert signed_working_time(OFFICE, rome(2026, 3, 10, 10), due) == -4 * H
    assert remaining(OFFICE, paused(4 * H, -H), rome(2026, 3, 10)) == -H
    assert remaining(OFFICE, Clock(ClockState.MET, 4 * H, due_at=due), rome(2026, 3, 10)) is None


@pytest.mark.parametrize(
    ("now", "left", "expected"),
    [
        (rome(2026, 3, 9, 12), 2 * H, rome(2026, 3, 9, 15)),
        (rome(2026, 3, 9, 12), timedelta(0), rome(2026, 3, 9, 12)),
        (rome(2026, 3, 9, 15), -2 * H, rome(2026, 3, 9, 12)),  # back across lunch
        (rome(2026, 3, 9, 10), -2 * H, rome(2026, 3, 6, 17)),  # back across the weekend
        (rome(2026, 3, 8, 12), -30 * M, rome(2026, 3, 6, 17, 30)),  # from a Sunday
        (rome(2026, 3, 30, 9, 30), -H, rome(2026, 3, 27, 17, 30)),  # across DST
    ],
)
def test_deadline(now: datetime, left: timedelta, expected: datetime) -> None:
    assert deadline(OFFICE, now, left) == expected
    assert signed_working_time(OFFICE, now, expected) == left
    assert deadline(ALWAYS, now, left) == now + left


def test_calendar_for_and_labels() -> None:
    assert calendar_for(RULES, "office") is OFFICE
    assert calendar_for(RULES, "gone") is ALWAYS
    assert calendar_for(RULES, None) is ALWAYS
    assert FR.label == "first response"


def test_reconcile_needs_a_status() -> None:
    no_status = Situation(facts=TicketFacts(priority=Priority.NORMAL))
    with pytest.raises(ValueError, match="status"):
        reconcile(RULES, Sla(), no_status, MONDAY_9)


# --- properties ------------------------------------------------------------------------------

PROPERTY = settings(deadline=None, max_examples=150)
# Three weeks around the spring DST change, by the minute and by odd microseconds too.
offsets = st.timedeltas(timedelta(0), timedelta(days=21))
BASE = rome(2026, 3, 16)


@PROPERTY
@given(
    st.sampled_from([Priority.URGENT, Priority.NORMAL, Priority.LOW]),
    st.booleans(),
    offsets,
    offsets,
    offsets,
)
def test_a_pause_never_changes_the_budget(
    priority: Priority, premium: bool, start: timedelta, pause: timedelta, resume: timedelta
) -> None:
    start_at = BASE + start
    pause_at, resume_at = sorted((start_at + pause, start_at + pause + resume))
    segment = "premium" if premium else None
    calendar = calendar_for(RULES, "always" if premium else "office")
    sla, _ = at(Sla(), start_at, Status.OPEN, priority, segment=segment)
    sla, _ = at(sla, pause_at, Status.PENDING, priority, segment=segment)
    sla, _ = at(sla, resume_at, Status.OPEN, priority, segment=segment)
    used = working_time_between(calendar, start_at, pause_at)
    for clock in (sla.first_response, sla.resolution):
        assert clock is not None and clock.state is ClockState.RUNNING
        assert remaining(calendar, clock, resume_at) + used == clock.target
        assert clock.breached == (used >= clock.target)


@PROPERTY
@given(st.sampled_from(list(Status)), st.sampled_from(list(Priority)), offsets, offsets)
def test_reconcile_is_idempotent(
    status: Status, priority: Priority, start: timedelta, later: timedelta
) -> None:
    sla = started(BASE + start)
    now = BASE + start + later
    once, _ = at(sla, now, status, priority)
    assert at(once, now, status, priority) == (once, [])


Event = tuple[str, object]


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[timedelta, Event]]:
    """A ticket's life: status changes the workflow allows, priority changes, a first reply."""
    status, steps = Status.NEW, []
    for _ in range(draw(st.integers(1, 12))):
        gap = draw(st.timedeltas(timedelta(0), timedelta(hours=40)))
        choices: list[Event] = [("priority", p) for p in Priority] + [("reply", None)]
        choices += [("status", s) for s in ALLOWED_TRANSITIONS[status]]
        event = draw(st.sampled_from(choices))
        if isinstance(event[1], Status):
            status = event[1]
        steps.append((gap, event))
    return steps


@settings(deadline=None, max_examples=200)
@given(offsets, walks())
def test_a_walk_agrees_with_a_working_time_model(
    start: timedelta, steps: list[tuple[timedelta, Event]]
) -> None:
    """Each clock's remaining time is its current target minus the working time it ran; a
    clock is breached exactly when that reached zero at some step, with one `breach` entry."""
    now, status, priority, replied = BASE + start, Status.NEW, Priority.NORMAL, None
    sla, _ = at(Sla(), now, status, priority)
    used = dict.fromkeys(ClockName, timedelta(0))
    late = dict.fromkeys(ClockName, False)
    for gap, (_, value) in steps:
        ran = working_time_between(OFFICE, now, now + gap)
        for name in ClockName:
            clock = sla.clock(name)
            assert clock is not None
            if clock.state is ClockState.RUNNING:
                used[name] += ran
        now += gap
        old_targets = RULES.sla[2].targets(priority)
        if isinstance(value, Status):
            status = value
        elif isinstance(value, Priority):
            priority = value
        elif replied is None:
            replied = now
        before = sla
        sla, entries = at(sla, now, status, priority, replied=replied)
        targets = RULES.sla[2].targets(priority)
        for index, name in enumerate(ClockName):
            clock, earlier = sla.clock(name), before.clock(name)
            assert clock is not None and earlier is not None
            if name is RES and sla.cycle != before.cycle:  # reopened: a fresh clock
                assert sla.cycle == before.cycle + 1
                used[name], late[name] = timedelta(0), False
            elif earlier.state is not ClockState.MET:
                # Overdue before the change (old target) or after it (new target).
                late[name] |= min(old_targets[index], targets[index]) <= used[name]
            breach_entries = [e for e in entries if e.clock is name and e.action == "breach"]
            assert len(breach_entries) == (late[name] and not earlier.breached), name
            assert clock.breached == late[name], name
            if clock.state is ClockState.MET:
                # Met at this step: it keeps what was left; met before: unchanged.
                if earlier.state is ClockState.MET:
                    assert clock.remaining == earlier.remaining, name
                else:
                    assert clock.remaining == targets[index] - used[name], name
                continue
            assert clock.target == targets[index]
            assert remaining(OFFICE, clock, now) == targets[index] - used[name], name

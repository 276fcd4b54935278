"""Splitting running clock time into working and outside-hours parts: hand-checked office
days (lunch, nights, weekends, holidays, a DST night) and properties on random calendars."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.rules.test_calendar import ALWAYS, OFFICE, calendars, every_day, instants, rome
from tui_helpdesk.rules.calendar import Calendar, working_time_between
from tui_helpdesk.rules.segments import Part, split_by_hours

H = timedelta(hours=1)


def shape(parts: list[Part]) -> list[tuple[datetime, datetime, bool]]:
    return [(p.start, p.end, p.working) for p in parts]


def test_an_office_day_with_lunch_and_a_night() -> None:
    # Monday 2026-11-23 10:00 to Tuesday 10:00, Rome office hours 09-13, 14-18.
    parts = split_by_hours(OFFICE, rome(2026, 11, 23, 10), rome(2026, 11, 24, 10))
    assert shape(parts) == [
        (rome(2026, 11, 23, 10), rome(2026, 11, 23, 13), True),
        (rome(2026, 11, 23, 13), rome(2026, 11, 23, 14), False),
        (rome(2026, 11, 23, 14), rome(2026, 11, 23, 18), True),
        (rome(2026, 11, 23, 18), rome(2026, 11, 24, 9), False),
        (rome(2026, 11, 24, 9), rome(2026, 11, 24, 10), True),
    ]


def test_a_weekend_and_a_holiday_are_one_outside_part() -> None:
    # Wednesday 2026-12-23 17:00 to Monday 28th 10:00: the 24th and 25th are holidays,
    # then the weekend: one outside-hours part from Wednesday 18:00 to Monday 09:00.
    parts = split_by_hours(OFFICE, rome(2026, 12, 23, 17), rome(2026, 12, 28, 10))
    assert shape(parts) == [
        (rome(2026, 12, 23, 17), rome(2026, 12, 23, 18), True),
        (rome(2026, 12, 23, 18), rome(2026, 12, 28, 9), False),
        (rome(2026, 12, 28, 9), rome(2026, 12, 28, 10), True),
    ]


def test_starting_and_ending_outside_hours() -> None:
    parts = split_by_hours(OFFICE, rome(2026, 11, 21, 12), rome(2026, 11, 23, 8))  # Sat-Mon
    assert shape(parts) == [(rome(2026, 11, 21, 12), rome(2026, 11, 23, 8), False)]


def test_adjacent_intervals_across_midnight_are_one_part() -> None:
    calendar = every_day("00:00-06:00", "20:00-24:00")
    parts = split_by_hours(calendar, rome(2026, 3, 2, 21), rome(2026, 3, 3, 7))
    assert shape(parts) == [
        (rome(2026, 3, 2, 21), rome(2026, 3, 3, 6), True),
        (rome(2026, 3, 3, 6), rome(2026, 3, 3, 7), False),
    ]


def test_the_dst_night_counts_real_time() -> None:
    # Clocks go forward in Rome on Sunday 2026-03-29: 00:00-06:00 is five real hours.
    calendar = every_day("00:00-06:00")
    parts = split_by_hours(calendar, rome(2026, 3, 28, 23), rome(2026, 3, 29, 7))
    assert [(p.working, p.length) for p in parts] == [(False, H), (True, 5 * H), (False, H)]


@pytest.mark.parametrize("calendar", [ALWAYS, OFFICE])
def test_empty_and_always_open(calendar: Calendar) -> None:
    start = rome(2026, 11, 23, 10)
    assert split_by_hours(calendar, start, start) == []
    assert split_by_hours(calendar, start, start - H) == []
    assert shape(split_by_hours(ALWAYS, start, start + 50 * H)) == [(start, start + 50 * H, True)]


@settings(deadline=None, max_examples=150)
@given(calendars(), instants, st.timedeltas(timedelta(0), timedelta(days=40)))
def test_parts_tile_the_stretch_and_agree_with_the_engine(
    calendar: Calendar, start: datetime, length: timedelta
) -> None:
    end = start + length
    parts = split_by_hours(calendar, start, end)
    if length == timedelta(0):
        assert parts == []
        return
    assert parts[0].start == start and parts[-1].end == end
    for before, after in itertools.pairwise(parts):
        assert before.end == after.start  # no gap, no overlap
        assert before.working != after.working  # alternating: neighbours are merged
    assert all(p.end > p.start for p in parts)
    working = sum((p.length for p in parts if p.working), timedelta(0))
    assert working == working_time_between(calendar, start, end)

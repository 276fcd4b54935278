"""Business calendars: hand-checked due dates (office hours, holidays, DST nights), properties
of the engine on random calendars, and validation errors that name the key."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tui_helpdesk.rules import calendar as engine
from tui_helpdesk.rules.calendar import (
    WEEKDAYS,
    Calendar,
    CalendarError,
    add_working_time,
    parse_calendar,
    parse_duration,
    working_time_between,
)

ROME = ZoneInfo("Europe/Rome")
H = timedelta(hours=1)
M = timedelta(minutes=1)

RULES_TOML = """
[calendars.office]
timezone = "Europe/Rome"
hours.mon = ["09:00-13:00", "14:00-18:00"]
hours.tue = ["09:00-13:00", "14:00-18:00"]
hours.wed = ["09:00-13:00", "14:00-18:00"]
hours.thu = ["09:00-13:00", "14:00-18:00"]
hours.fri = ["09:00-13:00", "14:00-18:00"]
holidays = ["2026-12-24", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", { easter_offset = 1 }]

[calendars.always]
timezone = "UTC"
always_open = true
"""
CALENDARS = tomllib.loads(RULES_TOML)["calendars"]
OFFICE = parse_calendar("office", CALENDARS["office"])
ALWAYS = parse_calendar("always", CALENDARS["always"])


def rome(*args: int) -> datetime:
    """A Rome wall time (first occurrence if ambiguous), as the UTC instant the engine takes."""
    return datetime(*args, tzinfo=ROME).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def every_day(*intervals: str, timezone: str = "Europe/Rome", **extra: Any) -> Calendar:
    return parse_calendar(
        "test", {"timezone": timezone, "hours": {key: list(intervals) for key in WEEKDAYS}, **extra}
    )


# --- parsing -----------------------------------------------------------------------------------


def test_issue_example_parses() -> None:
    assert OFFICE.timezone == "Europe/Rome"
    assert OFFICE.hours[0] == ((9 * 60, 13 * 60), (14 * 60, 18 * 60))
    assert OFFICE.hours[5] == OFFICE.hours[6] == ()
    assert OFFICE.weekly_working_time == 40 * H
    assert OFFICE.holidays(2026) == {date(2026, 4, 6), date(2026, 12, 24), date(2026, 12, 25)}
    assert OFFICE.holidays(2027) == {date(2027, 3, 29), date(2027, 12, 25)}
    assert ALWAYS.always_open
    assert ALWAYS.weekly_working_time == timedelta(weeks=1)


def test_holiday_forms() -> None:
    text = """
    timezone = "UTC"
    hours.mon = ["00:00-24:00"]
    holidays = [2030-01-07, "RRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO", { easter_offset = -2 }]
    """
    calendar = parse_calendar("x", tomllib.loads(text))  # a bare TOML date is accepted too
    assert calendar.holidays(2030) == {date(2030, 1, 7), date(2030, 5, 27), date(2030, 4, 19)}
    # RRULEs are anchored in 2000, so they work for years long before or after "now"
    assert calendar.holidays(2099) >= {date(2099, 5, 25)}


def test_easter_offset_may_leave_the_year() -> None:
    calendar = every_day("09:00-17:00", holidays=[{"easter_offset": -110}])
    # Easter 2027 is March 28 and Easter 2028 April 16: 110 days earlier fall in the year before.
    assert calendar.holidays(2026) == {date(2026, 12, 8)}
    assert calendar.holidays(2027) == {date(2027, 12, 28)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", 90 * M), ("36h", 36 * H), ("1h30m", 90 * M), ("0m", timedelta(0)), ("2h0m", 2 * H)],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text, "sla[0].resolution.low") == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1d", '"1d"'),
        ("2w", '"2w"'),
        ("", '""'),
        ("h", '"h"'),
        ("m", '"m"'),
        ("1.5h", '"1.5h"'),
        ("-1h", '"-1h"'),
        (" 1h", '" 1h"'),
        ("1H", '"1H"'),
        ("30m1h", '"30m1h"'),
        ("90", '"90"'),
        ("90m\n", '"90m\\n"'),
        ("٣h", '"٣h"'),
        (90, "90"),
        (None, "None"),
    ],
)
def test_parse_duration_refuses(value: Any, shown: str) -> None:
    with pytest.raises(CalendarError) as error:
        parse_duration(value, "sla[1].first_response.urgent")
    assert str(error.value) == f"sla[1].first_response.urgent: use minutes or hours, got {shown}"


def _office_with(**changes: Any) -> dict[str, Any]:
    """The office table with keys replaced; `...` removes a key."""
    table = {key: value for key, value in CALENDARS["office"].items() if key not in changes}
    table.update({key: value for key, value in changes.items() if value is not ...})
    return table


BAD_CALENDARS = [
    (
        _office_with(hours={"mon": ["09:00-13:00", "9-13"]}),
        'calendars.office.hours.mon[1]: expected "HH:MM-HH:MM", got "9-13"',
    ),
    (
        _office_with(timezone="Europe/Rom"),
        'calendars.office.timezone: unknown time zone "Europe/Rom"',
    ),
    (_office_with(timezone="../etc/passwd"), "calendars.office.timezone: unknown time zone"),
    (_office_with(timezone=...), "calendars.office.timezone: missing"),
    (_office_with(timezone=1), "calendars.office.timezone: expected a time zone name"),
    ({**CALENDARS["office"], "timezon": "UTC"}, "calendars.office.timezon: unknown key"),
    (_office_with(hours={"monday": ["09:00-13:00"]}), "calendars.office.hours.monday: unknown"),
    (_office_with(hours=["09:00-13:00"]), "calendars.office.hours: expected a table"),
    (_office_with(hours={"mon": "09:00-13:00"}), "calendars.office.hours.mon: expected a list"),
    (_office_with(hours={"mon": [900]}), 'calendars.office.hours.mon[0]: expected "HH:MM-HH:MM"'),
    (
        _office_with(hours={"mon": ["13:00-09:00"]}),
        'calendars.office.hours.mon[0]: the start must be before the end, got "13:00-09:00"',
    ),
    (
        _office_with(hours={"tue": ["09:00-13:00", "12:00-15:00"]}),
        "calendars.office.hours.tue[1]: intervals must be in order and not overlap",
    ),
    (
        _office_with(hours={"tue": ["14:00-18:00", "09:00-13:00"]}),
        "calendars.office.hours.tue[1]: intervals must be in order and not overlap",
    ),
    (_office_with(hours={"wed": ["09:00-24:30"]}), "calendars.office.hours.wed[0]: times run"),
    (_office_with(hours={"wed": ["24:00-24:00"]}), "calendars.office.hours.wed[0]: times run"),
    (_office_with(hours={"wed": ["09:60-10:00"]}), "calendars.office.hours.wed[0]: times run"),
    (_office_with(hours={"wed": ["09:00-10:00\n"]}), "calendars.office.hours.wed[0]: expected"),
    (_office_with(hours={}), "calendars.office.hours: no working hours on any day"),
    (_office_with(hours=...), "calendars.office.hours: no working hours on any day"),
    (_office_with(hours={"sun": []}), "calendars.office.hours: no working hours on any day"),
    (_office_with(always_open="yes"), "calendars.office.always_open: expected true or false"),
    (
        _office_with(always_open=True),
        "calendars.office.hours: an always_open calendar takes no hours",
    ),
    (_office_with(holidays="2026-12-24"), "calendars.office.holidays: expected a list"),
    (
        _office_with(holidays=["2026-12-24", "2026-02-30"]),
        'calendars.office.holidays[1]: not a valid date, got "2026-02-30"',
    ),
    (_office_with(holidays=["xmas"]), 'calendars.office.holidays[0]: expected a date "YYYY-MM-DD"'),
    (_office_with(holidays=[42]), "calendars.office.holidays[0]: expected a date"),
    (
        _office_with(holidays=["DTSTART:20100101\nRRULE:FREQ=YEARLY"]),
        "calendars.office.holidays[0]: expected a date",
    ),
    (_office_with(holidays=["FREQ=FOO"]), "calendars.office.holidays[0]: RRULE FREQ must be"),
    (_office_with(holidays=["FREQ=HOURLY"]), "calendars.office.holidays[0]: RRULE FREQ must be"),
    (_office_with(holidays=["BYMONTH=1"]), "calendars.office.holidays[0]: expected a date"),
    (
        _office_with(holidays=["FREQ=YEARLY;BYMONTH=x"]),
        'calendars.office.holidays[0]: invalid RRULE "FREQ=YEARLY;BYMONTH=x"',
    ),
    (
        _office_with(holidays=["FREQ=YEARLY;BYMONTH=1;FOO=2"]),
        "calendars.office.holidays[0]: invalid RRULE",
    ),
    (
        _office_with(holidays=["RRULE:FREQ=YEARLY\nRRULE:FREQ=MONTHLY"]),
        "calendars.office.holidays[0]: expected a single RRULE",
    ),
    (
        _office_with(holidays=["FREQ=YEARLY;UNTIL=19991231"]),
        'calendars.office.holidays[0]: RRULE "FREQ=YEARLY;UNTIL=19991231" never occurs',
    ),
    (
        _office_with(holidays=[{"easter_offset": 1.5}]),
        "calendars.office.holidays[0].easter_offset: expected whole days",
    ),
    (
        _office_with(holidays=[{"easter_offset": True}]),
        "calendars.office.holidays[0].easter_offset: expected whole days",
    ),
    (
        _office_with(holidays=[{"easter_offset": 400}]),
        "calendars.office.holidays[0].easter_offset: expected whole days",
    ),
    (
        _office_with(holidays=[{"easter": 1}]),
        "calendars.office.holidays[0].easter: unknown key (expected easter_offset)",
    ),
    (_office_with(holidays=[{}]), "calendars.office.holidays[0].easter_offset: missing"),
    ("office hours", "calendars.office: expected a table"),
]


@pytest.mark.parametrize(("table", "message"), BAD_CALENDARS)
def test_bad_calendar_names_the_key(table: Any, message: str) -> None:
    with pytest.raises(CalendarError) as error:
        parse_calendar("office", table)
    assert str(error.value).startswith(message), str(error.value)
    assert isinstance(error.value, ValueError)


def test_always_open_refuses_holidays() -> None:
    with pytest.raises(CalendarError, match=r"^calendars\.a\.holidays: an always_open"):
        parse_calendar("a", {"timezone": "UTC", "always_open": True, "holidays": ["2026-01-01"]})


# --- hand-checked cases: the office calendar of issue 4 ------------------------------------------


OFFICE_CASES = [
    # Friday 17:30 + 4h = Monday 12:30 (the issue's example)
    (rome(2026, 11, 13, 17, 30), 4 * H, rome(2026, 11, 16, 12, 30)),
    # inside lunch: the clock waits for 14:00
    (rome(2026, 11, 17, 13, 20), 1 * H, rome(2026, 11, 17, 15, 0)),
    # at night, and on a Saturday night
    (rome(2026, 11, 17, 3, 0), 30 * M, rome(2026, 11, 17, 9, 30)),
    (rome(2026, 11, 14, 23, 0), 30 * M, rome(2026, 11, 16, 9, 30)),
    # exactly used up at a closing time: that closing time, not the next opening
    (rome(2026, 11, 17, 9, 0), 4 * H, rome(2026, 11, 17, 13, 0)),
    (rome(2026, 11, 13, 17, 0), 1 * H, rome(2026, 11, 13, 18, 0)),
    # a whole week
    (rome(2026, 11, 16, 9, 0), 40 * H, rome(2026, 11, 20, 18, 0)),
    (rome(2026, 11, 16, 9, 0), 40 * H + M, rome(2026, 11, 23, 9, 1)),
    # Dec 24 (explicit), Dec 25 (RRULE) then the weekend
    (rome(2026, 12, 23, 17, 0), 2 * H, rome(2026, 12, 28, 10, 0)),
    (rome(2026, 12, 24, 10, 0), 1 * H, rome(2026, 12, 28, 10, 0)),
    (rome(2026, 12, 25, 12, 0), 1 * H, rome(2026, 12, 28, 10, 0)),
    # Easter Monday 2027 (March 29, via easter_offset = 1), right after the spring DST night
    (rome(2027, 3, 26, 17, 0), 2 * H, utc(2027, 3, 30, 8, 0)),
    # across the DST nights: Friday 16:00Z (CET) + 2h = Monday 10:00 CEST = 08:00Z
    (utc(2026, 3, 27, 16, 0), 2 * H, utc(2026, 3, 30, 8, 0)),
    (utc(2026, 10, 23, 15, 0), 2 * H, utc(2026, 10, 26, 9, 0)),
]


@pytest.mark.parametrize(("start", "duration", "due"), OFFICE_CASES)
def test_office_due_dates(start: datetime, duration: timedelta, due: datetime) -> None:
    assert add_working_time(OFFICE, start, duration) == due
    assert working_time_between(OFFICE, start, due) == duration


def test_dst_nights_in_utc() -> None:
    assert rome(2027, 3, 30, 10, 0) == utc(2027, 3, 30, 8, 0)
    assert rome(2026, 3, 27, 17, 0) == utc(2026, 3, 27, 16, 0)
    assert rome(2026, 10, 26, 10, 0) == utc(2026, 10, 26, 9, 0)


def test_between_across_weekend_and_holidays() -> None:
    # Wed 23 Dec 12:00 to Mon 28 Dec 12:00: 1h + 4h on Wednesday, 3h on Monday.
    assert working_time_between(OFFICE, rome(2026, 12, 23, 12), rome(2026, 12, 28, 12)) == 8 * H
    assert working_time_between(OFFICE, rome(2026, 12, 24, 0), rome(2026, 12, 27, 23)) == 0 * H
    assert working_time_between(OFFICE, rome(2026, 12, 28, 12), rome(2026, 12, 23, 12)) == 0 * H
    # a whole year: 2026 has 261 weekdays, 3 of them holidays (Easter Monday, Dec 24, Dec 25)
    assert working_time_between(OFFICE, rome(2026, 1, 1), rome(2027, 1, 1)) == 258 * 8 * H


def test_other_time_zones_in_and_out() -> None:
    start = datetime(2026, 11, 13, 11, 30, tzinfo=ZoneInfo("America/New_York"))  # 17:30 Rome
    due = add_working_time(OFFICE, start, 4 * H)
    assert due == rome(2026, 11, 16, 12, 30)
    assert due.tzinfo is UTC


def test_naive_and_negative_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(OFFICE, datetime(2026, 1, 5, 9), H)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_time_between(OFFICE, utc(2026, 1, 5), datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="negative"):
        add_working_time(OFFICE, utc(2026, 1, 5), -H)


def test_adding_zero_returns_start_even_outside_hours() -> None:
    night = rome(2026, 11, 14, 23, 0)
    assert add_working_time(OFFICE, night, timedelta(0)) == night


# --- DST: the documented rule ----------------------------------------------------------------


def test_night_hours_on_dst_nights() -> None:
    nights = every_day("00:00-06:00")

    def day(y: int, m: int, d: int) -> timedelta:  # from local midnight to local noon
        return working_time_between(nights, rome(y, m, d), rome(y, m, d, 12))

    assert day(2026, 3, 28) == 6 * H
    assert day(2026, 3, 29) == 5 * H  # spring forward: 02:00-03:00 does not exist
    assert day(2026, 10, 25) == 7 * H  # fall back: 02:00-03:00 happens twice
    assert day(2026, 10, 26) == 6 * H
    # the spring night ends at 06:00 CEST = 04:00Z; one minute more runs into the next night
    assert add_working_time(nights, utc(2026, 3, 28, 23), 5 * H) == utc(2026, 3, 29, 4)
    assert add_working_time(nights, utc(2026, 3, 28, 23), 5 * H + M) == utc(2026, 3, 29, 22, 1)
    assert add_working_time(nights, utc(2026, 10, 24, 22), 7 * H) == utc(2026, 10, 25, 5)
    assert add_working_time(nights, utc(2026, 10, 24, 22), 7 * H + M) == utc(2026, 10, 25, 23, 1)


def test_bounds_inside_the_gap_go_to_the_jump() -> None:
    sunday = {"timezone": "Europe/Rome", "hours": {"sun": ["00:00-02:30", "03:00-05:00"]}}
    calendar = parse_calendar("gap", sunday)
    # 02:30 does not exist on 29 March: the first interval ends when the clocks jump (01:00Z),
    # the second starts at 03:00 CEST, the same instant. Nothing doubled: 2h + 2h.
    assert working_time_between(calendar, utc(2026, 3, 28, 22), utc(2026, 3, 29, 4)) == 4 * H
    assert add_working_time(calendar, utc(2026, 3, 28, 22), 2 * H) == utc(2026, 3, 29, 1)
    assert add_working_time(calendar, utc(2026, 3, 28, 22), 2 * H + M) == utc(2026, 3, 29, 1, 1)
    # an interval lying entirely in the gap is empty that night
    inside = parse_calendar("g", {"timezone": "Europe/Rome", "hours": {"sun": ["02:10-02:50"]}})
    assert working_time_between(inside, utc(2026, 3, 28), utc(2026, 3, 30)) == 0 * H
    assert working_time_between(inside, utc(2026, 3, 21), utc(2026, 3, 23)) == 40 * M


def test_bounds_inside_the_repeated_hour_mean_the_first_occurrence() -> None:
    split = parse_calendar(
        "fold", {"timezone": "Europe/Rome", "hours": {"sun": ["00:00-02:30", "02:30-06:00"]}}
    )
    # 25 October: 00:00 CEST = 22:00Z; 02:30 CEST (first) = 00:30Z; 06:00 CET = 05:00Z.
    assert add_working_time(split, utc(2026, 10, 24, 22), 150 * M) == utc(2026, 10, 25, 0, 30)
    assert working_time_between(split, utc(2026, 10, 24, 22), utc(2026, 10, 25, 0, 30)) == 150 * M
    assert working_time_between(split, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 5)) == 270 * M
    hour = parse_calendar("h", {"timezone": "Europe/Rome", "hours": {"sun": ["02:00-03:00"]}})
    assert working_time_between(hour, utc(2026, 10, 24), utc(2026, 10, 26)) == 2 * H


def test_lord_howe_half_hour_dst() -> None:
    nights = every_day("00:00-06:00", timezone="Australia/Lord_Howe")
    zone = ZoneInfo("Australia/Lord_Howe")

    def night(y: int, m: int, d: int) -> timedelta:
        start = datetime(y, m, d, tzinfo=zone).astimezone(UTC)
        return working_time_between(nights, start, start + 12 * H)

    assert night(2026, 4, 4) == 6 * H
    assert night(2026, 4, 5) == 6 * H + 30 * M  # back from +11:00 to +10:30
    assert night(2026, 10, 4) == 5 * H + 30 * M  # forward from +10:30 to +11:00


def test_midnight_is_seamless() -> None:
    split = every_day("00:00-12:00", "12:00-24:00")
    start = utc(2026, 3, 25, 10, 17, 3)
    for duration in (H, 100 * H, 1000 * H):  # across both DST changes of 2026
        assert add_working_time(split, start, duration) == start + duration


def test_always_open_is_plain_arithmetic() -> None:
    start = utc(2026, 3, 28, 22, 0)
    assert add_working_time(ALWAYS, start, 30 * H) == start + 30 * H
    assert working_time_between(ALWAYS, start, start + 30 * H) == 30 * H
    rome_always = parse_calendar("r", {"timezone": "Europe/Rome", "always_open": True})
    assert add_working_time(rome_always, start, 30 * H) == start + 30 * H


# --- speed: closed-form weeks, bounded walks ---------------------------------------------------


def _counting_days(monkeypatch: pytest.MonkeyPatch) -> list[date]:
    walked: list[date] = []
    real = engine.day_intervals

    def counting(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
        walked.append(day)
        return real(calendar, day)

    monkeypatch.setattr(engine, "day_intervals", counting)
    return walked


def test_one_hour_a_week_for_200_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    calendar = parse_calendar(
        "tiny",
        {
            "timezone": "Europe/Rome",
            "hours": {"mon": ["10:00-11:00"]},
            "holidays": ["FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", {"easter_offset": 1}],
        },
    )
    start = rome(2026, 11, 13, 17, 30)
    # the reference: count Mondays that are not holidays
    monday, left = date(2026, 11, 16), 200
    while True:
        if monday not in calendar.holidays(monday.year):
            left -= 1
            if left == 0:
                break
        monday += timedelta(weeks=1)
    walked = _counting_days(monkeypatch)
    due = add_working_time(calendar, start, 200 * H)
    assert due == rome(monday.year, monday.month, monday.day, 11, 0)
    assert len(walked) < 150  # ~4 years: days around DST changes and holidays, not 1,400 days
    walked.clear()
    assert working_time_between(calendar, start, due) == 200 * H
    assert len(walked) < 150


def test_a_year_of_holidays_away() -> None:
    closed = _office_with(holidays=["FREQ=DAILY;UNTIL=20271231"])
    calendar = parse_calendar("office", closed)
    assert add_working_time(calendar, rome(2026, 6, 1, 10), H) == rome(2028, 1, 3, 10)


def test_a_calendar_that_never_opens_fails_instead_of_looping() -> None:
    calendar = parse_calendar("office", _office_with(holidays=["FREQ=DAILY"]))
    with pytest.raises(CalendarError, match=r"^calendars\.office: no working time"):
        add_working_time(calendar, rome(2026, 6, 1, 10), H)


# --- properties on random calendars --------------------------------------------------------------

ZONES = ["Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
RRULES = [
    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
    "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO",
    "FREQ=MONTHLY;BYDAY=1FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",  # every other Wednesday: never closes a whole weekday
]


def _hhmm(quarters: int) -> str:
    return f"{quarters // 4:02d}:{quarters % 4 * 15:02d}"


day_hours = st.lists(st.integers(0, 96), unique=True, max_size=6).map(
    lambda bounds: [
        f"{_hhmm(a)}-{_hhmm(b)}"
        for a, b in zip(sorted(bounds)[::2], sorted(bounds)[1::2], strict=False)
    ]
)
holiday_items = st.one_of(
    st.dates(date(2024, 1, 1), date(2029, 12, 31)).map(date.isoformat),
    st.sampled_from(RRULES),
    st.integers(-60, 60).map(lambda n: {"easter_offset": n}),
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        return parse_calendar("p", {"timezone": zone, "always_open": True})
    hours = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(WEEKDAYS, day_hours)))
    assume(any(hours.values()))
    holidays = draw(st.lists(holiday_items, max_size=5))
    return parse_calendar("p", {"timezone": zone, "hours": hours, "holidays": holidays})


instants = st.datetimes(datetime(2024, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC))
durations = st.timedeltas(timedelta(0), timedelta(hours=300))
PROPERTY = settings(deadline=None, max_examples=150)


@PROPERTY
@given(calendars(), instants, durations)
def test_between_inverts_add(calendar: Calendar, start: datetime, duration: timedelta) -> None:
    due = add_working_time(calendar, start, duration)
    assert due >= start
    assert working_time_between(calendar, start, due) == duration
    assert working_time_between(calendar, start, due) <= due - start


@PROPERTY
@given(calendars(), instants, durations, durations)
def test_add_is_monotonic(calendar: Calendar, start: datetime, a: timedelta, b: timedelta) -> None:
    short, long = sorted((a, b))
    assert add_working_time(calendar, start, short) <= add_working_time(calendar, start, long)


@PROPERTY
@given(calendars(), instants)
def test_adding_zero_is_identity(calendar: Calendar, start: datetime) -> None:
    assert add_working_time(calendar, start, timedelta(0)) == start


@PROPERTY
@given(calendars(), instants, instants, instants)
def test_between_is_additive(calendar: Calendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    whole = working_time_between(calendar, a, c)
    assert whole == working_time_between(calendar, a, b) + working_time_between(calendar, b, c)
    assert working_time_between(calendar, c, a) == timedelta(0)


def _walked_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """`working_time_between` by definition: every date's intervals, clipped, one by one."""
    if calendar.always_open:
        return max(end - start, timedelta(0))
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    while day <= end.astimezone(calendar.zone).date() + timedelta(days=1):
        for opens, closes in engine.day_intervals(calendar, day):
            opens, closes = max(opens, start), min(closes, end)
            total += max(closes - opens, timedelta(0))
        day += timedelta(days=1)
    return total


@settings(deadline=None, max_examples=60)
@given(calendars(), instants, st.timedeltas(timedelta(0), timedelta(hours=60)))
def test_week_jumps_agree_with_walking(calendar: Calendar, start: datetime, d: timedelta) -> None:
    due = add_working_time(calendar, start, d)
    later = start + timedelta(days=200)
    # Whole dates count in closed form, holidays and offset changes apart: the same as
    # walking every date.
    assert working_time_between(calendar, start, later) == _walked_between(calendar, start, later)
    assert working_time_between(calendar, start, due) == _walked_between(calendar, start, due)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_plain_weeks", lambda *args: 0)
        assert add_working_time(calendar, start, d) == due

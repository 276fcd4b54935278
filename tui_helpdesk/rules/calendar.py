"""Business calendars: working hours, holidays, and working time between instants.

This module owns the `[calendars.<name>]` tables of the rules file (parsed into a frozen
`Calendar`), SLA durations (`parse_duration`), and the two questions the SLA clocks ask:
`add_working_time` (when is N of working time used up?) and `working_time_between` (how much
working time lies between two instants?). SLA policies and the services that store due
timestamps call it; it reads no clock and does no I/O.

Working hours are local wall-clock intervals on each local date, in the calendar's time zone.
Instants in and out are timezone-aware UTC datetimes.

DST rule: each interval bound is converted to an instant on its local date. A wall time that
occurs twice (clocks go back) means its first occurrence (fold=0); a wall time that does not
exist (clocks go forward) means the instant the clocks jump, i.e. the end of the gap. An
interval is the real time between its two instants. This mapping never goes backwards, so
adjacent intervals (`...-24:00` then `00:00-...` the next day) stay contiguous and no instant is
counted twice or lost. In Europe/Rome, `00:00-06:00` is 5 hours of real time on the last Sunday
of March and 7 hours on the last Sunday of October; an interval lying entirely inside the
skipped hour is empty; an interval ending inside the repeated hour ends at its first
occurrence (the next interval, if it starts there, gets the rest). Plain fold=0 is not used for
skipped times because it reads 02:30 as 03:30 of the new offset: "00:00-02:30" would then overlap
a "03:00-05:00" interval and count half an hour twice.

Holidays close whole local dates. RRULEs carry no DTSTART: they are anchored at 2000-01-01, so
yearly rules hold for any year (COUNT, INTERVAL and a WEEKLY rule without BYDAY count from that
Saturday). Holidays are expanded lazily per calendar and year.

Speed: `add_working_time` walks day by day, and jumps over whole weeks in closed form (the
weekly working time) when those weeks hold no holiday and no UTC offset change, so a due date
years away costs a few dozen steps, not minutes. `working_time_between` looks at the dates at
either end only: the dates in between count their nominal hours in closed form, corrected by
a running sum over the year's holidays and offset-change days (kept per calendar and year).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import easter, rrule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALENDAR_KEYS = ("timezone", "always_open", "hours", "holidays")
RRULE_ANCHOR = datetime(2000, 1, 1)  # DTSTART of every holiday RRULE: yearly rules fit any year
_RRULE_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")
_MAX_EASTER_OFFSET = 365  # so a year's Easter holidays come from that year and its neighbours

_INTERVAL = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)", re.ASCII)  # used with fullmatch
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?", re.ASCII)

_ZERO = timedelta(0)
_TICK = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(weeks=1)
_OFFSET_SAMPLE = timedelta(hours=6)  # offset changes are searched at this step, then bisected
_BLOCK_MARGIN = 2  # days around an offset change that are never jumped over
_MAX_SKIP_WEEKS = 52 * 20  # one closed-form jump covers at most this many weeks
_MAX_IDLE_DAYS = 366 * 10  # this many days in a row without working time: give up


class CalendarError(ValueError):
    """An invalid calendar or duration; the message is `<key path>: <reason>`."""


Interval = tuple[int, int]  # minutes after local midnight, start < end <= 1440


@dataclass(frozen=True)
class Calendar:
    """A business calendar. Build it with `parse_calendar`; the engine functions read it."""

    name: str
    timezone: str
    hours: tuple[tuple[Interval, ...], ...] = ((),) * 7  # Monday first
    always_open: bool = False
    holiday_dates: frozenset[date] = frozenset()
    holiday_rules: tuple[str, ...] = ()  # RFC 5545 RRULE strings, anchored at RRULE_ANCHOR
    easter_offsets: tuple[int, ...] = ()  # days after Western Easter Sunday
    # Per-year caches (holidays; dates never jumped over). Not part of the value.
    _holidays: dict[int, frozenset[date]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _blocked: dict[int, tuple[date, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Working time between two instants, as last asked: a batch job asks the same of each
    # ticket's clocks several times (its plan, the clock step, the next escalation).
    _between: dict[tuple[datetime, datetime], timedelta] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Per year: the blocked dates and what their real working time differs from the nominal.
    _corrections: dict[int, tuple[tuple[date, ...], tuple[timedelta, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Working intervals per local date: every SLA computation walks the same few weeks.
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @functools.cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @functools.cached_property
    def nominal_run(self) -> tuple[int, ...]:
        """Working minutes on the wall clock from a Monday to each of the next 14 days
        (`run[w + n] - run[w]`: the `n` days from weekday `w` on, `n` up to a week)."""
        minutes = [sum(end - start for start, end in day) for day in self.hours] * 2
        run = [0]
        for day in minutes:
            run.append(run[-1] + day)
        return tuple(run)

    @functools.cached_property
    def weekly_working_time(self) -> timedelta:
        """Nominal working time of a week without holidays or offset changes."""
        if self.always_open:
            return _WEEK
        return timedelta(minutes=sum(end - start for day in self.hours for start, end in day))

    def holidays(self, year: int) -> frozenset[date]:
        """Every holiday of a calendar year (explicit dates, RRULEs and Easter offsets)."""
        cached = self._holidays.get(year)
        if cached is None:
            days = {d for d in self.holiday_dates if d.year == year}
            first, last = datetime(year, 1, 1), datetime(year, 12, 31, 23, 59, 59)
            for text in self.holiday_rules:
                days.update(o.date() for o in _compile_rrule(text).between(first, last, inc=True))
            for offset in self.easter_offsets:
                for y in (year - 1, year, year + 1):
                    day = easter.easter(y) + timedelta(days=offset)
                    if day.year == year:
                        days.add(day)
            cached = self._holidays[year] = frozenset(days)
        return cached

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays(day.year)


# --- parsing ---------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as the admin wrote it: strings in double quotes, like TOML."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def parse_duration(text: Any, key: str, *, strict: bool = True) -> timedelta:
    """An SLA or escalation duration: minutes and hours only ("90m", "36h", "1h30m"); minutes
    after hours are under 60 ("1h90m" is a slip for "1h30m" or "2h30m" as often as not).
    `strict=False` reads a stored version as it was applied, before that check: "1h90m" is
    2h30m."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None or not any(match.groups()):
        raise CalendarError(f"{key}: use minutes or hours, got {_show(text)}")
    hours, minutes = (int(group or 0) for group in match.groups())
    if strict and match.group(1) is not None and minutes >= 60:
        total = hours * 60 + minutes
        exact = f"{total // 60}h{total % 60}m" if total % 60 else f"{total // 60}h"
        raise CalendarError(
            f"{key}: minutes after hours run from 0 to 59, got {_show(text)} "
            f'(write "{exact}" or "{total}m")'
        )
    return timedelta(hours=hours, minutes=minutes)


def parse_calendar(name: str, table: Any) -> Calendar:
    """Validate one `[calendars.<name>]` table; errors name the exact key."""
    path = f"calendars.{name}"
    if not isinstance(table, Mapping):
        raise CalendarError(f"{path}: expected a table, got {_show(table)}")
    for key in table:
        if key not in CALENDAR_KEYS:
            raise CalendarError(
                f"{path}.{key}: unknown key (expected one of {', '.join(CALENDAR_KEYS)})"
            )
    if "timezone" not in table:
        raise CalendarError(f'{path}.timezone: missing (e.g. timezone = "Europe/Rome")')
    timezone = _parse_timezone(table["timezone"], f"{path}.timezone")
    always_open = table.get("always_open", False)
    if not isinstance(always_open, bool):
        raise CalendarError(f"{path}.always_open: expected true or false, got {_show(always_open)}")
    if always_open:
        for key in ("hours", "holidays"):
            if key in table:
                raise CalendarError(f"{path}.{key}: an always_open calendar takes no {key}")
        return Calendar(name=name, timezone=timezone, always_open=True)
    hours = _parse_hours(table.get("hours", {}), f"{path}.hours")
    dates, rules, offsets = _parse_holidays(table.get("holidays", []), f"{path}.holidays")
    return Calendar(
        name=name,
        timezone=timezone,
        hours=hours,
        holiday_dates=frozenset(dates),
        holiday_rules=tuple(rules),
        easter_offsets=tuple(offsets),
    )


def _parse_timezone(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise CalendarError(
            f'{key}: expected a time zone name like "Europe/Rome", got {_show(value)}'
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"{key}: unknown time zone {_show(value)}") from None
    return value


def _parse_hours(table: Any, key: str) -> tuple[tuple[Interval, ...], ...]:
    if not isinstance(table, Mapping):
        raise CalendarError(f"{key}: expected a table of weekdays, got {_show(table)}")
    week: list[tuple[Interval, ...]] = [()] * 7
    for day, intervals in table.items():
        if day not in WEEKDAYS:
            raise CalendarError(
                f"{key}.{day}: unknown weekday (expected one of {', '.join(WEEKDAYS)})"
            )
        week[WEEKDAYS.index(day)] = _parse_day(intervals, f"{key}.{day}")
    if not any(week):
        raise CalendarError(
            f"{key}: no working hours on any day (use always_open = true for a 24/7 calendar)"
        )
    return tuple(week)


def _parse_day(intervals: Any, key: str) -> tuple[Interval, ...]:
    if not isinstance(intervals, Sequence) or isinstance(intervals, str):
        raise CalendarError(f'{key}: expected a list of "HH:MM-HH:MM", got {_show(intervals)}')
    parsed: list[Interval] = []
    for index, text in enumerate(intervals):
        item = f"{key}[{index}]"
        match = _INTERVAL.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise CalendarError(f'{item}: expected "HH:MM-HH:MM", got {_show(text)}')
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            raise CalendarError(f"{item}: times run from 00:00 to 24:00, got {_show(text)}")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= end:
            raise CalendarError(f"{item}: the start must be before the end, got {_show(text)}")
        if parsed and start < parsed[-1][1]:
            raise CalendarError(
                f"{item}: intervals must be in order and not overlap, got {_show(text)} "
                f"after {_show(intervals[index - 1])}"
            )
        parsed.append((start, end))
    return tuple(parsed)


def _parse_holidays(items: Any, key: str) -> tuple[list[date], list[str], list[int]]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise CalendarError(f"{key}: expected a list, got {_show(items)}")
    dates: list[date] = []
    rules: list[str] = []
    offsets: list[int] = []
    for index, item in enumerate(items):
        path = f"{key}[{index}]"
        if isinstance(item, date) and not isinstance(item, datetime):  # a bare TOML date
            dates.append(item)
        elif isinstance(item, str) and _ISO_DATE.fullmatch(item):
            try:
                dates.append(date.fromisoformat(item))
            except ValueError:
                raise CalendarError(f"{path}: not a valid date, got {_show(item)}") from None
        elif isinstance(item, str) and item.upper().startswith(("FREQ=", "RRULE:")):
            rules.append(_parse_rrule(item, path))
        elif isinstance(item, Mapping):
            offsets.append(_parse_easter(item, path))
        else:
            raise CalendarError(
                f'{path}: expected a date "YYYY-MM-DD", an RRULE like '
                f'"FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25" or {{ easter_offset = N }}, '
                f"got {_show(item)}"
            )
    return dates, rules, offsets


def _parse_rrule(text: str, key: str) -> str:
    body = text[len("RRULE:") :] if text.upper().startswith("RRULE:") else text
    if "\n" in body or ":" in body:
        raise CalendarError(f"{key}: expected a single RRULE without DTSTART, got {_show(text)}")
    parts = dict(part.partition("=")[::2] for part in body.upper().split(";"))
    if parts.get("FREQ") not in _RRULE_FREQUENCIES:
        raise CalendarError(
            f"{key}: RRULE FREQ must be one of {', '.join(_RRULE_FREQUENCIES)}, got {_show(text)}"
        )
    try:
        rule = _compile_rrule(text)
    except (ValueError, TypeError) as error:
        raise CalendarError(f"{key}: invalid RRULE {_show(text)}: {error}") from None
    if rule.after(RRULE_ANCHOR, inc=True) is None:
        raise CalendarError(
            f"{key}: RRULE {_show(text)} never occurs after {RRULE_ANCHOR:%Y-%m-%d}"
        )
    return text


@functools.lru_cache(maxsize=256)
def _compile_rrule(text: str) -> rrule.rrule:
    return rrule.rrulestr(text, dtstart=RRULE_ANCHOR)


def _parse_easter(item: Mapping[str, Any], key: str) -> int:
    for name in item:
        if name != "easter_offset":
            raise CalendarError(f"{key}.{name}: unknown key (expected easter_offset)")
    if "easter_offset" not in item:
        raise CalendarError(f"{key}.easter_offset: missing (e.g. {{ easter_offset = 1 }})")
    offset = item["easter_offset"]
    if not isinstance(offset, int) or isinstance(offset, bool) or abs(offset) > _MAX_EASTER_OFFSET:
        raise CalendarError(
            f"{key}.easter_offset: expected whole days from -{_MAX_EASTER_OFFSET} to "
            f"{_MAX_EASTER_OFFSET}, got {_show(offset)}"
        )
    return offset


# --- time zone mechanics ---------------------------------------------------------------------


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def _first_change(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first whole second in (before, after] whose UTC offset differs from `before`'s.

    Offsets change on whole seconds (TZif data), and both bounds are whole seconds here.
    """
    old = _offset(before, zone)
    while after - before > timedelta(seconds=1):
        middle = before + timedelta(seconds=int((after - before).total_seconds()) // 2)
        if _offset(middle, zone) == old:
            before = middle
        else:
            after = middle
    return after


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall time as an instant, by the module's DST rule (see the docstring)."""
    instant = local.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first occurrence
    if instant.astimezone(zone).replace(tzinfo=None) == local:
        return instant
    # In a gap: fold=0 reads it with the offset before the jump (an instant after the jump),
    # fold=1 with the offset after (an instant before it); the jump lies in between.
    earlier = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _first_change(earlier, instant, zone)


@functools.lru_cache(maxsize=1024)
def _offset_changes(zone_key: str, year: int) -> tuple[datetime, ...]:
    """Instants where the zone's UTC offset changes, from a few days before `year` to a few
    days after it. Found by sampling every 6 hours and bisecting to the second: two changes less
    than 6 hours apart that cancel out would be missed, but no two changes in tzdata are closer
    than about a week."""
    zone = ZoneInfo(zone_key)
    instant = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=_BLOCK_MARGIN + 1)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) + timedelta(days=_BLOCK_MARGIN + 1)
    changes: list[datetime] = []
    offset = _offset(instant, zone)
    while instant < end:
        following = instant + _OFFSET_SAMPLE
        following_offset = _offset(following, zone)
        if following_offset != offset:
            changes.append(_first_change(instant, following, zone))
        instant, offset = following, following_offset
    return tuple(changes)


def _blocked_days(calendar: Calendar, year: int) -> tuple[date, ...]:
    """Sorted dates of `year` that a closed-form jump must not cover: holidays, and the days
    around a UTC offset change (where real working time differs from the nominal)."""
    cached = calendar._blocked.get(year)
    if cached is None:
        days = set(calendar.holidays(year))
        for change in _offset_changes(calendar.timezone, year):
            around = change.date()
            for delta in range(-_BLOCK_MARGIN, _BLOCK_MARGIN + 1):
                day = around + timedelta(days=delta)
                if day.year == year:
                    days.add(day)
        cached = calendar._blocked[year] = tuple(sorted(days))
    return cached


def _plain_weeks(calendar: Calendar, day: date, most: int) -> int:
    """How many whole weeks from `day` (at most `most`) hold no blocked day: their working time
    is exactly `weekly_working_time` each."""
    most = min(most, _MAX_SKIP_WEEKS)
    if most <= 0:
        return 0
    limit = day + most * _WEEK
    for year in range(day.year, limit.year + 1):
        days = _blocked_days(calendar, year)
        index = bisect.bisect_left(days, day)
        if index < len(days):
            return min(most, (days[index] - day).days // 7)
    return most


_MAX_CACHED_DAYS = 50_000  # per calendar: about 140 years of dates, a few MB at most
_MAX_CACHED_SPANS = 4_096  # per calendar: the spans of a batch job's last few hundred tickets


def day_intervals(calendar: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The working intervals of one local date, as ordered, non-empty UTC instant pairs.
    Computed once per calendar and date."""
    cached = calendar._days.get(day)
    if cached is not None:
        return cached
    result: tuple[tuple[datetime, datetime], ...] = ()
    if not calendar.is_holiday(day):
        midnight = datetime(day.year, day.month, day.day)
        zone = calendar.zone
        pairs = []
        for start, end in calendar.hours[day.weekday()]:
            opens = _to_utc(midnight + timedelta(minutes=start), zone)
            closes = _to_utc(midnight + timedelta(minutes=end), zone)
            if closes > opens:
                pairs.append((opens, closes))
        result = tuple(pairs)
    if len(calendar._days) >= _MAX_CACHED_DAYS:
        calendar._days.clear()
    calendar._days[day] = result
    return result


# --- the engine ------------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def add_working_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which `duration` of working time after `start` has elapsed.

    `start` may lie outside working hours (the clock waits for the next opening). Adding zero
    returns `start` itself, wherever it lies; a duration that ends exactly at a closing time
    returns that closing time, not the next opening. Returns a UTC datetime.
    """
    start = _as_utc(start, "start")
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")
    if calendar.always_open or duration == _ZERO:
        return start + duration
    weekly = calendar.weekly_working_time
    remaining = duration
    first = start.astimezone(calendar.zone).date() - _DAY
    day, idle = first, 0
    while True:
        if day - first > 2 * _DAY and weekly and remaining > weekly:
            # Jump whole plain weeks, but leave the last bit of `remaining` to the walk below.
            weeks = _plain_weeks(calendar, day, (remaining - _TICK) // weekly)
            if weeks:
                remaining -= weeks * weekly
                day += weeks * _WEEK
                idle = 0
                continue
        intervals = day_intervals(calendar, day)
        for opens, closes in intervals:
            if closes <= start:
                continue
            opens = max(opens, start)
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        idle = 0 if intervals else idle + 1
        if idle > _MAX_IDLE_DAYS:
            raise CalendarError(
                f"calendars.{calendar.name}: no working time in the {_MAX_IDLE_DAYS} days "
                f"after {day - idle * _DAY}"
            )
        day += _DAY


def working_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The working time in [start, end); zero when `end <= start`.

    The answer is the sum, over the local dates from the day before `start`'s to the day
    after `end`'s, of each date's working intervals clipped to [start, end). Only the dates
    at either end can be clipped: intervals follow one another in time from date to date
    (the DST rule never maps a wall time backwards), so once a date's first interval opens
    at or after `start`, so do all later ones, and likewise backwards from `end`. The dates
    in between count whole, in closed form (`_whole_days`). An SLA clock asks this for
    every ticket it reads, over the few weeks back to a deadline: a few dates are looked up,
    not every date of the span."""
    start, end = _as_utc(start, "start"), _as_utc(end, "end")
    if end <= start:
        return _ZERO
    if calendar.always_open:
        return end - start
    known = calendar._between.get((start, end))
    if known is not None:
        return known
    zone = calendar.zone
    day = start.astimezone(zone).date() - _DAY
    last = end.astimezone(zone).date() + _DAY  # every interval of an earlier date ends by `end`
    total = _ZERO
    while day <= last:  # dates that may open before `start`
        intervals = day_intervals(calendar, day)
        if intervals and intervals[0][0] >= start:
            break
        total += _clipped(intervals, start, end)
        day += _DAY
    while last >= day:  # dates that may close after `end`
        intervals = day_intervals(calendar, last)
        if intervals and intervals[-1][1] <= end:
            break
        total += _clipped(intervals, start, end)
        last -= _DAY
    if day <= last:
        total += _whole_days(calendar, day, last)
    if len(calendar._between) >= _MAX_CACHED_SPANS:
        calendar._between.clear()
    calendar._between[(start, end)] = total
    return total


def _clipped(
    intervals: tuple[tuple[datetime, datetime], ...], start: datetime, end: datetime
) -> timedelta:
    total = _ZERO
    for opens, closes in intervals:
        opens, closes = max(opens, start), min(closes, end)
        if closes > opens:
            total += closes - opens
    return total


def _whole_days(calendar: Calendar, first: date, last: date) -> timedelta:
    """The working time of the local dates `first` to `last` (both included), whole: their
    nominal hours by weekday in closed form, corrected on the blocked dates among them
    (holidays, and the dates around a UTC offset change, where real time differs from the
    wall clock's). Any other date's intervals keep one UTC offset, so their real length is
    their nominal one, as for the weeks `add_working_time` jumps over."""
    weeks, rest = divmod((last - first).days + 1, 7)
    run = calendar.nominal_run
    weekday = first.weekday()
    total = timedelta(minutes=weeks * run[7] + run[weekday + rest] - run[weekday])
    for year in range(first.year, last.year + 1):
        days, corrections = _corrections(calendar, year)
        total += (
            corrections[bisect.bisect_right(days, last)]
            - corrections[bisect.bisect_left(days, first)]
        )
    return total


def _corrections(calendar: Calendar, year: int) -> tuple[tuple[date, ...], tuple[timedelta, ...]]:
    """The blocked dates of `year` (sorted), and the running sum of what each one's real
    working time differs from its nominal hours (`sums[i]`: over the first `i` dates)."""
    cached = calendar._corrections.get(year)
    if cached is None:
        days = _blocked_days(calendar, year)
        run = calendar.nominal_run
        sums = [_ZERO]
        for day in days:
            real = sum((closes - opens for opens, closes in day_intervals(calendar, day)), _ZERO)
            weekday = day.weekday()
            sums.append(sums[-1] + real - timedelta(minutes=run[weekday + 1] - run[weekday]))
        cached = calendar._corrections[year] = (days, tuple(sums))
    return cached

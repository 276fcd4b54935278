"""Report periods and their buckets: pure, no database, no clock (`now` is a parameter).

A period is a half-open UTC interval `[start, end)` whose edges are local midnights of the
desk's time zone, so "this-month" means the desk's month, across DST changes. Phrases
(`today`, `yesterday`, `this-week`, `last-week`, `this-month`, `last-month`, `this-year`,
`last-year`, `last-30d`, `last-12w`, `last-3m`) and dates (`2026-11-01`, parsed with
python-dateutil) both work; a `--to` date is inclusive (the whole day). Buckets (day, week
from Monday, month) are built with dateutil's rrule in local wall time and turned into UTC
instants, so a bucket of a DST day is 23 or 25 hours long. The reports bucket rows by these
edges in SQL (`sql.bucket_index`): the same query buckets the same way on SQLite and
PostgreSQL.

Used by `services.reports`, the CLI and the scheduled reports.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as date_parser
from dateutil.relativedelta import MO, relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule

MAX_BUCKETS = 1000  # a year by day is 366; ten years by week 522


class PeriodError(ValueError):
    """A period phrase or date that cannot be understood (a usage error)."""


class Grouping(enum.StrEnum):
    """How rows of a report are split: by time bucket or by a ticket dimension."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    GROUP = "group"
    AGENT = "agent"
    CATEGORY = "category"
    PRIORITY = "priority"
    CHANNEL = "channel"
    ORGANIZATION = "organization"
    SEGMENT = "segment"

    @property
    def is_time(self) -> bool:
        return self in (Grouping.DAY, Grouping.WEEK, Grouping.MONTH)


@dataclass(frozen=True)
class Period:
    """`[start, end)` in UTC, its name as asked, and the local dates it covers."""

    start: datetime
    end: datetime
    label: str
    zone: str = "UTC"
    # Calendar periods (months, years) step by months for the previous period; others by length.
    months: int = 0
    # When the period is still running: the instant its figures run to (None: it is over).
    now: datetime | None = None

    @property
    def running(self) -> bool:
        return self.now is not None and self.start < self.now < self.end

    @property
    def until(self) -> datetime:
        """The end of what the period holds so far: `now` while it runs, else its end."""
        return self.now if self.now is not None and self.running else self.end

    def previous(self) -> Period:
        """The period of the same size just before this one (the month before a month).
        While this one runs, only as much of it as has passed: the first three days of
        November against the first three days of December, not the whole of November."""
        zone = ZoneInfo(self.zone)
        start_local = self.start.astimezone(zone).replace(tzinfo=None)
        if self.months:
            before = start_local - relativedelta(months=self.months)
        else:
            before = start_local - (self.end.astimezone(zone).replace(tzinfo=None) - start_local)
        start, end, label = _utc(before, zone), self.start, f"before {self.label}"
        if self.running:
            elapsed = self.until.astimezone(zone).replace(tzinfo=None) - start_local
            end = min(self.start, _utc(before + elapsed, zone))
            label = f"the same part of the period before {self.label}"
        return Period(start, end, label, self.zone, self.months)

    @property
    def first_day(self) -> date:
        """The local date the period starts on."""
        return self.start.astimezone(ZoneInfo(self.zone)).date()

    def local_dates(self) -> str:
        """The local dates the period covers, `2026-12-01 .. 2026-12-31` (its last day
        included), and `(to date)` while it runs."""
        last = (self.end.astimezone(ZoneInfo(self.zone)) - timedelta(microseconds=1)).date()
        return f"{self.first_day} .. {last}" + (" (to date)" if self.running else "")

    def doc(self) -> dict[str, str]:
        return {"label": self.label, "start": iso(self.start), "end": iso(self.end)}


@dataclass(frozen=True)
class Bucket:
    """One slice of a period: `[start, end)` in UTC and its local label (2026-11-23)."""

    index: int
    start: datetime
    end: datetime
    label: str


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with `Z`, the one timestamp format of reports and exports."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


_LAST_N = re.compile(r"^last-(\d{1,4})([dwm])$")


def _phrase(phrase: str, today: date) -> tuple[datetime, datetime, int] | None:
    """Local naive [start, end) and the months step of a phrase, or None if not one."""
    day = _midnight(today)
    monday = day + relativedelta(weekday=MO(-1))
    first = day.replace(day=1)
    jan = day.replace(month=1, day=1)
    fixed: dict[str, tuple[datetime, datetime, int]] = {
        "today": (day, day + timedelta(days=1), 0),
        "yesterday": (day - timedelta(days=1), day, 0),
        "this-week": (monday, monday + timedelta(days=7), 0),
        "last-week": (monday - timedelta(days=7), monday, 0),
        "this-month": (first, first + relativedelta(months=1), 1),
        "last-month": (first - relativedelta(months=1), first, 1),
        "this-year": (jan, jan + relativedelta(years=1), 12),
        "last-year": (jan - relativedelta(years=1), jan, 12),
    }
    if phrase in fixed:
        return fixed[phrase]
    found = _LAST_N.match(phrase)
    if found is None:
        return None
    count, unit = int(found.group(1)), found.group(2)
    if count < 1:
        raise PeriodError(f"{phrase!r}: the count must be at least 1")
    end = day + timedelta(days=1)  # today included
    if unit == "d":
        return end - timedelta(days=count), end, 0
    if unit == "w":
        return end - timedelta(weeks=count), end, 0
    return end - relativedelta(months=count), end, 0


def _date(text: str, what: str) -> date:
    try:
        return date_parser.isoparse(text).date()
    except (ValueError, OverflowError):
        raise PeriodError(
            f"{what} {text!r} is neither a date (YYYY-MM-DD) nor a period "
            "(today, yesterday, this-week, last-week, this-month, last-month, this-year, "
            "last-year, last-30d, last-12w, last-3m)"
        ) from None


def parse_period(
    start: str | None, end: str | None, now: datetime, zone: str, default: str = "last-30d"
) -> Period:
    """The period `--from START --to END` names, at `now`, in the desk's zone.

    START may be a phrase (then it is the whole period, and END must be absent) or a date;
    END is a date, inclusive, defaulting to today. Neither given: `default`."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    text = (start or default).strip().lower()
    found = _phrase(text, today)
    if found is not None:
        if end is not None:
            raise PeriodError(f"--to makes no sense with the period {text!r}: give a date")
        lo, hi, months = found
        return Period(_utc(lo, tz), _utc(hi, tz), text, zone, months, now)
    first = _date(text, "--from")
    last = _date(end.strip(), "--to") if end else today
    if last < first:
        raise PeriodError(f"--to {last} is before --from {first}")
    lo, hi = _midnight(first), _midnight(last) + timedelta(days=1)
    return Period(_utc(lo, tz), _utc(hi, tz), f"{first}..{last}", zone, now=now)


def buckets(period: Period, grouping: Grouping) -> list[Bucket]:
    """The day, week (from Monday) or month slices of a period, first and last clipped to
    it; a running period's end at `now` (no empty slices for days to come). Raises
    PeriodError past MAX_BUCKETS (a decade by day is not a chart)."""
    if not grouping.is_time:
        raise ValueError(f"{grouping} is not a time grouping")
    tz = ZoneInfo(period.zone)
    lo = period.start.astimezone(tz).replace(tzinfo=None)
    hi = period.until.astimezone(tz).replace(tzinfo=None)
    if grouping is Grouping.DAY:
        first = _midnight(lo.date())
        rule = rrule(DAILY, dtstart=first, until=hi)
        label = "%Y-%m-%d"
    elif grouping is Grouping.WEEK:
        first = _midnight(lo.date()) + relativedelta(weekday=MO(-1))
        rule = rrule(WEEKLY, dtstart=first, until=hi)
        label = "%G-W%V"
    else:
        first = _midnight(lo.date()).replace(day=1)
        rule = rrule(MONTHLY, dtstart=first, until=hi)
        label = "%Y-%m"
    starts = [s for s in rule if s < hi]
    if len(starts) > MAX_BUCKETS:
        raise PeriodError(f"{len(starts)} {grouping} buckets: choose a coarser grouping")
    edges = [*starts[1:], hi]
    return [
        Bucket(
            i,
            max(_utc(s, tz), period.start),
            min(_utc(e, tz), period.until),
            s.strftime(label),
        )
        for i, (s, e) in enumerate(zip(starts, edges, strict=True))
    ]

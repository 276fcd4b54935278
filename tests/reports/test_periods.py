"""Period phrases and buckets in the desk's time zone: pure, a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui_helpdesk.reports.periods import (
    Grouping,
    PeriodError,
    buckets,
    iso,
    parse_period,
)

ROME = "Europe/Rome"
NOW = datetime(2026, 10, 28, 10, 0, tzinfo=UTC)  # Wednesday, CET (DST ended on the 25th)


@pytest.mark.parametrize(
    ("phrase", "start", "end"),
    [
        ("today", "2026-10-27T23:00:00Z", "2026-10-28T23:00:00Z"),
        ("yesterday", "2026-10-26T23:00:00Z", "2026-10-27T23:00:00Z"),
        ("this-week", "2026-10-25T23:00:00Z", "2026-11-01T23:00:00Z"),
        # The week of the DST change: 169 hours.
        ("last-week", "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z"),
        ("this-month", "2026-09-30T22:00:00Z", "2026-10-31T23:00:00Z"),
        ("last-month", "2026-08-31T22:00:00Z", "2026-09-30T22:00:00Z"),
        ("this-year", "2025-12-31T23:00:00Z", "2026-12-31T23:00:00Z"),
        ("last-30d", "2026-09-28T22:00:00Z", "2026-10-28T23:00:00Z"),
        ("last-2w", "2026-10-14T22:00:00Z", "2026-10-28T23:00:00Z"),
        ("LAST-WEEK", "2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z"),
    ],
)
def test_phrases(phrase: str, start: str, end: str) -> None:
    period = parse_period(phrase, None, NOW, ROME)
    assert (iso(period.start), iso(period.end)) == (start, end)


def test_dates_are_local_days_and_to_is_inclusive() -> None:
    period = parse_period("2026-10-19", "2026-10-30", NOW, ROME)
    assert (iso(period.start), iso(period.end)) == ("2026-10-18T22:00:00Z", "2026-10-30T23:00:00Z")
    assert period.label == "2026-10-19..2026-10-30"
    only_from = parse_period("2026-10-26", None, NOW, ROME)
    assert iso(only_from.end) == "2026-10-28T23:00:00Z"  # through today


def test_previous_period() -> None:
    month = parse_period("last-month", None, NOW, ROME).previous()
    assert (iso(month.start), iso(month.end)) == ("2026-07-31T22:00:00Z", "2026-08-31T22:00:00Z")
    days = parse_period("2026-10-05", "2026-10-16", NOW, ROME).previous()
    assert (iso(days.start), iso(days.end)) == ("2026-09-22T22:00:00Z", "2026-10-04T22:00:00Z")


def test_a_running_period_is_compared_with_as_much_of_the_one_before() -> None:
    """Three days into December, December so far is set against November 1-3 (to the same
    hour), not all of November; its chart stops at today; it says its local dates."""
    december = parse_period("this-month", None, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), ROME)
    assert december.running and iso(december.until) == "2026-12-03T09:30:00Z"
    before = december.previous()
    assert (iso(before.start), iso(before.end)) == ("2026-10-31T23:00:00Z", "2026-11-03T09:30:00Z")
    assert not before.running
    assert [b.label for b in buckets(december, Grouping.DAY)] == [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]
    assert december.local_dates() == "2026-12-01 .. 2026-12-31 (to date)"
    # Across the DST change: 19 October to now (28 October, 11:00 local) against the same
    # 9 days and 11 hours of local time from 7 October.
    days = parse_period("2026-10-19", "2026-10-30", NOW, ROME).previous()
    assert (iso(days.start), iso(days.end)) == ("2026-10-06T22:00:00Z", "2026-10-16T09:00:00Z")
    over = parse_period("last-month", None, NOW, ROME)
    assert not over.running and over.local_dates() == "2026-09-01 .. 2026-09-30"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("soon", None, "neither a date"),
        ("2026-10-30", "2026-10-01", "before --from"),
        ("last-week", "2026-10-01", "--to makes no sense"),
        ("last-0d", None, "at least 1"),
    ],
)
def test_bad_periods(start: str, end: str | None, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(start, end, NOW, ROME)


def test_day_buckets_follow_dst() -> None:
    period = parse_period("2026-10-24", "2026-10-26", NOW, ROME)
    days = buckets(period, Grouping.DAY)
    assert [b.label for b in days] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    assert [(b.end - b.start).total_seconds() / 3600 for b in days] == [24, 25, 24]
    assert days[0].start == period.start and days[-1].end == period.end


def test_week_and_month_buckets_are_clipped_to_the_period() -> None:
    later = datetime(2026, 11, 20, tzinfo=UTC)  # the period is over
    period = parse_period("2026-10-21", "2026-11-04", later, ROME)
    weeks = buckets(period, Grouping.WEEK)
    assert [b.label for b in weeks] == ["2026-W43", "2026-W44", "2026-W45"]
    assert weeks[0].start == period.start  # a Wednesday, not the Monday before
    assert iso(weeks[1].start) == "2026-10-25T23:00:00Z"
    months = buckets(period, Grouping.MONTH)
    assert [b.label for b in months] == ["2026-10", "2026-11"]
    assert iso(months[1].start) == "2026-10-31T23:00:00Z"
    with pytest.raises(ValueError, match="not a time grouping"):
        buckets(period, Grouping.GROUP)


def test_too_many_buckets() -> None:
    period = parse_period("2020-01-01", "2026-01-01", NOW, ROME)
    with pytest.raises(PeriodError, match="coarser"):
        buckets(period, Grouping.DAY)

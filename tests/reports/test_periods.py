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
    days = parse_period("2026-10-19", "2026-10-30", NOW, ROME).previous()
    assert (iso(days.start), iso(days.end)) == ("2026-10-06T22:00:00Z", "2026-10-18T22:00:00Z")


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
    period = parse_period("2026-10-21", "2026-11-04", NOW, ROME)
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

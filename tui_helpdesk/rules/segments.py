"""Where a running SLA clock really counted: a stretch of time split into working and
outside-hours parts on a business calendar.

`services.sla_explain` (behind `helpdesk ticket sla`) calls `split_by_hours` for every stretch
a clock ran, so an agent sees that the 17:00-09:00 night did not count. The working parts add
up to exactly `calendar.working_time_between(start, end)`: they come from the same per-day
intervals (and the same DST rule) as the engine. Pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The engine's own per-day intervals, so both modules apply one DST rule; it is private to
# the calendar module only because nothing else needed it before.
from tui_helpdesk.rules.calendar import Calendar, day_intervals

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Part:
    """A piece of [start, end): inside working hours (`working`) or outside them."""

    start: datetime
    end: datetime
    working: bool

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def split_by_hours(calendar: Calendar, start: datetime, end: datetime) -> list[Part]:
    """[start, end) as alternating working / outside-hours parts, in order, with no gaps;
    adjacent working intervals (`...-24:00` then `00:00-...`) are one part. Empty when
    `end <= start`. Instants are timezone-aware; parts are in UTC like the engine's."""
    if end <= start:
        return []
    if calendar.always_open:
        return [Part(start, end, True)]
    parts: list[Part] = []
    cursor = start
    day = start.astimezone(calendar.zone).date() - _DAY
    last = end.astimezone(calendar.zone).date() + _DAY
    while day <= last and cursor < end:
        for opens, closes in day_intervals(calendar, day):
            opens, closes = max(opens, cursor), min(closes, end)
            if closes <= opens:
                continue
            if opens > cursor:
                parts.append(Part(cursor, opens, False))
            if parts and parts[-1].working and parts[-1].end == opens:
                parts[-1] = Part(parts[-1].start, closes, True)
            else:
                parts.append(Part(opens, closes, True))
            cursor = closes
        day += _DAY
    if cursor < end:
        parts.append(Part(cursor, end, False))
    return parts

"""`helpdesk ticket sla NUMBER [--json]`: why a ticket is due when it is (DESIGN §4).

The command reads the explanation built by `services.sla_explain` in one read unit of work
and prints it: the policy and why, the calendar, and per clock its outcome, target, working
time used and left, due time and segments; then the escalations fired and coming, and the
ledger. Times are shown in the agent's display zone. A long history is compacted for people
(`compact`): a running stretch cut by many nights and weekends becomes one row, and the
middle of a long list is summarised in one; `--json` keeps every segment and step.

`cli/ticket.py` registers the command on the ticket app: `app.command("sla")(clocks.sla)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui_helpdesk.rules.clock import ClockState
from tui_helpdesk.services import sla_explain
from tui_helpdesk.services.sla_explain import (
    CalendarInfo,
    ClockReport,
    Segment,
    SegmentKind,
    SlaExplanation,
    span,
)

from .common import JsonFlag, runtime
from .output import hint, inert, print_json, show, when

Number = Annotated[str, typer.Argument(metavar="NUMBER", help="HD-12, 12 or #12.")]

SEGMENT_ROWS = 14  # at most this many rows per clock; the middle of a longer list is summed up
STRETCH_PARTS = 3  # a running stretch cut into more parts than this is shown as one row
LEDGER_ROWS = 12  # the latest ledger steps shown; --json has them all
_ZERO = timedelta(0)


def sla(ctx: typer.Context, number: Number, json_out: JsonFlag = False) -> None:
    """Explain a ticket's SLA clocks and why they are due when they are.

    The policy and why, the calendar, each running, paused and outside-hours stretch,
    targets, due times, met or breached, and escalations.

    JSON: policy, calendar, clocks (each with every segment), escalations,
    upcoming and ledger; durations in seconds (`*_s`)."""
    rt = runtime(ctx)
    with rt.store().read() as session:
        rt.actor(session)
        explanation = sla_explain.explain_sla(session, number, rt.now)
        zone = rt.display_zone(session)
    if json_out:
        print_json(sla_explain.explanation_doc(explanation))
        return
    show(*sla_view(explanation, zone))
    hidden = len(explanation.ledger) - LEDGER_ROWS
    if hidden > 0:
        hint(f"{hidden} earlier ledger steps not shown: --json lists them all")


# --- compacting segments ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a clock's segment table: a segment, or several summed up."""

    label: str
    start: datetime
    end: datetime
    working: timedelta
    note: str = ""
    ongoing: bool = False
    style: str = ""


def _is_running(segment: Segment) -> bool:
    return segment.kind in (SegmentKind.RUNNING, SegmentKind.OUTSIDE_HOURS)


def _stretches(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Segments grouped so that one uninterrupted run of the clock (its working and
    outside-hours parts) is one group; paused and stopped segments stand alone."""
    groups: list[list[Segment]] = []
    for segment in segments:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and _is_running(segment)
            and _is_running(last)
            and last.end == segment.start
            and last.cycle == segment.cycle
        ):
            groups[-1].append(segment)
        else:
            groups.append([segment])
    return groups


def _row(segment: Segment) -> Row:
    styles = {SegmentKind.RUNNING: "", SegmentKind.OUTSIDE_HOURS: "dim"}
    return Row(
        segment.kind.label,
        segment.start,
        segment.end,
        segment.working,
        segment.reason or "",
        segment.ongoing,
        styles.get(segment.kind, "yellow"),
    )


def _summed(label: str, rows: Sequence[Row], note: str) -> Row:
    working = sum((r.working for r in rows), _ZERO)
    return Row(label, rows[0].start, rows[-1].end, working, note, rows[-1].ongoing)


def compact(segments: Sequence[Segment], limit: int = SEGMENT_ROWS) -> list[Row]:
    """Rows for people: a running stretch of more than `STRETCH_PARTS` parts becomes one row
    (its outside-hours time in the note), a new cycle is noted on its first row, and beyond
    `limit` rows the middle ones are summed up in a single row."""
    rows: list[Row] = []
    cycle = segments[0].cycle if segments else 0
    for group in _stretches(segments):
        if len(group) > STRETCH_PARTS:
            outside = sum((s.wall for s in group if s.kind is SegmentKind.OUTSIDE_HOURS), _ZERO)
            parts = [_row(s) for s in group]
            note = f"{len(group)} parts, {wall_span(outside)} of them outside hours"
            new = [_summed("running", parts, note)]
        else:
            new = [_row(s) for s in group]
        if group[0].cycle != cycle:
            cycle = group[0].cycle
            first = new[0]
            note = f"reopened: cycle {cycle}" + (f"; {first.note}" if first.note else "")
            new[0] = Row(first.label, first.start, first.end, first.working, note, first.ongoing)
        rows.extend(new)
    if len(rows) <= limit:
        return rows
    head, tail = limit // 2, limit - limit // 2 - 1
    middle = rows[head : len(rows) - tail]
    summary = _summed(f"... {len(middle)} rows", middle, "summed up; --json lists every segment")
    return [*rows[:head], Row(**{**summary.__dict__, "style": "dim"}), *rows[len(rows) - tail :]]


# --- rendering ----------------------------------------------------------------------------


def wall_span(value: timedelta) -> str:
    """A calendar length: days and hours past a day ("3d 4h"), else like `span`."""
    if value < timedelta(days=1):
        return span(value)
    days, rest = divmod(int(value.total_seconds()), 86400)
    hours = rest // 3600
    return f"{days}d {hours}h" if hours else f"{days}d"


def _table(*columns: str, title: str | None = None) -> Table:
    return Table(
        *columns,
        title=Text(title, style="bold") if title else None,
        title_justify="left",
        box=None,
        header_style="bold",
        pad_edge=False,
        show_edge=False,
    )


def _line(*pairs: tuple[str, Text | str]) -> Text:
    text = Text()
    for index, (label, value) in enumerate(pairs):
        if index:
            text.append("  ")
        text.append(f"{label} ", style="dim")
        text.append_text(value if isinstance(value, Text) else Text(value))
    return text


def hours_text(hours: Mapping[str, Sequence[str]]) -> str:
    """Working hours with runs of equal weekdays joined: "mon-fri 09:00-13:00 14:00-18:00"."""
    runs: list[tuple[str, str, tuple[str, ...]]] = []
    for day, spans in hours.items():
        spans = tuple(spans)
        if runs and runs[-1][2] == spans and _next_day(runs[-1][1]) == day:
            runs[-1] = (runs[-1][0], day, spans)
        else:
            runs.append((day, day, spans))
    return "; ".join(
        f"{first if first == last else f'{first}-{last}'} {' '.join(spans)}"
        for first, last, spans in runs
    )


def _next_day(day: str) -> str | None:
    order = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return order[order.index(day) + 1] if day in order[:-1] else None


def _calendar_line(info: CalendarInfo) -> Text:
    if not info.known:
        words = f"{info.name} (no longer in the rules: every hour counts)"
    elif info.always_open:
        words = f"{info.name}, {info.timezone}: always open"
    else:
        words = f"{info.name}, {info.timezone}: {hours_text(info.hours)}"
        if info.holidays:
            words += f"; holidays {', '.join(info.holidays)}"
    return _line(("calendar", inert(words)))


def _header(e: SlaExplanation, zone: str) -> list[RenderableType]:
    lines: list[RenderableType] = [
        Text.assemble(Text(e.number, style="bold"), "  ", inert(e.subject, style="bold")),
        _line(
            ("status", e.status),
            ("priority", e.priority),
            ("cycle", str(e.cycle)),
            ("escalation level", str(e.escalation_level)),
        ),
    ]
    policy = e.policy
    since = f" (since {when(policy.chosen_at, zone)})" if policy.chosen_at else ""
    if policy.name is None:
        lines.append(_line(("policy", inert(f"none: {policy.reason or 'no SLA policy'}{since}"))))
    else:
        lines.append(_line(("policy", inert(f"{policy.reason or policy.name}{since}"))))
    if policy.rules_now:
        lines.append(inert(f"note: {policy.rules_now} (its clocks move on its next change)"))
    if e.calendar is not None:
        lines.append(_calendar_line(e.calendar))
    lines.append(Text(f"times in {zone}; now {when(e.now, zone)}", style="dim"))
    return lines


def _outcome_style(report: ClockReport) -> str:
    if report.breached:
        return "bold red"
    return "bold green" if report.state is ClockState.MET else "bold"


def _figures(report: ClockReport, zone: str) -> Text:
    pairs: list[tuple[str, Text | str]] = [("target", span(report.target))]
    used = span(report.used)
    if report.percent_used is not None:
        used += f" ({report.percent_used}%)"
    pairs.append(("used", used))
    if report.remaining is not None and report.state is not ClockState.MET:
        left = span(report.remaining)
        pairs.append(("left", left if report.remaining >= _ZERO else f"-{left}"))
    if report.breached_by is not None:
        pairs.append(("breached by", Text(span(report.breached_by), style="red")))
    if report.due_at is not None:
        pairs.append(
            ("was due" if report.state is ClockState.MET else "due", when(report.due_at, zone))
        )
    return _line(*pairs)


def segment_table(rows: Sequence[Row], zone: str) -> Table:
    table = _table("Segment", "From", "To", "Wall", "Working")
    table.add_column("Note", ratio=1, overflow="fold")
    for row in rows:
        table.add_row(
            Text(row.label, style=row.style),
            Text(when(row.start, zone)),
            Text("now" if row.ongoing else when(row.end, zone)),
            Text(wall_span(row.end - row.start)),
            Text(span(row.working) if row.working else "-"),
            inert(row.note),
        )
    return table


def clock_block(report: ClockReport, zone: str) -> list[RenderableType]:
    title = Text.assemble(
        Text(report.name.label.capitalize(), style="bold"),
        ": ",
        Text(report.outcome, style=_outcome_style(report)),
    )
    parts: list[RenderableType] = [Text(""), title, _figures(report, zone)]
    if report.note:
        parts.append(Text(f"note: {report.note}", style="yellow"))
    if report.segments:
        parts.append(segment_table(compact(report.segments), zone))
    return parts


def _escalations(e: SlaExplanation, zone: str) -> list[RenderableType]:
    parts: list[RenderableType] = []
    if e.escalations:
        table = _table("When", "Rule", "Cycle", "Trigger", "By", title="Escalations fired")
        table.add_column("Actions / reason", ratio=1, overflow="fold")
        for f in e.escalations:
            what = inert(", ".join(f.actions) or "-")
            if f.reason:
                what.append("  ")
                what.append_text(inert(f"({f.reason})", style="dim"))
            table.add_row(
                Text(when(f.at, zone)),
                inert(f.rule or "manual"),
                Text(str(f.cycle)),
                inert(f.trigger),
                inert(f.actor),
                what,
            )
        parts += [Text(""), table]
    else:
        parts += [Text(""), Text("No escalations fired.", style="dim")]
    if e.upcoming:
        table = _table("When", "Rule", title="Escalations coming")
        table.add_column("Why", ratio=1, overflow="fold")
        for u in e.upcoming:
            at = "now" if u.at <= e.now else when(u.at, zone)
            table.add_row(Text(at), inert(u.rule), inert(u.reason))
        parts += [Text(""), table]
    return parts


def _ledger(e: SlaExplanation, zone: str) -> list[RenderableType]:
    steps = e.ledger[-LEDGER_ROWS:]
    if not steps:
        return []
    table = _table("When", "Clock", "Step", title="Ledger")
    table.add_column("Detail", ratio=1, overflow="fold")
    for step in steps:
        detail = [step.reason or ""]
        if step.target is not None:
            detail.append(f"target {span(step.target)}")
        if step.remaining is not None:
            sign = "-" if step.remaining < _ZERO else ""
            detail.append(f"left {sign}{span(step.remaining)}")
        if step.due_at is not None:
            detail.append(f"due {when(step.due_at, zone)}")
        table.add_row(
            Text(when(step.at, zone)),
            Text(step.clock.label if step.clock else "policy"),
            Text(step.action),
            inert("; ".join(d for d in detail if d)),
        )
    return [Text(""), table]


def sla_view(e: SlaExplanation, zone: str) -> list[RenderableType]:
    parts = _header(e, zone)
    for report in e.clocks:
        parts += clock_block(report, zone)
    if not e.clocks and e.policy.name is None:
        parts += [Text(""), Text("No SLA clocks: nothing is due.", style="dim")]
    parts += _escalations(e, zone)
    parts += _ledger(e, zone)
    return [Group(*parts)]

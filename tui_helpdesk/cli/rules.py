"""`helpdesk rules check|apply|show|history|test`: the desk-wide rules file and its versions.

A rules file on disk is only the admin's source: `apply` validates it and stores it in the
database as the active version, which every console and cron job then evaluates; `test`
replays a file over past tickets (services.replay) so an admin can see what it would change
before applying it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import tomli_w
import typer
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import DBAPIError

from tui_helpdesk.rules.document import RulesDocument, parse_rules
from tui_helpdesk.services import desk, replay
from tui_helpdesk.services.serialize import iso

from .common import JsonFlag, instant, read_text, runtime
from .output import hint, inert, print_json, say
from .output import show as render
from .plain import stamp
from .runtime import CliError

app = typer.Typer(
    rich_markup_mode=None,
    help="Desk rules: calendars, SLA policies, escalation and routing.\n\n"
    "Check a rules.toml file, apply it to the database as the active version, show it.",
    no_args_is_help=True,
)

RulesFile = Annotated[str, typer.Argument(metavar="FILE", help="A rules file (- for stdin).")]


def _load(file: str) -> RulesDocument:
    source = "stdin" if file == "-" else file
    return parse_rules(read_text(file, "rules file"), source)


def _summary(document: RulesDocument) -> str:
    return (
        f"{len(document.calendars)} calendars, {len(document.sla)} SLA policies, "
        f"{len(document.escalations)} escalation rules, {len(document.routes)} routes"
    )


@app.command()
def check(ctx: typer.Context, file: RulesFile) -> None:
    """Validate a rules file, listing every error found.

    Each error names the file and the key (exit 2). The groups, agents and categories it
    names are checked against the desk as `apply` checks them, when the desk can be opened;
    else the output says they were not."""
    document = _load(file)
    source = "stdin" if file == "-" else file
    for warning in document.warnings:
        hint(f"warning: {warning}")
    rt = runtime(ctx)
    try:
        with rt.store().read() as session:
            warnings = desk.check_rule_names(session, document, source)
    except CliError as exc:  # no desk here (a rules file checked on its own)
        say(f"{file}: valid ({_summary(document)}); names not checked against a desk: {exc}")
        return
    except DBAPIError as exc:
        say(
            f"{file}: valid ({_summary(document)}); "
            f"names not checked against a desk: {rt.explain(exc)}"
        )
        return
    for warning in warnings:
        hint(f"warning: {warning}")
    say(f"{file}: valid ({_summary(document)}); names checked against the desk")


@app.command()
def apply(
    ctx: typer.Context,
    file: RulesFile,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and compare only; change nothing.")
    ] = False,
) -> None:
    """Store a rules file as the desk's active version (admins only)."""
    document = _load(file)
    source = "stdin" if file == "-" else file
    rt = runtime(ctx)
    with rt.store().write() as session:
        actor = rt.actor(session)
        active = desk.active_rule_set(session)
        for warning in (*document.warnings, *desk.check_rule_names(session, document, source)):
            hint(f"warning: {warning}")
        if dry_run:
            same = active is not None and active.sha256 == document.sha256
            state = "already active" if same else "would become the active version"
            say(f"{file}: valid ({_summary(document)}); {state} (dry run, nothing changed)")
            session.rollback()
            return
        before = dict(active.document) if active is not None else None
        rule_set, created = desk.apply_rules(
            session, actor, rt.now, document, source=source, check_names=False
        )
        notes = desk.apply_notes(session, before, document) if created else []
    if created:
        say(
            f"rules version {rule_set.version} applied by {rule_set.applied_by} "
            f"({_summary(document)})"
        )
        for note in notes:
            say(f"note: {note}")
    else:
        say(f"rules version {rule_set.version} is already this file; nothing changed")


@app.command()
def show(ctx: typer.Context) -> None:
    """Print the active rules as TOML."""
    with runtime(ctx).store().read() as session:
        active = desk.active_rule_set(session)
        if active is None:
            raise CliError("no rules applied yet: run `helpdesk rules apply FILE`", 1)
        version, applied_by, at, data = (
            active.version,
            active.applied_by,
            active.applied_at,
            active.document,
        )
    print(f"# active rules version {version}, applied by {applied_by} at {stamp(at)}")
    print(tomli_w.dumps(data), end="")


@app.command()
def history(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """The applied versions of the rules, newest first."""
    with runtime(ctx).store().read() as session:
        history = [
            (r.version, r.active, r.applied_by, r.applied_at, r.sha256)
            for r in desk.rule_set_history(session)
        ]
    if json_out:
        rows = [
            {
                "version": version,
                "active": active,
                "applied_by": by,
                "applied_at": iso(at),
                "sha256": sha256,
            }
            for version, active, by, at, sha256 in history
        ]
        print_json({"versions": rows})
        return
    for version, active, by, at, sha256 in history:
        say(f"{'*' if active else ' '} {version:>3}  {stamp(at)}  {by}  {sha256[:12]}")


# --- test: replay a rules file over past tickets -------------------------------------------

DEFAULT_PERIOD = timedelta(days=30)
Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="DATE",
        help="Tickets created from this ISO date or datetime, UTC "
        "(default: 30 days before --until).",
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="DATE",
        help="Up to (not including) this ISO date or datetime, UTC (default: now).",
    ),
]
Now = Annotated[
    str | None,
    typer.Option(
        "--now",
        metavar="DATE",
        help="Replay as of this instant, UTC (default: the clock).",
    ),
]


@app.command("test")
def test_rules(
    ctx: typer.Context,
    file: RulesFile,
    since: Since = None,
    until: Until = None,
    now: Now = None,
    json_out: JsonFlag = False,
) -> None:
    """Replay a rules file over the tickets of a period.

    Shown next to the active rules and what was recorded (reads only; escalation actions
    are not replayed)."""
    rt = runtime(ctx)
    at = instant(now, "--now") if now else rt.now
    end = instant(until, "--until") if until else at
    start = instant(since, "--since") if since else end - DEFAULT_PERIOD
    if start >= end:
        raise CliError(f"--since ({iso(start)}) must be before --until ({iso(end)})", 2)
    document = _load(file)
    with rt.store().read() as session:
        report = replay.replay_period(session, document, start, end, at)
    doc = replay.report_document(report)
    if json_out:
        print_json(doc)
        return
    head, tables, notes = _replay_view(file, doc)
    say(head)  # plain lines, never wrapped: scripts may read them
    render(Text(""), *tables)
    for line in notes:
        say(line)


SIDES = ("candidate", "active", "recorded")
POLICY_COUNTS = ("tickets", "first_response_breaches", "resolution_breaches")


def _minute(value: str) -> str:
    return value[:16].replace("T", " ")


def _count(figures: dict[str, int] | None, key: str) -> Text:
    return Text("-" if figures is None else str(figures[key]), justify="right")


def _table(labels: tuple[str, ...], counts: tuple[str, ...], title: str) -> Table:
    """Label columns left, count columns right."""
    table = Table(title=Text(title, style="bold"), title_justify="left", box=None, pad_edge=False)
    for column in labels:
        table.add_column(column, header_style="bold")
    for column in counts:
        table.add_column(column, header_style="bold", justify="right")
    return table


def _replay_view(file: str, doc: dict[str, Any]) -> tuple[str, list[RenderableType], list[str]]:
    """The header line, the two tables, and the note lines of a replay."""
    period, version = doc["period"], doc["active_version"]
    against = f"the active rules (version {version})" if version else "no active rules"
    head = (
        f"{file} vs {against}: {doc['tickets']} tickets created {_minute(period['since'])} "
        f"to {_minute(period['until'])} UTC, each replayed up to {_minute(period['now'])} UTC"
    )
    rules = _table(
        ("Rule", "On", "At"),
        ("Candidate", "Active", "Recorded"),
        "Escalation rules: tickets escalated",
    )
    for row in doc["escalation"]:
        rules.add_row(
            inert(row["rule"]),
            Text(row["on"] or "-"),
            Text(row["at"] or "-"),
            *(_count(row[side], "tickets") for side in SIDES),
        )
    sla = _table(
        ("Policy", "Rules"),
        ("Tickets", "First-response breaches", "Resolution breaches"),
        "SLA policies",
    )
    for row in doc["sla"]:
        for side in SIDES:
            sla.add_row(
                inert(row["policy"]) if side == SIDES[0] else Text(""),
                Text(side),
                *(_count(row[side], key) for key in POLICY_COUNTS),
            )
    none = doc["without_policy"]
    notes = ["", "Tickets with no SLA policy: " + ", ".join(f"{s} {none[s]}" for s in SIDES)]
    for label, key in (
        ("Only in the candidate", "only_in_candidate"),
        ("Only in the active rules", "only_in_active"),
    ):
        for section, title in (("escalation", "escalation rules"), ("sla", "SLA policies")):
            if doc[key][section]:
                notes.append(f"{label} ({title}): {', '.join(doc[key][section])}")
    changed = [r["rule"] for r in doc["escalation"] if r["changed"]]
    changed += [r["policy"] for r in doc["sla"] if r["changed"]]
    if changed:
        notes.append(f"Changed in the candidate: {', '.join(changed)}")
    notes.append("Limits of the replay: " + "; ".join(doc["limitations"]) + ".")
    return head, [rules, Text(""), sla], notes

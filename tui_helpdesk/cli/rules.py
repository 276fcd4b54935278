"""`helpdesk rules check|apply|show|history`: the desk-wide rules file and its versions.

A rules file on disk is only the admin's source: `apply` validates it and stores it in the
database as the active version, which every console and cron job then evaluates.
"""

from __future__ import annotations

from typing import Annotated

import tomli_w
import typer

from tui_helpdesk.rules.document import RulesDocument, parse_rules
from tui_helpdesk.services import desk
from tui_helpdesk.services.serialize import iso

from .common import JsonFlag, read_text, runtime
from .output import print_json, say
from .runtime import CliError

app = typer.Typer(
    help="Desk rules: calendars, SLA policies, escalation, routing (the rules.toml file).",
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
def check(file: RulesFile) -> None:
    """Validate a rules file; errors name the file and the key (exit 2)."""
    say(f"{file}: valid ({_summary(_load(file))})")


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
    rt = runtime(ctx)
    with rt.store().write() as session:
        actor = rt.actor(session)
        active = desk.active_rule_set(session)
        if dry_run:
            same = active is not None and active.sha256 == document.sha256
            state = "already active" if same else "would become the active version"
            say(f"{file}: valid ({_summary(document)}); {state} (dry run, nothing changed)")
            session.rollback()
            return
        rule_set, created = desk.apply_rules(session, actor, rt.now, document)
    if created:
        say(
            f"rules version {rule_set.version} applied by {rule_set.applied_by} "
            f"({_summary(document)})"
        )
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
    print(f"# active rules version {version}, applied by {applied_by} at {iso(at)}")
    print(tomli_w.dumps(data), end="")


@app.command()
def history(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """The applied versions of the rules, newest first."""
    with runtime(ctx).store().read() as session:
        rows = [
            {
                "version": r.version,
                "active": r.active,
                "applied_by": r.applied_by,
                "applied_at": iso(r.applied_at),
                "sha256": r.sha256,
            }
            for r in desk.rule_set_history(session)
        ]
    if json_out:
        print_json({"versions": rows})
        return
    for row in rows:
        mark = "*" if row["active"] else " "
        say(
            f"{mark} {row['version']:>3}  {row['applied_at']}  {row['applied_by']}  "
            f"{row['sha256'][:12]}"
        )

"""`helpdesk init` and `helpdesk db upgrade|current`: setting up a desk and its schema.

`init` is safe to run again: it writes the starter config and rules files only where none
exist (or with --force; no starter rules file into a desk that has active rules), brings the
database to the current schema, registers the person running it as the first admin of a desk
with no agents (anyone else must be an agent already), and applies the rules file into a desk
that has no active rules yet
(before `--demo` seeds the demo, so the demo's tickets have SLA clocks from the start). A
fresh demo's queued mail then goes out as the desk's cron would have sent it, to nowhere
(`services.demo_mail`), so its replies read "sent", not "queued" for good.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from tui_helpdesk.config import (
    ENV_CONFIG,
    ENV_DATABASE_URL,
    Settings,
    default_database_url,
    starter_config,
)
from tui_helpdesk.domain import Role
from tui_helpdesk.rules.document import RulesDocument, parse_rules
from tui_helpdesk.services import desk, directory
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.engine import Store

from .common import JsonFlag, read_text, runtime
from .output import hint, print_json, say
from .plain import counted
from .runtime import CliError, Runtime, current_revision, open_store, safe_url

app = typer.Typer(
    rich_markup_mode=None,
    help="The database schema: upgrade it after installing a new version.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def starter_rules() -> str:
    return resources.files("tui_helpdesk.starter").joinpath("rules.toml").read_text("utf-8")


# The demo desk is Italian and has a first-level team: the starter's commented examples of
# these two settings, switched on.
_DEMO_SETTINGS = {
    '# phone_region = "IT"  ': 'phone_region = "IT"    ',
    '# default_group = "L1" ': 'default_group = "L1"   ',
}


def demo_rules(text: str) -> str:
    """The starter rules as the demo desk uses them: local phone numbers read as Italian,
    and new tickets that nothing else places in the L1 queue."""
    for commented, active in _DEMO_SETTINGS.items():
        text = text.replace(commented, active, 1)
    return text


def _init_settings(rt: Runtime) -> Settings:
    """Settings for `init`: an explicit --config that does not exist yet is where we write."""
    explicit = rt.config_path or (
        Path(os.environ[ENV_CONFIG]) if os.environ.get(ENV_CONFIG) else None
    )
    if explicit is not None and not explicit.expanduser().exists():
        path = explicit.expanduser()
        url = rt.database_url or os.environ.get(ENV_DATABASE_URL) or default_database_url()
        return Settings(database_url=url, config_path=path, rules_path=path.parent / "rules.toml")
    return rt.settings


def _write(path: Path, text: str, force: bool, *, private: bool = False) -> str:
    """Write a starter file unless it exists (or `force`); `private`: readable by its owner
    only (the config holds the database URL, with any password in it)."""
    if path.exists() and not force:
        return "kept"
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    if private:  # an existing file keeps its mode on open: --force makes it private too
        os.chmod(path, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return "overwritten" if existed else "written"


def full_name(login: str) -> str:
    """The person's name from the password database (GECOS), else the login."""
    try:
        import pwd

        gecos = pwd.getpwnam(login).pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError):
        return login
    return gecos or login


@dataclass
class _Migrated:
    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before is None:
            return f"created at schema revision {self.after}"
        if self.before == self.after:
            return f"already at schema revision {self.after}"
        return f"upgraded {self.before} -> {self.after}"


def _upgrade(store: Store, url: str) -> _Migrated:
    from tui_helpdesk.store import migrate  # alembic is slow to import: only when needed

    current_revision(store, url)  # an unreachable database fails here, in one line
    before, after = migrate.upgrade(store)
    return _Migrated(before, after)


def init(
    ctx: typer.Context,
    demo: Annotated[
        bool, typer.Option("--demo", help="Also fill a new desk with realistic demo data.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite the config and rules files with the starters, and apply the rules.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the demo data.")] = 42,
) -> None:
    """Set up a desk: config, rules, database, and you as admin.

    Registers the acting login (--as, $HELPDESK_AGENT, else your OS login) as an admin agent
    if it is not an agent yet, and applies the rules file unless the desk already has active
    rules. Safe to run again."""
    rt = runtime(ctx)
    settings = _init_settings(rt)
    login = rt.login
    url = settings.database_url
    source = str(settings.rules_path)
    # Check the rules first, so a bad rules file stops init before it writes anything.
    keep_rules = settings.rules_path.exists() and not force
    rules_text = read_text(source, "rules file") if keep_rules else starter_rules()
    if demo and not keep_rules:
        rules_text = demo_rules(rules_text)
    document = parse_rules(rules_text, source)

    store = open_store(url)
    try:
        migrated = _upgrade(store, url)
        # The admin commits on its own: rules that cannot be applied still leave a desk
        # whose admin can fix them and run `helpdesk rules apply`. A login the desk refuses
        # stops init before the config is written (it would point at a desk they cannot use).
        with store.write() as session:
            agent = _ensure_admin(session, rt, login)
        config_state = _write(settings.config_path, starter_config(url), force, private=True)
        say(f"config    {settings.config_path} ({config_state})")
        say(f"database  {safe_url(url)} ({migrated.describe()})")
        say(f"agent     {agent}")
        with store.read() as session:
            desk_has_rules = desk.active_rule_set(session) is not None
        if desk_has_rules and not force and not keep_rules:
            # A starter file would only invite `rules apply` over the team's rules.
            rules_state = "not written: the desk has active rules"
        else:
            rules_state = _write(settings.rules_path, rules_text, force)
        say(f"rules     {settings.rules_path} ({rules_state})")
        with store.write() as session:
            applied = _apply_rules(
                session, rt, login, document, source, force, demo, have_file=keep_rules
            )
            seeded = _seed_demo(session, rt.now, seed, login) if demo else None
            if applied.names_pending:
                # The demo has created its groups and agents by now; a failure here rolls
                # back the rules and the demo together.
                applied.warnings += _check_names(session, document, source)
        if seeded is not None and seeded.fresh:
            # The sender claims and marks mail in transactions of its own: after the commit.
            from tui_helpdesk.services import demo_mail

            seeded.mail = demo_mail.send_history(store, rt.now)
    finally:
        store.dispose()
    for warning in applied.warnings:
        hint(f"warning: {warning}")
    say(f"rules     {applied.line}")
    if seeded is not None:
        say(f"demo      {seeded.line}")
    if seeded is not None and seeded.mail is not None:
        say(
            f"mail      {seeded.mail} demo mails marked sent as cron's `helpdesk mail send` "
            "would have sent them (to nowhere: the demo's people are invented)"
        )
    say("ready: run `helpdesk` to open the console, `helpdesk --help` for commands")


def _apply_command(path: str) -> str:
    return f"`helpdesk rules apply {shlex.quote(path)}`"


def _check_names(session: Session, document: RulesDocument, source: str) -> list[str]:
    """`desk.check_rule_names`, its error telling how to apply the file once it is fixed."""
    try:
        return desk.check_rule_names(session, document, source)
    except ValidationError as exc:
        raise CliError(f"{exc}; fix it, then run {_apply_command(source)}", 2) from None


@dataclass
class _Applied:
    line: str  # what happened, for the output
    warnings: list[str] = field(default_factory=list)
    names_pending: bool = False  # the rules' names are checked after the demo is seeded


def _apply_rules(
    session: Session,
    rt: Runtime,
    login: str,
    document: RulesDocument,
    source: str,
    force: bool,
    demo: bool,
    *,
    have_file: bool = True,
) -> _Applied:
    """Apply the rules file as the first version, unless the desk already has active rules
    (or --force): then say who applied them, and how to change them (an admin with a rules
    file of their own) or get them (`rules show`). Before a demo is seeded, so its tickets
    get SLA clocks from the start; the names the rules use are then checked once the demo has
    created its groups."""
    again = f"after editing it, apply it again with {_apply_command(source)}"
    active = desk.active_rule_set(session)
    actor = directory.actor_for(session, login)
    if active is not None and not force:
        how = (
            f"change them with {_apply_command(source)}"
            if actor.is_admin and have_file
            else "an admin can export them with `helpdesk rules show > rules.toml`"
        )
        return _Applied(
            f"desk rules version {active.version} active (applied by {active.applied_by}); {how}"
        )
    if active is None and not force and not actor.is_admin:
        return _Applied(
            f"not applied: {login} is not an admin (an admin can run {_apply_command(source)})"
        )
    from tui_helpdesk.services import demo as demo_service

    names_pending = demo and not demo_service.existing_data(session)
    warnings = [] if names_pending else _check_names(session, document, source)
    rule_set, created = desk.apply_rules(
        session, actor, rt.now, document, source=source, check_names=False
    )
    state = (
        f"applied as version {rule_set.version}"
        if created
        else f"version {rule_set.version} already active"
    )
    return _Applied(f"{state}; {again}", warnings, names_pending)


@dataclass
class _Seeded:
    line: str  # what happened, for the output
    fresh: bool  # seeded now (its mail is still queued)
    mail: int | None = None  # the demo mails marked sent


def _seed_demo(session: Session, now: datetime, seed: int, login: str) -> _Seeded:
    """Seed the demo desk into an empty desk, with `login` working in it; a desk with data
    keeps it and is left alone, so `init --demo` can run again."""
    from tui_helpdesk.services import demo

    taken = demo.existing_data(session)
    if taken:
        return _Seeded(f"not added: the desk already has {', '.join(taken)}", fresh=False)
    # The one slow step of init: said before it starts, on stderr (stdout is the record).
    hint("seeding the demo desk: it replays weeks of a help desk, about a minute...")
    counts = demo.seed_demo(session, now, seed=seed, agent=login)
    return _Seeded(", ".join(f"{n} {what}" for what, n in counts.items()), fresh=True)


def _ensure_admin(session: Session, rt: Runtime, login: str) -> str:
    """Register `login` as the first admin of a desk with no agents yet; describe what
    happened. On a desk with agents, an unknown login is refused: only an admin adds agents."""
    try:
        agent = directory.get_agent(session, login)
    except NotFound:
        if directory.list_agents(session):
            raise NotFound(
                f"{login} is not an agent of this desk: ask an admin to run "
                f"`helpdesk agent add {login}`, then run `helpdesk init` again"
            ) from None
        directory.add_agent(
            session, rt.now, directory.AgentDraft(login, full_name(login), role=Role.ADMIN)
        )
        return f"{login} registered as admin"
    return f"{login} already registered ({agent.role.value})"


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Bring the database to this version's schema.

    Prints before -> after, and nothing when it is up to date already (cron mails only
    what changed)."""
    url = runtime(ctx).settings.database_url
    store = open_store(url)
    try:
        migrated = _upgrade(store, url)
    finally:
        store.dispose()
    if migrated.before != migrated.after:
        say(f"database  {safe_url(url)} ({migrated.describe()})")


@app.command()
def current(ctx: typer.Context) -> None:
    """Print the database's schema revision and the one needed."""
    url = runtime(ctx).settings.database_url
    store = open_store(url)
    try:
        revision = current_revision(store, url)
    finally:
        store.dispose()
    from tui_helpdesk.store import migrate

    head = migrate.head_revision()
    state = "up to date" if revision == head else "run `helpdesk db upgrade`"
    say(f"database  {safe_url(url)}: revision {revision or '(empty)'}, needs {head} ({state})")


@app.command()
def check(
    ctx: typer.Context,
    json_out: JsonFlag = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Print nothing when every check passes (cron).")
    ] = False,
) -> None:
    """Check the database's consistency.

    Foreign keys, counters, ticket and SLA fields.

    Exits 1 when any check finds rows that break it (their numbers are printed)."""
    from tui_helpdesk.services.checks import run_checks

    rt = runtime(ctx)
    with rt.store().read() as session:
        results = run_checks(session)
    failed = [r for r in results if not r.ok]
    if json_out:
        print_json(
            {
                "ok": not failed,
                "checks": [
                    {
                        "name": r.name,
                        "description": r.description,
                        "violations": r.violations,
                        "examples": list(r.examples),
                    }
                    for r in results
                ],
            }
        )
    else:
        for result in failed:
            examples = f" (e.g. {', '.join(result.examples)})" if result.examples else ""
            say(
                f"FAILED {result.name}: {counted(result.violations, result.noun)} "
                f"{'breaks' if result.violations == 1 else 'break'} "
                f'"{result.description}"{examples}'
            )
        if failed or not quiet:
            say(f"{len(results) - len(failed)} of {len(results)} checks passed")
    if failed:
        raise CliError(f"{counted(len(failed), 'consistency check')} failed", 1)

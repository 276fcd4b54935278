"""`helpdesk init` and `helpdesk db ...`: a fresh machine, a second run, existing databases,
and the one-line errors for databases and config files that cannot be used."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.cli.conftest import OS_LOGIN, Run, ok, one_line_error
from tests.conftest import NOW
from tui_helpdesk.cli.db import starter_rules
from tui_helpdesk.domain import OutboxState, Role
from tui_helpdesk.services import desk, directory
from tui_helpdesk.services.demo_mail import SEND_EVERY
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Escalation, Message, Outbox, Ticket


def applied_by(url: str) -> str | None:
    store = Store(url)
    try:
        with store.read() as session:
            rule_set = desk.active_rule_set(session)
            return rule_set.applied_by if rule_set else None
    finally:
        store.dispose()


def sla_policies(url: str) -> dict[str | None, int]:
    """Tickets by SLA policy."""
    store = Store(url)
    try:
        with store.read() as session:
            rows = session.execute(
                select(Ticket.sla_policy, func.count()).group_by(Ticket.sla_policy)
            ).all()
            return {policy: count for policy, count in rows}
    finally:
        store.dispose()


def cron_and_surveys(url: str) -> tuple[list[datetime], int]:
    """When escalations fired, and how many tickets have a survey answer."""
    store = Store(url)
    try:
        with store.read() as session:
            fired = list(session.scalars(select(Escalation.at)))
            answered = session.scalar(select(func.count()).where(Ticket.csat_score.is_not(None)))
            return fired, answered or 0
    finally:
        store.dispose()


def demo_mail(url: str) -> tuple[list[tuple[OutboxState, datetime, datetime | None]], list[str]]:
    """Every outbox mail's state, due time (when it was queued) and sent time, and each
    mailed reply's delivery state where it differs from its mail's."""
    store = Store(url)
    try:
        with store.read() as session:
            mails = session.execute(
                select(Outbox.state, Outbox.created_at, Outbox.sent_at).order_by(Outbox.id)
            ).all()
            mismatched = session.scalars(
                select(Message.delivery_state)
                .join(Outbox, Outbox.message_row_id == Message.id)
                .where(Message.delivery_state != Outbox.state)
            )
            return [tuple(m) for m in mails], [str(state) for state in mismatched]
    finally:
        store.dispose()


def active_rules_version(url: str) -> int | None:
    store = Store(url)
    try:
        with store.read() as session:
            rule_set = desk.active_rule_set(session)
            return rule_set.version if rule_set else None
    finally:
        store.dispose()


def test_init_on_a_fresh_home_sets_up_a_working_desk(cli: Run, home: Path) -> None:
    out = ok(cli("init")).stdout
    config = home / ".config" / "helpdesk" / "config.toml"
    rules = home / ".config" / "helpdesk" / "rules.toml"
    database = home / ".local" / "share" / "helpdesk" / "helpdesk.db"
    assert f"sqlite:///{database}" in config.read_text()
    assert rules.read_text() == starter_rules()
    assert database.exists()
    assert f"{config} (written)" in out and f"{rules} (written)" in out
    # The config names the database, with any password in it: its owner's alone.
    assert config.stat().st_mode & 0o777 == 0o600
    assert "created at schema revision" in out
    assert f"{OS_LOGIN} registered as admin" in out
    assert active_rules_version(f"sqlite:///{database}") == 1
    reapply = f"after editing it, apply it again with `helpdesk rules apply {rules}`"
    assert f"applied as version 1; {reapply}" in out
    assert applied_by(f"sqlite:///{database}") == OS_LOGIN

    # The person who ran init can work at once, with no flags, under the starter SLA.
    [agent] = ok(cli("agent", "list", "--json")).json()["agents"]
    assert (agent["login"], agent["role"]) == (OS_LOGIN, "admin")
    ok(cli("ticket", "create", "-s", "Welcome", "-r", "first@customer.example"))
    assert ok(cli("ticket", "list", "--json")).json()["tickets"][0]["number"] == "HD-1"
    shown = ok(cli("ticket", "show", "HD-1", "--json")).json()
    assert shown["sla_policy"] == "standard" and shown["first_response_due_at"]

    # A second run changes nothing and says so.
    before = (config.read_text(), rules.read_text())
    again = ok(cli("init")).stdout
    assert "(kept)" in again and "already at schema revision" in again
    assert f"{OS_LOGIN} already registered (admin)" in again
    active = f"desk rules version 1 active (applied by {OS_LOGIN})"
    assert f"{active}; change them with `helpdesk rules apply {rules}`" in again
    assert (config.read_text(), rules.read_text()) == before
    assert len(ok(cli("agent", "list", "--json")).json()["agents"]) == 1
    assert active_rules_version(f"sqlite:///{database}") == 1
    assert len(ok(cli("ticket", "list", "--json")).json()["tickets"]) == 1


def test_init_force_rewrites_the_starters_and_applies_them(cli: Run, home: Path) -> None:
    ok(cli("init"))
    rules = home / ".config" / "helpdesk" / "rules.toml"
    rules.write_text('[desk]\nname = "Edited"\nticket_prefix = "IT"\n')
    ok(cli("init"))
    assert "Edited" in rules.read_text()  # kept without --force
    config = home / ".config" / "helpdesk" / "config.toml"
    config.chmod(0o644)
    out = ok(cli("init", "--force")).stdout
    assert f"{rules} (overwritten)" in out
    assert config.stat().st_mode & 0o777 == 0o600
    assert rules.read_text() == starter_rules()


def test_init_writes_to_an_explicit_config_path(cli: Run, tmp_path: Path) -> None:
    config = tmp_path / "site" / "helpdesk.toml"
    url = f"sqlite:///{tmp_path / 'desk' / 'explicit.db'}"
    ok(cli("--config", config, "--db", url, "init"))
    assert url in config.read_text()
    assert (config.parent / "rules.toml").read_text() == starter_rules()
    # From now on the config file alone says where the database is.
    ok(cli("--config", config, "ticket", "create", "-s", "x", "-r", "a@b.example"))
    assert (tmp_path / "desk" / "explicit.db").exists()


def test_init_on_an_existing_database_registers_the_admin(cli: Run, db_url: str) -> None:
    out = ok(cli("--db", db_url, "init")).stdout
    assert "already at schema revision" in out
    assert f"{OS_LOGIN} registered as admin" in out
    assert active_rules_version(db_url) == 1
    doc = ok(cli("--db", db_url, "ticket", "create", "-s", "Hi", "-r", "x@y.example", "--json"))
    assert doc.json()["created_by"] == OS_LOGIN
    assert "up to date" in ok(cli("--db", db_url, "db", "current")).stdout
    assert ok(cli("--db", db_url, "db", "upgrade")).stdout == ""  # quiet for cron


def test_init_refuses_a_bad_rules_file(cli: Run, home: Path, tmp_path: Path) -> None:
    rules = home / ".config" / "helpdesk" / "rules.toml"
    rules.parent.mkdir(parents=True)
    rules.write_text('[desk]\nticket_prefx = "HD"\n')
    line = one_line_error(cli("--db", f"sqlite:///{tmp_path / 'new.db'}", "init"), 2)
    assert "rules.toml: desk.ticket_prefx" in line


SECOPS_RULES = """
[[escalation]]
name = "security-to-secops"
on = "customer_request"
where = { group = ["Night Shift"] }
actions = ["notify:group_lead", "move:SecOps"]
"""


def test_init_refuses_rules_naming_what_the_desk_lacks(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    rules = home / ".config" / "helpdesk" / "rules.toml"
    rules.parent.mkdir(parents=True)
    rules.write_text(SECOPS_RULES)
    url = f"sqlite:///{tmp_path / 'new.db'}"
    line = one_line_error(cli("--db", url, "init"), 2)
    assert line == (
        f'helpdesk: {rules}: escalation[0].actions[1]: no group "SecOps" (the desk has no '
        "groups yet: add one with `helpdesk group add NAME`); fix it, then run "
        f"`helpdesk rules apply {rules}`"
    )
    # The admin is registered all the same, so they can fix the file and apply it.
    assert active_rules_version(url) is None
    assert rules.read_text() == SECOPS_RULES
    ok(cli("--db", url, "group", "add", "SecOps"))
    applied = cli("--db", url, "rules", "apply", rules)
    assert "rules version 1 applied" in ok(applied).stdout


def test_init_by_an_agent_who_is_not_an_admin_leaves_the_rules(cli: Run, db_url: str) -> None:
    store = Store(db_url)
    with store.write() as session:
        directory.add_agent(session, NOW, directory.AgentDraft("dana", "Dana Lee"))
    store.dispose()
    out = ok(cli("--db", db_url, "--as", "dana", "init")).stdout
    assert "dana already registered (agent)" in out
    assert (
        "rules     not applied: dana is not an admin (an admin can run `helpdesk rules apply" in out
    )
    assert active_rules_version(db_url) is None
    line = one_line_error(cli("--db", db_url, "--as", "dana", "init", "--force"), 1)
    assert line.endswith("dana is not an admin: only admins apply rules")
    assert active_rules_version(db_url) is None


def test_init_demo_leaves_a_desk_with_data_alone(cli: Run, db_url: str) -> None:
    ok(cli("--db", db_url, "init"))
    ok(cli("--db", db_url, "ticket", "create", "-s", "Real work", "-r", "a@b.example"))
    out = ok(cli("--db", db_url, "init", "--demo")).stdout
    assert "not added: the desk already has tickets" in out
    assert len(ok(cli("--db", db_url, "ticket", "list", "--json")).json()["tickets"]) == 1


@pytest.mark.xdist_group("demo-home")
def test_the_demo_desk_places_every_new_ticket(cli: Run, demo_home: Path) -> None:
    """The demo's rules read local numbers as Italian and send tickets nothing else places
    to the L1 queue, so a phone agent's ticket is in someone's view at once. (On SQLite: the
    rules file and where tickets go do not depend on the back end, and the demo is slow to
    seed; `test_init_demo_fills_a_new_desk_and_can_run_again` seeds it on both.)"""
    rules = (demo_home / ".config" / "helpdesk" / "rules.toml").read_text()
    assert '\nphone_region = "IT"' in rules and '\ndefault_group = "L1"' in rules
    doc = ok(cli("ticket", "create", "-s", "Printer", "-r", "02 1234 5678", "--json")).json()
    assert doc["group"] == "L1" and doc["requester"]["phone"] == "+390212345678"


@pytest.mark.xdist_group("demo-home")
def test_the_demo_desk_has_sent_its_mail(demo_home: Path) -> None:
    """The demo's history includes the desk's mail sender (cron's `helpdesk mail send`,
    every two minutes): each mail went out at the sender's first run after it was queued,
    through the outbox as real sending does, so the demo's replies read "sent"; only what
    was queued after the sender's last run before `init` is still waiting."""
    database = demo_home / ".local" / "share" / "helpdesk" / "helpdesk.db"
    mails, mismatched = demo_mail(f"sqlite:///{database}")
    sent = [(queued, at) for state, queued, at in mails if state is OutboxState.SENT]
    waiting = [queued for state, queued, _at in mails if state is not OutboxState.SENT]
    assert len(sent) > 2000 and len(waiting) <= 10, (len(sent), len(waiting))
    last_run = max(at for _queued, at in sent if at is not None)
    for queued, at in sent:
        assert at is not None and queued <= at < queued + SEND_EVERY, (queued, at)
        assert at.second == at.microsecond == 0 and at.minute % 2 == 0, at
    assert all(queued > last_run for queued in waiting)
    assert last_run <= datetime.now(UTC)
    assert mismatched == []  # each reply says what became of its mail


@pytest.mark.slow
def test_init_demo_fills_a_new_desk_and_can_run_again(cli: Run, db_url: str, home: Path) -> None:
    # The starter rules, plus a rule naming SecOps, which only the demo creates: the rules
    # are applied before the demo is seeded (so its tickets have SLA clocks from their
    # creation) and their names checked after it, in one transaction. A `where` on a group
    # the desk lacks only warns.
    rules = home / ".config" / "helpdesk" / "rules.toml"
    rules.parent.mkdir(parents=True)
    rules.write_text(starter_rules() + SECOPS_RULES)
    result = ok(cli("--db", db_url, "init", "--demo"))
    out = result.stdout
    assert "tickets" in out and "not added" not in out
    assert out.index("applied as version 1") < out.index("demo ")
    assert re.search(r"^mail +\d+ demo mails marked sent ", out, re.M)
    assert result.stderr.strip().splitlines() == [
        # Said before the slow part starts, so nobody waits in silence.
        "seeding the demo desk: it replays weeks of a help desk, about a minute...",
        f'warning: {rules}: escalation[4].where.group[0]: no group "Night Shift" '
        "(groups: Billing Team, L1, L2, L3, SecOps): it matches no ticket until the group exists",
    ]
    listed = ok(
        cli("--db", db_url, "ticket", "list", "--status", "all", "--limit", "500", "--json")
    )
    tickets = listed.json()["tickets"]
    assert len(tickets) == 500 and listed.json()["next_cursor"] is not None
    assert {t["status"] for t in tickets} >= {"new", "open", "pending", "resolved", "closed"}
    assert any(t["channel"] == "phone" and t["created_by"] for t in tickets)
    policies = sla_policies(db_url)
    assert policies["premium"] > 0 and policies["standard"] > 0 and None not in policies
    check = ok(cli("--db", db_url, "db", "check", "--json")).json()
    assert check["ok"] is True, [c for c in check["checks"] if c["violations"]]
    # Cron ran through the history (escalations at its five-minute runs, none in the
    # future) and customers answered surveys: the reports have something to show.
    fired, answered = cron_and_surveys(db_url)
    assert fired and all(at.minute % 5 == 0 and at.second == 0 for at in fired)
    assert max(fired) <= datetime.now(UTC) and answered > 0
    again = ok(cli("--db", db_url, "init", "--demo")).stdout
    assert "not added: the desk already has tickets" in again


def test_an_empty_database_says_to_run_init(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    line = one_line_error(cli("--db", url, "ticket", "list"), 1)
    assert "helpdesk init" in line and "helpdesk db upgrade" in line
    assert "(empty)" in ok(cli("--db", url, "db", "current")).stdout

    out = ok(cli("--db", url, "db", "upgrade")).stdout
    assert "created at schema revision" in out
    line = one_line_error(cli("--db", url, "ticket", "list"), 1)
    assert "unknown agent 'tester'" in line


def test_a_missing_sqlite_file_is_not_created(cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    line = one_line_error(cli("--db", f"sqlite:///{path}", "ticket", "list"), 1)
    assert str(path) in line and "helpdesk init" in line
    assert not path.exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres:s3cret@127.0.0.1:1/nowhere", "cannot open the database at"),
        ("nosuchdb://x", "'nosuchdb' databases are not supported"),
        ("mysql://me:s3cret@db/desk", "'mysql' databases are not supported"),
        ("sqlite:/x.db", "not a database URL"),
    ],
)
def test_unusable_database_urls_are_one_line(cli: Run, url: str, expected: str) -> None:
    result = cli("--db", url, "ticket", "list")
    line = one_line_error(result, 75 if "postgresql" in url else 2)
    assert expected in line
    assert "s3cret" not in result.stderr


UNREACHABLE = "postgresql://helpdesk:s3cret@127.0.0.1:1/desk"


@pytest.mark.parametrize(
    "command",
    [
        ("ticket", "list"),
        ("ticket", "show", "HD-1"),
        ("db", "upgrade"),
        ("db", "check"),
        ("escalate",),
        ("report", "run", "--all-due"),  # even with no report due
        ("report", "run", "--all-due", "--dir", "{reports}"),
        ("mail", "fetch", "--mbox", "{mbox}"),
        ("mail", "fetch", "--mbox", "{mbox}", "--dry-run"),
    ],
)
def test_an_unreachable_database_is_one_line_and_exit_75_for_every_command(
    cli: Run, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """One wording and one exit code (75: try again later) whatever the command: the URL
    as given (not the driver's spelling), no password, no driver's background link."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "weekly.toml").write_text(
        'kind = "sla"\nperiod = "last-week"\nformat = "csv"\nrecipients = ["a@b.example"]\n'
    )
    mbox = tmp_path / "in.mbox"
    mbox.write_text("")
    args = [a.format(reports=reports, mbox=mbox) for a in command]
    result = cli("--db", UNREACHABLE, *args)
    line = one_line_error(result, 75)
    assert line.startswith(
        "helpdesk: cannot open the database at postgresql://helpdesk:***@127.0.0.1:1/desk: "
    )
    assert "s3cret" not in result.stderr and "+psycopg" not in result.stderr
    assert "sqlalche.me" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("ticket", "list"),
        ("escalate",),
        ("report", "run", "--all-due"),
        ("mail", "fetch", "--mbox", "{mbox}", "--dry-run"),
    ],
)
def test_a_file_that_is_not_a_database_is_exit_1_not_75(
    cli: Run, tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Exit 75 is for what may pass (cron tries again): a database file SQLite cannot read
    as one stays so on the next run, and is exit 1 with the same one line."""
    mbox = tmp_path / "in.mbox"
    mbox.write_text("")
    notes = tmp_path / "notes.txt"
    notes.write_text("the desk's phone numbers, not its database\n" * 100)
    args = [a.format(mbox=mbox) for a in command]
    line = one_line_error(cli("--db", f"sqlite:///{notes}", *args), 1)
    assert (
        line == f"helpdesk: cannot open the database at sqlite:///{notes}: file is not a database"
    )


def test_config_errors_exit_2_naming_the_file(cli: Run, home: Path, tmp_path: Path) -> None:
    config = home / ".config" / "helpdesk" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[database]\nurl = 42\n")
    line = one_line_error(cli("ticket", "list"), 2)
    assert str(config) in line and "database.url" in line
    line = one_line_error(cli("--config", tmp_path / "nope.toml", "ticket", "list"), 2)
    assert "nope.toml" in line


def test_init_by_an_agent_joining_a_desk_with_rules_writes_no_starter_rules(
    cli: Run, db_url: str, home: Path
) -> None:
    """An agent joining a team desk: init writes their config, not a starter rules file that
    `rules apply` would put over the team's rules, and says where the desk's rules are."""
    store = Store(db_url)
    with store.write() as session:
        directory.add_agent(session, NOW, directory.AgentDraft("boss", "Boss", role=Role.ADMIN))
        directory.add_agent(session, NOW, directory.AgentDraft("ann", "Ann Lee"))
    store.dispose()
    rules = home / ".config" / "helpdesk" / "rules.toml"
    boss = home / "boss-rules.toml"
    boss.write_text(starter_rules())
    ok(cli("--db", db_url, "--as", "boss", "rules", "apply", boss))

    out = ok(cli("--db", db_url, "--as", "ann", "init")).stdout
    assert not rules.exists()
    assert f"rules     {rules} (not written: the desk has active rules)" in out
    assert (
        "desk rules version 1 active (applied by boss); an admin can export them with "
        "`helpdesk rules show > rules.toml`" in out
    )
    assert "rules apply" not in out
    assert active_rules_version(db_url) == 1


def test_init_registers_an_admin_only_on_a_desk_without_agents(
    cli: Run, db_url: str, home: Path
) -> None:
    store = Store(db_url)
    with store.write() as session:
        directory.add_agent(session, NOW, directory.AgentDraft("ann", "Ann Lee"))
    store.dispose()
    line = one_line_error(cli("--db", db_url, "--as", "mallory", "init"), 1)
    assert line == (
        "helpdesk: mallory is not an agent of this desk: ask an admin to run "
        "`helpdesk agent add mallory`, then run `helpdesk init` again"
    )
    assert not (home / ".config" / "helpdesk").exists()  # nothing written for mallory
    logins = [
        a["login"]
        for a in ok(cli("--db", db_url, "--as", "ann", "agent", "list", "--json")).json()["agents"]
    ]
    assert logins == ["ann"]

"""`helpdesk init` and `helpdesk db ...`: a fresh machine, a second run, existing databases,
and the one-line errors for databases and config files that cannot be used."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import OS_LOGIN, Run, ok, one_line_error
from tui_helpdesk.cli.db import starter_rules
from tui_helpdesk.services import desk
from tui_helpdesk.store.engine import Store


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
    assert "created at schema revision" in out
    assert f"{OS_LOGIN} registered as admin" in out
    assert active_rules_version(f"sqlite:///{database}") == 1

    # The person who ran init can work at once, with no flags.
    [agent] = ok(cli("agent", "list", "--json")).json()["agents"]
    assert (agent["login"], agent["role"]) == (OS_LOGIN, "admin")
    ok(cli("ticket", "create", "-s", "Welcome", "-r", "first@customer.example"))
    assert ok(cli("ticket", "list", "--json")).json()["tickets"][0]["number"] == "HD-1"

    # A second run changes nothing and says so.
    before = (config.read_text(), rules.read_text())
    again = ok(cli("init")).stdout
    assert "(kept)" in again and "already at schema revision" in again
    assert f"{OS_LOGIN} already registered (admin)" in again
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
    out = ok(cli("init", "--force")).stdout
    assert f"{rules} (overwritten)" in out
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
    assert "already at schema revision" in ok(cli("--db", db_url, "db", "upgrade")).stdout


def test_init_refuses_a_bad_rules_file(cli: Run, home: Path, tmp_path: Path) -> None:
    rules = home / ".config" / "helpdesk" / "rules.toml"
    rules.parent.mkdir(parents=True)
    rules.write_text('[desk]\nticket_prefx = "HD"\n')
    line = one_line_error(cli("--db", f"sqlite:///{tmp_path / 'new.db'}", "init"), 2)
    assert "rules.toml: desk.ticket_prefx" in line


def test_init_demo_leaves_a_desk_with_data_alone(cli: Run, db_url: str) -> None:
    ok(cli("--db", db_url, "init"))
    ok(cli("--db", db_url, "ticket", "create", "-s", "Real work", "-r", "a@b.example"))
    out = ok(cli("--db", db_url, "init", "--demo")).stdout
    assert "not added: the desk already has tickets" in out
    assert len(ok(cli("--db", db_url, "ticket", "list", "--json")).json()["tickets"]) == 1


def test_init_demo_fills_a_new_desk_and_can_run_again(cli: Run, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = ok(cli("--db", url, "init", "--demo")).stdout
    assert "tickets" in out and "not added" not in out
    listed = ok(cli("--db", url, "ticket", "list", "--status", "all", "--limit", "500", "--json"))
    tickets = listed.json()["tickets"]
    assert len(tickets) == 500 and listed.json()["next_cursor"] is not None
    assert {t["status"] for t in tickets} >= {"new", "open", "pending", "resolved", "closed"}
    assert any(t["channel"] == "phone" and t["created_by"] for t in tickets)
    again = ok(cli("--db", url, "init", "--demo")).stdout
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
        ("nosuchdb://x", "invalid database URL"),
    ],
)
def test_unusable_database_urls_are_one_line(cli: Run, url: str, expected: str) -> None:
    result = cli("--db", url, "ticket", "list")
    line = one_line_error(result, 1 if "postgresql" in url else 2)
    assert expected in line
    assert "s3cret" not in result.stderr


def test_config_errors_exit_2_naming_the_file(cli: Run, home: Path, tmp_path: Path) -> None:
    config = home / ".config" / "helpdesk" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[database]\nurl = 42\n")
    line = one_line_error(cli("ticket", "list"), 2)
    assert str(config) in line and "database.url" in line
    line = one_line_error(cli("--config", tmp_path / "nope.toml", "ticket", "list"), 2)
    assert "nope.toml" in line

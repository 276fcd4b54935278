"""`helpdesk mail send|outbox|retry`, run for real against a loopback SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Run, ok, one_line_error
from tests.conftest import NOW, Desk
from tests.smtp_server import SmtpServer, free_port, smtp_server
from tui_helpdesk.services import tickets
from tui_helpdesk.store.locks import job_lock

__all__ = ["smtp_server"]  # a fixture, used by name

DESK = "support@desk.example"


def _config(home: Path, smtp_url: str | None) -> None:
    folder = home / ".config" / "helpdesk"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[mail]", f'address = "{DESK}"']
    if smtp_url:
        lines.append(f'smtp_url = "{smtp_url}"')
    (folder / "config.toml").write_text("\n".join(lines) + "\n")


def _tickets(desk_store: Desk, count: int = 2) -> list[str]:
    keys = []
    with desk_store.store.write() as session:
        for n in range(count):
            ticket = tickets.create_ticket(
                session,
                desk_store.agent,
                NOW,
                tickets.NewTicket(f"Ticket {n}", body="x", requester=f"c{n}@acme.example"),
            )
            keys.append(ticket.key)
    return keys


@pytest.fixture
def configured(home: Path, smtp_server: SmtpServer) -> SmtpServer:
    _config(home, smtp_server.url)
    return smtp_server


def test_without_a_server_it_says_so(hd: Run, home: Path, desk_store: Desk) -> None:
    _config(home, None)
    _tickets(desk_store)
    line = one_line_error(hd("mail", "send"), 2)
    assert "no SMTP server: set mail.smtp_url" in line


def test_sends_and_prints_one_line_per_mail(
    hd: Run, desk_store: Desk, configured: SmtpServer
) -> None:
    keys = _tickets(desk_store)
    lines = ok(hd("mail", "send")).stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"#1  {keys[0]}  ack  sent  c0@acme.example  [{keys[0]}] ")
    assert lines[-1] == "mail send: 2 sent, 0 deferred, 0 failed"
    assert len(configured.handler.received) == 2
    # From the desk by its name, as mail programs show a sender; the envelope is the address.
    first = configured.handler.received[0]
    assert (first.message["From"], first.mail_from) == (f"Help Desk <{DESK}>", DESK)
    assert ok(hd("mail", "send")).stdout == ""  # nothing due: quiet


def test_json_and_exit_codes(hd: Run, desk_store: Desk, configured: SmtpServer) -> None:
    _tickets(desk_store, 3)
    configured.handler.script[:] = ["250 OK", "550 5.1.1 unknown user", "451 4.3.0 later"]
    result = hd("mail", "send", "--json")
    assert result.exit_code == 3, result.stderr
    doc = result.json()
    assert [m["outcome"] for m in doc["mails"]] == ["sent", "failed", "retry"]
    assert (doc["sent"], doc["failed"], doc["deferred"]) == (1, 1, 1)
    assert doc["mails"][1]["detail"].startswith("550")
    assert doc["mails"][2]["next_attempt_at"] is not None


def test_every_mail_deferred_is_temporary(
    hd: Run, desk_store: Desk, configured: SmtpServer
) -> None:
    _tickets(desk_store, 1)
    configured.handler.script[:] = ["451 4.3.0 later"]
    assert hd("mail", "send").exit_code == 75


def test_every_mail_refused_is_a_failure(hd: Run, desk_store: Desk, configured: SmtpServer) -> None:
    _tickets(desk_store, 1)
    configured.handler.script[:] = ["554 5.7.1 no"]
    result = hd("mail", "send")
    assert result.exit_code == 1 and "failed" in result.stdout


def test_an_unreachable_server_exits_75(hd: Run, home: Path, desk_store: Desk) -> None:
    _config(home, f"smtp://127.0.0.1:{free_port()}")
    _tickets(desk_store, 1)
    line = one_line_error(hd("mail", "send"), 75)
    assert "cannot connect" in line


def test_a_held_lock_exits_75(hd: Run, desk_store: Desk, configured: SmtpServer) -> None:
    if desk_store.store.backend != "sqlite":
        pytest.skip("PostgreSQL senders share the work through row claims, no lock")
    _tickets(desk_store, 1)
    with job_lock(desk_store.store, "mail-send"):
        line = one_line_error(hd("mail", "send"), 75)
    assert "holds the lock" in line


def test_dry_run_lists_what_is_due(hd: Run, desk_store: Desk, configured: SmtpServer) -> None:
    _tickets(desk_store, 2)
    out = ok(hd("mail", "send", "--dry-run", "--limit", "1")).stdout.splitlines()
    assert len(out) == 2 and "  due  " in out[0] and out[1] == "mail send: 1 due"
    assert configured.handler.received == []


def test_outbox_lists_pages_and_retries(hd: Run, desk_store: Desk, configured: SmtpServer) -> None:
    keys = _tickets(desk_store, 3)
    configured.handler.script[:] = ["250 OK", "250 OK", "550 5.1.1 unknown user"]
    hd("mail", "send")
    page = ok(hd("mail", "outbox", "--json", "--limit", "2")).json()
    assert [m["id"] for m in page["mails"]] == [3, 2] and page["next_before"] == 2
    rest = ok(hd("mail", "outbox", "--json", "--before", "2")).json()
    assert [m["id"] for m in rest["mails"]] == [1] and rest["next_before"] is None
    failed = ok(hd("mail", "outbox", "--json", "--state", "failed")).json()["mails"]
    assert [(m["ticket"], m["state"]) for m in failed] == [(keys[2], "failed")]
    assert "550" in failed[0]["last_error"]
    of_ticket = ok(hd("mail", "outbox", "--json", "--ticket", keys[0])).json()["mails"]
    assert [m["ticket"] for m in of_ticket] == [keys[0]]
    table = ok(hd("mail", "outbox")).stdout
    assert "failed" in table and keys[2] in table
    assert "--state" in one_line_error(hd("mail", "outbox", "--state", "lost"), 2)
    assert "queued again" in ok(hd("mail", "retry", "3")).stdout
    assert "not failed" in one_line_error(hd("mail", "retry", "3"), 2)
    ok(hd("mail", "send"))
    assert len(configured.handler.received) == 3


def test_templates_are_checked_and_listed(cli: Run, home: Path) -> None:
    folder = home / "templates"
    folder.mkdir()
    (folder / "ack.txt").write_text("Subject: Got it: {subject}\n\nThanks, {requester_name}.\n")
    config = home / ".config" / "helpdesk"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(f'[mail]\ntemplates = "{folder}"\n')
    listed = {t["event"]: t for t in ok(cli("mail", "templates", "--json")).json()["templates"]}
    assert listed["ack"]["source"] == str(folder / "ack.txt")
    assert listed["reply"]["source"] == "built-in reply.txt"
    assert "{body}" in ok(cli("mail", "templates")).stdout
    (folder / "survey.txt").write_text("Subject: {score}\n\nx\n")
    line = one_line_error(cli("mail", "templates"), 2)
    assert f"{folder / 'survey.txt'}: unknown placeholder {{score}}" in line

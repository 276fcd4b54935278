"""`helpdesk mail fetch` and `helpdesk mail explain` as a user runs them: Maildir, mbox and a
real IMAP server; mail delivered by a real SMTP server (aiosmtpd on loopback); output, exit
codes, dry runs, duplicates, the job lock, a failing mail, and a run killed in the middle of
intake (before and after its commit), which the next run completes exactly once."""

from __future__ import annotations

import mailbox
import shutil
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests.channels.dropping_imap import dropping_imap
from tests.channels.imap_server import ImapServer, imap_server, trust_imap
from tests.cli.conftest import Result, Run, ok, one_line_error
from tests.conftest import Desk
from tests.smtp_server import free_port
from tui_helpdesk.channels.fetch import lock_name
from tui_helpdesk.channels.mailboxes import MaildirSource
from tui_helpdesk.services import mail_intake
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.locks import job_lock
from tui_helpdesk.store.models import InboundMail, Message, Outbox, Ticket

__all__ = ["imap_server", "trust_imap"]  # fixtures, used by name

CORPUS = Path(__file__).resolve().parents[1] / "mail_corpus"
DESK = "support@desk.example"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[mail]\naddress = "{DESK}"\nattachment_limit = 4096\n')
    return path


@pytest.fixture
def mail(desk_store: Desk, db_url: str, cli: Run, config: Path) -> Run:
    """`helpdesk --config <desk address> --db <the small desk> mail ...`."""

    def run(*args: object, **kwargs: Any) -> Result:
        return cli("--config", config, "--db", db_url, "mail", *args, **kwargs)

    return run


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    path = tmp_path / "Maildir"
    mailbox.Maildir(path, create=True)
    return path


def deliver(maildir: Path, *names: str) -> None:
    for name in names:
        shutil.copyfile(CORPUS / name, maildir / "new" / f"{name}.{len(list(maildir.rglob('*')))}")


def new_files(maildir: Path) -> list[str]:
    return sorted(p.name for p in (maildir / "new").iterdir())


def count(store: Store, model: type) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_fetch_takes_mail_in_and_marks_it_done(desk_store: Desk, mail: Run, maildir: Path) -> None:
    deliver(maildir, "gmail_new.eml", "html_only.eml", "mailing_list.eml")
    result = ok(mail("fetch", "--maildir", maildir))
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("HD-1  new-ticket  <CAHx7Wd1=q9Lr3kPz@mail.gmail.com>  anna.rossi")
    assert lines[-1].startswith("mail fetch: took 3 mails (3 new-ticket); 0 failed; from maildir:")
    assert new_files(maildir) == []
    assert all(p.name.endswith(":2,S") for p in (maildir / "cur").iterdir())
    assert count(desk_store.store, Ticket) == 3
    # Cron runs again: nothing new, nothing said.
    again = ok(mail("fetch", "--maildir", maildir))
    assert again.stdout == "" and again.stderr == ""


def test_fetch_json_and_explain(desk_store: Desk, mail: Run, maildir: Path) -> None:
    deliver(maildir, "gmail_new.eml", "stranger_spoofed_tag.eml")
    doc = ok(mail("fetch", "--maildir", maildir, "--json")).json()
    assert doc["counts"] == {"new-ticket": 2} and doc["failed"] == [] and not doc["dry_run"]
    spoof = doc["mails"][1]
    assert (spoof["ticket"], spoof["detail"]["tag_refused"]["tag"]) == ("HD-2", "HD-1")
    shown = ok(mail("explain", "<spoof-1@stranger.example>")).stdout
    assert shown.splitlines()[1].startswith("  new-ticket  -> HD-2  at 2")
    assert "tag_refused: tag=HD-1, refused=eve@stranger.example is neither" in shown
    explained = ok(mail("explain", "spoof-1@stranger.example", "--json")).json()
    assert (explained["source"], explained["decision"]) == ("inbound", "new-ticket")
    missing = one_line_error(mail("explain", "<nope@x.example>"), 1)
    assert "no mail with Message-ID <nope@x.example>" in missing


def test_dry_run_changes_nothing(desk_store: Desk, mail: Run, maildir: Path) -> None:
    deliver(maildir, "gmail_new.eml")
    result = ok(mail("fetch", "--maildir", maildir, "--dry-run"))
    assert "new-ticket" in result.stdout and "would take 1 mail (" in result.stdout
    assert len(new_files(maildir)) == 1
    assert count(desk_store.store, Ticket) == 0 and count(desk_store.store, InboundMail) == 0


def test_dry_run_numbers_new_tickets_in_the_run(desk_store: Desk, mail: Run, maildir: Path) -> None:
    """Each mail of a dry run is rolled back, so each saw the same next number: the tickets
    it would open are shown as the run's new #1, #2, never as one number for two tickets."""
    deliver(maildir, "gmail_new.eml", "html_only.eml")
    *lines, summary = ok(mail("fetch", "--maildir", maildir, "--dry-run")).stdout.splitlines()
    assert [line.split("  ")[:2] for line in lines] == [
        ["new #1", "new-ticket"],
        ["new #2", "new-ticket"],
    ]
    assert summary.startswith("mail fetch: would take 2 mails (2 new-ticket); 0 failed")
    assert summary.endswith("; new tickets get their numbers when a real run takes them in")
    doc = ok(mail("fetch", "--maildir", maildir, "--dry-run", "--json")).json()
    assert [(m["ticket"], m["new_ticket"]) for m in doc["mails"]] == [(None, 1), (None, 2)]
    real = ok(mail("fetch", "--maildir", maildir, "--json")).json()
    assert [(m["ticket"], m["new_ticket"]) for m in real["mails"]] == [
        ("HD-1", None),
        ("HD-2", None),
    ]


def test_duplicate_message_id_is_skipped_and_reported(
    desk_store: Desk, mail: Run, maildir: Path
) -> None:
    deliver(maildir, "gmail_new.eml")
    ok(mail("fetch", "--maildir", maildir))
    deliver(maildir, "gmail_new.eml")  # the same mail delivered twice
    result = ok(mail("fetch", "--maildir", maildir))
    first, summary = result.stdout.strip().splitlines()
    assert first.startswith("HD-1  duplicate  <CAHx7Wd1=q9Lr3kPz@mail.gmail.com>  already taken in")
    assert "(1 duplicate)" in summary
    assert new_files(maildir) == [] and count(desk_store.store, Ticket) == 1


def test_mbox(desk_store: Desk, mail: Run, tmp_path: Path) -> None:
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path)
    for name in ("gmail_new.eml", "outlook_reply.eml"):
        box.add((CORPUS / name).read_bytes())
    box.flush()
    box.close()
    assert ok(mail("fetch", "--mbox", path, "--json")).json()["counts"] == {"new-ticket": 2}
    assert ok(mail("fetch", "--mbox", path)).stdout == ""
    assert [m.get_flags() for m in mailbox.mbox(path)] == ["RO", "RO"]


def test_a_failing_mail_is_left_for_the_next_run(
    desk_store: Desk, mail: Run, maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(maildir, "gmail_new.eml", "html_only.eml")
    real = mail_intake.take_mail

    def flaky(session: Any, now: datetime, parsed: Any, options: Any) -> Any:
        if "initech" in parsed.message_id:
            raise RuntimeError("disk on fire")
        return real(session, now, parsed, options)

    monkeypatch.setattr(mail_intake, "take_mail", flaky)
    result = mail("fetch", "--maildir", maildir)
    assert result.exit_code == 3
    assert "failed: RuntimeError: disk on fire" in result.stderr
    assert "took 1 mail (1 new-ticket); 1 failed" in result.stdout
    assert len(new_files(maildir)) == 1  # the failed one waits in new/
    monkeypatch.setattr(mail_intake, "take_mail", real)
    ok(mail("fetch", "--maildir", maildir))
    assert new_files(maildir) == [] and count(desk_store.store, Ticket) == 2


def test_overlapping_run_exits_75(desk_store: Desk, mail: Run, maildir: Path) -> None:
    deliver(maildir, "gmail_new.eml")
    with job_lock(desk_store.store, lock_name(MaildirSource(maildir))):
        line = one_line_error(mail("fetch", "--maildir", maildir), 75)
    assert "holds the lock" in line
    assert len(new_files(maildir)) == 1
    ok(mail("fetch", "--maildir", maildir))  # another mailbox's lock would not have mattered
    assert count(desk_store.store, Ticket) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no mailbox: give --maildir DIR, --mbox FILE or --imap URL"),
        (("--maildir", "x", "--mbox", "y"), "give one mailbox, not --maildir and --mbox"),
        (("--imap", "imaps://u:pw@mail.example"), "carries a password"),
        (("--maildir", "nowhere"), "not a Maildir"),
        (("--mbox", "nowhere.mbox"), "no such mbox file"),
        (("--maildir", ".", "--folder", "X"), "--folder and --move-to are for IMAP"),
    ],
)
def test_usage_errors(mail: Run, args: tuple[str, ...], message: str) -> None:
    assert message in one_line_error(mail("fetch", *args), 2)


@pytest.mark.parametrize("command", ["fetch", "explain"])
def test_help(mail: Run, command: str) -> None:
    assert "Usage: helpdesk mail " + command in ok(mail(command, "--help")).stdout


# --- killed in the middle ------------------------------------------------------------------

DYING = """
import os, signal, sys
from tui_helpdesk.channels import mailboxes
from tui_helpdesk.services import mail_intake

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "before-commit":
    real = mail_intake.take_mail

    def take_then_die(*args, **kwargs):
        real(*args, **kwargs)  # parsed and written in the transaction, not committed
        die()

    mail_intake.take_mail = take_then_die
else:  # committed, not yet marked done in the mailbox
    mailboxes.MaildirSource.done = die

from tui_helpdesk.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("when", ["before-commit", "after-commit"])
def test_killed_during_intake_the_next_run_takes_the_mail_once(
    desk_store: Desk, db_url: str, config: Path, mail: Run, maildir: Path, when: str
) -> None:
    deliver(maildir, "gmail_new.eml")
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            DYING,
            when,
            "--config",
            str(config),
            "--db",
            db_url,
            "mail",
            "fetch",
            "--maildir",
            str(maildir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(new_files(maildir)) == 1  # never marked done
    committed = count(desk_store.store, InboundMail)
    assert committed == (0 if when == "before-commit" else 1)
    rerun = ok(mail("fetch", "--maildir", maildir))
    expected = "new-ticket" if when == "before-commit" else "duplicate"
    assert f"HD-1  {expected}  <CAHx7Wd1=q9Lr3kPz@mail.gmail.com>" in rerun.stdout
    assert new_files(maildir) == []
    store = desk_store.store
    assert (count(store, InboundMail), count(store, Ticket), count(store, Message)) == (1, 1, 1)
    assert count(store, Outbox) == 1  # one acknowledgement, not two
    assert ok(mail("fetch", "--maildir", maildir)).stdout == ""


# --- IMAP ----------------------------------------------------------------------------------


def test_fetch_from_imap_with_the_password_file(
    desk_store: Desk, db_url: str, cli: Run, trust_imap: ImapServer, tmp_path: Path
) -> None:
    secret = tmp_path / "imap-password"
    secret.write_text(trust_imap.password + "\n")
    config = tmp_path / "imap.toml"
    config.write_text(
        f'[mail]\naddress = "{DESK}"\nimap_url = "{trust_imap.url()}"\npassword_file = "{secret}"\n'
    )
    for name in ("gmail_new.eml", "auto_reply_ooo.eml"):
        trust_imap.append((CORPUS / name).read_bytes())
    result = ok(cli("--config", config, "--db", db_url, "mail", "fetch", "--json"))
    # The out-of-office answer threads by its subject tag: its sender is the requester.
    assert result.json()["counts"] == {"new-ticket": 1, "threaded": 1}
    flags = trust_imap.folder()
    assert all("\\Seen" in f for f in flags.values()) and len(flags) == 2
    again = ok(cli("--config", config, "--db", db_url, "mail", "fetch", "--imap", trust_imap.url()))
    assert again.stdout == ""
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    config.write_text(config.read_text().replace(str(secret), str(wrong)))
    refused = one_line_error(cli("--config", config, "--db", db_url, "mail", "fetch"), 1)
    assert "login refused" in refused


def test_unreachable_imap_server_exits_75(
    desk_store: Desk, db_url: str, cli: Run, tmp_path: Path
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x\n")
    config = tmp_path / "c.toml"
    config.write_text(f'[mail]\npassword_file = "{secret}"\n')
    result = cli(
        "--config", config, "--db", db_url, "mail", "fetch", "--imap", f"imaps://u@127.0.0.1:{free_port()}"
    )  # fmt: skip
    assert "cannot reach the IMAP server" in one_line_error(result, 75)


@pytest.mark.parametrize("drop_on", ["SELECT", "FETCH"])
def test_imap_connection_lost_mid_fetch_exits_75_in_one_line(
    desk_store: Desk, db_url: str, cli: Run, trust_imap: ImapServer, tmp_path: Path, drop_on: str
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret-not-shown\n")
    config = tmp_path / "c.toml"
    config.write_text(f'[mail]\npassword_file = "{secret}"\n')
    before = count(desk_store.store, Ticket)
    with dropping_imap(trust_imap.cert, trust_imap.root / "key.pem", drop_on) as server:
        result = cli("--config", config, "--db", db_url, "mail", "fetch", "--imap", server.url())
    line = one_line_error(result, 75)
    assert f"helpdesk@localhost:{server.port}/INBOX: connection lost" in line
    assert "s3cret" not in result.stderr + result.stdout
    assert count(desk_store.store, Ticket) == before


# --- delivered by a real SMTP server -----------------------------------------------------


class MaildirDelivery:
    """An aiosmtpd handler that delivers every mail it accepts into a Maildir, as the mail
    server in front of the desk does."""

    def __init__(self, path: Path) -> None:
        self.box = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.add(envelope.original_content)
        return "250 OK delivered"


@pytest.fixture
def smtp_into(maildir: Path) -> Iterator[int]:
    port = free_port()
    controller = Controller(MaildirDelivery(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_mail_through_smtp_and_our_acknowledgement_looping_back(
    desk_store: Desk, mail: Run, maildir: Path, smtp_into: int
) -> None:
    from tui_helpdesk.channels.compose import compose

    with smtplib.SMTP("127.0.0.1", smtp_into) as smtp:
        smtp.sendmail("anna.rossi@acme.example", [DESK], (CORPUS / "gmail_new.eml").read_bytes())
    assert "HD-1  new-ticket" in ok(mail("fetch", "--maildir", maildir)).stdout
    store = desk_store.store
    with store.read() as session:
        ack = session.scalars(select(Outbox).where(Outbox.kind == "ack")).one()
        # The acknowledgement goes out, and a forwarding loop delivers it back to the desk.
        message = compose(ack, DESK, datetime.now(UTC))
        ack_id = ack.message_id
    assert message["Auto-Submitted"] == "auto-replied"
    with smtplib.SMTP("127.0.0.1", smtp_into) as smtp:
        smtp.send_message(message, from_addr=DESK, to_addrs=[DESK])
    before = (count(store, Ticket), count(store, Message), count(store, Outbox))
    result = ok(mail("fetch", "--maildir", maildir))
    assert f"-  ignored  {ack_id}" in result.stdout
    assert (count(store, Ticket), count(store, Message), count(store, Outbox)) == before


# --- attachments taken in, shown and written back ---------------------------------------


def test_attachments_taken_in_are_shown_and_written(
    desk_store: Desk,
    mail: Run,
    cli: Run,
    db_url: str,
    maildir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "Anna <anna@acme.example>"
    message["To"] = DESK
    message["Subject"] = "crash dump"
    message["Message-ID"] = "<attach-1@acme.example>"
    message.set_content("see attached")
    payload = bytes(range(256)) * 2
    hostile = "[red]evil\x1b[31m.bin"
    message.add_attachment(payload, "application", "octet-stream", filename=hostile)
    (maildir / "new" / "attach.1").write_bytes(message.as_bytes())
    deliver(maildir, "oversized_attachment.eml")  # app.ini kept, the dump over the 4 KB limit
    fetched = ok(mail("fetch", "--maildir", maildir, "--json")).json()["mails"]
    keys = {m["message_id"]: m["ticket"] for m in fetched}
    binary_ticket = keys["<attach-1@acme.example>"]
    logs_ticket = next(k for m, k in keys.items() if m != "<attach-1@acme.example>")

    def helpdesk(*args: object) -> Result:
        return cli("--db", db_url, "--as", "bob", "ticket", *args)

    doc = ok(helpdesk("show", binary_ticket, "--json")).json()
    first = doc["messages"][0]
    [attachment] = first["attachments"]
    assert set(attachment) == {"id", "message_id", "filename", "content_type", "size", "stored"}
    assert attachment["message_id"] == first["id"]
    assert (attachment["content_type"], attachment["size"]) == ("application/octet-stream", 512)
    assert "\x1b" not in attachment["filename"] and attachment["stored"] is True
    logs = ok(helpdesk("show", logs_ticket, "--json")).json()["messages"][0]["attachments"]
    assert [(a["filename"], a["stored"]) for a in logs] == [
        ("app.ini", True),
        ("coré dump.bin", False),
    ]

    shown = ok(helpdesk("show", binary_ticket)).stdout
    assert f"attachment {attachment['id']}: " in shown and "512 B" in shown
    assert "\x1b" not in shown and "[red]evil" in shown  # inert: never markup
    assert "not kept: over the size limit" in ok(helpdesk("show", logs_ticket)).stdout

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    written = ok(helpdesk("attachment", binary_ticket, attachment["id"]))
    [name] = [p.name for p in out.iterdir()]
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert "\x1b" not in name and (out / name).read_bytes() == payload
    assert "512 bytes written" in written.stderr
    again = one_line_error(helpdesk("attachment", binary_ticket, attachment["id"]), 1)
    assert "--force" in again and (out / name).read_bytes() == payload
    (out / name).write_bytes(b"old")
    ok(helpdesk("attachment", binary_ticket, attachment["id"], "--force"))
    assert (out / name).read_bytes() == payload
    chosen = tmp_path / "chosen.bin"
    ok(helpdesk("attachment", binary_ticket, attachment["id"], "--out", chosen))
    assert chosen.read_bytes() == payload

    ini = logs[0]["id"]
    assert ok(helpdesk("attachment", logs_ticket, ini, "--out", "-")).stdout.startswith("[server]")
    assert "over the size limit" in one_line_error(
        helpdesk("attachment", logs_ticket, logs[1]["id"]), 1
    )
    assert "has no attachment" in one_line_error(
        helpdesk("attachment", logs_ticket, attachment["id"]), 1
    )


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..\\win.ini", "_win.ini"),
        (".bashrc", "bashrc"),
        ("a\x1b[31mb\x00c.txt", "abc.txt"),
        ("..", "attachment-7"),
        ("", "attachment-7"),
    ],
)
def test_default_attachment_file_name_is_safe(stored: str, expected: str) -> None:
    from tui_helpdesk.cli.ticket import safe_file_name

    assert safe_file_name(stored, 7) == expected


def test_an_attachment_is_not_written_to_a_terminal(tmp_path: Path) -> None:
    """`--out -` on a terminal is refused before anything is read (exit 2, one line), as a
    binary report export is: an attachment's bytes could be control sequences."""
    import os
    import pty

    helpdesk = Path(sys.executable).with_name("helpdesk")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [
                str(helpdesk),
                *("--db", f"sqlite:///{tmp_path / 'none.db'}", "--as", "bob"),
                *("ticket", "attachment", "HD-1", "1", "--out", "-"),
            ],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("helpdesk: ") and "write it to a file" in lines[-1]
    assert "Traceback" not in done.stderr

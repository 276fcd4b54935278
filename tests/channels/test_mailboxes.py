"""The mailbox sources and their read -> commit -> mark-done protocol: Maildir and mbox files,
and a real IMAP server (Dovecot on loopback, TLS and STARTTLS) where mail must be read without
setting \\Seen and flagged or moved only once `done` is called."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from tests.channels.dropping_imap import dropping_imap
from tests.channels.imap_server import ImapServer
from tui_helpdesk.channels.mailboxes import (
    ImapSource,
    MailboxError,
    MailboxUnavailable,
    MaildirSource,
    MboxSource,
    parse_imap_url,
)


def raw(n: int) -> bytes:
    head = f"From: a{n}@acme.example\r\nSubject: mail {n}\r\nMessage-ID: <m{n}@acme.example>"
    return f"{head}\r\n\r\nbody {n}\r\n".encode()


def make_maildir(path: Path, count: int) -> mailbox.Maildir:
    box = mailbox.Maildir(path, create=True)
    for n in range(count):
        box.add(raw(n))
    return box


def test_maildir_reads_new_mail_and_marks_it_done_only_when_told(tmp_path: Path) -> None:
    box = make_maildir(tmp_path / "Maildir", 3)
    seen = mailbox.MaildirMessage(raw(9))
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(seen)  # read before: not ours to take
    unread = mailbox.MaildirMessage(raw(8))
    unread.set_subdir("cur")
    box.add(unread)  # listed by a mail client but never read: still new to us
    source = MaildirSource(tmp_path / "Maildir")
    items = list(source.items())
    texts = sorted(item.raw.replace(b"\r\n", b"\n") for item in items)
    assert texts == sorted(raw(n).replace(b"\r\n", b"\n") for n in (0, 1, 2, 8))
    assert len(list(source.items())) == 4  # reading changes nothing
    source.done(items[0])
    source.done(items[0])  # twice is harmless
    left = list(MaildirSource(tmp_path / "Maildir").items())
    assert len(left) == 3
    done = [p.name for p in (tmp_path / "Maildir" / "cur").iterdir() if p.name.endswith(",S")]
    assert len(done) == 2  # the one marked now, and the one read before


def test_not_a_maildir_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(MailboxError, match="not a Maildir") as caught:
        MaildirSource(tmp_path)
    assert caught.value.exit_code == 2


def test_mbox_marks_done_mail_read_when_closed(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    box = mailbox.mbox(path)
    for n in range(3):
        box.add(raw(n))
    box.flush()
    box.close()
    source = MboxSource(path)
    items = list(source.items())
    assert [item.raw.split(b"\n")[1] for item in items] == [
        b"Subject: mail 0\r",
        b"Subject: mail 1\r",
        b"Subject: mail 2\r",
    ]
    source.done(items[1])
    source.close()
    again = MboxSource(path)
    assert [item.key for item in again.items()] == ["0", "2"]
    again.close()
    flags = [m.get_flags() for m in mailbox.mbox(path)]
    assert flags == ["", "RO", ""]


def test_imap_url_checks() -> None:
    address = parse_imap_url("imaps://desk%40x@mail.example/Support%20Inbox")
    assert (address.user, address.host, address.port, address.folder, address.tls) == (
        "desk@x",
        "mail.example",
        993,
        "Support Inbox",
        True,
    )
    assert parse_imap_url("imap://u@h:1143", folder="Other").folder == "Other"
    for bad, message in (
        ("imaps://u:pw@h", "carries a password"),
        ("imaps://h", "no user"),
        ("http://u@h", "expected an imap"),
    ):
        with pytest.raises(MailboxError, match=message) as caught:
            parse_imap_url(bad)
        assert caught.value.exit_code == 2


# --- a real IMAP server ----------------------------------------------------------------------


@pytest.mark.parametrize("tls", [True, False], ids=["imaps", "starttls"])
def test_imap_reads_without_seen_and_flags_after_done(trust_imap: ImapServer, tls: bool) -> None:
    for n in range(3):
        trust_imap.append(raw(n))
    source = ImapSource(parse_imap_url(trust_imap.url(tls=tls)), trust_imap.password)
    items = list(source.items())
    assert sorted(item.raw for item in items) == sorted(raw(n) for n in range(3))
    assert all("\\Seen" not in flags for flags in trust_imap.folder().values())  # PEEK
    source.done(items[0])
    source.close()
    flags = trust_imap.folder()
    assert [subject for subject, f in sorted(flags.items()) if "\\Seen" in f] == ["mail 0"]
    second = ImapSource(parse_imap_url(trust_imap.url(tls=tls)), trust_imap.password)
    assert len(list(second.items())) == 2
    second.close()


def test_imap_moves_done_mail_to_a_folder(trust_imap: ImapServer) -> None:
    trust_imap.create("Taken")
    trust_imap.append(raw(1))
    trust_imap.append(raw(2))
    source = ImapSource(parse_imap_url(trust_imap.url()), trust_imap.password, move_to="Taken")
    first = next(iter(source.items()))
    source.done(first)
    source.close()
    assert list(trust_imap.folder()) == ["mail 2"]
    assert list(trust_imap.folder("Taken")) == ["mail 1"]


def test_imap_wrong_password_and_missing_folder(trust_imap: ImapServer) -> None:
    with pytest.raises(MailboxError, match="login refused"):
        ImapSource(parse_imap_url(trust_imap.url()), "wrong")
    with pytest.raises(MailboxError, match="cannot open the folder"):
        ImapSource(parse_imap_url(trust_imap.url(folder="Nope")), trust_imap.password)
    with pytest.raises(MailboxError, match="no IMAP password") as caught:
        ImapSource(parse_imap_url(trust_imap.url()), None)
    assert caught.value.exit_code == 2


def test_imap_untrusted_certificate_is_refused(imap_server: ImapServer) -> None:
    # No SSL_CERT_FILE: the self-signed certificate is not trusted.
    with pytest.raises(MailboxError, match="TLS with the IMAP server"):
        ImapSource(parse_imap_url(imap_server.url()), imap_server.password)


def test_unreachable_imap_server_is_temporary() -> None:
    with pytest.raises(MailboxUnavailable, match="cannot reach") as caught:
        ImapSource(parse_imap_url("imaps://u@127.0.0.1:1"), "pw")
    assert caught.value.exit_code == 75


@pytest.mark.parametrize("drop_on", ["LOGIN", "SELECT", "SEARCH", "FETCH", "STORE"])
def test_a_connection_lost_in_the_session_is_temporary(
    trust_imap: ImapServer, drop_on: str
) -> None:
    """A server that closes the connection at any step of the fetch (the client sees
    `IMAP4.abort: socket error: EOF`) is a one-line MailboxUnavailable naming the mailbox."""
    key = trust_imap.root / "key.pem"
    with dropping_imap(trust_imap.cert, key, drop_on) as server:
        with pytest.raises(MailboxUnavailable) as caught:
            source = ImapSource(parse_imap_url(server.url()), "pw-not-shown")
            for item in source.items():
                source.done(item)
        assert server.seen[-1] == drop_on
    message = str(caught.value)
    assert caught.value.exit_code == 75
    assert f"helpdesk@localhost:{server.port}/INBOX" in message
    assert "connection lost" in message or "cannot reach" in message
    assert "pw-not-shown" not in message and "\n" not in message

"""The SMTP client and the composer against a real aiosmtpd server on loopback: plain,
STARTTLS and implicit TLS with a certificate made at test time, login with the user from
the URL, 4xx and 5xx answers sorted into temporary and permanent failures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.smtp_server import (
    PASSWORD,
    USER,
    Recorder,
    SmtpServer,
    TlsFiles,
    free_port,
    smtp_server,
    start_server,
    tls_files,
)
from tui_helpdesk.channels.compose import ComposeError, compose, envelope_sender
from tui_helpdesk.channels.smtp import (
    OutboxMailer,
    SmtpTarget,
    SmtpTransport,
    open_mailer,
    parse_smtp_url,
)
from tui_helpdesk.config import MailSettings
from tui_helpdesk.domain import OutboxState
from tui_helpdesk.services.delivery import SendFailed, TransportUnavailable
from tui_helpdesk.store.models import Outbox, OutboxAttachment

__all__ = ["smtp_server", "tls_files"]  # fixtures, used by name

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DESK = "support@desk.example"


def _row(**fields: object) -> Outbox:
    values: dict[str, object] = {
        "id": 7,
        "created_at": NOW,
        "ticket_id": None,
        "kind": "reply",
        "to_addrs": ["anna@acme.example"],
        "subject": "[HD-1] Re: Printer on fire",
        "body": "Turn it off and on again. Très bien.\n",
        "headers": {
            "X-Helpdesk-Ticket": "HD-1",
            "In-Reply-To": "<a1@acme.example>",
            "References": "<a1@acme.example>",
        },
        "message_id": "<123.hd-1@desk.example>",
        "state": OutboxState.QUEUED,
        "attempts": 1,
    }
    values.update(fields)
    return Outbox(**values)


def _transport(server: SmtpServer, **kwargs: object) -> SmtpTransport:
    return SmtpTransport(parse_smtp_url(server.url), None, **kwargs)  # type: ignore[arg-type]


# --- URLs and composing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("smtp://127.0.0.1:2525", SmtpTarget("smtp", "127.0.0.1", 2525, None)),
        ("smtp://mail.example.com", SmtpTarget("smtp", "mail.example.com", 25, None)),
        ("smtps://desk@mail.example.com", SmtpTarget("smtps", "mail.example.com", 465, "desk")),
        (
            "smtp://support%40example.com@mx.example.com:587",
            SmtpTarget("smtp", "mx.example.com", 587, "support@example.com"),
        ),
        ("SMTPS://u:ignored@h:1", SmtpTarget("smtps", "h", 1, "u")),
    ],
)
def test_parse_smtp_url(url: str, target: SmtpTarget) -> None:
    assert parse_smtp_url(url) == target


@pytest.mark.parametrize("url", ["imap://h", "smtp://", "smtp://h:port", "h:25"])
def test_parse_smtp_url_refuses(url: str) -> None:
    with pytest.raises(ValueError, match="smtp"):
        parse_smtp_url(url)


def test_compose_writes_every_header_of_the_row() -> None:
    row = _row(headers={"Auto-Submitted": "auto-replied", "X-Helpdesk-Ticket": "HD-1"})
    row.attachments = [OutboxAttachment(filename="r.csv", content_type="text/csv", content=b"a,b")]
    message = compose(row, f"Help Desk <{DESK}>", NOW)
    assert message["From"] == f"Help Desk <{DESK}>"
    assert envelope_sender(message) == DESK
    assert message["To"] == "anna@acme.example"
    assert message["Subject"] == "[HD-1] Re: Printer on fire"
    assert message["Message-ID"] == "<123.hd-1@desk.example>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Date"] == "Mon, 23 Nov 2026 09:30:00 +0000"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "r.csv" and attachment.get_content() == "a,b"


def test_compose_keeps_a_rows_own_sender_and_refuses_a_broken_header() -> None:
    message = compose(_row(headers={"From": "reports@desk.example"}), DESK, NOW)
    assert message["From"] == "reports@desk.example"
    with pytest.raises(ComposeError, match="outbox #7"):
        compose(_row(subject="two\nlines"), DESK, NOW)


# --- sending --------------------------------------------------------------------------------


def test_sends_over_plain_smtp(smtp_server: SmtpServer) -> None:
    with _transport(smtp_server) as smtp:
        mailer = OutboxMailer(smtp, DESK)
        assert mailer.deliver(_row(), NOW) is None
        assert not smtp.tls  # the test server offers no STARTTLS
    [got] = smtp_server.handler.received
    assert got.mail_from == DESK and got.rcpt_tos == ["anna@acme.example"]
    assert got.message["Subject"] == "[HD-1] Re: Printer on fire"
    assert got.message["In-Reply-To"] == "<a1@acme.example>"
    assert got.message["Message-ID"] == "<123.hd-1@desk.example>"
    assert "Très bien." in got.message.get_content()


def test_a_4xx_is_temporary_and_a_5xx_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.handler.script[:] = ["451 4.3.0 try later", "554 5.7.1 rejected as spam"]
    with _transport(smtp_server) as smtp:
        mailer = OutboxMailer(smtp, DESK)
        with pytest.raises(SendFailed, match="451") as temporary:
            mailer.deliver(_row(), NOW)
        assert not temporary.value.permanent
        with pytest.raises(SendFailed, match="554") as permanent:
            mailer.deliver(_row(), NOW)
        assert permanent.value.permanent
        assert mailer.deliver(_row(), NOW) is None  # the same session goes on
    assert len(smtp_server.handler.received) == 1


def test_refused_recipients(smtp_server: SmtpServer) -> None:
    smtp_server.handler.refuse.add("ghost@acme.example")
    with _transport(smtp_server) as smtp:
        mailer = OutboxMailer(smtp, DESK)
        with pytest.raises(SendFailed, match=r"ghost@acme\.example") as refused:
            mailer.deliver(_row(to_addrs=["ghost@acme.example"]), NOW)
        assert refused.value.permanent
        note = mailer.deliver(_row(to_addrs=["ghost@acme.example", "anna@acme.example"]), NOW)
    assert note is not None and "ghost@acme.example" in note
    assert [r.rcpt_tos for r in smtp_server.handler.received] == [["anna@acme.example"]]


def test_a_malformed_row_fails_permanently(smtp_server: SmtpServer) -> None:
    with _transport(smtp_server) as smtp, pytest.raises(SendFailed, match="compose") as failed:
        OutboxMailer(smtp, DESK).deliver(_row(subject="a\r\nBcc: x@evil.example"), NOW)
    assert failed.value.permanent
    assert smtp_server.handler.received == []


def test_unreachable_server_is_temporary() -> None:
    target = SmtpTarget("smtp", "127.0.0.1", free_port(), None)
    with pytest.raises(TransportUnavailable, match="cannot connect") as down:
        SmtpTransport(target, None, timeout=5).__enter__()
    assert down.value.temporary


def test_starttls_is_taken_when_offered(tls_files: TlsFiles) -> None:
    controller, server = start_server(starttls=tls_files.server_context())
    try:
        transport = SmtpTransport(
            parse_smtp_url(server.url), None, ssl_context=tls_files.client_context()
        )
        with transport as smtp:
            assert smtp.tls
            OutboxMailer(smtp, DESK).deliver(_row(), NOW)
    finally:
        controller.stop()
    [got] = server.handler.received
    assert got.tls


def test_starttls_with_an_untrusted_certificate_stops(tls_files: TlsFiles) -> None:
    controller, server = start_server(starttls=tls_files.server_context())
    try:
        with pytest.raises(TransportUnavailable, match="TLS") as refused:
            SmtpTransport(parse_smtp_url(server.url), None, timeout=5).__enter__()
        assert not refused.value.temporary
    finally:
        controller.stop()
    assert server.handler.received == []


def test_smtps_with_login_from_the_url_and_password_file(
    tls_files: TlsFiles, tmp_path: Path
) -> None:
    controller, server = start_server(implicit_tls=tls_files.server_context(), auth=True)
    password_file = tmp_path / "mail-password"
    password_file.write_text(PASSWORD + "\n")
    settings = MailSettings(
        address=DESK, smtp_url=server.url_with_user(), password_file=password_file
    )
    try:
        with open_mailer(settings, ssl_context=tls_files.client_context()) as mailer:
            assert mailer.transport.tls
            mailer.deliver(_row(), NOW)
        wrong = tmp_path / "wrong"
        wrong.write_text("nope\n")
        bad = MailSettings(address=DESK, smtp_url=server.url_with_user(), password_file=wrong)
        with (
            pytest.raises(TransportUnavailable, match="login refused") as refused,
            open_mailer(bad, ssl_context=tls_files.client_context()),
        ):
            pass
        assert not refused.value.temporary
    finally:
        controller.stop()
    [got] = server.handler.received
    assert got.tls and got.login == USER


def test_a_user_without_a_password_is_refused_before_sending(smtp_server: SmtpServer) -> None:
    settings = MailSettings(address=DESK, smtp_url=smtp_server.url_with_user())
    with pytest.raises(TransportUnavailable, match="no password"), open_mailer(settings):
        pass


def test_reconnects_when_the_server_dropped_the_connection() -> None:
    handler = Recorder()
    controller, server = start_server(handler)
    try:
        with _transport(server) as smtp:
            mailer = OutboxMailer(smtp, DESK)
            mailer.deliver(_row(), NOW)
            assert smtp._smtp is not None
            smtp._smtp.sock.close()  # type: ignore[union-attr]  # the server hung up, say
            mailer.deliver(_row(message_id="<second@desk.example>"), NOW)
    finally:
        controller.stop()
    assert [r.message["Message-ID"] for r in handler.received] == [
        "<123.hd-1@desk.example>",
        "<second@desk.example>",
    ]

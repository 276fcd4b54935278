"""Sending mail over SMTP (smtplib): one connection for a run of the outbox sender.

`smtp://[user@]host[:port]` connects in plain text and upgrades with STARTTLS whenever the
server offers it (port 25 unless given); `smtps://` is TLS from the first byte (port 465).
The user, if any, is in the URL (`%40` for an "@" in it); the password comes from the
config's `mail.password_file`, never from the command line.

Failures are sorted the way the sender needs them (the exceptions are the sender's own, in
`services.delivery`): `TransportUnavailable` means no mail can go
now (server unreachable, login refused): the run stops and every row stays queued as it was;
`SendFailed` is about one mail, `permanent` for a 5xx answer (the mail will never go as it
is), temporary otherwise (4xx, a dropped connection: try again later).

`OutboxMailer` is the `services.delivery.Transport` that `helpdesk mail send` (and the
outbox benchmark) hand to the sender loop: it composes each row (`channels.compose`) and
sends it over one `SmtpTransport`.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr
from types import TracebackType
from urllib.parse import unquote, urlsplit

from tui_helpdesk.channels.compose import ComposeError, compose, envelope_sender
from tui_helpdesk.config import ConfigError, MailSettings
from tui_helpdesk.services.delivery import SendFailed, TransportUnavailable
from tui_helpdesk.store.models import Outbox

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TIMEOUT = 30.0  # seconds for connecting and for each command


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str  # smtp or smtps
    host: str
    port: int
    user: str | None

    def __str__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{who}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """The server named by an smtp:// or smtps:// URL; ValueError for anything else. A
    password written in the URL is ignored on purpose: it belongs in the password file."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"{url!r}: expected a URL starting smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"{url!r}: the port is not a number") from None
    user = unquote(parts.username) if parts.username else None
    return SmtpTarget(scheme, parts.hostname, port, user)


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


class SmtpTransport:
    """An SMTP session: `with SmtpTransport(...) as smtp: smtp.send(message)`.

    Connects on entry (raising `TransportUnavailable`), reconnects once if the server dropped the
    connection between two mails, and says QUIT on exit."""

    def __init__(
        self,
        target: SmtpTarget,
        password: str | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT,
        local_hostname: str | None = None,
    ) -> None:
        self.target = target
        self._password = password
        self._context = ssl_context or ssl.create_default_context()
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None
        self.tls = False  # whether the session is encrypted (smtps, or STARTTLS taken)

    def __enter__(self) -> SmtpTransport:
        self._connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> None:
        target = self.target
        try:
            if target.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    target.host,
                    target.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=self._context,
                )
                self.tls = True
            else:
                smtp = smtplib.SMTP(
                    target.host,
                    target.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                )
            smtp.ehlo_or_helo_if_needed()
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=self._context)
                smtp.ehlo()
                self.tls = True
            if target.user:
                if self._password is None:
                    smtp.close()
                    raise TransportUnavailable(
                        f"{target}: a user is named but there is no password "
                        "(set mail.password_file in the config)",
                        temporary=False,
                    )
                smtp.login(target.user, self._password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportUnavailable(
                f"{target}: login refused: {_reply_text(exc.smtp_code, exc.smtp_error)}",
                temporary=False,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportUnavailable(f"{target}: {exc}", temporary=False) from None
        except ssl.SSLError as exc:
            raise TransportUnavailable(
                f"{target}: TLS failed: {exc.reason or exc}", temporary=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise TransportUnavailable(
                f"{target}: {_reply_text(exc.smtp_code, exc.smtp_error)}",
                temporary=exc.smtp_code < 500,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise TransportUnavailable(
                f"{target}: cannot connect: {reason}", temporary=True
            ) from None
        self._smtp = smtp

    def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> str | None:
        """Send one mail (envelope `sender` -> `recipients`). Returns a note when some
        recipients were refused and others accepted, None when all were accepted."""
        if self._smtp is None:
            self._connect()
        try:
            return self._send(message, sender, recipients)
        except smtplib.SMTPServerDisconnected:
            # The server may close an idle connection between two mails: once more, anew.
            self.close()
            self._connect()
            try:
                return self._send(message, sender, recipients)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                raise SendFailed(f"connection lost: {exc}", permanent=False) from None

    def _send(self, message: EmailMessage, sender: str, recipients: list[str]) -> str | None:
        assert self._smtp is not None
        try:
            refused = self._smtp.send_message(message, from_addr=sender, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            answers = exc.recipients
            permanent = all(code >= 500 for code, _ in answers.values())
            detail = "; ".join(
                f"{rcpt}: {_reply_text(code, text)}" for rcpt, (code, text) in answers.items()
            )
            self._reset()
            raise SendFailed(f"recipients refused: {detail}", permanent=permanent) from None
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise SendFailed(
                _reply_text(exc.smtp_code, exc.smtp_error), permanent=exc.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendFailed(str(exc) or type(exc).__name__, permanent=False) from None
        if refused:
            return "refused: " + "; ".join(
                f"{rcpt}: {_reply_text(code, text)}" for rcpt, (code, text) in refused.items()
            )
        return None

    def _reset(self) -> None:
        """After a refused mail, RSET so the next one starts a clean transaction."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


class OutboxMailer:
    """Outbox rows to SMTP: compose (From the desk's address), then send."""

    def __init__(self, transport: SmtpTransport, sender: str) -> None:
        self.transport = transport
        self.sender = sender

    def deliver(self, row: Outbox, now: datetime) -> str | None:
        try:
            message = compose(row, self.sender, now)
        except ComposeError as exc:
            raise SendFailed(str(exc), permanent=True) from None
        return self.transport.send(message, envelope_sender(message), list(row.to_addrs))


@contextmanager
def open_mailer(
    mail: MailSettings, *, name: str | None = None, ssl_context: ssl.SSLContext | None = None
) -> Iterator[OutboxMailer]:
    """An `OutboxMailer` on the configured server, its mail from `name <address>` (the
    desk's name, as customers' mail programs show the sender). The caller checked that
    `smtp_url` and `address` are set; a password file that cannot be read is a
    `TransportUnavailable`."""
    if not mail.smtp_url or not mail.address:
        raise TransportUnavailable("mail.smtp_url and mail.address must be set", temporary=False)
    try:
        target = parse_smtp_url(mail.smtp_url)
        password = mail.password() if target.user else None
    except (ValueError, ConfigError) as exc:
        raise TransportUnavailable(str(exc), temporary=False) from None
    with SmtpTransport(target, password, ssl_context=ssl_context) as transport:
        yield OutboxMailer(transport, formataddr((name, mail.address)) if name else mail.address)

"""A real SMTP server on loopback for the outbound mail tests (aiosmtpd in a thread).

`smtp_server` starts one per test on a free port of 127.0.0.1. Its handler records every
mail it accepts; `script` makes it answer DATA with given replies first (a 451 then OK for a
retry, a 550 for a permanent failure), `refuse` names recipients it rejects at RCPT.
`tls_files` writes a self-signed certificate for 127.0.0.1 (openssl, at test time) so a test
can run the server with STARTTLS or implicit TLS and trust exactly that certificate.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "desk", "s3cret"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class Recorder:
    """The server's handler: what it accepted, and how it should answer."""

    received: list[Received] = field(default_factory=list)
    script: list[str] = field(default_factory=list)  # DATA replies to give first, in order
    refuse: set[str] = field(default_factory=set)  # recipients refused at RCPT with a 550
    data_calls: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_calls += 1
        if self.script:
            reply = self.script.pop(0)
            if not reply.startswith("250"):
                return reply
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        auth = getattr(session, "auth_data", None)
        login = auth.decode() if isinstance(auth, bytes) else None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                parsed,
                _encrypted(server, session),
                login,
            )
        )
        return "250 OK queued"


def _encrypted(server: Any, session: Any) -> bool:
    """STARTTLS sets the session's `ssl`; implicit TLS shows on the transport."""
    transport = getattr(server, "transport", None)
    implicit = transport is not None and transport.get_extra_info("ssl_object") is not None
    return session.ssl is not None or implicit


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: Recorder
    scheme: str = "smtp"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url_with_user(self, user: str = USER) -> str:
        return f"{self.scheme}://{user}@{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_tls_files(folder: Path) -> TlsFiles:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return TlsFiles(cert, key)


@pytest.fixture
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def start_server(
    handler: Recorder | None = None,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    auth: bool = False,
) -> tuple[Controller, SmtpServer]:
    handler = handler or Recorder()
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs["tls_context"] = starttls
    if auth:
        kwargs["authenticator"] = _authenticate
        kwargs["auth_require_tls"] = starttls is not None
        # smtplib falls back from a refused PLAIN to LOGIN, which aiosmtpd 1.4 answers by
        # waiting: offer PLAIN alone so a wrong password is a prompt 535.
        kwargs["auth_exclude_mechanism"] = ["LOGIN"]
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        ssl_context=implicit_tls,
        server_hostname="127.0.0.1",
        **kwargs,
    )
    controller.start()
    scheme = "smtps" if implicit_tls is not None else "smtp"
    return controller, SmtpServer("127.0.0.1", port, handler, scheme)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on loopback that accepts everything (unless scripted)."""
    controller, server = start_server()
    try:
        yield server
    finally:
        controller.stop()

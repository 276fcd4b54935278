"""A real IMAP server for the mail tests (Dovecot from the distribution's
packages) on loopback, with TLS and a test user, started per test module in a temp dir.

Without the `dovecot` binary the IMAP tests skip with a message saying how to enable them;
under CI (CI=true) they fail instead, so they never silently stop running. `.ci/run` installs
the package (`dovecot-imapd`); nothing system-wide is started: each run has its own config,
port, certificate and passwd-file user.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT_HINT = (
    "IMAP tests need Dovecot: apt-get install dovecot-imapd (only the binary is used; "
    "no system service is started)"
)
USER = "helpdesk"
PASSWORD = "s3cret-imap"


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"dovecot is not installed on CI: {DOVECOT_HINT}", pytrace=False)
        pytest.skip(DOVECOT_HINT)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mail_ids() -> tuple[int, int]:
    """Whose files the mail processes own: ours, or Dovecot's own user when we are root
    (Dovecot refuses to touch mail as uid 0)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    for name in ("dovecot", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    return 65534, 65534


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int  # STARTTLS
    tls_port: int  # TLS from the start
    user: str
    password: str
    cert: Path
    root: Path

    def url(self, tls: bool = True, folder: str = "") -> str:
        scheme, port = ("imaps", self.tls_port) if tls else ("imap", self.port)
        return f"{scheme}://{self.user}@localhost:{port}/{folder}".rstrip("/")

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cert))
        client = imaplib.IMAP4_SSL("localhost", self.tls_port, ssl_context=context)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            status, detail = client.append(folder, None, None, raw)
            assert status == "OK", detail
        finally:
            client.logout()

    def folder(self, folder: str = "INBOX") -> dict[str, set[str]]:
        """Subject -> flags of every mail in `folder`."""
        client = self.client()
        try:
            client.select(f'"{folder}"', readonly=True)
            _, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        finally:
            client.logout()
        out: dict[str, set[str]] = {}
        for entry in data:
            if isinstance(entry, tuple):
                head = entry[0].decode()
                flags = head.split("FLAGS (", 1)[1].split(")", 1)[0].split()
                subject = entry[1].decode().partition(":")[2].strip()
                out[subject] = set(flags)
        return out

    def clear(self) -> None:
        """Every folder but INBOX deleted and INBOX emptied: each test starts afresh."""
        client = self.client()
        try:
            _, folders = client.list()
            for line in folders or []:
                name = line.decode().rsplit(" ", 1)[-1].strip('"') if line else ""
                if name and name != "INBOX":
                    client.delete(f'"{name}"')
            _, count = client.select("INBOX")
            if count and count[0] not in (b"0", None):
                client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                client.expunge()
        finally:
            client.logout()

    def create(self, folder: str) -> None:
        client = self.client()
        try:
            client.create(f'"{folder}"')
        finally:
            client.logout()


def _config(root: Path, port: int, tls_port: int, uid: int, gid: int) -> str:
    unprivileged = chroot = ""
    if os.getuid() != 0:  # run as ourselves: our user and group everywhere, no chroot
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        unprivileged = (
            f"default_login_user = {me}\ndefault_internal_user = {me}\n"
            f"default_internal_group = {group}\nservice anvil {{\n  chroot =\n}}\n"
        )
        chroot = "  chroot =\n"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain
disable_plaintext_auth = yes
first_valid_uid = {min(uid, 100)}
{unprivileged}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0600
  }}
}}
"""


def _wait_for(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot exited ({process.returncode}): {log[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError("dovecot did not start listening within 20 s")


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    binary = dovecot_binary()
    # Not under pytest's tmp dir: that is private (0700) and Dovecot's mail processes run as
    # another user when we are root.
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    os.chmod(root, 0o755)
    uid, gid = _mail_ids()
    home = root / "home"
    home.mkdir()
    os.chown(home, uid, gid)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port, tls_port = _free_port(), _free_port()
    (root / "dovecot.conf").write_text(_config(root, port, tls_port, uid, gid))
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(tls_port, process, root)
        yield ImapServer("127.0.0.1", port, tls_port, USER, PASSWORD, root / "cert.pem", root)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def trust_imap(imap_server: ImapServer, monkeypatch: pytest.MonkeyPatch) -> ImapServer:
    """The test server, emptied, with its self-signed certificate trusted (OpenSSL reads
    SSL_CERT_FILE)."""
    imap_server.clear()
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_server.cert))
    return imap_server

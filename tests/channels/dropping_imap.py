"""An IMAP server on loopback that answers like a real one until a chosen command, then
closes the connection without a word: a mail server restarted or a network cut in the middle
of a fetch. TLS with the Dovecot fixture's certificate (tests/channels/imap_server.py), so the
desk's client is exercised as against any server; one connection at a time, in a thread."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

MAIL = b"From: a@example.com\r\nSubject: hello\r\nMessage-ID: <drop@example.com>\r\n\r\nhi\r\n"


class DroppingImap:
    def __init__(self, cert: Path, key: Path, drop_on: str) -> None:
        self.drop_on = drop_on.upper()  # LOGIN, SELECT, SEARCH, FETCH or STORE
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.seen: list[str] = []  # the commands received, the dropped one last
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self) -> str:
        return f"imaps://helpdesk@localhost:{self.port}"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                with (
                    contextlib.suppress(OSError),
                    conn,
                    self.context.wrap_socket(conn, server_side=True) as tls,
                ):
                    self._session(tls)

    def _session(self, tls: ssl.SSLSocket) -> None:
        reader = tls.makefile("rb")
        tls.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] test server ready\r\n")
        for line in reader:
            tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
            words = rest.upper().split()
            verb = words[1] if words[:1] == ["UID"] and len(words) > 1 else words[0]
            self.seen.append(verb)
            if verb == self.drop_on:
                return  # closed without an answer
            if verb == "LOGOUT":
                tls.sendall(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
                return
            if verb == "CAPABILITY":
                tls.sendall(b"* CAPABILITY IMAP4rev1\r\n")
            elif verb == "SELECT":
                tls.sendall(b"* 1 EXISTS\r\n")
            elif verb == "SEARCH":
                tls.sendall(b"* SEARCH 7\r\n")
            elif verb == "FETCH":
                tls.sendall(b"* 1 FETCH (UID 7 BODY[] {%d}\r\n%s)\r\n" % (len(MAIL), MAIL))
            tls.sendall(tag.encode() + b" OK done\r\n")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the thread
        self.listener.close()
        self.thread.join(5)


@contextlib.contextmanager
def dropping_imap(cert: Path, key: Path, drop_on: str) -> Iterator[DroppingImap]:
    server = DroppingImap(cert, key, drop_on)
    try:
        yield server
    finally:
        server.close()

"""Where mail is read from: a Maildir, an mbox file or an IMAP folder, behind one protocol.

Every source follows read -> (the caller commits) -> mark done: `items()` yields mails not yet
done without changing anything, `done(item)` marks one after its transaction committed, and
`close()` finishes (writes the mbox flags, logs out of IMAP). A run killed at any point
before `done` leaves the mail to be read again; intake's unique Message-ID makes that second
reading a reported duplicate instead of a second ticket.

- Maildir: the mails in `new/`, and those in `cur/` without the Seen flag; done = moved to
  `cur/` with `S` added to its flags (the Maildir convention, a single rename).
- mbox: the mails without `R` in their Status header; done = `Status: RO` written back when
  the source closes. The mbox is locked (dot-lock and fcntl, as mail delivery agents expect)
  for the whole run, so a delivery in the middle cannot be lost by our rewrite.
- IMAP: `imaps://` (TLS) or `imap://` upgraded with STARTTLS (refused without it); the
  password comes from the config's password file only. Unseen mail is read with BODY.PEEK
  (which never sets \\Seen); done = \\Seen added, or the mail moved to a folder (MOVE; else
  COPY, then \\Seen \\Deleted and UID EXPUNGE where the server has UIDPLUS). The folder is
  the desk's: mail a person opens there in a mail client first is seen, and not taken.
  A connection cut, timed out or broken at any step (login, select, search, fetch, flag,
  move) is `MailboxUnavailable` (exit 75): nothing more is marked, cron tries again.

Used by `channels.fetch`; the CLI builds the source from its options and the settings.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

IMAP_TIMEOUT = 60.0


class MailboxError(Exception):
    """The mailbox cannot be used as given (bad path, login refused): exit 1 or 2."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class MailboxUnavailable(MailboxError):
    """The mail server cannot be reached now: cron should simply try again (exit 75)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 75)


@dataclass(frozen=True)
class MailItem:
    key: str  # the mail's name in its mailbox: file name, mbox position or IMAP UID
    raw: bytes


class Mailbox(Protocol):
    label: str  # what the source is, for messages and the run's lock

    def items(self) -> Iterator[MailItem]: ...

    def done(self, item: MailItem) -> None: ...

    def close(self) -> None: ...


# --- Maildir ----------------------------------------------------------------------------


class MaildirSource:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()
        self.label = f"maildir:{self.path.resolve()}"
        missing = [d for d in ("cur", "new", "tmp") if not (self.path / d).is_dir()]
        if missing:
            raise MailboxError(f"{path}: not a Maildir (no {', '.join(missing)} folder inside)", 2)

    @staticmethod
    def _flags(name: str) -> str:
        return name.partition(":2,")[2] if ":2," in name else ""

    def items(self) -> Iterator[MailItem]:
        for sub in ("new", "cur"):
            try:
                names = sorted(os.listdir(self.path / sub))
            except OSError as exc:
                raise MailboxError(f"{self.path / sub}: cannot list: {exc.strerror}") from None
            for name in names:
                if name.startswith(".") or (sub == "cur" and "S" in self._flags(name)):
                    continue
                try:
                    raw = (self.path / sub / name).read_bytes()
                except FileNotFoundError:
                    continue  # taken by someone else in the meantime
                except IsADirectoryError:
                    continue
                yield MailItem(f"{sub}/{name}", raw)

    def done(self, item: MailItem) -> None:
        sub, _, name = item.key.partition("/")
        unique = name.split(":", 1)[0]
        flags = "".join(sorted(set(self._flags(name)) | {"S"}))
        with contextlib.suppress(FileNotFoundError):  # already moved: done is done
            os.rename(self.path / sub / name, self.path / "cur" / f"{unique}:2,{flags}")

    def close(self) -> None:
        return None


# --- mbox -------------------------------------------------------------------------------


class MboxSource:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()
        self.label = f"mbox:{self.path.resolve()}"
        if not self.path.is_file():
            raise MailboxError(f"{path}: no such mbox file", 2)
        try:
            self.box = mailbox.mbox(self.path, create=False)
            self.box.lock()
        except (OSError, mailbox.Error) as exc:
            raise MailboxUnavailable(f"{path}: cannot lock the mbox: {exc}") from None
        self.taken: list[str] = []

    def items(self) -> Iterator[MailItem]:
        for key in list(self.box.keys()):
            message = self.box.get_message(key)
            if "R" in message.get_flags():
                continue
            yield MailItem(str(key), self.box.get_bytes(key))

    def done(self, item: MailItem) -> None:
        self.taken.append(item.key)

    def close(self) -> None:
        try:
            for key in self.taken:
                message = self.box.get_message(int(key))
                message.add_flag("RO")
                self.box[int(key)] = message
            if self.taken:
                self.box.flush()
        finally:
            self.box.unlock()
            self.box.close()


# --- IMAP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapAddress:
    tls: bool  # imaps:// (TLS from the start) or imap:// (STARTTLS)
    host: str
    port: int
    user: str
    folder: str


def parse_imap_url(url: str, folder: str | None = None) -> ImapAddress:
    """`imap[s]://user@host[:port][/FOLDER]`; a password in the URL is refused (it would
    sit in the shell history and the process list: use the config's password file)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps"):
        raise MailboxError(f"{url!r}: expected an imap:// or imaps:// URL", 2)
    if parts.password is not None:
        raise MailboxError(
            "the IMAP URL carries a password: put it in the file named by mail.password_file "
            "in the config instead",
            2,
        )
    if not parts.hostname:
        raise MailboxError(f"{url!r}: no host in the IMAP URL", 2)
    if not parts.username:
        raise MailboxError(f"{url!r}: no user in the IMAP URL (imaps://USER@HOST)", 2)
    try:
        port = parts.port or (993 if parts.scheme == "imaps" else 143)
    except ValueError:
        raise MailboxError(f"{url!r}: bad port in the IMAP URL", 2) from None
    chosen = folder or unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapAddress(
        parts.scheme == "imaps", parts.hostname, port, unquote(parts.username), chosen
    )


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


_UID = re.compile(rb"UID (\d+)")


class ImapSource:
    def __init__(self, address: ImapAddress, password: str | None, move_to: str | None = None):
        self.address = address
        self.label = f"imap:{address.user}@{address.host}:{address.port}/{address.folder}"
        self.move_to = move_to
        if password is None:
            raise MailboxError(
                "no IMAP password: set mail.password_file in the config to a file holding it", 2
            )
        self.client = self._connect()
        try:
            self.client.login(address.user, password)
        except (OSError, imaplib.IMAP4.abort) as exc:  # abort first: it is an IMAP4.error
            self._drop()
            raise self._lost(exc) from None
        except imaplib.IMAP4.error as exc:
            self._drop()
            raise MailboxError(f"{self.label}: login refused: {_text(exc)}") from None
        self.capabilities = self._capabilities()
        try:
            status, detail = self.client.select(_quote(address.folder))
        except (OSError, imaplib.IMAP4.abort) as exc:
            self._drop()
            raise self._lost(exc) from None
        except imaplib.IMAP4.error as exc:
            status, detail = "NO", exc
        if status != "OK":
            self._drop()
            raise MailboxError(f"{self.label}: cannot open the folder: {_text(detail)}")

    def _connect(self) -> imaplib.IMAP4:
        context = ssl.create_default_context()
        where = f"{self.address.host}:{self.address.port}"
        try:
            if self.address.tls:
                return imaplib.IMAP4_SSL(
                    self.address.host,
                    self.address.port,
                    ssl_context=context,
                    timeout=IMAP_TIMEOUT,
                )
            client = imaplib.IMAP4(self.address.host, self.address.port, timeout=IMAP_TIMEOUT)
            if "STARTTLS" not in client.capabilities:
                client.shutdown()
                raise MailboxError(
                    f"the IMAP server at {where} does not offer STARTTLS; "
                    "refusing to send the password in clear (use imaps://)"
                )
            client.starttls(ssl_context=context)
            return client
        except ssl.SSLCertVerificationError as exc:  # the next run would be refused too
            raise MailboxError(f"TLS with the IMAP server at {where} failed: {exc}") from None
        except (OSError, imaplib.IMAP4.abort) as exc:  # refused, unreachable, timed out, cut off
            raise MailboxUnavailable(f"cannot reach the IMAP server at {where}: {exc}") from None
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"the IMAP server at {where} refused: {_text(exc)}") from None

    def _capabilities(self) -> set[str]:
        """What the server offers once logged in (MOVE, UIDPLUS are only listed then)."""
        try:
            status, data = self.client.capability()
        except (OSError, imaplib.IMAP4.error):
            return set(self.client.capabilities)
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
        return set(words.upper().split()) if status == "OK" else set(self.client.capabilities)

    def _lost(self, exc: BaseException) -> MailboxUnavailable:
        """The server went away mid-session (cut off, timed out, TLS broken): one line naming
        the mailbox, never the password; the mail stays on the server for the next run."""
        reason = (_text(exc) or type(exc).__name__).splitlines()[0][:200]
        return MailboxUnavailable(f"{self.label}: connection lost: {reason}")

    def _drop(self) -> None:
        with contextlib.suppress(Exception):
            self.client.shutdown()

    def _command(self, *args: str) -> list[object]:
        try:
            status, data = self.client.uid(*args)
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise self._lost(exc) from None
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self.label}: UID {args[0]} failed: {_text(exc)}") from None
        if status != "OK":
            raise MailboxError(f"{self.label}: UID {args[0]} failed: {_text(data)}")
        return list(data)

    def items(self) -> Iterator[MailItem]:
        found = self._command("SEARCH", "UNSEEN")
        uids = b" ".join(d for d in found if isinstance(d, bytes)).split()
        for uid in uids:
            raw = None
            for entry in self._command("FETCH", uid.decode(), "(UID BODY.PEEK[])"):
                if isinstance(entry, tuple) and _UID.search(entry[0]):
                    raw = entry[1]
            if raw is not None:
                yield MailItem(uid.decode(), raw)

    def done(self, item: MailItem) -> None:
        if self.move_to:
            if "MOVE" in self.capabilities:
                self._command("MOVE", item.key, _quote(self.move_to))
                return
            self._command("COPY", item.key, _quote(self.move_to))
            self._command("STORE", item.key, "+FLAGS.SILENT", "(\\Seen \\Deleted)")
            if "UIDPLUS" in self.capabilities:
                self._command("EXPUNGE", item.key)
            return
        self._command("STORE", item.key, "+FLAGS.SILENT", "(\\Seen)")

    def close(self) -> None:
        # LOGOUT without CLOSE: CLOSE would expunge every \Deleted mail of the folder, also
        # those someone else deleted and meant to keep until their own client expunges.
        with contextlib.suppress(Exception):
            self.client.logout()


def _text(detail: object) -> str:
    if isinstance(detail, list | tuple):
        detail = b" ".join(d for d in detail if isinstance(d, bytes)) or detail
    if isinstance(detail, bytes):
        return detail.decode("utf-8", "replace")
    return str(detail)

"""One raw email (bytes) to the `IncomingMail` intake takes in; never raises.

Parsed with the standard library (`email`, policy default): RFC 2047 headers decoded, any
charset read (`mime_text`), the body chosen from the MIME tree: in multipart/alternative the
plain text, else the HTML rendered as text; inline text parts joined; forwarded mail
(message/rfc822) rendered with its headers under a "Forwarded message" line, its files kept;
a delivery report (bounce) gives its human part and status, and the Message-ID of the
returned original so the bounce threads to the mail it bounces. Every other part is an
attachment (inline images too), kept up to the size limit and recorded as skipped beyond it.

Automatic mail is recognised by its headers (RFC 3834 Auto-Submitted, Precedence, List-Id,
an empty Return-Path, mailer-daemon and postmaster senders, X-Autoreply,
X-Auto-Response-Suppress, delivery reports). Ticket tags (`[HD-1042]`) are read from the
subject. All text is cleaned of terminal control sequences (`text.clean`): it is untrusted.

Called by `channels.fetch` for each mail read from a mailbox.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from typing import Any

from tui_helpdesk.channels.mime_text import decode_bytes, html_to_text, quote_start, tidy
from tui_helpdesk.services.mail_intake import IncomingAttachment, IncomingMail
from tui_helpdesk.services.outgoing import robot_sender
from tui_helpdesk.text import clean

DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024
BODY_LIMIT = 1_000_000  # characters of body text stored; the raw original keeps the rest
MAX_DEPTH = 12  # MIME nesting followed (a forwarded chain of forwards...)
MAX_PARTS = 500
_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_TAG = re.compile(r"\[([A-Za-z][A-Za-z0-9]{0,15}-\d{1,12})\]")


def _header(msg: Message, name: str) -> str | None:
    """A header's decoded value as one clean line (None when absent); a header the parser
    cannot make sense of is read raw rather than failing the mail."""
    try:
        value = msg.get(name)
        if value is None:
            return None
        text = str(value)
        if "\ufffd" in text:  # raw 8-bit bytes the library could not read as UTF-8
            text = _raw_8bit(msg, name) or text
        return clean(text, single_line=True)
    except Exception:
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return clean(str(raw), single_line=True)
        return None


def _raw_8bit(msg: Message, name: str) -> str | None:
    """A header sent as raw 8-bit text (no RFC 2047), read the way bodies without a charset
    are (UTF-8, else Windows-1252)."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower() and isinstance(raw, str):
            try:
                data = raw.encode("ascii", "surrogateescape")
            except UnicodeEncodeError:
                return None
            return decode_bytes(data, None)[0]
    return None


def message_ids(value: str | None) -> tuple[str, ...]:
    """The `<id>` tokens of a Message-ID, In-Reply-To or References header, in order."""
    if not value:
        return ()
    return tuple(f"<{m}>" for m in _MSGID.findall(value))


def _message_id(msg: Message, raw: bytes) -> tuple[str, bool]:
    header = _header(msg, "Message-ID")
    found = message_ids(header)
    if found:
        return found[0], False
    bare = (header or "").strip()
    if bare and " " not in bare and "@" in bare and len(bare) < 900:
        return f"<{bare}>", False
    # No usable id: one made from the content, so the same mail read twice is still one mail.
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>", True


def _sender(msg: Message) -> tuple[str | None, str | None]:
    try:
        header = msg.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        for address in addresses:
            if address.username and address.domain:
                return clean(address.addr_spec, single_line=True), (
                    clean(address.display_name, single_line=True) or None
                )
    except Exception:
        pass
    name, addr = email.utils.parseaddr(_header(msg, "From") or "")
    if "@" in addr and " " not in addr.strip():
        return clean(addr.strip(), single_line=True), clean(name, single_line=True) or None
    return None, None


def _date(msg: Message) -> datetime | None:
    text = _header(msg, "Date")
    if not text:
        return None
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Automatic mail that answers another mail (RFC 3834's auto-replied, the vacation
# responders' own headers, bounces and delivery reports), as against automatic mail that
# says something of its own (a monitoring alert, a list post): what is left of it when it
# matches no ticket is no request.
_ANSWER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Failed-Recipients")


def answers_a_mail(msg: Message) -> bool:
    """Whether this mail is an automatic answer to another mail (out of office, bounce)."""
    auto = (_header(msg, "Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto == "auto-replied":
        return True
    return_path = _header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("", "<>"):
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    return any(_header(msg, name) is not None for name in _ANSWER_HEADERS)


def automatic_reason(msg: Message, sender: str | None) -> str | None:
    """Why this mail is automatic (never answered, never reopens a ticket), or None."""
    auto = _header(msg, "Auto-Submitted")
    if auto and auto.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return f"Precedence: {precedence}"
    if _header(msg, "List-Id") is not None:
        return "List-Id header (mailing list)"
    return_path = _header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "empty Return-Path (a bounce)"
    # The From as written when it has no domain (a bare `MAILER-DAEMON`): not a sender to
    # answer, so `_sender` drops it, but it says who sent the mail.
    robot = robot_sender(sender or email.utils.parseaddr(_header(msg, "From") or "")[1])
    if robot is not None:
        return f"sent by {robot}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if _header(msg, name) is not None:
            return f"{name} header"
    if msg.get_content_type() == "multipart/report":
        return "delivery or disposition report"
    if _header(msg, "X-Failed-Recipients") is not None:
        return "X-Failed-Recipients header (a bounce)"
    return None


@dataclass
class _Parts:
    """What the walk over the MIME tree collects."""

    limit: int
    body: list[str] = field(default_factory=list)
    files: list[IncomingAttachment] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count: int = 0

    def note(self, text: str | None) -> None:
        if text and text not in self.notes:
            self.notes.append(text)


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    name = clean(name or "", single_line=True).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        ext = mimetypes.guess_extension(part.get_content_type()) or ".bin"
        name = f"attachment-{index}{ext}"
    return name[:255]


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        return part.as_bytes()
    except Exception:
        return b""


def _attachment(part: Message, parts: _Parts) -> None:
    data = _payload(part)
    size = len(data)
    inline = part.get_content_disposition() == "inline" or part.get("Content-ID") is not None
    skipped = None
    if size > parts.limit:
        skipped = f"larger than the attachment limit ({size} > {parts.limit} bytes)"
    parts.files.append(
        IncomingAttachment(
            filename=_filename(part, len(parts.files) + 1),
            content_type=part.get_content_type(),
            size=size,
            sha256=hashlib.sha256(data).hexdigest(),
            content=None if skipped else data,
            skipped=skipped,
            inline=inline,
        )
    )


def _text_of(part: Message, parts: _Parts) -> str:
    text, note = decode_bytes(_payload(part), part.get_content_charset())
    parts.note(note)
    if part.get_content_subtype() == "html":
        text, note = html_to_text(text)
        parts.note(note)
    return tidy(text)


def _is_body_text(part: Message) -> bool:
    try:
        has_name = part.get_filename() is not None
    except Exception:
        has_name = True
    return (
        part.get_content_maintype() == "text"
        and part.get_content_subtype() in ("plain", "html")
        and part.get_content_disposition() != "attachment"
        and not has_name
    )


def _alternative(part: Message, parts: _Parts, depth: int, files_only: bool) -> None:
    """multipart/alternative: the plain text if there is some, else the richest version;
    files in the versions not shown (an image of the HTML one) are still kept."""
    versions = [p for p in part.iter_parts()] if isinstance(part, EmailMessage) else []
    if not versions:
        versions = [p for p in (part.get_payload() or []) if isinstance(p, Message)]
    chosen = next(
        (v for v in versions if v.get_content_type() == "text/plain" and _payload(v).strip()),
        versions[-1] if versions else None,
    )
    for version in versions:
        _walk(version, parts, depth + 1, files_only or version is not chosen)


def _forwarded(part: Message, parts: _Parts, depth: int, files_only: bool, report: bool) -> None:
    inner = part.get_payload(0) if part.is_multipart() else None
    if not isinstance(inner, Message):
        _attachment(part, parts)
        return
    found = message_ids(_header(inner, "Message-ID"))
    if report:  # a bounce returns our own mail: what matters is which one
        parts.related.extend(found)
        subject = _header(inner, "Subject") or ""
        parts.body.append(f"[returned message: {subject} {' '.join(found)}]".strip())
        return
    if not files_only:
        lines = ["---------- Forwarded message ----------"]
        for name in ("From", "Date", "Subject", "To"):
            value = _header(inner, name)
            if value:
                lines.append(f"{name}: {value}")
        parts.body.append("\n".join(lines))
    _walk(inner, parts, depth + 1, files_only)


def _walk(part: Message, parts: _Parts, depth: int, files_only: bool, report: bool = False) -> None:
    parts.count += 1
    if depth > MAX_DEPTH or parts.count > MAX_PARTS:
        parts.note("MIME structure too deep or too large: the rest is in the raw message")
        return
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        _forwarded(part, parts, depth, files_only, report)
    elif ctype == "message/delivery-status":
        if not files_only:
            blocks = part.get_payload() if part.is_multipart() else [part.get_payload()]
            text = "\n".join(
                b.as_string() if isinstance(b, Message) else str(b) for b in blocks or []
            )
            parts.body.append(tidy(clean(text)))
    elif ctype == "text/rfc822-headers":
        headers = email.message_from_bytes(_payload(part), policy=email.policy.default)
        parts.related.extend(message_ids(_header(headers, "Message-ID")))
    elif ctype == "multipart/alternative":
        _alternative(part, parts, depth, files_only)
    elif part.is_multipart():
        children = part.get_payload() or []
        is_report = ctype == "multipart/report"
        for child in children:
            if isinstance(child, Message):
                _walk(child, parts, depth + 1, files_only, report or is_report)
    elif _is_body_text(part):
        if not files_only:
            parts.body.append(_text_of(part, parts))
    else:
        _attachment(part, parts)


def parse_mail(raw: bytes, attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT) -> IncomingMail:
    """`raw` (one RFC 5322 message) as an `IncomingMail`. Never raises: what cannot be read
    is replaced, noted, and the raw bytes travel with the result."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    message_id, generated = _message_id(msg, raw)
    sender, sender_name = _sender(msg)
    subject = _header(msg, "Subject") or ""
    parts = _Parts(limit=attachment_limit)
    try:
        _walk(msg, parts, 0, files_only=False)
    except Exception as exc:  # a structure the library chokes on: keep the text we can get
        parts.note(f"MIME structure unreadable ({type(exc).__name__}); body read as text")
        text, _ = decode_bytes(raw.partition(b"\n\n")[2] or raw, None)
        parts.body = [tidy(text)]
    body = clean("\n\n".join(p for p in parts.body if p.strip()))
    if len(body) > BODY_LIMIT:
        parts.note(f"body cut at {BODY_LIMIT} characters; the raw message has it all")
        body = body[:BODY_LIMIT]
    if msg.defects:
        parts.note("defects: " + ", ".join(sorted({type(d).__name__ for d in msg.defects})))
    keys = tuple(dict.fromkeys(key.upper() for key in _TAG.findall(subject)))
    return IncomingMail(
        message_id=message_id,
        raw=raw,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        body=body,
        sent_at=_date(msg),
        in_reply_to=message_ids(_header(msg, "In-Reply-To")),
        references=message_ids(_header(msg, "References")),
        related=tuple(dict.fromkeys(parts.related)),
        ticket_keys=keys,
        automatic=automatic_reason(msg, sender),
        answers_a_mail=answers_a_mail(msg),
        attachments=tuple(parts.files),
        quote_start=quote_start(body),
        notes=tuple(parts.notes),
        generated_id=generated,
    )


def summary(mail: IncomingMail) -> dict[str, Any]:
    """A parsed mail as plain values (for --dry-run output and tests)."""
    return {
        "message_id": mail.message_id,
        "from": mail.sender,
        "subject": mail.subject,
        "automatic": mail.automatic,
        "tags": list(mail.ticket_keys),
        "attachments": [
            {"name": a.filename, "size": a.size, "skipped": a.skipped} for a in mail.attachments
        ],
        "notes": list(mail.notes),
    }

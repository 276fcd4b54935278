"""How an incoming mail finds its ticket (DESIGN §6), and the checks made before it is taken.

Threading, in order: the mail's In-Reply-To, then its References (newest first), then the
Message-ID of the original a bounce carries, each against every Message-ID we hold (messages
of tickets, mail taken in, and our own outbox, so replies to acknowledgements and
notifications thread); then a ticket tag in the subject (`[HD-1042]`), accepted only when the
sender is the requester or a participant of that ticket; else a new ticket. Each step says
what it matched or why it refused, for `helpdesk mail explain`.

Called by `services.mail_intake.take_mail` inside its transaction; reads only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Channel
from tui_helpdesk.store.models import Contact, InboundMail, Message, Outbox, Ticket

MAX_IDS = 60  # References can grow long in old threads; the newest are the ones that matter
# Per-sender bursts within `RATE_WINDOW`: automatic mail (auto-replies, bounces) is cut short
# early; any mail at all past the higher bound (a loop with a system that marks nothing).
RATE_WINDOW = timedelta(minutes=10)
RATE_AUTOMATIC = 5
RATE_ANY = 30
OUTBOX_PEEK = 200  # a ticket's outgoing mail looked at for its recipients


def id_variants(ids: Iterable[str]) -> list[str]:
    """Each Message-ID with and without angle brackets: stores written by other tools (or
    by hand) may keep either form."""
    out: list[str] = []
    for value in ids:
        bare = value.strip().strip("<>")
        if bare:
            out += [f"<{bare}>", bare]
    return out


def _bare(value: str) -> str:
    return value.strip().strip("<>")


@dataclass(frozen=True)
class Thread:
    """Where a mail goes: a ticket (matched by `how`) or a new ticket (`ticket_id` None)."""

    ticket_id: int | None
    how: str  # in-reply-to, references, bounce, subject-tag, new
    detail: dict[str, Any] = field(default_factory=dict)
    outbox_kind: str | None = None  # the kind of our own mail it answers (ack, survey, ...)


def our_own(session: Session, message_id: str) -> Outbox | None:
    """The outbox row with this Message-ID: our own mail come back (a loop)."""
    return session.scalar(select(Outbox).where(Outbox.message_id.in_(id_variants([message_id]))))


def _known_ids(session: Session, ids: Sequence[str]) -> dict[str, tuple[int, str, str | None]]:
    """Message-ID (bare) -> (ticket id, where it was found, outbox kind) for the ids we hold."""
    variants = id_variants(ids)
    found: dict[str, tuple[int, str, str | None]] = {}
    for ticket_id, mid, kind in session.execute(
        select(Outbox.ticket_id, Outbox.message_id, Outbox.kind).where(
            Outbox.message_id.in_(variants), Outbox.ticket_id.is_not(None)
        )
    ):
        found.setdefault(_bare(mid), (ticket_id, "outbox", kind))
    for ticket_id, mid in session.execute(
        select(Message.ticket_id, Message.message_id).where(Message.message_id.in_(variants))
    ):
        found.setdefault(_bare(mid), (ticket_id, "message", None))
    for ticket_id, mid in session.execute(
        select(InboundMail.ticket_id, InboundMail.message_id).where(
            InboundMail.message_id.in_(variants), InboundMail.ticket_id.is_not(None)
        )
    ):
        found.setdefault(_bare(mid), (ticket_id, "inbound", None))
    return found


def by_headers(
    session: Session,
    in_reply_to: Sequence[str],
    references: Sequence[str],
    related: Sequence[str],
) -> Thread | None:
    """The ticket of the first known Message-ID: In-Reply-To, References (newest first),
    then the original a bounce returned. Other tickets the ids name are reported too."""
    ordered: list[tuple[str, str]] = []
    seen: set[str] = set()
    for how, ids in (
        ("in-reply-to", in_reply_to),
        ("references", list(reversed(references))),
        ("bounce", related),
    ):
        for value in ids:
            bare = _bare(value)
            if bare and bare not in seen:
                seen.add(bare)
                ordered.append((how, bare))
    ordered = ordered[:MAX_IDS]
    if not ordered:
        return None
    known = _known_ids(session, [bare for _, bare in ordered])
    hits = [(how, bare, known[bare]) for how, bare in ordered if bare in known]
    if not hits:
        return None
    how, bare, (ticket_id, where, kind) = hits[0]
    others = sorted({hit[2][0] for hit in hits} - {ticket_id})
    detail: dict[str, Any] = {"matched_id": f"<{bare}>", "found_in": where}
    if kind is not None:
        detail["outbox_kind"] = kind
    if others:
        keys = session.scalars(select(Ticket.key).where(Ticket.id.in_(others))).all()
        detail["other_tickets"] = sorted(keys)
    return Thread(ticket_id, how, detail, outbox_kind=kind)


def is_participant(session: Session, ticket: Ticket, contact: Contact | None, address: str) -> str:
    """Why the sender may write to `ticket` by its tag ("requester", "wrote on it", "was
    written to"), or "" when it may not."""
    if contact is not None:
        if contact.id == ticket.requester_id:
            return "requester"
        wrote = session.scalar(
            select(Message.id)
            .where(Message.ticket_id == ticket.id, Message.author_contact_id == contact.id)
            .limit(1)
        )
        if wrote is not None:
            return "wrote on it"
    addresses = {address.lower(), *(contact.emails if contact else [])}
    for to_addrs in session.scalars(
        select(Outbox.to_addrs).where(Outbox.ticket_id == ticket.id).limit(OUTBOX_PEEK)
    ):
        if addresses & {str(a).lower() for a in to_addrs or []}:
            return "was written to"
    return ""


def by_tag(
    session: Session, keys: Sequence[str], prefix: str, contact: Contact | None, address: str
) -> tuple[Thread | None, dict[str, Any]]:
    """The ticket a subject tag names, if the sender may use it; otherwise None and what was
    refused (a stranger quoting someone's tag must not land in their ticket)."""
    refused: dict[str, Any] = {}
    for key in keys:
        if not key.startswith(f"{prefix}-"):
            continue
        ticket = session.scalar(select(Ticket).where(Ticket.key == key))
        if ticket is None:
            refused = {"tag": key, "refused": "no such ticket"}
            continue
        why = is_participant(session, ticket, contact, address)
        if why:
            return Thread(ticket.id, "subject-tag", {"tag": key, "sender_is": why}), {}
        refused = {
            "tag": key,
            "refused": f"{address} is neither the requester nor a participant of {key}",
        }
    return None, refused


def recent_from(session: Session, contact: Contact, now: datetime) -> int:
    """Mail messages from `contact` stored within the rate window up to `now`."""
    return (
        session.scalar(
            select(func.count(Message.id)).where(
                Message.author_contact_id == contact.id,
                Message.channel == Channel.EMAIL,
                Message.created_at > now - RATE_WINDOW,
                Message.created_at <= now,
            )
        )
        or 0
    )


def rate_limited(count: int, automatic: bool) -> str:
    """Why a mail is over its sender's burst limit, or ""."""
    minutes = int(RATE_WINDOW.total_seconds() // 60)
    if automatic and count >= RATE_AUTOMATIC:
        return f"{count} mails from this sender in {minutes} minutes (automatic mail)"
    if count >= RATE_ANY:
        return f"{count} mails from this sender in {minutes} minutes"
    return ""

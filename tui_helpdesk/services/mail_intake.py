"""Taking one email in (DESIGN §6): a parsed mail becomes a ticket or a message on one, in
the caller's transaction, exactly once, with its decision recorded for `mail explain`.

`take_mail` runs in one unit of work per mail: the Message-ID is claimed first (a unique
`inbound_mail` row, so a mail seen twice, or by two overlapping runs, is taken once); our own
mail come back and mail from the desk's own address are ignored (no loops); the sender becomes
a contact (created if unknown, organization by domain); threading (`mail_threading`) picks the
ticket; a per-sender burst is rate-limited; then `tickets.create_ticket` or
`tickets.add_customer_message` (or the survey answer service) does the ticket work, so
classification, routing, reopening and acknowledgements follow the desk's one set of rules.
Automatic mail is stored but never reopens a ticket nor gets an acknowledgement. A mail
from an agent's own address that threads to a ticket (an agent answering a notification
by mail) is an internal note by that agent: never a customer's message, never a contact.
The raw message is kept zlib-compressed.

The parsed mail (`IncomingMail`) is built by `channels.parse`; the mailbox loop that commits
and then marks a mail done is `channels.fetch`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from tui_helpdesk.domain import Channel
from tui_helpdesk.services import mail_threading as threading
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.directory import find_contact_by_identity
from tui_helpdesk.services.errors import NotFound, ServiceError
from tui_helpdesk.store.models import (
    Agent,
    Attachment,
    Contact,
    InboundMail,
    Message,
    Outbox,
    Ticket,
)

NO_SUBJECT = "(no subject)"
RAW_LIMIT = 25 * 1024 * 1024  # a raw original kept for audit; beyond it, its headers only
ACTOR_MAX = 100  # ticket_events.actor


@dataclass(frozen=True)
class IncomingAttachment:
    """A file of a mail; `content` is None when it was over the size limit (`skipped`)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes | None
    skipped: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class IncomingMail:
    """One mail as intake needs it: decoded, cleaned, its body chosen (see channels.parse)."""

    message_id: str  # "<...>"; made from the content's hash when the mail has none
    raw: bytes
    sender: str | None  # the From address, as written
    sender_name: str | None = None
    subject: str = ""
    body: str = ""
    sent_at: datetime | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # the original's Message-ID a bounce returns
    ticket_keys: tuple[str, ...] = ()  # [HD-1042] tags in the subject, upper case
    automatic: str | None = None  # why the mail is automatic (a header), or None
    answers_a_mail: bool = False  # an automatic answer to another mail (out of office, bounce)
    attachments: tuple[IncomingAttachment, ...] = ()
    quote_start: int | None = None  # where quoted earlier mail begins in `body`
    notes: tuple[str, ...] = ()  # what parsing had to repair
    generated_id: bool = False  # the mail had no usable Message-ID


@dataclass(frozen=True)
class IntakeOptions:
    """The desk's own addresses (mail from them is never taken in: a loop)."""

    own_addresses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Intake:
    """What happened to one mail."""

    message_id: str
    decision: str  # new-ticket, threaded, follow-up, survey-answer, rate-limited, ignored,
    # unusable-sender, duplicate
    ticket: str | None = None
    sender: str | None = None
    subject: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    # A dry run's new ticket has no number yet (it gets one when a real run stores it, and
    # other tickets may be opened meanwhile): it is the run's new ticket 1, 2, ... instead.
    provisional: int | None = None

    @property
    def duplicate(self) -> bool:
        return self.decision == "duplicate"

    @property
    def creates_ticket(self) -> bool:
        """The mail opened a ticket: a new one, or the follow-up of a long-closed one."""
        if self.decision in ("duplicate", "ignored", "rate-limited", "unusable-sender"):
            return False
        return self.decision == "new-ticket" or "follow_up_of" in self.detail


def _actor(address: str | None) -> Actor:
    return Actor.system(f"contact:{address or 'unknown'}"[:ACTOR_MAX])


def _raw_kept(raw: bytes) -> tuple[bytes, bool]:
    if len(raw) <= RAW_LIMIT:
        return zlib.compress(raw), False
    head, _, _ = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    return zlib.compress(head[:RAW_LIMIT]), True


def duplicate_of(session: Session, message_id: str) -> Intake | None:
    """The earlier intake of this Message-ID, as a `duplicate` result, or None."""
    row = session.scalar(
        select(InboundMail).where(InboundMail.message_id.in_(threading.id_variants([message_id])))
    )
    if row is None:
        return None
    key = session.scalar(select(Ticket.key).where(Ticket.id == row.ticket_id))
    taken = row.received_at.isoformat()
    return Intake(
        message_id,
        "duplicate",
        key,
        detail={"first_taken": taken, "first_decision": row.decision},
    )


def _headers(mail: IncomingMail) -> tickets.MailHeaders:
    return tickets.MailHeaders(
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to[0] if mail.in_reply_to else None,
        references=" ".join(mail.references) or None,
    )


def _body(mail: IncomingMail) -> str:
    if mail.body.strip():
        return mail.body
    if mail.attachments:
        names = ", ".join(a.filename for a in mail.attachments)
        return f"(no text; attached: {names})"
    return "(empty message)"


def _attach(session: Session, message: Message, mail: IncomingMail) -> list[dict[str, Any]]:
    kept = []
    for part in mail.attachments:
        session.add(
            Attachment(
                message_id=message.id,
                filename=part.filename[:255],
                content_type=part.content_type[:255],
                size=part.size,
                sha256=part.sha256,
                content=part.content,
                skipped_reason=part.skipped[:200] if part.skipped else None,
            )
        )
        doc: dict[str, Any] = {"name": part.filename, "size": part.size}
        if part.skipped:
            doc["skipped"] = part.skipped
        if part.inline:
            doc["inline"] = True
        kept.append(doc)
    return kept


def _survey_service() -> Any:
    """`services.survey.take_survey_reply`, when the survey feature is installed."""
    try:
        from tui_helpdesk.services import survey
    except ImportError:  # pragma: no cover - the survey module ships with the outbox
        return None
    return getattr(survey, "take_survey_reply", None)


def _base_detail(mail: IncomingMail) -> dict[str, Any]:
    detail: dict[str, Any] = {"from": mail.sender, "subject": mail.subject}
    if mail.automatic:
        detail["automatic"] = mail.automatic
    if mail.notes:
        detail["notes"] = list(mail.notes)
    if mail.quote_start is not None:
        detail["quote_start"] = mail.quote_start
    if mail.generated_id:
        detail["generated_message_id"] = True
    return detail


def _ignored(mail: IncomingMail, session: Session, options: IntakeOptions) -> str:
    """Why the mail is one of ours come back (never taken in), or ""."""
    own = threading.our_own(session, mail.message_id)
    if own is not None:
        return f"our own {own.kind} mail (outbox #{own.id}) came back"
    if mail.sender and mail.sender.strip().lower() in options.own_addresses:
        return f"sent from the desk's own address {mail.sender.strip().lower()}"
    return ""


def take_mail(
    session: Session, now: datetime, mail: IncomingMail, options: IntakeOptions | None = None
) -> Intake:
    """Take `mail` in within the caller's transaction; nothing is committed here. A mail
    already taken in is reported as `duplicate` and nothing is written."""
    options = options or IntakeOptions()
    earlier = duplicate_of(session, mail.message_id)
    if earlier is not None:
        return Intake(
            mail.message_id,
            "duplicate",
            earlier.ticket,
            mail.sender,
            mail.subject,
            earlier.detail,
        )
    raw, cut = _raw_kept(mail.raw)
    detail = _base_detail(mail)
    if cut:
        detail["raw_kept"] = "headers only (the original is over the size kept for audit)"
    row = InboundMail(
        message_id=mail.message_id,
        received_at=now,
        decision="pending",
        detail=dict(detail),
        raw=raw,
    )
    session.add(row)
    session.flush()  # claims the Message-ID now: an overlapping run fails here, not later
    decision, ticket = _decide(session, now, mail, options, detail)
    row.decision = decision
    row.ticket_id = ticket.id if ticket is not None else None
    row.detail = dict(detail)
    flag_modified(row, "detail")  # filled in since the claim: always written again
    session.flush()
    return Intake(
        mail.message_id,
        decision,
        ticket.key if ticket is not None else None,
        mail.sender,
        mail.subject,
        dict(detail),
    )


def _known_sender(session: Session, address: str, region: str | None) -> Contact | None:
    """The contact who sent the mail, if the address is known (and usable at all)."""
    if not address:
        return None
    try:
        return find_contact_by_identity(session, address, region)
    except ServiceError:  # not an address we could store: resolved (and refused) below
        return None


def _decide(
    session: Session,
    now: datetime,
    mail: IncomingMail,
    options: IntakeOptions,
    detail: dict[str, Any],
) -> tuple[str, Ticket | None]:
    """The decision for a claimed mail, doing the ticket work; `detail` is filled in."""
    why_ignored = _ignored(mail, session, options)
    if why_ignored:
        detail["reason"] = why_ignored
        return "ignored", None
    desk = desk_settings(session)
    address = (mail.sender or "").strip()
    known = _known_sender(session, address, desk.phone_region)
    thread = threading.by_headers(session, mail.in_reply_to, mail.references, mail.related)
    if thread is None and mail.ticket_keys:
        thread, refused = threading.by_tag(
            session, mail.ticket_keys, desk.ticket_prefix, known, address
        )
        if refused:
            detail["tag_refused"] = refused
    if thread is None and mail.answers_a_mail:
        # An out-of-office or a bounce answering a mail of no ticket of ours: nobody asked
        # for anything. The mail is kept (`mail explain`); no ticket, no new contact.
        detail["reason"] = f"an automatic answer ({mail.automatic}) matching no ticket"
        return "ignored", None
    if thread is not None and thread.ticket_id is not None and address and not mail.automatic:
        agent = _agent_with_address(session, address)
        if agent is not None:
            return _agent_note(session, now, mail, agent, thread, detail)
    if known is not None:
        reason = threading.rate_limited(
            threading.recent_from(session, known, now), mail.automatic is not None
        )
        if reason:
            detail["reason"] = reason
            ticket = session.get(Ticket, thread.ticket_id) if thread else None
            return "rate-limited", ticket
    actor = _actor(address)
    try:
        if not address:
            raise ServiceError("the mail has no sender address")
        contact = tickets.resolve_requester(
            session, actor, now, desk, address, mail.sender_name, None
        )
    except ServiceError as exc:
        detail["reason"] = f"cannot use the sender {address!r}: {exc}"
        return "unusable-sender", None
    detail["contact"] = {"id": contact.id, "created": known is None}
    if contact.organization is not None:
        detail["organization"] = contact.organization.name
    if thread is None:
        return _new_ticket(session, actor, now, mail, contact, detail)
    detail["matched_by"] = thread.how
    detail.update(thread.detail)
    return _to_ticket(session, actor, now, mail, contact, thread, detail)


def _agent_with_address(session: Session, address: str) -> Agent | None:
    return session.scalar(
        select(Agent).where(func.lower(Agent.email) == address.lower(), Agent.active.is_(True))
    )


def _agent_note(
    session: Session,
    now: datetime,
    mail: IncomingMail,
    agent: Agent,
    thread: threading.Thread,
    detail: dict[str, Any],
) -> tuple[str, Ticket]:
    """An agent's mail on a ticket (a reply to a notification, say): their internal note,
    with the mail's attachments. Internal, so nothing they wrote for colleagues reaches the
    customer; a public answer is theirs to write."""
    target = session.get(Ticket, thread.ticket_id)
    assert target is not None  # found by id in this transaction
    if target.merged_into_id is not None:  # the conversation goes on where it was merged
        target = session.get(Ticket, target.merged_into_id) or target
    actor = Actor(login=agent.login, agent_id=agent.id, role=agent.role, name=agent.name)
    note = tickets.add_note(session, actor, now, target.key, _body(mail))
    if mail.attachments:
        detail["attachments"] = _attach(session, note, mail)
    detail["matched_by"] = thread.how
    detail.update(thread.detail)
    detail["agent"] = agent.login
    detail["reason"] = f"from agent {agent.login}: an internal note"
    return "agent-note", target


def _new_ticket(
    session: Session,
    actor: Actor,
    now: datetime,
    mail: IncomingMail,
    contact: Contact,
    detail: dict[str, Any],
) -> tuple[str, Ticket]:
    if "tag_refused" in detail:
        detail["reason"] = "subject tag refused: " + detail["tag_refused"]["refused"]
    else:
        detail["reason"] = "no known Message-ID in In-Reply-To/References and no subject tag"
    subject = " ".join(mail.subject.split())[: tickets.MAX_SUBJECT] or NO_SUBJECT
    ticket = tickets.create_ticket(
        session,
        actor,
        now,
        tickets.NewTicket(
            subject=subject,
            body=_body(mail),
            channel=Channel.EMAIL,
            requester_id=contact.id,
            mail=_headers(mail),
            automatic=mail.automatic is not None,
        ),
    )
    message = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id).limit(1)
    ).first()
    if message is not None and mail.attachments:
        detail["attachments"] = _attach(session, message, mail)
    return "new-ticket", ticket


def _to_ticket(
    session: Session,
    actor: Actor,
    now: datetime,
    mail: IncomingMail,
    contact: Contact,
    thread: threading.Thread,
    detail: dict[str, Any],
) -> tuple[str, Ticket]:
    assert thread.ticket_id is not None
    target = session.get(Ticket, thread.ticket_id)
    assert target is not None  # found by id in this transaction
    automatic = mail.automatic is not None
    survey = _survey_service() if thread.outbox_kind == "survey" and not automatic else None
    if survey is not None:
        answer = survey(session, actor, now, target, contact, _body(mail), _headers(mail))
        detail["survey"] = {
            "score": answer.score,
            "reopened": answer.reopened,
            "closed": answer.closed,
        }
        if answer.follow_up_of is not None:
            detail["follow_up_of"] = answer.follow_up_of.key
        if mail.attachments:
            detail["attachments"] = _attach(session, answer.message, mail)
        return "survey-answer", answer.ticket
    before = target.status.value
    result = tickets.add_customer_message(
        session,
        actor,
        now,
        target.key,  # a reference is a ticket's number, never its row id
        contact,
        _body(mail),
        channel=Channel.EMAIL,
        automatic=automatic,
        mail=_headers(mail),
    )
    if mail.attachments:
        detail["attachments"] = _attach(session, result.message, mail)
    if result.follow_up_of is not None:
        detail["follow_up_of"] = result.follow_up_of.key
        detail["reason"] = f"{result.follow_up_of.key} is closed beyond the reopen window"
        return "follow-up", result.ticket
    if result.ticket.key != target.key:
        detail["merged_into"] = result.ticket.key
    detail["status"] = {"before": before, "after": result.ticket.status.value}
    return "threaded", result.ticket


# --- explain -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """How a mail was taken in (or that it is one of ours): for `helpdesk mail explain`."""

    message_id: str
    source: str  # inbound (taken in), outbox (we sent it), message (stored on a ticket)
    decision: str
    ticket: str | None
    at: datetime | None
    detail: dict[str, Any]


def explain(session: Session, message_id: str) -> Explanation:
    """What intake decided for `message_id`, or where else the desk knows it from."""
    variants = threading.id_variants([message_id])
    if not variants:
        raise NotFound("give a Message-ID, e.g. <abc@mail.example>")
    shown = variants[0]
    row = session.scalar(select(InboundMail).where(InboundMail.message_id.in_(variants)))
    if row is not None:
        key = session.scalar(select(Ticket.key).where(Ticket.id == row.ticket_id))
        return Explanation(
            row.message_id, "inbound", row.decision, key, row.received_at, dict(row.detail or {})
        )
    own = session.scalar(select(Outbox).where(Outbox.message_id.in_(variants)))
    if own is not None:
        key = session.scalar(select(Ticket.key).where(Ticket.id == own.ticket_id))
        return Explanation(
            own.message_id,
            "outbox",
            f"sent by the desk ({own.kind})",
            key,
            own.sent_at or own.created_at,
            {"state": own.state.value, "to": list(own.to_addrs or [])},
        )
    message = session.scalar(
        select(Message).where(Message.message_id.in_(variants)).order_by(Message.id).limit(1)
    )
    if message is not None:
        key = session.scalar(select(Ticket.key).where(Ticket.id == message.ticket_id))
        return Explanation(
            shown,
            "message",
            f"stored as a {message.kind.value} message, not by mail intake",
            key,
            message.created_at,
            {},
        )
    raise NotFound(f"no mail with Message-ID {shown} was taken in or sent")

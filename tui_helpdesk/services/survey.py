"""Customer satisfaction: the answer to the survey mail sent when a ticket is resolved.

Mail intake calls `take_survey_reply` when an incoming mail threads to one of our survey
outbox rows (kind "survey"). The customer answers with a score 1-5 (the first number in their
own words, not in the quoted survey) and optional words: the score and the words land on the
ticket (`csat_score`, `csat_comment`, `csat_at`), which the reports read. An answer saying
the problem persists, or one without a score, is a customer message like any other: it
reopens the ticket through `tickets.add_customer_message` (one implementation of reopening).
A good score (4 or 5) with no complaint is the customer's confirmation: a resolved ticket
closes at once (otherwise `services.auto_close` closes it after `[desk] auto_close_days`).

The survey itself is queued by `services.outgoing.queue_survey` when a ticket is resolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tui_helpdesk.domain import Channel, EventKind, MessageKind, Status
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.ticket_core import _set_status, record, save, touch
from tui_helpdesk.services.tickets import MailHeaders, _check_transition, add_customer_message
from tui_helpdesk.store.models import Contact, Message, Ticket
from tui_helpdesk.text import clean

MAX_COMMENT = 2000
CONFIRMS = 4  # a score from this up, with no complaint, confirms the resolution

# Answers that say the fix did not hold. Checked before the score: "1, still broken" is a
# reopen, not a rating of a solved problem.
_PERSISTS = re.compile(
    r"""
      \bstill\s+(?:broken|failing|not\b|isn'?t\b|doesn'?t\b|does\s+not\b|happen|the\s+same
                 |an?\s+(?:issue|problem)|have\s+(?:the|this|a|an)\s+(?:issue|problem|error))
    | \bnot\s+(?:fixed|solved|resolved|working)\b
    | \b(?:isn'?t|wasn'?t|hasn'?t\s+been|is\s+not|was\s+not|has\s+not\s+been)\s+
        (?:fixed|solved|resolved|working)\b
    | \b(?:problem|issue|error)\s+(?:persists|remains|is\s+back|came\s+back|continues)\b
    | \bpersists\b
    | \bplease\s+reopen\b
    | \breopen\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Where the quoted survey starts in a reply: "On ... wrote:", Outlook's separator, or a
# forwarded/original-message banner. Everything from there on is ours, not the customer's.
_QUOTE_START = re.compile(
    r"^\s*(?:On\s.+wrote:\s*$|-{2,}\s*Original Message\s*-{2,}|From:\s.+@|_{10,})",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+")
_SCALE = re.compile(r"^\s*(?:/\s*5|out\s+of\s+5|stars?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SurveyAnswer:
    """What the customer said, before anything is stored."""

    score: int | None  # 1-5, or None when the answer has none
    comment: str | None  # the customer's words without the score
    persists: bool  # they say the problem is not solved


@dataclass(frozen=True)
class SurveyReply:
    ticket: Ticket  # the ticket that took the answer (a follow-up when the old one was closed)
    score: int | None
    reopened: bool
    message: Message
    follow_up_of: Ticket | None = None  # the closed ticket, when a follow-up took the answer
    closed: bool = False  # a good score closed the resolved ticket (the customer confirmed)


def own_words(text: str) -> str:
    """The customer's part of a reply: quoted lines (`>`) and everything from the quote
    header of their mail client on are left out, so the survey's own "1-5" never scores."""
    kept: list[str] = []
    for line in clean(text).splitlines():
        if _QUOTE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def read_answer(text: str) -> SurveyAnswer:
    """The score (the first number of the customer's words, when it is 1-5), the words
    around it, and whether they say the problem persists."""
    words = own_words(text)
    persists = bool(_PERSISTS.search(words))
    first = _NUMBER.search(words)
    score = int(first.group()) if first and first.group() in {"1", "2", "3", "4", "5"} else None
    rest = words
    if score is not None and first is not None:
        # "5/5", "4 out of 5", "3 stars": the scale is not a comment.
        after = _SCALE.sub("", words[first.end() :], count=1)
        rest = words[: first.start()] + " " + after
    comment = " ".join(rest.split()).strip(" -:,.;") or None
    if comment is not None and len(comment) > MAX_COMMENT:
        comment = comment[: MAX_COMMENT - 1] + "…"
    return SurveyAnswer(score=score, comment=comment, persists=persists)


def take_survey_reply(
    session: Session,
    actor: Actor,
    now: datetime,
    ticket: Ticket,
    author: Contact,
    text: str,
    mail: MailHeaders | None,
) -> SurveyReply:
    """Store a customer's answer to the survey of `ticket`.

    A score (and no word of the problem persisting) is recorded on the ticket with the
    answer kept as a customer message in the thread; a good score (`CONFIRMS` or more)
    closes a resolved ticket, audited as the customer's confirmation; a lower one leaves it
    resolved (or closed).
    Otherwise the answer reopens the ticket as any customer reply does (a closed ticket past
    the reopen window gets a linked follow-up ticket instead)."""
    answer = read_answer(text)
    if answer.persists or answer.score is None:
        before = ticket.status
        result = add_customer_message(session, actor, now, ticket.number, author, text, mail=mail)
        reopened = result.follow_up_of is not None or (
            not before.is_active and result.ticket.status.is_active
        )
        return SurveyReply(result.ticket, None, reopened, result.message, result.follow_up_of)
    message = Message(
        ticket_id=ticket.id,
        kind=MessageKind.CUSTOMER,
        author_contact_id=author.id,
        body=text.strip("\n") or str(answer.score),
        channel=Channel.EMAIL,
        created_at=now,
        message_id=mail.message_id if mail else None,
        in_reply_to=mail.in_reply_to if mail else None,
        references=mail.references if mail else None,
    )
    session.add(message)
    old = ticket.csat_score
    ticket.csat_score = answer.score
    ticket.csat_comment = answer.comment
    ticket.csat_at = now
    record(
        session,
        ticket,
        actor,
        now,
        EventKind.CSAT,
        field="csat_score",
        old=old,
        new=answer.score,
        detail={"from": author.email or author.phone, "comment": answer.comment, "survey": True},
    )
    confirmed = answer.score >= CONFIRMS and ticket.status is Status.RESOLVED
    if confirmed:
        # A good score without a word of the problem persisting is the confirmation the
        # resolved ticket waited for: it closes now, not after the auto-close delay.
        _check_transition(ticket, Status.CLOSED)
        _set_status(
            session,
            ticket,
            actor,
            now,
            Status.CLOSED,
            rule=f"survey: the customer confirmed (score {answer.score})",
        )
    touch(session, ticket, actor, now)
    save(session, ticket)
    return SurveyReply(ticket, answer.score, False, message, closed=confirmed)

"""The desk's vocabulary: the enumerations every layer speaks.

Pure Python with no dependencies, so rules, store, services and the console can all import it.
Presentation (colours, glyphs) belongs to the screens, not here.
"""

from __future__ import annotations

import enum

# An organization's contract tier: what `where.segment` in the rules matches on.
SEGMENTS = ("standard", "premium", "enterprise")


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer
    ON_HOLD = "on_hold"  # waiting on a third party
    RESOLVED = "resolved"  # waiting for the customer's confirmation
    CLOSED = "closed"

    @property
    def is_active(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)


ACTIVE_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s.is_active)


def lower_level(level: int | None, than: int | None) -> bool:
    """Whether a support level is below another: moving a ticket there is no escalation.
    A group without a level (a functional team) is below none and none is below it."""
    return level is not None and than is not None and level < than


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    def raised(self) -> Priority:
        """The next priority up; urgent stays urgent."""
        order = list(Priority)
        return order[min(self.rank + 1, len(order) - 1)]


_PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}


class Channel(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WEB = "web"
    CHAT = "chat"
    CLI = "cli"
    API = "api"


class MessageKind(enum.StrEnum):
    CUSTOMER = "customer"  # written by the requester or another customer
    REPLY = "reply"  # public reply by an agent
    NOTE = "note"  # internal note, never shown to the customer
    SYSTEM = "system"  # written by the desk itself (merge notices, rule notes)

    @property
    def is_public(self) -> bool:
        return self in (MessageKind.CUSTOMER, MessageKind.REPLY)


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Presence(enum.StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class Activity(enum.StrEnum):
    """What an agent is doing on a ticket right now, as other agents see it."""

    VIEWING = "viewing"
    TYPING = "typing"


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Visibility(enum.StrEnum):
    INTERNAL = "internal"
    PUBLIC = "public"


class OutboxState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # permanent failure, shown on the ticket


class EventKind(enum.StrEnum):
    CREATED = "created"
    STATUS = "status"
    PRIORITY = "priority"
    CATEGORY = "category"
    ASSIGNEE = "assignee"
    GROUP = "group"
    LEVEL = "level"
    TAGS = "tags"
    SUBJECT = "subject"
    REQUESTER = "requester"  # another contact asked for it; `field` organization: it moved
    REPLY = "reply"
    NOTE = "note"
    CUSTOMER_MESSAGE = "customer_message"
    FIRST_RESPONSE = "first_response"
    MERGED = "merged"
    MERGED_FROM = "merged_from"
    REOPENED = "reopened"
    FOLLOW_UP = "follow_up"  # a closed ticket and the new ticket that took a late reply
    ESCALATED = "escalated"
    ROUTED = "routed"  # a classification rule set fields of a new ticket
    SLA = "sla"
    ARTICLE = "article"  # a knowledge article was drafted from the ticket
    MAIL = "mail"  # a mail about the ticket could not be delivered
    CSAT = "csat"  # the customer answered the satisfaction survey

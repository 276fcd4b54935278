"""The desk's tables (DESIGN §2) as typed SQLAlchemy 2.x models.

Models hold data and relationships only; every rule about how they change lives in
`services/` and `rules/`. Indexes follow the hot queries: the queue (open tickets by group or
assignee ordered by due time), the escalation scan (due timestamps), lookups by number and by
requester, and the audit trail of one ticket.

The annotations are objects, not strings (no `from __future__ import annotations`): the
declarative mapping would otherwise evaluate some 230 of them from text at import, 2-3% of
every command's start-up. A relationship to a class defined further down is quoted.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tui_helpdesk.domain import (
    Activity,
    ArticleStatus,
    Channel,
    EventKind,
    MessageKind,
    OutboxState,
    Presence,
    Priority,
    Role,
    Status,
    Visibility,
)
from tui_helpdesk.store.base import Base, partial_index, str_enum


class Counter(Base):
    """Named monotonic counters (ticket numbers). A value handed out is never handed out again."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.AGENT)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    presence: Mapped[Presence] = mapped_column(str_enum(Presence), default=Presence.AVAILABLE)
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_assigned_at: Mapped[datetime | None]  # by automatic assignment: round robin on ties

    # Collections load on first use: eager loading here would cascade (agent -> groups ->
    # members -> groups ...) into every ticket load. List services ask for them explicitly.
    skill_rows: Mapped[list["AgentSkill"]] = relationship(
        cascade="all, delete-orphan", order_by=AgentSkill.skill
    )
    groups: Mapped[list["Group"]] = relationship(
        secondary="group_members", back_populates="members", order_by="Group.name"
    )

    @property
    def skills(self) -> list[str]:
        return [row.skill for row in self.skill_rows]


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (CheckConstraint("level IS NULL OR level BETWEEN 1 AND 3", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[int | None] = mapped_column(Integer)  # 1..3, or None for a functional team
    next_level_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    email: Mapped[str | None] = mapped_column(String(320))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    next_level: Mapped["Group | None"] = relationship(remote_side=[id])
    lead: Mapped["Agent | None"] = relationship()
    members: Mapped[list["Agent"]] = relationship(
        secondary="group_members", back_populates="groups", order_by=Agent.login
    )


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    segment: Mapped[str] = mapped_column(String(32), default="standard")
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    domain_rows: Mapped[list["OrganizationDomain"]] = relationship(
        cascade="all, delete-orphan", back_populates="organization"
    )

    @property
    def domains(self) -> list[str]:
        return sorted(row.domain for row in self.domain_rows)


class OrganizationDomain(Base):
    """An email domain owned by an organization; a domain belongs to one organization only."""

    __tablename__ = "organization_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)  # lower case
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )

    organization: Mapped["Organization"] = relationship(back_populates="domain_rows")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)  # stored lower case
    phone: Mapped[str | None] = mapped_column(String(32), index=True)  # E.164
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str | None] = mapped_column(String(16))
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    # A duplicate merged into another contact keeps its row (old messages and the audit trail
    # still name it) but owns no email or phone any more and is left out of lookups.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))

    organization: Mapped["Organization | None"] = relationship(lazy="joined")
    email_rows: Mapped[list["ContactEmail"]] = relationship(
        cascade="all, delete-orphan", back_populates="contact", order_by="ContactEmail.email"
    )
    phone_rows: Mapped[list["ContactPhone"]] = relationship(
        cascade="all, delete-orphan", back_populates="contact", order_by="ContactPhone.phone"
    )

    @property
    def emails(self) -> list[str]:
        """Every address of the contact, the primary one (`email`) first."""
        rest = sorted(row.email for row in self.email_rows if row.email != self.email)
        return ([self.email] if self.email else []) + rest

    @property
    def phones(self) -> list[str]:
        """Every number of the contact (E.164), the primary one (`phone`) first."""
        rest = sorted(row.phone for row in self.phone_rows if row.phone != self.phone)
        return ([self.phone] if self.phone else []) + rest


class ContactEmail(Base):
    """An email address of a contact (lower case). `contacts.email` is the primary one and
    is listed here too; an address belongs to one contact only, so lookups are exact."""

    __tablename__ = "contact_emails"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )

    contact: Mapped["Contact"] = relationship(back_populates="email_rows")


class ContactPhone(Base):
    """A phone number of a contact (E.164). `contacts.phone` is the primary one and is listed
    here too; a switchboard number may belong to several contacts."""

    __tablename__ = "contact_phones"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    phone: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)

    contact: Mapped["Contact"] = relationship(back_populates="phone_rows")


class Category(Base):
    """A node of the category tree; `path` is the full name ("Technical > Network")."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(400), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    default_group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    default_priority: Mapped[Priority | None] = mapped_column(str_enum(Priority))

    default_group: Mapped["Group | None"] = relationship()


class TicketTag(Base):
    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The queue, most urgent deadline first: all open tickets, an agent's, a group's
        # (unassigned). Only active tickets carry `due_at`, so these ranges hold no history.
        Index("ix_tickets_due", "due_at", "id"),
        Index("ix_tickets_assignee_due", "assignee_id", "due_at", "id"),
        Index("ix_tickets_group_assignee_due", "group_id", "assignee_id", "due_at", "id"),
        # Escalation scans on each deadline; `helpdesk escalate` on the next one due.
        Index("ix_tickets_first_response_due", "first_response_due_at"),
        Index("ix_tickets_resolution_due", "resolution_due_at"),
        Index("ix_tickets_next_escalation", "next_escalation_at", "id"),
        # Reports' "at risk now" and "overdue now": the running deadlines up to a horizon,
        # with what they test of each (calendar, status, merged), from the index alone (0012);
        # and their open breaches, breached clocks running past their deadline (0014).
        partial_index(
            "ix_tickets_at_risk",
            "due_at",
            "sla_calendar",
            "status",
            "merged_into_id",
            "first_response_state",
            "first_response_breached",
            "first_response_due_at",
            "resolution_state",
            "resolution_breached",
            "resolution_due_at",
            where="due_at IS NOT NULL",
        ),
        # A customer's tickets; with the creation time, the customers report counts each
        # organization's tickets of a period from its own range, without sorting (0012).
        Index("ix_tickets_organization_id", "organization_id", "created_at", "merged_into_id"),
        # Views by status and recency; with what reports read of the open tickets (load per
        # agent and organization; the customers report reads open tickets
        # created before a period's end): every update moves the entry anyway
        # (`updated_at`), so the extra columns cost the writes nothing (0011).
        Index(
            "ix_tickets_status_updated",
            "status",
            "updated_at",
            "id",
            "merged_into_id",
            "due_at",
            "assignee_id",
            "organization_id",
            "created_at",
        ),
        # Recently resolved; unanswered tickets.
        Index("ix_tickets_resolved", "resolved_at", "id"),
        Index("ix_tickets_first_response", "first_response_at"),
        # Reports read a period as the range of one timestamp, from the index alone (0011):
        # each holds what the reports read of those tickets (merged ones are left out).
        # By creation time: volume, categories, customers.
        Index(
            "ix_tickets_created",
            "created_at",
            "merged_into_id",
            "channel",
            "category_id",
            "organization_id",
            "requester_id",
        ),
        # By closing time: volume; with the resolution, the backlog at a period's end.
        Index("ix_tickets_closed", "closed_at", "merged_into_id", "resolved_at", "created_at"),
        # First responses and resolutions of a period: response, SLA, summary, agents. Only
        # answered (resolved) tickets, so the running clocks of open tickets are not in them.
        partial_index(
            "ix_tickets_report_first_response",
            "first_response_at",
            "merged_into_id",
            "first_response_state",
            "first_response_breached",
            "first_response_target",
            "first_response_remaining",
            "created_at",
            "assignee_id",
            "organization_id",
            where="first_response_at IS NOT NULL",
        ),
        partial_index(
            "ix_tickets_report_resolved",
            "resolved_at",
            "merged_into_id",
            "resolution_state",
            "resolution_breached",
            "sla_cycle",
            "resolution_target",
            "resolution_remaining",
            "created_at",
            "assignee_id",
            "organization_id",
            where="resolved_at IS NOT NULL",
        ),
        # The same clocks by organization: the customers report counts each organization's
        # met clocks of a period from its own range, without sorting (0013).
        partial_index(
            "ix_tickets_org_first_response",
            "organization_id",
            "first_response_at",
            "merged_into_id",
            "first_response_state",
            "first_response_breached",
            "created_at",
            where="first_response_at IS NOT NULL",
        ),
        partial_index(
            "ix_tickets_org_resolved",
            "organization_id",
            "resolved_at",
            "merged_into_id",
            "resolution_state",
            "resolution_breached",
            "created_at",
            where="resolved_at IS NOT NULL",
        ),
        # Satisfaction reports: the answers of a period (few tickets have one).
        partial_index(
            "ix_tickets_csat_at",
            "csat_at",
            "merged_into_id",
            "csat_score",
            where="csat_at IS NOT NULL",
        ),
        CheckConstraint("level IS NULL OR level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("csat_score IS NULL OR csat_score BETWEEN 1 AND 5", name="csat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # "HD-1042", stable forever
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[Status] = mapped_column(str_enum(Status), default=Status.NEW)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.NORMAL)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    requester_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    level: Mapped[int | None] = mapped_column(Integer)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    # SLA clocks (rules/clock.py, kept by services/sla.py on every change). Each clock has a
    # state (running, paused, stopped, met), its working-time target in seconds, its deadline
    # (while running, and kept once met for reports), the working time left (negative once
    # overdue) while paused or stopped, and once met what was left then (target minus it is
    # the working time the goal took, which reports read; none if met before it was
    # measured), and whether it was breached. `due_at` is the earliest deadline
    # still running (None when paused or finished): the queue's order. `sla_cycle` counts
    # reopenings; escalation rules fire once per cycle.
    sla_policy: Mapped[str | None] = mapped_column(String(64))
    sla_calendar: Mapped[str | None] = mapped_column(String(64))
    sla_cycle: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_response_state: Mapped[str | None] = mapped_column(String(16))
    first_response_target: Mapped[int | None] = mapped_column(Integer)
    first_response_due_at: Mapped[datetime | None]
    first_response_remaining: Mapped[int | None] = mapped_column(Integer)
    first_response_breached: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    resolution_state: Mapped[str | None] = mapped_column(String(16))
    resolution_target: Mapped[int | None] = mapped_column(Integer)
    resolution_due_at: Mapped[datetime | None]
    resolution_remaining: Mapped[int | None] = mapped_column(Integer)
    resolution_breached: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    due_at: Mapped[datetime | None]
    sla_paused_at: Mapped[datetime | None]
    # Escalation timers: the earliest instant an escalation rule or a breach may be due
    # (`helpdesk escalate` reads only tickets with `next_escalation_at <= now`), the last
    # public exchange (idle rules) and since when nobody owns the ticket (unassigned rules).
    next_escalation_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    unassigned_since: Mapped[datetime | None]

    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    customer_escalation: Mapped[bool] = mapped_column(Boolean, default=False)
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None]  # when the survey answer came in
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}

    category: Mapped["Category | None"] = relationship(lazy="joined")
    requester: Mapped["Contact"] = relationship(lazy="joined")
    organization: Mapped["Organization | None"] = relationship(lazy="joined")
    group: Mapped["Group | None"] = relationship(lazy="joined")
    assignee: Mapped["Agent | None"] = relationship(foreign_keys=[assignee_id], lazy="joined")
    created_by: Mapped["Agent | None"] = relationship(foreign_keys=[created_by_id], lazy="joined")
    updated_by: Mapped["Agent | None"] = relationship(foreign_keys=[updated_by_id])
    merged_into: Mapped["Ticket | None"] = relationship(remote_side=[id], lazy="select")
    tag_rows: Mapped[list["TicketTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=TicketTag.tag
    )

    @property
    def tags(self) -> list[str]:
        # Sorted here too: rows added in this session sit at the end until reloaded.
        return sorted(row.tag for row in self.tag_rows)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_ticket_created", "ticket_id", "created_at", "id"),
        # The agents report counts the replies of each resolved ticket.
        partial_index(
            "ix_messages_ticket_reply",
            "ticket_id",
            where="kind = 'reply'",
        ),
        # Only mail carries a Message-ID: index those rows alone.
        partial_index(
            "ix_messages_message_id",
            "message_id",
            where="message_id IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[Channel | None] = mapped_column(str_enum(Channel))
    created_at: Mapped[datetime]
    # Email threading: every Message-ID we have seen or sent, so replies find their ticket.
    message_id: Mapped[str | None] = mapped_column(String(998))
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    delivery_state: Mapped[OutboxState | None] = mapped_column(str_enum(OutboxState))

    author_agent: Mapped["Agent | None"] = relationship(lazy="joined")
    author_contact: Mapped["Contact | None"] = relationship(lazy="joined")
    attachments: Mapped[list["Attachment"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when over the size cap
    skipped_reason: Mapped[str | None] = mapped_column(String(200))


class TicketEvent(Base):
    """Append-only audit trail: who changed what on a ticket, when, and which rule caused it."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket_at", "ticket_id", "at", "id"),
        # Reports count kinds of change over a period (reopened, escalated, ...).
        Index("ix_ticket_events_kind_at", "kind", "at"),
        # Working time to first response and resolution: the ledger's "met" entry of a
        # ticket's clock, one row among its many events.
        partial_index(
            "ix_ticket_events_sla_met",
            "ticket_id",
            "field",
            where="kind = 'sla' AND new = 'met'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    actor: Mapped[str] = mapped_column(String(100))  # login, "system", "contact:<email>"
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, length=24))
    field: Mapped[str | None] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Escalation(Base):
    """An escalation that fired: one row per (ticket, rule, SLA cycle), so a rule fires once
    per cycle however often cron runs and however many runs overlap. Manual escalations have
    no rule and may repeat."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("ticket_id", "rule", "cycle"),
        Index("ix_escalations_at", "at"),  # reports: the escalations of a period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    rule: Mapped[str | None] = mapped_column(String(100))
    cycle: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[Visibility] = mapped_column(
        str_enum(Visibility), default=Visibility.INTERNAL
    )
    status: Mapped[ArticleStatus] = mapped_column(
        str_enum(ArticleStatus), default=ArticleStatus.DRAFT
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    source_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    category: Mapped["Category | None"] = relationship(lazy="joined")


class Outbox(Base):
    """Mail to send, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(32))  # ack, reply, notify, survey, report
    to_addrs: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(998))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    state: Mapped[OutboxState] = mapped_column(str_enum(OutboxState), default=OutboxState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(Base):
    """A file sent with an outbox mail (a scheduled report, say)."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ReportRun(Base):
    """A scheduled report sent for one period: a second run for the same period sends nothing."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("name", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    ran_at: Mapped[datetime]
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TicketPresence(Base):
    """Who has a ticket open right now, and whether they are typing on it: one row per agent
    and ticket, refreshed while the ticket is on their screen; a row older than a heartbeat or
    two is stale and ignored."""

    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    activity: Mapped[Activity] = mapped_column(str_enum(Activity), default=Activity.VIEWING)
    seen_at: Mapped[datetime]


class InboundMail(Base):
    """Every mail taken in, by Message-ID, so a mail never becomes two tickets."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    received_at: Mapped[datetime]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    decision: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # zlib-compressed original


class RuleSet(Base):
    """A version of the desk-wide rules document, applied by an admin; one is active."""

    __tablename__ = "rule_sets"
    __table_args__ = (UniqueConstraint("version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    applied_by: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

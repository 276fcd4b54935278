"""People and customers: agents, groups, organizations, contacts and categories.

Lookups by name raise `NotFound` with a message a user can act on; `add_*` validate and
refuse duplicates with `ValidationError`. Used by the CLI, the console, imports and intake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tui_helpdesk.domain import Priority, Role
from tui_helpdesk.rules.identity import (
    InvalidIdentity,
    email_domain,
    looks_like_email,
    name_from_email,
    normalise_email,
    normalise_phone,
)
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.models import (
    Agent,
    AgentSkill,
    Category,
    Contact,
    Group,
    Organization,
    OrganizationDomain,
)

SEGMENTS = ("standard", "premium", "enterprise")


# --- agents -------------------------------------------------------------------------------


def get_agent(session: Session, login: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.login == login))
    if agent is None:
        raise NotFound(f"unknown agent {login!r} (see `helpdesk agent list`)")
    return agent


def actor_for(session: Session, login: str) -> Actor:
    """The acting agent; an unknown or deactivated login is refused."""
    agent = session.scalar(select(Agent).where(Agent.login == login))
    if agent is None:
        raise NotFound(
            f"unknown agent {login!r}: ask an admin to run `helpdesk agent add {login}`, "
            "or act as another agent with --as LOGIN"
        )
    if not agent.active:
        raise NotFound(f"agent {login!r} is deactivated")
    return Actor(login=agent.login, agent_id=agent.id, role=agent.role, name=agent.name)


@dataclass
class AgentDraft:
    login: str
    name: str
    email: str | None = None
    role: Role = Role.AGENT
    groups: Sequence[str] = ()
    skills: Sequence[str] = ()
    languages: Sequence[str] = ()
    capacity: int = 20
    timezone: str | None = None


def _clean_login(login: str) -> str:
    login = login.strip()
    if not login or any(c.isspace() for c in login) or len(login) > 64:
        raise ValidationError(f"invalid login {login!r}: 1-64 characters, no spaces")
    return login


def add_agent(session: Session, now: datetime, draft: AgentDraft) -> Agent:
    login = _clean_login(draft.login)
    if session.scalar(select(Agent.id).where(Agent.login == login)) is not None:
        raise ValidationError(f"agent {login!r} already exists")
    if draft.capacity < 0:
        raise ValidationError("capacity must be >= 0")
    email = _optional_email(draft.email)
    agent = Agent(
        login=login,
        name=draft.name.strip() or login,
        email=email,
        role=draft.role,
        capacity=draft.capacity,
        languages=[lang.strip().lower() for lang in draft.languages if lang.strip()],
        timezone=draft.timezone,
        created_at=now,
    )
    agent.skill_rows = [AgentSkill(skill=s) for s in sorted(_clean_words(draft.skills))]
    session.add(agent)
    session.flush()
    for group_name in draft.groups:
        # Through the relationship, so the group's loaded `members` (and `agent.groups`) in
        # this session agree with the rows: services check membership on those collections.
        group = get_group(session, group_name)
        if agent not in group.members:
            group.members.append(agent)
    session.flush()
    session.refresh(agent)
    return agent


def list_agents(session: Session) -> list[Agent]:
    return list(
        session.scalars(
            select(Agent)
            .options(selectinload(Agent.groups), selectinload(Agent.skill_rows))
            .order_by(Agent.login)
        )
    )


def _clean_words(words: Sequence[str]) -> set[str]:
    return {w.strip().lower() for w in words if w.strip()}


# --- groups -------------------------------------------------------------------------------


def get_group(session: Session, name: str) -> Group:
    group = session.scalar(select(Group).where(func.lower(Group.name) == name.strip().lower()))
    if group is None:
        raise NotFound(f"unknown group {name!r} (see `helpdesk group list`)")
    return group


@dataclass
class GroupDraft:
    name: str
    level: int | None = None
    next_level: str | None = None
    lead: str | None = None
    email: str | None = None
    description: str | None = None
    members: Sequence[str] = field(default_factory=tuple)


def add_group(session: Session, now: datetime, draft: GroupDraft) -> Group:
    name = draft.name.strip()
    if not name:
        raise ValidationError("a group needs a name")
    if session.scalar(select(Group.id).where(func.lower(Group.name) == name.lower())):
        raise ValidationError(f"group {name!r} already exists")
    if draft.level is not None and draft.level not in (1, 2, 3):
        raise ValidationError(f"level must be 1, 2 or 3, got {draft.level}")
    group = Group(
        name=name,
        level=draft.level,
        email=_optional_email(draft.email),
        description=draft.description,
        created_at=now,
    )
    if draft.next_level:
        group.next_level = get_group(session, draft.next_level)
    if draft.lead:
        group.lead = get_agent(session, draft.lead)
    session.add(group)
    session.flush()
    for login in draft.members:
        # Through the relationship: agents already loaded in this session see their new group
        # (a bare GroupMember row would leave their `groups` collection stale).
        agent = get_agent(session, login)
        if agent not in group.members:
            group.members.append(agent)
    session.flush()
    session.refresh(group)
    return group


def list_groups(session: Session) -> list[Group]:
    return list(
        session.scalars(
            select(Group)
            .options(
                selectinload(Group.members),
                joinedload(Group.lead),
                joinedload(Group.next_level),
            )
            .order_by(Group.level.is_(None), Group.level, Group.name)
        )
    )


# --- organizations ------------------------------------------------------------------------


def get_organization(session: Session, name: str) -> Organization:
    org = session.scalar(
        select(Organization).where(func.lower(Organization.name) == name.strip().lower())
    )
    if org is None:
        raise NotFound(f"unknown organization {name!r} (see `helpdesk org list`)")
    return org


def organization_for_domain(session: Session, domain: str) -> Organization | None:
    return session.scalar(
        select(Organization)
        .join(OrganizationDomain)
        .where(OrganizationDomain.domain == domain.lower())
    )


@dataclass
class OrganizationDraft:
    name: str
    domains: Sequence[str] = ()
    segment: str = "standard"
    sla_policy: str | None = None
    region: str | None = None
    notes: str | None = None


def _clean_domain(domain: str) -> str:
    domain = domain.strip().lower().lstrip("@")
    if not domain or "." not in domain or any(c.isspace() or c == "@" for c in domain):
        raise ValidationError(f"invalid email domain {domain!r}")
    return domain


def add_organization(session: Session, now: datetime, draft: OrganizationDraft) -> Organization:
    name = draft.name.strip()
    if not name:
        raise ValidationError("an organization needs a name")
    if session.scalar(select(Organization.id).where(func.lower(Organization.name) == name.lower())):
        raise ValidationError(f"organization {name!r} already exists")
    segment = draft.segment.strip().lower() or "standard"
    if segment not in SEGMENTS:
        raise ValidationError(f"segment must be one of {', '.join(SEGMENTS)}, got {segment!r}")
    domains = sorted({_clean_domain(d) for d in draft.domains if d.strip()})
    for domain in domains:
        owner = organization_for_domain(session, domain)
        if owner is not None:
            raise ValidationError(f"domain {domain!r} already belongs to {owner.name!r}")
    org = Organization(
        name=name,
        segment=segment,
        sla_policy=draft.sla_policy,
        region=draft.region,
        notes=draft.notes,
        created_at=now,
    )
    org.domain_rows = [OrganizationDomain(domain=d) for d in domains]
    session.add(org)
    session.flush()
    return org


def list_organizations(session: Session, limit: int | None = None) -> list[Organization]:
    query = (
        select(Organization)
        .options(selectinload(Organization.domain_rows))
        .order_by(Organization.name)
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


# --- contacts -----------------------------------------------------------------------------


def _optional_email(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return normalise_email(text)
    except InvalidIdentity as exc:
        raise ValidationError(str(exc)) from None


def clean_phone(text: str | None, region: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        return normalise_phone(text, region)
    except InvalidIdentity as exc:
        hint = "" if region else " (write it with +country code, or set desk.phone_region)"
        raise ValidationError(f"{exc}{hint}") from None


def find_contact_by_identity(session: Session, identity: str, region: str | None) -> Contact | None:
    """The contact with this email address or phone number, if any."""
    if looks_like_email(identity):
        email = _optional_email(identity)
        return session.scalar(select(Contact).where(Contact.email == email))
    phone = clean_phone(identity, region)
    return session.scalars(
        select(Contact).where(Contact.phone == phone).order_by(Contact.id)
    ).first()


@dataclass
class ContactDraft:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    organization: str | None = None
    language: str | None = None
    vip: bool = False
    notes: str | None = None


def add_contact(
    session: Session, now: datetime, draft: ContactDraft, phone_region: str | None
) -> Contact:
    email = _optional_email(draft.email)
    phone = clean_phone(draft.phone, phone_region)
    if email is None and phone is None:
        raise ValidationError("a contact needs an email address or a phone number")
    if email is not None and session.scalar(select(Contact.id).where(Contact.email == email)):
        raise ValidationError(f"a contact with email {email!r} already exists")
    if draft.organization:
        org: Organization | None = get_organization(session, draft.organization)
    elif email is not None:
        org = organization_for_domain(session, email_domain(email))
    else:
        org = None
    name = (draft.name or "").strip()
    if not name:
        name = name_from_email(email) if email else (phone or "")
    contact = Contact(
        name=name,
        email=email,
        phone=phone,
        organization=org,
        language=draft.language,
        vip=draft.vip,
        notes=draft.notes,
        created_at=now,
    )
    session.add(contact)
    session.flush()
    return contact


def find_contacts(
    session: Session, query: str, region: str | None, limit: int = 20
) -> list[Contact]:
    """Contacts matching an email, a phone number, or part of a name, address, phone or
    organization. Ranked: the exact email/phone match first, then names equal to the query,
    names starting with it, a word of the name starting with it, addresses starting with it,
    then any other match; alphabetical within a rank. (Fuzzy lookup arrives with the
    customers capability.)"""
    query = query.strip()
    if not query or limit < 1:
        return []
    exact: list[Contact] = []
    try:
        found = find_contact_by_identity(session, query, region)
    except ValidationError:
        found = None
    if found is not None:
        exact.append(found)
    words = query.lower()
    name = func.lower(Contact.name)
    matches = [
        name.contains(words, autoescape=True),
        Contact.email.contains(words, autoescape=True),
        func.lower(Organization.name).contains(words, autoescape=True),
    ]
    digits = "".join(c for c in query if c.isdigit())
    if len(digits) >= 4 and not any(c.isalpha() for c in query):
        matches.append(Contact.phone.contains(digits, autoescape=True))  # part of a number
    rank = case(
        (name == words, 0),
        (name.startswith(words, autoescape=True), 1),
        (name.contains(" " + words, autoescape=True), 2),
        (Contact.email.startswith(words, autoescape=True), 3),
        else_=4,
    )
    others = session.scalars(
        select(Contact)
        .outerjoin(Organization, Contact.organization_id == Organization.id)
        .where(or_(*matches))
        .order_by(rank, name, Contact.id)
        .limit(limit + len(exact))
    ).all()
    seen = {c.id for c in exact}
    return (exact + [c for c in others if c.id not in seen])[:limit]


# --- categories ---------------------------------------------------------------------------

CATEGORY_SEPARATOR = " > "


def split_category_path(path: str) -> list[str]:
    parts = [p.strip() for p in path.replace("/", ">").split(">")]
    if not all(parts):
        raise ValidationError(f"invalid category path {path!r}")
    return parts


def get_category(session: Session, path: str) -> Category:
    wanted = CATEGORY_SEPARATOR.join(split_category_path(path)).lower()
    category = session.scalar(select(Category).where(func.lower(Category.path) == wanted))
    if category is None:
        raise NotFound(
            f"unknown category {path!r} (categories are paths like 'Technical > Network')"
        )
    return category


def ensure_category(
    session: Session,
    path: str,
    default_group: str | None = None,
    default_priority: Priority | None = None,
) -> Category:
    """The category at `path`, creating it and any missing parents."""
    parts = split_category_path(path)
    parent: Category | None = None
    for depth in range(1, len(parts) + 1):
        node_path = CATEGORY_SEPARATOR.join(parts[:depth])
        node = session.scalar(
            select(Category).where(func.lower(Category.path) == node_path.lower())
        )
        if node is None:
            node = Category(
                name=parts[depth - 1], path=node_path, parent_id=parent.id if parent else None
            )
            session.add(node)
            session.flush()
        parent = node
    assert parent is not None
    if default_group:
        parent.default_group = get_group(session, default_group)
    if default_priority:
        parent.default_priority = default_priority
    session.flush()
    return parent


def list_categories(session: Session) -> list[Category]:
    return list(
        session.scalars(
            select(Category).options(joinedload(Category.default_group)).order_by(Category.path)
        )
    )

"""People and customers: agents, groups, organizations, contacts and categories.

Lookups by name raise `NotFound` with a message a user can act on; `add_*` validate and
refuse duplicates with `ValidationError`. A contact has any number of email addresses and
phone numbers (`contact_emails`, `contact_phones`; the primary ones are also in `contacts`);
contacts are found by them through `find_contact_by_identity`, which ticket creation and
intake use. Finding callers by name, merging duplicates and customer history live in
`services.customers`. Used by the CLI, the console, imports and intake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tui_helpdesk.domain import ACTIVE_STATUSES, Priority, Role
from tui_helpdesk.domain import SEGMENTS as SEGMENTS  # re-exported for the CLI's help
from tui_helpdesk.rules.identity import (
    InvalidIdentity,
    email_domain,
    looks_like_email,
    name_from_email,
    normalise_email,
    normalise_phone,
)
from tui_helpdesk.services.context import Actor, require_admin
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.functions import like_escape
from tui_helpdesk.store.models import (
    Agent,
    AgentSkill,
    Category,
    Contact,
    ContactEmail,
    ContactPhone,
    Group,
    Organization,
    OrganizationDomain,
    Ticket,
)

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


def set_agent_active(session: Session, actor: Actor, login: str, active: bool) -> bool:
    """Activate or deactivate an agent (an admin's job). An inactive agent cannot act, gets
    no new assignments (`services.assignment`) and no notifications (`services.notify`); their
    tickets stay theirs. Returns whether anything changed."""
    require_admin(actor, "activate or deactivate agents")
    agent = get_agent(session, login)
    if agent.active == active:
        return False
    if not active and agent.id == actor.agent_id:
        raise ValidationError(f"{login} cannot deactivate themselves: ask another admin")
    agent.active = active
    session.flush()
    return True


def left_behind(session: Session, login: str) -> tuple[list[str], int]:
    """What an inactive agent still holds: the groups they lead (whose lead notifications
    reach nobody) and how many active tickets are assigned to them (nobody works them)."""
    agent = get_agent(session, login)
    led = list(session.scalars(select(Group.name).where(Group.lead_id == agent.id)))
    tickets = session.scalar(
        select(func.count()).where(
            Ticket.assignee_id == agent.id, Ticket.status.in_(ACTIVE_STATUSES)
        )
    )
    return sorted(led), tickets or 0


def edit_agent(
    session: Session,
    actor: Actor,
    login: str,
    *,
    name: str | None = None,
    email: str | None = None,
    timezone: str | None = None,
    role: Role | None = None,
    capacity: int | None = None,
    languages: Sequence[str] | None = None,
    add_skills: Sequence[str] = (),
    remove_skills: Sequence[str] = (),
) -> tuple[Agent, tuple[str, ...]]:
    """Change an agent. Anyone may change their own name, address and time zone; the rest
    (role, capacity, languages and skills, which assignment reads) and other agents are an
    admin's job. None leaves a field as it is; an empty string clears address and zone. The
    desk keeps at least one active admin. Returns the agent and what changed, in words."""
    agent = get_agent(session, login)
    admin_only = (role, capacity, languages)
    if (
        agent.id != actor.agent_id
        or any(value is not None for value in admin_only)
        or add_skills
        or remove_skills
    ):
        require_admin(actor, "change other agents, roles, capacity, languages or skills")
    changes: list[str] = []
    if name is not None:
        if not name.strip():
            raise ValidationError("an agent's name cannot be empty")
        if " ".join(name.split()) != agent.name:
            agent.name = " ".join(name.split())
            changes.append("name changed")
    if email is not None and _optional_email(email) != agent.email:
        agent.email = _optional_email(email)
        changes.append("email changed")
    if timezone is not None and (timezone.strip() or None) != agent.timezone:
        zone = timezone.strip() or None
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValidationError(f"unknown time zone {zone!r}") from None
        agent.timezone = zone
        changes.append(f"time zone {zone or 'the desk default'}")
    if role is not None and role is not agent.role:
        if agent.role is Role.ADMIN and agent.active:
            admins = session.scalar(
                select(func.count()).where(Agent.role == Role.ADMIN, Agent.active.is_(True))
            )
            if (admins or 0) <= 1:
                raise ValidationError(f"{agent.login} is the desk's only admin: make another first")
        changes.append(f"role {agent.role.value} → {role.value}")
        agent.role = role
    if capacity is not None and capacity != agent.capacity:
        if capacity < 0:
            raise ValidationError("capacity must be >= 0")
        changes.append(f"capacity {agent.capacity} → {capacity}")
        agent.capacity = capacity
    if languages is not None:
        wanted = [lang.strip().lower() for lang in languages if lang.strip()]
        if wanted != agent.languages:
            agent.languages = wanted
            changes.append(f"languages {', '.join(wanted) or 'none'}")
    dropping = _clean_words(remove_skills)
    unknown = sorted(dropping - set(agent.skills))
    if unknown:
        raise ValidationError(f"{agent.login} has no skill {unknown[0]!r}")
    adding = sorted(_clean_words(add_skills) - set(agent.skills))
    if dropping or adding:
        agent.skill_rows = [r for r in agent.skill_rows if r.skill not in dropping] + [
            AgentSkill(skill=skill) for skill in adding
        ]
        changes += [f"skill +{s}" for s in adding] + [f"skill -{s}" for s in sorted(dropping)]
    session.flush()
    return agent, tuple(changes)


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


_GROUPS = "directory.groups"  # lower-case name -> Group, for the session's lifetime


def get_group(session: Session, name: str) -> Group:
    """The group of that name, in any case. Found once per session: a batch job that moves
    thousands of tickets between a few groups asks for the same ones again and again."""
    key = name.strip().lower()
    known: dict[str, Group] = session.info.setdefault(_GROUPS, {})
    group = known.get(key)
    if group is not None and group in session and group.name.lower() == key:
        return group
    group = session.scalar(select(Group).where(func.lower(Group.name) == key))
    if group is None:
        raise NotFound(f"unknown group {name!r} (see `helpdesk group list`)")
    known[key] = group
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
        group.next_level = _next_level(group, get_group(session, draft.next_level))
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


def _next_level(group: Group, target: Group) -> Group:
    """`target` as the group's next level, checked: escalation goes up, never to a lower
    support level and never round to the group itself."""
    if group.level is not None and target.level is not None and target.level <= group.level:
        raise ValidationError(
            f"{group.name}'s next level must be a higher level than {group.level}: "
            f"{target.name} is level {target.level}"
        )
    step: Group | None = target
    while step is not None:
        if step is group:
            raise ValidationError(
                f"{group.name} cannot escalate to {target.name}: it leads back to it"
            )
        step = step.next_level
    return target


def edit_group(
    session: Session,
    actor: Actor,
    name: str,
    *,
    next_level: str | None = None,
    lead: str | None = None,
    email: str | None = None,
    description: str | None = None,
    add_members: Sequence[str] = (),
    remove_members: Sequence[str] = (),
) -> tuple[Group, tuple[str, ...]]:
    """Change a group (admins): its members, lead, next level (where `level_up` sends its
    tickets), address and description; None leaves a field as it is, an empty string clears
    it. A lower next level, or one that leads back to the group, is refused (`_next_level`),
    and so is the lead leaving while still the lead. Tickets keep their assignee when the
    assignee leaves the group. Returns the group and what changed, in words."""
    require_admin(actor, "change groups")
    group = get_group(session, name)
    changes: list[str] = []
    if next_level is not None:
        target = _next_level(group, get_group(session, next_level)) if next_level.strip() else None
        if target is not group.next_level:
            before = group.next_level.name if group.next_level else "none"
            changes.append(f"next level {before} → {target.name if target else 'none'}")
            group.next_level = target
    if lead is not None:
        agent = get_agent(session, lead) if lead.strip() else None
        if agent is not group.lead:
            before = group.lead.login if group.lead else "none"
            changes.append(f"lead {before} → {agent.login if agent else 'none'}")
            group.lead = agent
    for field_name, value, clean in (
        ("email", email, _optional_email),
        ("description", description, lambda text: text.strip() or None),
    ):
        if value is not None and clean(value) != getattr(group, field_name):
            setattr(group, field_name, clean(value))
            changes.append(f"{field_name} changed")
    leaving = [get_agent(session, login) for login in dict.fromkeys(remove_members)]
    strangers = [a.login for a in leaving if a not in group.members]
    if strangers:
        raise ValidationError(f"{strangers[0]} is not a member of {group.name}")
    if group.lead is not None and group.lead in leaving:
        raise ValidationError(
            f"{group.lead.login} leads {group.name}: name another lead first "
            '(--lead LOGIN, or "" for none)'
        )
    for agent in leaving:
        group.members.remove(agent)
        changes.append(f"-{agent.login}")
    for login in add_members:
        agent = get_agent(session, login)
        if agent not in group.members:
            group.members.append(agent)
            changes.append(f"+{agent.login}")
    session.flush()
    return group, tuple(changes)


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


ORGANIZATIONS_NAMED = 5  # listed when a beginning names several


def get_organization(session: Session, name: str, *, beginning: bool = False) -> Organization:
    """The organization named `name` (case aside). With `beginning` (filters and look-ups,
    never edits), else the one organization whose name begins so ("globex" for "Globex
    Corporation"); several are refused, naming them."""
    wanted = name.strip().lower()
    org = session.scalar(select(Organization).where(func.lower(Organization.name) == wanted))
    if org is not None:
        return org
    if beginning and wanted:
        alike = session.scalars(
            select(Organization)
            .where(func.lower(Organization.name).like(like_escape(wanted) + "%", escape="\\"))
            .order_by(Organization.name)
            .limit(ORGANIZATIONS_NAMED + 1)
        ).all()
        if len(alike) == 1:
            return alike[0]
        if alike:
            names = ", ".join(o.name for o in alike[:ORGANIZATIONS_NAMED])
            more = ", ..." if len(alike) > ORGANIZATIONS_NAMED else ""
            raise NotFound(f"{name!r} begins several organizations' names: {names}{more}")
    raise NotFound(f"unknown organization {name!r} (see `helpdesk org list`)")


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


def check_sla_policy(session: Session, name: str | None) -> str | None:
    """Check an organization's contract: the SLA policy its tickets get whatever else they
    are. A name the active rules do not define is refused, naming the ones they do (a typo
    would silently give the customer the first policy that matches); before any rules are
    applied every name is kept, and the warning to show comes back."""
    if name is None:
        return None
    # Here, not at the top: the directory serves every command (`ticket list` looks up an
    # agent or a category) and the rules' modules cost a start-up that only this needs.
    from tui_helpdesk.services.desk import active_rule_set
    from tui_helpdesk.services.sla import active_rules

    policies = [policy.name for policy in active_rules(session).sla]
    if name in policies:
        return None
    if active_rule_set(session) is None:
        return (
            f"no rules are applied yet, so SLA policy {name!r} is unchecked: "
            "the rules applied must define it (see `helpdesk rules apply`)"
        )
    defined = f"define: {', '.join(policies)}" if policies else "define none"
    raise ValidationError(f"unknown SLA policy {name!r} (the active rules {defined})")


def _clean_domain(domain: str) -> str:
    domain = domain.strip().lower().lstrip("@")
    if not domain or "." not in domain or any(c.isspace() or c == "@" for c in domain):
        raise ValidationError(f"invalid email domain {domain!r}")
    return domain


def _free_organization_name(session: Session, name: str, owner: int | None = None) -> str:
    """An organization's name, checked: not empty, no other organization's (in any case)."""
    wanted = name.strip()
    if not wanted:
        raise ValidationError("an organization needs a name")
    taken = select(Organization.id).where(func.lower(Organization.name) == wanted.lower())
    if owner is not None:
        taken = taken.where(Organization.id != owner)
    if session.scalar(taken):
        raise ValidationError(f"organization {wanted!r} already exists")
    return wanted


def _segment(text: str) -> str:
    segment = text.strip().lower() or "standard"
    if segment not in SEGMENTS:
        raise ValidationError(f"segment must be one of {', '.join(SEGMENTS)}, got {segment!r}")
    return segment


def _free_domains(session: Session, domains: Iterable[str]) -> list[str]:
    """Email domains to give an organization, cleaned and sorted; one another organization
    owns is refused, naming it."""
    cleaned = sorted({_clean_domain(d) for d in domains if d.strip()})
    for domain in cleaned:
        owner = organization_for_domain(session, domain)
        if owner is not None:
            raise ValidationError(f"domain {domain!r} already belongs to {owner.name!r}")
    return cleaned


@dataclass(frozen=True)
class AddedOrganization:
    """An organization just added, and what its caller should tell the user about it."""

    organization: Organization
    warnings: tuple[str, ...] = ()


def add_organization(session: Session, now: datetime, draft: OrganizationDraft) -> Organization:
    """`create_organization` for callers with no one to show its warnings to."""
    return create_organization(session, now, draft).organization


def create_organization(
    session: Session, now: datetime, draft: OrganizationDraft
) -> AddedOrganization:
    """Add an organization. Its warnings are for the user: `org add` and the organization
    import show them (a contract named before any rules are applied, see
    `check_sla_policy`)."""
    name = _free_organization_name(session, draft.name)
    segment = _segment(draft.segment or "standard")
    sla_policy = (draft.sla_policy or "").strip() or None
    warning = check_sla_policy(session, sla_policy)
    domains = _free_domains(session, draft.domains)
    org = Organization(
        name=name,
        segment=segment,
        sla_policy=sla_policy,
        region=draft.region,
        notes=draft.notes,
        created_at=now,
    )
    org.domain_rows = [OrganizationDomain(domain=d) for d in domains]
    session.add(org)
    session.flush()
    return AddedOrganization(org, (warning,) if warning else ())


@dataclass(frozen=True)
class EditedOrganization:
    """An organization just changed: what changed ("segment standard → premium"), how many
    active tickets' SLA clocks moved with it, and warnings for the user."""

    organization: Organization
    changes: tuple[str, ...]
    retargeted: int = 0
    warnings: tuple[str, ...] = ()


def edit_organization(
    session: Session,
    actor: Actor,
    now: datetime,
    name: str,
    *,
    rename: str | None = None,
    segment: str | None = None,
    sla_policy: str | None = None,
    region: str | None = None,
    notes: str | None = None,
    add_domains: Sequence[str] = (),
    remove_domains: Sequence[str] = (),
) -> EditedOrganization:
    """Change an organization. None leaves a field as it is; an empty string clears the
    contract (`sla_policy`), region and notes. A domain another organization owns is
    refused, naming it. Its segment and contract decide its tickets' SLA policy: changing
    them is an admin's job, and the clocks of its active tickets follow at once
    (`ticket_changes.resync_organization`: new targets, kept working time, in the ledger)."""
    org = get_organization(session, name)
    changes: list[str] = []
    warnings: list[str] = []
    new_segment = _segment(segment) if segment is not None else org.segment
    new_policy = (sla_policy.strip() or None) if sla_policy is not None else org.sla_policy
    contract = (new_segment, new_policy) != (org.segment, org.sla_policy)
    if contract:
        require_admin(actor, "change an organization's segment or contract")
        if new_policy != org.sla_policy:
            warning = check_sla_policy(session, new_policy)
            warnings += [warning] if warning else []
    if rename is not None and rename.strip() != org.name:
        wanted = _free_organization_name(session, rename, org.id)
        changes.append(f"name {org.name} → {wanted}")
        org.name = wanted
    removing = {_clean_domain(d) for d in remove_domains if d.strip()}
    unknown = sorted(removing - set(org.domains))
    if unknown:
        raise ValidationError(f"{org.name} has no domain {unknown[0]!r}")
    known = set(org.domains)
    adding = _free_domains(
        session, (d for d in add_domains if d.strip() and _clean_domain(d) not in known)
    )
    if removing or adding:
        org.domain_rows = [r for r in org.domain_rows if r.domain not in removing] + [
            OrganizationDomain(domain=d) for d in adding
        ]
        changes += [f"domain +{d}" for d in adding] + [f"domain -{d}" for d in sorted(removing)]
    for field_name, value in (("region", region), ("notes", notes)):
        if value is not None and (value.strip() or None) != getattr(org, field_name):
            setattr(org, field_name, value.strip() or None)
            changes.append(f"{field_name} changed")
    if new_segment != org.segment:
        changes.append(f"segment {org.segment} → {new_segment}")
        org.segment = new_segment
    if new_policy != org.sla_policy:
        changes.append(f"contract {org.sla_policy or 'none'} → {new_policy or 'none'}")
        org.sla_policy = new_policy
    session.flush()
    retargeted = 0
    if contract:
        # Here, not at the top: the ticket services and the rules are this change's alone.
        from tui_helpdesk.services.ticket_changes import resync_organization

        retargeted = resync_organization(session, actor, now, org.id)
    return EditedOrganization(org, tuple(changes), retargeted, tuple(warnings))


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


def _clean_emails(texts: Iterable[str | None]) -> list[str]:
    """Normalised addresses, blanks dropped, each once, in the order given."""
    found = (_optional_email(text) for text in texts)
    return list(dict.fromkeys(e for e in found if e is not None))


def _clean_phones(texts: Iterable[str | None], region: str | None) -> list[str]:
    found = (clean_phone(text, region) for text in texts)
    return list(dict.fromkeys(p for p in found if p is not None))


def contact_label(contact: Contact) -> str:
    """How messages name a contact: "Anna Rossi (#12)"."""
    return f"{contact.name} (#{contact.id})"


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"no contact #{contact_id} (see `helpdesk contact find`)")
    return contact


def _email_owners(session: Session, emails: Sequence[str]) -> dict[str, Contact]:
    """Who owns each of these addresses already (any contact, merged ones own none)."""
    if not emails:
        return {}
    rows = session.execute(
        select(ContactEmail.email, Contact)
        .join(Contact, Contact.id == ContactEmail.contact_id)
        .where(ContactEmail.email.in_(emails))
    )
    return {email: contact for email, contact in rows}


def _refuse_taken(session: Session, emails: Sequence[str], owner_id: int | None = None) -> None:
    for email, owner in sorted(_email_owners(session, emails).items()):
        if owner.id != owner_id:
            raise ValidationError(
                f"a contact with email {email!r} already exists: {contact_label(owner)}"
            )


def find_contact_by_identity(session: Session, identity: str, region: str | None) -> Contact | None:
    """The contact with this email address or phone number, if any (never a merged one).
    A number several contacts share (a switchboard) gives the one whose primary number it
    is, else the oldest; `contacts_with_phone` lists them all."""
    if looks_like_email(identity):
        email = _optional_email(identity)
        return session.scalar(
            select(Contact)
            .join(ContactEmail, ContactEmail.contact_id == Contact.id)
            .where(ContactEmail.email == email, Contact.merged_into_id.is_(None))
        )
    phone = clean_phone(identity, region)
    found = contacts_with_phone(session, phone or "", limit=1)
    return found[0] if found else None


def contacts_with_phone(session: Session, phone: str, limit: int | None = 20) -> list[Contact]:
    """Contacts that have this number (E.164): those whose primary number it is first."""
    return list(
        session.scalars(
            select(Contact)
            .join(ContactPhone, ContactPhone.contact_id == Contact.id)
            .where(ContactPhone.phone == phone, Contact.merged_into_id.is_(None))
            .order_by((Contact.phone == phone).desc(), Contact.id)
            .limit(limit)
        )
    )


@dataclass
class ContactDraft:
    """A new contact. `email` / `phone` are the primary ones; `emails` / `phones` add more
    (the first of them is the primary when `email` / `phone` is not given)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    organization: str | None = None
    language: str | None = None
    vip: bool = False
    notes: str | None = None
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()


def name_key(name: str) -> str:
    """A person's name as contacts known only by a phone are told apart by: case and spacing
    aside. The same name at the same number is the same person, for `add_contact` (against
    the contacts kept) and for the contact import (against the rows before)."""
    return " ".join(name.split()).casefold()


def _refuse_phone_twin(session: Session, name: str, phones: Sequence[str]) -> None:
    """A contact known only by a phone is the same person as an existing contact with that
    number (any of theirs, after normalisation) and the same name (case and spacing aside);
    a shared number under another name (a switchboard, a family line) is someone else."""
    for phone in phones:
        for other in contacts_with_phone(session, phone, limit=None):
            if name_key(other.name) == name_key(name):
                raise ValidationError(
                    f"a contact named {name!r} with phone {phone!r} already exists: "
                    f"{contact_label(other)}"
                )


def _organization_by_domain(session: Session, emails: Sequence[str]) -> Organization | None:
    for email in emails:
        org = organization_for_domain(session, email_domain(email))
        if org is not None:
            return org
    return None


def add_contact(
    session: Session, now: datetime, draft: ContactDraft, phone_region: str | None
) -> Contact:
    emails = _clean_emails([draft.email, *draft.emails])
    phones = _clean_phones([draft.phone, *draft.phones], phone_region)
    if not emails and not phones:
        raise ValidationError("a contact needs an email address or a phone number")
    _refuse_taken(session, emails)
    if draft.organization:
        org: Organization | None = get_organization(session, draft.organization)
    else:
        org = _organization_by_domain(session, emails)
    email = emails[0] if emails else None
    phone = phones[0] if phones else None
    name = (draft.name or "").strip()
    if not name:
        name = name_from_email(email) if email else (phone or "")
    if not emails:
        _refuse_phone_twin(session, name, phones)
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
    contact.email_rows = [ContactEmail(email=e) for e in emails]
    contact.phone_rows = [ContactPhone(phone=p) for p in phones]
    session.add(contact)
    session.flush()
    return contact


def _changed_list(
    what: str,
    current: list[str],
    add: list[str],
    remove: list[str],
    primary: str | None,
    old_primary: str | None,
    label: str,
) -> tuple[list[str], str | None]:
    """The contact's addresses (or numbers) after an edit, and the primary among them."""
    unknown = [item for item in remove if item not in current]
    if unknown:
        raise ValidationError(f"{label} has no {what} {unknown[0]!r}")
    after = [item for item in current if item not in remove or item in add]
    after += [item for item in add if item not in after]
    if primary is None:
        # Removing the primary promotes the next one (`emails` lists the primary first).
        primary = old_primary if old_primary in after else (after[0] if after else None)
    return after, primary


def edit_contact(
    session: Session,
    now: datetime,
    contact: Contact,
    *,
    name: str | None = None,
    organization: str | None = None,
    language: str | None = None,
    vip: bool | None = None,
    notes: str | None = None,
    add_emails: Sequence[str] = (),
    remove_emails: Sequence[str] = (),
    add_phones: Sequence[str] = (),
    remove_phones: Sequence[str] = (),
    primary_email: str | None = None,
    primary_phone: str | None = None,
) -> Contact:
    """Change a contact. None leaves a field as it is; an empty string clears organization,
    language and notes. A primary address or number that the contact does not have yet is
    added. An address owned by another contact is refused, naming it; removing the primary
    promotes another; a contact keeps at least one address or number. Local numbers are
    read in the desk's phone region."""
    label = contact_label(contact)
    if contact.merged_into_id is not None:
        raise ValidationError(
            f"{label} was merged into contact #{contact.merged_into_id}: edit that one"
        )
    from tui_helpdesk.services.desk import desk_settings  # the rules: only where needed

    region = desk_settings(session).phone_region
    wanted_email = _optional_email(primary_email)
    wanted_phone = clean_phone(primary_phone, region)
    adding = _clean_emails([*add_emails, wanted_email])
    _refuse_taken(session, adding, contact.id)
    emails, email = _changed_list(
        "email",
        contact.emails,
        adding,
        _clean_emails(remove_emails),
        wanted_email,
        contact.email,
        label,
    )
    phones, phone = _changed_list(
        "phone",
        contact.phones,
        _clean_phones([*add_phones, wanted_phone], region),
        _clean_phones(remove_phones, region),
        wanted_phone,
        contact.phone,
        label,
    )
    if not emails and not phones:
        raise ValidationError(f"{label} must keep an email address or a phone number")
    if name is not None:
        if not name.strip():
            raise ValidationError("a contact's name cannot be empty")
        contact.name = " ".join(name.split())
    if organization is not None:
        contact.organization = (
            get_organization(session, organization) if organization.strip() else None
        )
    if language is not None:
        contact.language = language.strip().lower() or None
    if vip is not None:
        contact.vip = vip
    if notes is not None:
        contact.notes = notes.strip() or None
    contact.email_rows = [r for r in contact.email_rows if r.email in emails] + [
        ContactEmail(email=e) for e in emails if e not in contact.emails
    ]
    contact.phone_rows = [r for r in contact.phone_rows if r.phone in phones] + [
        ContactPhone(phone=p) for p in phones if p not in contact.phones
    ]
    contact.email, contact.phone = email, phone
    session.flush()
    return contact


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


def find_category(session: Session, text: str) -> Category:
    """The category someone means: its path, in any case ("technical > network"), or its
    own name when no other category has it ("Network" for "Technical > Network"). Unknown:
    `NotFound` as `get_category` says it; a name several categories share: `ValidationError`
    listing their paths."""
    try:
        return get_category(session, text)
    except NotFound:
        if len(split_category_path(text)) > 1:
            raise
        wanted = text.strip().casefold()
        named = [c for c in session.scalars(select(Category)) if c.name.casefold() == wanted]
        if len(named) != 1:
            if not named:
                raise
            paths = ", ".join(sorted(c.path for c in named))
            raise ValidationError(
                f"category name {text.strip()!r} is ambiguous: {paths} (give the path)"
            ) from None
        return named[0]


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

"""The demo desk of `helpdesk init --demo`: people, customers, categories, articles and ~500
tickets with 90 days of history, built through the same services agents use.

Who acts: agents act as themselves (`directory.actor_for`); what a customer does on their own
(mail, web form, chat, follow-ups) is done by `Actor.system("contact:<email>")`, so the audit
trail names the customer; a customer heard on the phone is typed in by the agent who took the
call; closing resolved tickets after the desk's auto-close delay is done by the system actor,
as the nightly job will, and escalation runs every five minutes of the history, as cron would
(`services.escalation.escalate_due_in`), so rules fire as their timers come due. Everything
is decided up front by `random.Random(seed)` as one plan per ticket, then the steps of all
tickets run in time order (so numbers follow creation time and a merge finds its target
still open). Nothing reads the clock: history ends at `now`, and a step that would fall
after `now` has simply not happened yet.

The caller owns the transaction and applies the desk rules first (ticket prefix, reopen
window and auto-close delay are read from them).
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import (
    ArticleStatus,
    Channel,
    Priority,
    Role,
    Status,
    Visibility,
)
from tui_helpdesk.services import directory, escalation, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.demo_data import (
    AGENTS,
    ARTICLES,
    CATEGORIES,
    COUNTRIES,
    GROUPS,
    ORGANIZATIONS,
    PERSONAL_DOMAINS,
    REGION_OF,
    STORIES,
)
from tui_helpdesk.services.demo_story import Plan, Script, Step, customer_actor
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.store.models import (
    Agent,
    Article,
    Category,
    Contact,
    Group,
    Message,
    Organization,
    Ticket,
    TicketEvent,
)

HISTORY = timedelta(days=90)
TICKETS = 500
MERGES = 6
MIN_PER_STATUS = 4  # every status shows up in the demo queue, whatever the seed


def existing_data(session: Session) -> list[str]:
    """What the desk already holds that demo data would mix with (empty: safe to seed)."""
    return [
        label
        for label, model in (
            ("tickets", Ticket),
            ("organizations", Organization),
            ("groups", Group),
        )
        if session.scalar(select(func.count()).select_from(model))
    ]


def seed_demo(
    session: Session, now: datetime, *, seed: int = 42, agent: str | None = None
) -> dict[str, int]:
    """Fill an empty desk with demo data; the same seed and `now` give the same desk.
    `agent`, an existing login (the person trying the demo), joins the first-line group and
    works a share of its tickets, so their own views are not empty.
    Returns row counts by kind. Refuses a database that already holds tickets or customers."""
    taken = existing_data(session)
    if taken:
        raise ValidationError(
            f"the database already has {', '.join(taken)}: "
            "the demo desk can only be seeded into an empty desk"
        )
    return _Demo(session, now, random.Random(seed), agent).build()


GUEST_GROUP = "L1"
# What an organization's record says of its contract (the demo rules give premium customers
# the 24/7 policy; enterprise and standard ones are served in office hours).
SEGMENT_NOTES = {
    "premium": "Premium contract: 24/7 support, on-call agent outside office hours",
    "enterprise": "Enterprise agreement: named account manager, office-hours support",
}
CRON = timedelta(minutes=5)  # how often the demo desk's history runs `helpdesk escalate`
_NO_TIMER = datetime.max.replace(tzinfo=UTC)  # `earliest` when no ticket has a timer


class _Demo:
    def __init__(
        self, session: Session, now: datetime, rng: random.Random, guest: str | None
    ) -> None:
        self.s = session
        self.guest = guest
        self.now = now
        self.start = now - HISTORY
        self.rng = rng
        self.desk = desk_settings(session)
        self.actors: dict[str, Actor] = {}
        self.members: dict[str, list[str]] = {}  # group -> demo logins
        self.contacts: list[Contact] = []
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.agents_created = 0
        self.last_cron = self.start
        # No ticket's escalation timer is earlier than this (None: not known, ask).
        self.earliest: datetime | None = None

    # --- directory ------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        self._people()
        self._customers()
        for path, group, priority in CATEGORIES:
            directory.ensure_category(self.s, path, group, Priority(priority) if priority else None)
        self._articles()
        plans = self._plans()
        self._run(plans)
        return self._counts()

    def _people(self) -> None:
        existing = set(self.s.scalars(select(Agent.login)))
        logins: dict[str, str] = {}
        for login, name, role, _groups, skills, languages, capacity in AGENTS:
            # An agent registered before seeding (the person running init) keeps their login.
            actual = login if login not in existing else f"{login}.demo"
            directory.add_agent(
                self.s,
                self.start,
                directory.AgentDraft(
                    actual,
                    name,
                    f"{login}@helpdesk.example",
                    Role(role),
                    skills=skills,
                    languages=languages,
                    capacity=capacity,
                ),
            )
            logins[login] = actual
            self.agents_created += 1
        if self.guest is not None:
            logins[self.guest] = self.guest  # already registered: joins L1 below
        for group, level, next_level, lead, description in GROUPS:
            members = [agent[0] for agent in AGENTS if group in agent[3]]
            if self.guest is not None and group == GUEST_GROUP:
                members.append(self.guest)
            self.members[group] = members
            directory.add_group(
                self.s,
                self.start,
                directory.GroupDraft(
                    group,
                    level=level,
                    next_level=next_level,
                    lead=logins[lead],
                    email=f"{group.lower().replace(' ', '-')}@helpdesk.example",
                    description=description,
                    members=[logins[m] for m in members],
                ),
            )
        for login, actual in logins.items():
            self.actors[login] = directory.actor_for(self.s, actual)

    def _phone(self, country: str) -> str:
        prefix, digits, *_ = COUNTRIES[country]
        while True:
            number = prefix + " " + "".join(str(self.rng.randrange(10)) for _ in range(digits))
            if number not in self.phones:
                self.phones.add(number)
                return number

    def _person(self, country: str, domain: str) -> tuple[str, str]:
        _prefix, _digits, _language, firsts, lasts = COUNTRIES[country]
        first, last = self.rng.choice(firsts), self.rng.choice(lasts)
        local = f"{_ascii(first)}.{_ascii(last)}"
        email, n = f"{local}@{domain}", 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.emails.add(email)
        return f"{first} {last}", email

    def _contact(self, country: str, domain: str, org: str | None, vip_rate: float) -> None:
        rng = self.rng
        name, email = self._person(country, domain)
        phone_only = rng.random() < 0.05
        draft = directory.ContactDraft(
            name=name,
            email=None if phone_only else email,
            phone=self._phone(country) if phone_only or rng.random() < 0.7 else None,
            organization=org,
            language=COUNTRIES[country][2] if rng.random() < 0.8 else "en",
            vip=rng.random() < vip_rate,
        )
        self.contacts.append(directory.add_contact(self.s, self.start, draft, None))

    def _customers(self) -> None:
        for name, domain, segment, country in ORGANIZATIONS:
            directory.add_organization(
                self.s,
                self.start,
                directory.OrganizationDraft(
                    name,
                    domains=[domain],
                    segment=segment,
                    region=REGION_OF[country],
                    notes=SEGMENT_NOTES.get(segment),
                ),
            )
            vip_rate = 0.03 if segment == "standard" else 0.15
            for _ in range(self.rng.randint(3, 6)):
                self._contact(country, domain, name, vip_rate)
        countries = sorted(COUNTRIES)
        for _ in range(10):
            domain = self.rng.choice(PERSONAL_DOMAINS)
            self._contact(self.rng.choice(countries), domain, None, 0.0)

    def _articles(self) -> None:
        categories = {c.path: c for c in self.s.scalars(select(Category))}
        authors = [a.agent_id for a in self.actors.values()]
        rng = self.rng
        for path, title, tags, steps in ARTICLES:
            created = self.start + timedelta(minutes=rng.randint(60, 80 * 24 * 60))
            updated = created + (self.now - created) * rng.random() * rng.random()
            numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
            body = (
                f"{title}: the short version.\n\n## Steps\n\n{numbered}\n\n"
                f"## Still stuck?\n\nOpen a ticket in *{path}* and mention this article.\n"
            )
            self.s.add(
                Article(
                    title=title,
                    body=body,
                    category_id=categories[path].id,
                    tags=list(tags),
                    visibility=Visibility.PUBLIC if rng.random() < 0.6 else Visibility.INTERNAL,
                    status=ArticleStatus.DRAFT if rng.random() < 0.15 else ArticleStatus.PUBLISHED,
                    author_id=rng.choice(authors),
                    helpful=rng.randint(0, 40),
                    not_helpful=rng.randint(0, 6),
                    created_at=created,
                    updated_at=updated,
                )
            )
        self.s.flush()

    # --- ticket plans ---------------------------------------------------------------------

    def _plans(self) -> list[Plan]:
        plans = [self._plan(seq) for seq in range(TICKETS)]
        _ensure_every_status(plans)
        candidates = [
            p
            for p in plans
            if p.channel in (Channel.EMAIL, Channel.WEB)
            and p.created < self.now - timedelta(days=2)
            and p.contact.email
        ]
        for target in self.rng.sample(candidates, MERGES):
            plans.append(self._duplicate(len(plans), target))
        return plans

    def _created_at(self) -> datetime:
        rng = self.rng
        # Denser towards today, as a living desk's queue is: most old tickets are closed.
        age = HISTORY * rng.random() ** 1.7
        at = self.now - max(age, timedelta(minutes=10))
        if at.weekday() >= 5 and rng.random() < 0.7:
            at -= timedelta(days=2)  # fewer tickets at weekends
        return max(at, self.start + timedelta(hours=1))

    def _plan(self, seq: int) -> Plan:
        rng = self.rng
        story = rng.choices(STORIES, [story.weight for story in STORIES])[0]
        contact = rng.choice(self.contacts)
        if contact.email is None:
            channel = Channel.PHONE
        else:
            channel = rng.choices(
                (Channel.EMAIL, Channel.WEB, Channel.PHONE, Channel.CHAT), (45, 22, 18, 15)
            )[0]
        plan = Plan(seq, self._created_at(), channel, contact)
        Script(self, plan, story).write()
        return plan

    def _duplicate(self, seq: int, target: Plan) -> Plan:
        """The same customer writing again about the same thing, merged by an agent."""
        rng = self.rng
        created = target.created + timedelta(minutes=rng.randint(20, 300))
        plan = Plan(seq, created, target.channel, target.contact, merged=True)
        plan.subject = subject = f"Re: {target.subject}"
        customer = customer_actor(plan.contact)
        email = plan.contact.email

        def create(at: datetime) -> object:
            ticket = tickets.create_ticket(
                self.s,
                customer,
                at,
                tickets.NewTicket(
                    subject,
                    body="Sorry to write again, I haven't had an answer to my earlier message.",
                    channel=plan.channel,
                    requester=email,
                ),
            )
            plan.number = ticket.number
            return ticket

        plan.steps.append(Step(created, Status.NEW, create))
        merger = self.actors[rng.choice(self.members["L1"])]
        merged_at = created + timedelta(minutes=rng.randint(15, 180))

        def merge(at: datetime) -> object:
            return tickets.merge(self.s, merger, at, plan.number or 0, target.number or 0)

        plan.steps.append(Step(merged_at, Status.CLOSED, merge))
        return plan

    # --- running --------------------------------------------------------------------------

    def _run(self, plans: Sequence[Plan]) -> None:
        order = sorted(
            ((step.at, plan.seq, i, step) for plan in plans for i, step in enumerate(plan.steps)),
            key=lambda item: item[:3],
        )
        # Every timer a service sets lowers what the earliest one may be: `_cron_until` asks
        # the database only when that could be due by the next step.
        listener = self._timer_set
        event.listen(Ticket.next_escalation_at, "set", listener)
        try:
            for at, _seq, _i, step in order:
                self._cron_until(at)
                step.run(at)
            self._cron_until(self.now)
        finally:
            event.remove(Ticket.next_escalation_at, "set", listener)
        self.s.flush()

    def _timer_set(
        self, _ticket: Ticket, value: datetime | None, _old: object, _initiator: object
    ) -> None:
        if value is not None and self.earliest is not None:
            self.earliest = min(self.earliest, value)

    def _cron_until(self, until: datetime) -> None:
        """The escalation runs cron would have made before `until`: one every `CRON` minutes,
        for the timers that came due (only the runs with something to do are made)."""
        while True:
            earliest = self.earliest
            if earliest is not None and (
                earliest == _NO_TIMER or max(_cron_tick(earliest), self.last_cron + CRON) > until
            ):
                # Nothing can be due by `until` (the earliest timer is at least `earliest`).
                self.s.flush()  # what the query would have flushed first
                return
            due = self.s.scalar(select(func.min(Ticket.next_escalation_at)))
            self.earliest = _NO_TIMER if due is None else due
            if due is None:
                return
            tick = max(_cron_tick(due), self.last_cron + CRON)
            if tick > until:
                return
            escalation.escalate_due_in(self.s, tick)
            self.last_cron = tick

    def _counts(self) -> dict[str, int]:
        def count(model: type) -> int:
            return self.s.scalar(select(func.count()).select_from(model)) or 0

        return {
            "agents": self.agents_created,
            "groups": count(Group),
            "organizations": count(Organization),
            "contacts": count(Contact),
            "categories": count(Category),
            "articles": count(Article),
            "tickets": count(Ticket),
            "messages": count(Message),
            "events": count(TicketEvent),
        }


def _cron_tick(at: datetime) -> datetime:
    """The first cron run at or after `at` (runs every `CRON` minutes from midnight)."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + CRON * math.ceil((at - midnight) / CRON)


def _ascii(name: str) -> str:
    """An email-safe spelling of a name ("Łukasz" -> "lukasz", "O'Brien" -> "obrien")."""
    name = name.translate(str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "ß": "ss", "æ": "ae"}))
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9-]", "", plain.lower())


def _ensure_every_status(plans: list[Plan]) -> None:
    """Make each status appear at least MIN_PER_STATUS times: cut the story of a ticket that
    passed through the missing status short at that point (newest such moment first)."""
    for wanted in Status:
        while True:
            counts = Counter(p.status for p in plans)
            if counts[wanted] >= MIN_PER_STATUS:
                break
            donor = counts.most_common(1)[0][0]
            cuts = [
                (step.at, p.seq, p, i)
                for p in plans
                if p.status is donor and not p.merged
                for i, step in enumerate(p.steps)
                if step.status is wanted
            ]
            if not cuts:
                break
            _at, _seq, plan, index = max(cuts, key=lambda c: c[:2])
            del plan.steps[index + 1 :]

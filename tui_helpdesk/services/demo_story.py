"""One demo ticket's story, written ahead as timed steps (`services.demo` runs them).

`_Script` decides, with the demo's random generator, what happens to a ticket and when: who
takes it, replies, notes, escalations, waiting on the customer or a third party, resolution,
reopening and closing. It tracks the status each step leaves, so every service call it plans
is one the workflow allows at that moment; a step that would fall after `now` ends the story.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.services import auto_close, demo_mail, survey, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.demo_data import (
    ACKNOWLEDGEMENTS,
    CATEGORIES,
    CUSTOMER_NUDGES,
    ESCALATION_NOTES,
    GROUPS,
    HOLD_NOTES,
    NO_ANSWER,
    REOPEN_REASON,
    STILL_BROKEN,
    SURVEY_ANSWERS,
    SURVEY_SCORE_WEIGHTS,
    Story,
)
from tui_helpdesk.services.ticket_core import get_ticket
from tui_helpdesk.store.models import Contact

if TYPE_CHECKING:
    from tui_helpdesk.services.demo import _Demo

# Minutes an agent takes to act, by priority (low, high bounds), at the office-hours pace
# every customer gets but premium ones.
_AGENT_DELAY = {
    Priority.URGENT: (5, 45),
    Priority.HIGH: (15, 180),
    Priority.NORMAL: (30, 600),
    Priority.LOW: (120, 1800),
}
# Minutes from a new ticket to the first public reply, by priority: mostly within the
# first-response targets of the demo's rules (the standard policy: 1h-8h of office time).
_FIRST_REPLY = {
    Priority.URGENT: (2, 25),
    Priority.HIGH: (5, 70),
    Priority.NORMAL: (10, 150),
    Priority.LOW: (20, 300),
}
# Hours of work on the fix once nothing else is awaited (up to this many, from 0).
_FIX_HOURS = {
    Priority.URGENT: 6.0,
    Priority.HIGH: 24.0,
    Priority.NORMAL: 72.0,
    Priority.LOW: 72.0,
}
# Premium contracts buy service around the clock with short targets (the demo rules' premium
# policy: a first reply within 15m-2h and a fix within 4h-40h, on a 24/7 calendar). A desk
# that sells them staffs for them: an on-call agent answers at night and at weekends, and
# premium tickets are worked first, so they mostly meet those targets (a few still slip).
_ON_CALL_DELAY = {
    Priority.URGENT: (3, 20),
    Priority.HIGH: (5, 45),
    Priority.NORMAL: (10, 90),
    Priority.LOW: (20, 240),
}
_ON_CALL_FIRST_REPLY = {
    Priority.URGENT: (2, 12),
    Priority.HIGH: (3, 25),
    Priority.NORMAL: (5, 50),
    Priority.LOW: (10, 100),
}
_ON_CALL_FIX_HOURS = {
    Priority.URGENT: 2.5,
    Priority.HIGH: 5.0,
    Priority.NORMAL: 10.0,
    Priority.LOW: 24.0,
}
ON_CALL_SEGMENTS = frozenset({"premium"})
# One ticket in eight has a slow start (fewer where an on-call agent watches the queue); the
# customer often writes again while waiting, and the desk answers soon after that.
SLOW_START = 0.12
ON_CALL_SLOW_START = 0.08
NUDGE = 0.6
FIRST_CONTACT = 0.15  # solved by the first reply: the agents report's first-contact resolutions
SURVEY_ANSWERED = 0.35


@dataclass
class Step:
    at: datetime
    status: Status  # the ticket's status once the step is done
    run: Callable[[datetime], object]


@dataclass
class Plan:
    seq: int
    created: datetime
    channel: Channel
    contact: Contact
    steps: list[Step] = field(default_factory=list)
    subject: str = ""
    number: int | None = None
    merged: bool = False

    @property
    def status(self) -> Status:
        return self.steps[-1].status


def customer_actor(contact: Contact) -> Actor:
    return Actor.system(f"contact:{contact.email or contact.phone}")


class Script:
    """Writes one ticket's story as timed steps, tracking the status each step leaves, so
    every service call it plans is one the workflow allows at that point."""

    def __init__(self, demo: _Demo, plan: Plan, story: Story) -> None:
        self.d = demo
        self.rng = demo.rng
        self.plan = plan
        self.story = story
        self.t = plan.created
        self.status = Status.NEW
        category = next(c for c in CATEGORIES if c[0] == story.category)
        self.group = category[1] or "L1"
        self.default_priority = Priority(category[2]) if category[2] else Priority.NORMAL
        self.priority = self.default_priority
        self.owner: Actor | None = None
        self.customer = customer_actor(plan.contact)
        self.stopped = False
        organization = plan.contact.organization
        self.on_call = organization is not None and organization.segment in ON_CALL_SEGMENTS
        self.answering = False  # the first reply is being written

    # --- timing and steps ---

    @property
    def around_the_clock(self) -> bool:
        """Agents work on urgent tickets at any hour, and the on-call agent on premium ones
        (their clocks run at night too), though a low one waits for office hours once it
        has its first reply; the rest waits for office hours (mostly)."""
        if self.priority is Priority.URGENT:
            return True
        return self.on_call and (self.answering or self.priority is not Priority.LOW)

    def later(self, low: float, high: float, *, agent: bool = True) -> datetime:
        """A moment `low`..`high` minutes after the last step (an agent's, mostly in office
        hours unless `around_the_clock`)."""
        at = self.t + timedelta(minutes=max(self.rng.uniform(low, high), 1))
        if agent and not self.around_the_clock and self.rng.random() < 0.85:
            at = _working_time(at, self.rng)
        return at

    def soon(self) -> datetime:
        delays = _ON_CALL_DELAY if self.on_call else _AGENT_DELAY
        return self.later(*delays[self.priority])

    def work_on_fix(self) -> None:
        """The time the fix takes once nothing else is awaited (nothing happens meanwhile)."""
        hours = (_ON_CALL_FIX_HOURS if self.on_call else _FIX_HOURS)[self.priority]
        self.t += timedelta(hours=self.rng.uniform(0, hours))

    def step(self, at: datetime, status: Status, run: Callable[[datetime], object]) -> bool:
        """Add a step; False (nothing added) when it would happen after `now`: the story
        stops there, as it has not happened yet."""
        if self.stopped or at > self.d.now:
            self.stopped = True
            return False
        if self.plan.steps and at <= self.t:
            at = self.t + timedelta(seconds=1)
        self.t = at
        self.status = status
        self.plan.steps.append(Step(at, status, run))
        return True

    @property
    def ref(self) -> int:
        return self.plan.number or 0

    # --- actions ---

    def create(self, subject: str, body: str, priority: Priority | None) -> bool:
        d, rng, plan, contact = self.d, self.rng, self.plan, self.plan.contact
        new = tickets.NewTicket(
            subject,
            body=body,
            channel=plan.channel,
            priority=priority,
            category=self.story.category,
        )
        actor = self.customer
        if plan.channel is Channel.PHONE:
            # An agent takes the call and types the ticket in for the caller.
            login = rng.choice(d.members["L1"])
            actor = d.actors[login]
            new.requester, new.requester_name = contact.phone, contact.name
            if not new.requester:
                new.requester = contact.email
            new.body = f"Phone call from {contact.name}: {body.splitlines()[2]}"
            if login in d.members[self.group] and rng.random() < 0.6:
                new.assignee, self.owner = login, actor
        else:
            new.requester = contact.email
        status = Status.OPEN if new.assignee else Status.NEW

        def run(at: datetime) -> object:
            ticket = tickets.create_ticket(d.s, actor, at, new)
            plan.number = ticket.number
            return ticket

        return self.step(plan.created, status, run)

    def agent(
        self,
        action: Callable[[Actor, datetime], object],
        status: Status | None = None,
        at: datetime | None = None,
    ) -> bool:
        actor = self.owner or self.d.actors[self.rng.choice(self.d.members[self.group])]
        return self.step(at or self.soon(), status or self.status, lambda when: action(actor, when))

    def take(self, at: datetime | None = None) -> bool:
        """Someone in the ticket's group picks it up (or their lead hands it out)."""
        login = self.rng.choice(self.d.members[self.group])
        agent = self.d.actors[login]
        by = agent if self.rng.random() < 0.6 else self.d.actors[_lead(self.group)]
        d, seq = self.d, self.plan.seq

        def run(when: datetime) -> object:
            # Escalation may have moved the ticket up a level since the story was written:
            # then someone of the group it is in now takes it.
            group = get_ticket(d.s, self.ref).group
            members = d.members.get(group.name, []) if group is not None else []
            taker = agent
            if members and login not in members:
                taker = d.actors[members[seq % len(members)]]
            return tickets.assign(d.s, by, when, self.ref, agent=taker.login)

        done = self.step(at or self.soon(), Status.OPEN, run)
        self.owner = agent
        return done

    def acknowledge(self, words: dict[str, str], *, fix: bool = False) -> bool:
        """The first public reply, soon after the ticket came in (taking it first if nobody
        has): most tickets meet their first-response target, a few start slowly, and then
        the customer often asks again before the answer comes. `fix`: the reply is the fix
        and resolves the ticket (solved at first contact)."""
        low, high = (_ON_CALL_FIRST_REPLY if self.on_call else _FIRST_REPLY)[self.priority]
        if self.rng.random() < (ON_CALL_SLOW_START if self.on_call else SLOW_START):
            low, high = 1.5 * high, 4 * high
            if self.rng.random() < NUDGE:
                nudged = self.t + timedelta(minutes=self.rng.uniform(low / 2, low))
                if not self.customer_says(self.rng.choice(CUSTOMER_NUDGES), at=nudged):
                    return False
        self.answering = True
        if self.owner is None and not self.take(self.later(low / 2, high / 2)):
            return False
        if fix:
            body, status = self.story.fix.format(**words), Status.RESOLVED
        else:
            body, status = self.rng.choice(ACKNOWLEDGEMENTS).format(**words), None
        s = self.d.s
        at = self.later(1, high / 2)
        self.answering = False
        return self.agent(
            lambda actor, when: tickets.reply(s, actor, when, self.ref, body, status=status),
            status or (Status.OPEN if self.status is Status.NEW else self.status),
            at,
        )

    def answer_survey(self) -> bool:
        """The customer answers the satisfaction survey mailed on resolution, as the survey
        asks: a reply to its mail with a score, sometimes with words. Mail intake takes the
        reply in (`demo_mail.survey_answer`), as it takes a real one."""
        contact, rng, s = self.plan.contact, self.rng, self.d.s
        if contact.email is None or rng.random() >= SURVEY_ANSWERED:
            return True  # the survey goes by mail; most customers never answer it
        score = rng.choices(list(SURVEY_SCORE_WEIGHTS), list(SURVEY_SCORE_WEIGHTS.values()))[0]
        text = rng.choice(SURVEY_ANSWERS[score])

        def run(at: datetime) -> object:
            return demo_mail.survey_answer(s, at, get_ticket(s, self.ref), contact, text)

        # A good score (the demo's answers make no complaint) confirms: the ticket closes.
        status = Status.CLOSED if score >= survey.CONFIRMS else self.status
        return self.step(self.later(20, 2 * 24 * 60, agent=False), status, run)

    def escalate(self, group: str) -> bool:
        login = self.rng.choice(self.d.members[group])
        target, s = self.d.actors[login], self.d.s
        if not self.note(self.rng.choice(ESCALATION_NOTES)):
            return False
        done = self.agent(
            lambda actor, at: tickets.assign(
                s, actor, at, self.ref, group=group, agent=target.login
            )
        )
        self.group, self.owner = group, target
        return done

    def note(self, body: str) -> bool:
        s = self.d.s
        return self.agent(lambda actor, at: tickets.add_note(s, actor, at, self.ref, body))

    def reply(self, body: str, status: Status | None = None) -> bool:
        s = self.d.s
        after = status or (Status.OPEN if self.status is Status.NEW else self.status)
        return self.agent(
            lambda actor, at: tickets.reply(s, actor, at, self.ref, body, status=status), after
        )

    def change_status(self, target: Status, at: datetime | None = None) -> bool:
        s = self.d.s
        return self.agent(
            lambda actor, when: tickets.change_status(s, actor, when, self.ref, target), target, at
        )

    def customer_says(self, body: str, at: datetime | None = None) -> bool:
        """A message from the customer (by default 30 minutes to two days after the last
        step); it reopens a pending or resolved ticket."""
        s, contact = self.d.s, self.plan.contact
        channel = Channel.EMAIL if contact.email else Channel.PHONE
        # A caller without email is heard on the phone and typed in by the ticket's agent.
        actor = self.customer if contact.email else self.owner or self.customer
        after = Status.OPEN if self.status in (Status.PENDING, Status.RESOLVED) else self.status
        return self.step(
            at or self.later(30, 2 * 24 * 60, agent=False),
            after,
            lambda at: tickets.add_customer_message(
                s, actor, at, self.ref, contact, body, channel=channel
            ),
        )

    # --- the story ---

    def write(self) -> None:
        rng, story, d = self.rng, self.story, self.d
        contact = self.plan.contact
        first = contact.name.split()[0]
        org = contact.organization.name if contact.organization else "home"
        detail = rng.choice(story.details)
        words = {"first": first, "org": org, "detail": detail}
        subject = rng.choice(story.subjects).format(**words)
        self.plan.subject = subject[:1].upper() + subject[1:]
        chosen = None
        if rng.random() < 0.2:
            chosen = rng.choices((Priority.URGENT, Priority.HIGH, Priority.LOW), (2, 4, 4))[0]
        elif contact.vip and self.default_priority is Priority.NORMAL:
            chosen = Priority.HIGH
        self.priority = chosen or self.default_priority
        if not self.create(self.plan.subject, story.body.format(**words), chosen):
            return
        if rng.random() < FIRST_CONTACT:
            if self.acknowledge(words, fix=True):
                self.aftercare(words)
            return
        if not self.acknowledge(words):
            return
        s = d.s
        if rng.random() < 0.4:
            tags = [*story.tags, *(["vip"] if contact.vip else [])]
            if not self.agent(lambda a, at: tickets.change_tags(s, a, at, self.ref, add=tags)):
                return
        if rng.random() < 0.12 and self.priority is not Priority.URGENT:
            raised = self.priority.raised()
            if not self.agent(lambda a, at: tickets.change_priority(s, a, at, self.ref, raised)):
                return
            self.priority = raised
        if self.group == "L1" and rng.random() < 0.14 and not self.escalate("L2"):
            return
        if self.group == "L2" and rng.random() < 0.2 and not self.escalate("L3"):
            return
        if rng.random() < 0.35 and not self.note(story.note):
            return
        if rng.random() < 0.55:
            if not self.reply(story.ask.format(**words), Status.PENDING):
                return
            if rng.random() < 0.15:  # the customer never answers
                self.t += timedelta(days=rng.uniform(3, 6))
                if self.reply(NO_ANSWER, Status.RESOLVED):
                    self.aftercare(words)
                return
            if not self.customer_says(story.answer):
                return
        if rng.random() < 0.12:
            if not self.note(rng.choice(HOLD_NOTES)) or not self.change_status(Status.ON_HOLD):
                return
            self.t += timedelta(days=rng.uniform(1, 5))
            if not self.change_status(Status.OPEN):
                return
        self.work_on_fix()
        if not self.reply(story.fix.format(**words), Status.RESOLVED):
            return
        self.aftercare(words)

    def aftercare(self, words: dict[str, str]) -> None:
        """After resolution: sometimes the customer says it is still broken (reopens), then
        the customer's good survey score closes the ticket, or the desk closes it after its
        auto-close delay; rarely an agent reopens a closed ticket within the reopen window."""
        rng, s, d = self.rng, self.d.s, self.d
        if rng.random() < 0.08:
            if not self.customer_says(rng.choice(STILL_BROKEN)):
                return
            if not self.note(self.story.note):
                return
            if not self.reply(self.story.fix.format(**words), Status.RESOLVED):
                return
        if not self.answer_survey():
            return
        if self.status is Status.RESOLVED:  # not confirmed: the cron job closes it later
            days = d.desk.auto_close_days
            delay = timedelta(days=days, minutes=rng.uniform(5, 12 * 60))

            def close(at: datetime) -> object:
                ticket = get_ticket(s, self.ref, for_update=True)
                return auto_close.close_ticket(s, ticket, at, auto_close.reason(days))

            if not self.step(self.t + delay, Status.CLOSED, close):
                return
        # Within the reopen window (at most 3 days plus a weekend later).
        if (
            d.desk.reopen_window_days >= 7
            and rng.random() < 0.03
            and self.agent(
                lambda a, at: tickets.reopen(s, a, at, self.ref, reason=REOPEN_REASON),
                Status.OPEN,
                self.later(60, 3 * 24 * 60),
            )
        ):
            self.reply(self.story.fix.format(**words), Status.RESOLVED)


def _lead(group: str) -> str:
    return next(lead for name, _l, _n, lead, _d in GROUPS if name == group)


def _working_time(at: datetime, rng: random.Random) -> datetime:
    """`at`, or the start of the next working morning (07:00-09:00 UTC) when it falls at
    night or at a weekend."""
    if at.weekday() < 5 and 7 <= at.hour < 19:
        return at
    day = at if at.hour < 7 else at + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    morning = day.replace(hour=7, minute=0, second=0, microsecond=0)
    return morning + timedelta(minutes=rng.uniform(0, 120))

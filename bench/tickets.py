"""Generated tickets: when they arrive, where they stand, their threads, events, tags and
SLA clocks. bench.generate runs `generate_tickets` once per part, in worker processes.

The timeline is a queue, not a random sample of three years: the older tickets are history
(closed), and the last `RECENT_SHARE` of the tickets arrive in the last `RECENT_DAYS`, where
the open queue lives. There a ticket's chance of being finished grows with its age, a new
(untouched, unassigned) ticket is hours to a couple of days old, and the rest are open,
pending or on hold. About 15% of the desk is active, as the queue benchmarks need; about 1%
is new. Ticket numbers follow creation time.

SLA clocks and escalation timers come from bench.clocks under the bench rules.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench import corpus
from bench.clocks import CHANNELS, PRIORITIES, SLA_COLUMNS, STATUSES, Clocks, History
from bench.reference import TAG_POOL, Reference
from bench.rows import CHUNK, Formats, Writer
from tui_helpdesk.rules.sla import TicketFacts

HEAVY_TICKET_MESSAGES = 200  # ticket number 1 carries a long thread, for the "open" benchmark
MESSAGE_IDS_PER_TICKET = 10  # id ranges reserved per ticket, so parts never collide
EVENT_IDS_PER_TICKET = 10

RECENT_DAYS = 42  # the open queue lives in the last six weeks...
RECENT_SHARE = 0.2  # ...which bring this share of all tickets (a busy season)
DONE_AFTER_DAYS = 70  # a recent ticket of age a is finished with probability 1 - e^(-a/70)
NEW_FOR_DAYS = 2  # an unfinished ticket of age a is still new with probability 0.9 e^(-a/2)
WAITING = (("open", 0.55), ("pending", 0.25), ("on_hold", 0.2))  # the other active ones
MIN_GAP, MAX_GAP = 180, 108_000  # seconds between messages of a thread (3 min to 30 h)

PRIORITY_WEIGHTS = {"low": 20, "normal": 55, "high": 20, "urgent": 5}
CHANNEL_WEIGHTS = {"email": 50, "phone": 20, "web": 20, "chat": 7, "cli": 2, "api": 1}

TICKET_COLUMNS = (
    "id",
    "number",
    "key",
    "subject",
    "status",
    "priority",
    "category_id",
    "channel",
    "requester_id",
    "organization_id",
    "created_by_id",
    "updated_by_id",
    "group_id",
    "assignee_id",
    "level",
    "custom_fields",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    *SLA_COLUMNS,
    "last_activity_at",
    "unassigned_since",
    "escalation_level",
    "customer_escalation",
    "csat_score",
    "csat_comment",
    "csat_at",
    "merged_into_id",
    "version",
)
_BOOLEAN_SLA = {SLA_COLUMNS.index(c) for c in ("first_response_breached", "resolution_breached")}
_INSTANT_SLA = {i for i, c in enumerate(SLA_COLUMNS) if c.endswith("_at")}
# Columns that are always NULL in generated rows are left out: binding costs per value.
MESSAGE_COLUMNS = (
    "id",
    "ticket_id",
    "kind",
    "author_agent_id",
    "author_contact_id",
    "body",
    "channel",
    "created_at",
)
EVENT_COLUMNS = (
    "id",
    "ticket_id",
    "at",
    "actor_agent_id",
    "actor",
    "kind",
    "field",
    "old",
    "new",
    "detail",
)
TAG_COLUMNS = ("ticket_id", "tag")


def _cumulative(weights: dict[str, int]) -> tuple[list[str], list[float]]:
    names = list(weights)
    total = sum(weights.values())
    return names, list(itertools.accumulate(weights[n] / total for n in names))


class Timeline:
    """When each ticket of a desk arrives, and where it stands at the desk's end."""

    def __init__(self, n_desk: int, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.recent_start = end - RECENT_DAYS * 86400
        self.n_recent = round(n_desk * RECENT_SHARE)
        self.n_history = n_desk - self.n_recent

    def created(self, number: int, fraction: float) -> int:
        """Numbers follow time: history evenly over the years, the rest over recent weeks."""
        if number <= self.n_history:
            span = self.recent_start - self.start
            return self.start + int((number - 1 + fraction) * span / self.n_history)
        span = self.end - self.recent_start
        return self.recent_start + int(
            (number - self.n_history - 1 + fraction) * span / self.n_recent
        )

    def status(self, created: int, rnd: Callable[[], float]) -> str:
        """ "closed" for a finished ticket (it may turn out only resolved by the desk's end),
        else its active status."""
        age = (self.end - created) / 86400
        if age >= RECENT_DAYS or rnd() < 1 - math.exp(-age / DONE_AFTER_DAYS):
            return "closed"
        if rnd() < 0.9 * math.exp(-age / NEW_FOR_DAYS):
            return "new"
        pick, total = rnd(), 0.0
        for status, share in WAITING:
            total += share
            if pick < total:
                return status
        return WAITING[-1][0]


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _maybe_instant(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def generate_tickets(
    w: Writer,
    part: int,
    first: int,
    last: int,
    n_desk: int,
    seed: int,
    start: int,
    end: int,
    ref: Reference,
    fmt: Formats,
    clocks: Clocks,
) -> None:
    """Tickets `first..last` (inclusive) of a desk of `n_desk`, with their messages, events
    and tags."""
    rng = random.Random(f"{seed}:{part}")
    rnd, randint = rng.random, rng.randint
    ts, dt = fmt.ts, fmt.dt
    timeline = Timeline(n_desk, start, end)
    priorities, priority_cum = _cumulative(PRIORITY_WEIGHTS)
    channels, channel_cum = _cumulative(CHANNEL_WEIGHTS)
    leaves, leaf_group, members = ref.leaves, ref.leaf_group, ref.members
    contacts = len(ref.contact_org) - 1
    empty_json, false = fmt.json({}), fmt.bool(False)
    bodies = [
        " ".join(
            rng.choice(corpus.SENTENCES + corpus.REPLIES)
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 5, 12)))
        )
        for _ in range(4096)
    ]
    tickets: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []

    def flush() -> None:
        w.write("tickets", TICKET_COLUMNS, tickets)
        w.write("messages", MESSAGE_COLUMNS, messages)
        w.write("ticket_events", EVENT_COLUMNS, events)
        w.write("ticket_tags", TAG_COLUMNS, tags)
        tickets.clear(), messages.clear(), events.clear(), tags.clear()

    for number in range(first, last + 1):
        created = timeline.created(number, rnd())
        status = timeline.status(created, rnd) if number > 1 else "open"
        priority = priorities[bisect.bisect(priority_cum, rnd())]
        channel = channels[bisect.bisect(channel_cum, rnd())]
        cat_id, leaf = leaves[int(rnd() * len(leaves))]
        group = leaf_group[cat_id]
        if group == 1 and rnd() < 0.3:
            group = 2 if rnd() < 0.8 else 3
        requester = randint(1, contacts)
        org = ref.contact_org[requester]
        staff = members[group]
        assignee = None if status == "new" else staff[int(rnd() * len(staff))]
        created_by = assignee if channel == "phone" else None
        event_id = (number - 1) * EVENT_IDS_PER_TICKET
        key = f"HD-{number}"

        def event(
            at: int,
            kind: str,
            field: str | None = None,
            old: str | None = None,
            new: str | None = None,
            actor: int | None = None,
            detail: str | None = None,
        ) -> None:
            nonlocal event_id
            event_id += 1
            events.append(
                (
                    event_id,
                    number,  # noqa: B023  (called only within this ticket's iteration)
                    ts(at),
                    actor,
                    f"agent{actor}" if actor else "system",
                    kind,
                    field,
                    old,
                    new,
                    detail,
                )
            )

        event(created, "created", new=key, actor=created_by)
        count = (
            HEAVY_TICKET_MESSAGES
            if number == 1
            else (1 if status == "new" else min(9, 2 + int(rng.expovariate(0.45))))
        )
        # A young ticket's thread fits in its age (and leaves room for its resolution).
        gap_max = min(MAX_GAP, max(1, (end - created) // (count + 1)))
        gap_min = min(MIN_GAP, gap_max)
        t = last_activity = created
        first_response = None
        for k in range(count):
            if k == 0:
                kind = "customer"
            elif rnd() < 0.18:
                kind = "note"
            else:
                kind = "reply" if k % 2 else "customer"
            if k:
                t = min(end, t + randint(gap_min, gap_max))
            if kind != "note":
                last_activity = t
            if k < MESSAGE_IDS_PER_TICKET:
                message_id = (number - 1) * MESSAGE_IDS_PER_TICKET + k + 1
            else:  # the long thread of ticket 1: ids after every reserved range
                message_id = n_desk * MESSAGE_IDS_PER_TICKET + k
            is_customer = kind == "customer"
            messages.append(
                (
                    message_id,
                    number,
                    kind,
                    None if is_customer else assignee,
                    requester if is_customer else None,
                    bodies[int(rnd() * 4096)],
                    channel if is_customer else None,
                    ts(t),
                )
            )
            if kind == "reply" and first_response is None:
                first_response = t
                event(t, "first_response", new=ts(t), actor=assignee)
                event(t, "status", "status", "new", "open", actor=assignee)
        last_change = t
        if assignee is not None:
            assigned = min(end, created + 60)
            last_change = max(last_change, assigned)
            event(assigned, "assignee", "assignee", None, f"agent{assignee}", actor=assignee)
        resolved = closed = paused = None
        if status in ("resolved", "closed"):
            resolved = min(end, t + randint(3600, 72 * 3600))
            event(resolved, "status", "status", "open", "resolved", actor=assignee)
            closed = resolved + randint(1, 6) * 86400
            if closed > end:
                status, closed = "resolved", None
            else:
                event(closed, "status", "status", "resolved", "closed")
        elif status in ("pending", "on_hold"):
            paused = t
            event(t, "status", "status", "open", status, actor=assignee)
        ticket_tags = rng.sample(TAG_POOL, randint(1, 2)) if rnd() < 0.3 else []
        for tag in ticket_tags:
            tags.append((number, tag))
        facts = TicketFacts(
            priority=PRIORITIES[priority],
            segment=ref.org_segment[org] if org else None,
            group=ref.group_name[group],
            level=ref.group_level[group],
            category=ref.leaf_path[cat_id],
            channel=CHANNELS[channel],
            status=STATUSES[status],
            tags=frozenset(ticket_tags),
        )
        if resolved is not None:
            clock_columns, met = clocks.finished(facts, created, first_response, resolved)
        else:
            clock_columns, met = clocks.active(
                History(
                    facts=facts,
                    created=_instant(created),
                    first_response=_maybe_instant(first_response),
                    paused=_maybe_instant(paused),
                    last_change=_instant(last_change),
                    last_activity=_instant(last_activity),
                    unassigned_since=_instant(created) if assignee is None else None,
                )
            )
        for at, clock, due, left, why in met:  # the SLA ledger's entries, as sync_sla writes them
            detail = {
                "action": "met",
                "clock": clock,
                "reason": why,
                "due_at": (_instant(due) if type(due) is int else due).isoformat(),
                "remaining_s": left,
                "target_s": None,
                "policy": clock_columns[0],
                "calendar": clock_columns[1],
                "cycle": 0,
            }
            when = at if type(at) is int else int(at.timestamp())
            event(when, "sla", clock, new="met", actor=assignee, detail=fmt.json(detail))
        sla = [
            (ts(value) if type(value) is int else dt(value))
            if i in _INSTANT_SLA and value is not None
            else (fmt.bool(value) if i in _BOOLEAN_SLA else value)
            for i, value in enumerate(clock_columns)
        ]
        csat = randint(1, 5) if status == "closed" and rnd() < 0.3 else None
        # The survey goes out at the resolution; an answer comes within three days.
        csat_at = min(end, resolved + randint(600, 3 * 86400)) if csat and resolved else None
        tickets.append(
            (
                number,
                number,
                key,
                rng.choice(corpus.SUBJECTS[leaf]),
                status,
                priority,
                cat_id,
                channel,
                requester,
                org,
                created_by,
                assignee,
                group,
                assignee,
                ref.group_level[group],
                empty_json,
                ts(created),
                ts(closed or resolved or last_change),
                ts(first_response),
                ts(resolved),
                ts(closed),
                *sla,
                ts(last_activity),
                ts(created) if assignee is None else None,
                0,
                false,
                csat,
                None,
                ts(csat_at),
                None,
                event_id - (number - 1) * EVENT_IDS_PER_TICKET,
            )
        )
        if len(tickets) >= CHUNK:
            flush()
    flush()

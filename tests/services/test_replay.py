"""Replaying a candidate rules file over past tickets (`services.replay`), on SQLite and
PostgreSQL: a history made through the services at fixed instants, replayed under the active
rules and a candidate with a shorter first-response target and an extra rule, figures checked
by hand; the database is left exactly as it was; and the pure replay on hand-made histories
(reopened cycles, a change at the very instant a rule falls due, tickets without a created
event).

The desk's calendar is always open, so every duration below is plain clock time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import MetaData

from tests.conftest import Desk
from tui_helpdesk.domain import Channel, EventKind, Priority, Status
from tui_helpdesk.rules.clock import ClockName
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, replay, tickets
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Escalation

ACTIVE = """\
[desk]
ticket_prefix = "HD"

[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "standard"
calendar = "always"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "24h", low = "48h" }

[[escalation]]
name = "fr-breach"
on = "first_response"
at = "breach"
actions = ["notify:group_lead"]

[[escalation]]
name = "res-warn"
on = "resolution"
at = "50%"
actions = ["notify:assignee"]
"""
# Normal first response in 2h instead of 4h; a rule for unowned tickets; a policy that no
# ticket reaches (the first policy matches every ticket).
CANDIDATE = (
    ACTIVE.replace('normal = "4h"', 'normal = "2h"')
    + """
[[escalation]]
name = "unassigned-1h"
on = "unassigned"
at = "1h"
actions = ["tag:needs-owner"]

[[sla]]
name = "night"
calendar = "always"
where = { channel = ["phone"] }
first_response = { urgent = "1h", high = "1h", normal = "1h", low = "1h" }
resolution     = { urgent = "4h", high = "4h", normal = "4h", low = "4h" }
"""
)

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)
SINCE, UNTIL = MONDAY, MONDAY + timedelta(days=1)
REPLAY_NOW = MONDAY + timedelta(days=1, hours=12)  # Tuesday 12:00


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def make_history(desk_store: Desk) -> dict[str, str]:
    """Apply the active rules and handle six tickets at fixed instants (all created Monday
    09:00 but T0, created the day before, outside the period). What each one does, under
    active (FR normal 4h) / candidate (FR normal 2h):

    T1 assigned, reply 10:00, resolved 11:00: nothing fires, nothing breaches.
    T2 assigned, reply 12:00, resolved 13:00: candidate FR breach at 11:00 (fr-breach fires).
    T3 unassigned, never answered: FR breach (active 13:00, candidate 11:00, fr-breach both),
       res-warn at 21:00, resolution breach Tuesday 09:00; candidate unassigned-1h at 10:00.
    T4 assigned, urgent at 09:30 (FR 1h: due 10:00 in both), reply 11:00, resolved 12:00:
       FR breach and fr-breach in both; recorded too (flag stored at the late reply, and an
       escalation row written below).
    T5 assigned, reply + pending 09:30, customer writes 15:00: resolution paused 5h30, due
       Tuesday 14:30, res-warn at Tuesday 02:30 in both.
    """
    store, bob = desk_store.store, desk_store.agent
    with store.write() as session:
        desk.apply_rules(session, desk_store.admin, at(0, day=-2), parse_rules(ACTIVE))

    def create(when: datetime, subject: str, **fields: Any) -> str:
        with store.write() as session:
            new = tickets.NewTicket(subject, requester="anna@acme.example", **fields)
            return tickets.create_ticket(session, bob, when, new).key

    keys = {
        "T0": create(at(9, day=-1), "Sunday, never answered"),
        "T1": create(at(9), "Answered in time", assignee="bob"),
        "T2": create(at(9), "Answered in 3h", assignee="bob"),
        "T3": create(at(9), "Nobody's"),
        "T4": create(at(9), "Turned urgent", assignee="bob"),
        "T5": create(at(9), "Waiting on the customer", assignee="bob"),
    }
    steps = [
        (at(9, 30), lambda s, t: tickets.change_priority(s, bob, t, keys["T4"], Priority.URGENT)),
        (
            at(9, 30),
            lambda s, t: tickets.reply(s, bob, t, keys["T5"], "More?", status=Status.PENDING),
        ),
        (at(10), lambda s, t: tickets.reply(s, bob, t, keys["T1"], "Fixed.")),
        (at(11), lambda s, t: tickets.change_status(s, bob, t, keys["T1"], Status.RESOLVED)),
        (at(11), lambda s, t: tickets.reply(s, bob, t, keys["T4"], "On it.")),
        (at(12), lambda s, t: tickets.reply(s, bob, t, keys["T2"], "Fixed.")),
        (at(12), lambda s, t: tickets.change_status(s, bob, t, keys["T4"], Status.RESOLVED)),
        (at(13), lambda s, t: tickets.change_status(s, bob, t, keys["T2"], Status.RESOLVED)),
        (at(15), lambda s, t: _customer_writes(s, bob, t, keys["T5"])),
    ]
    for when, step in steps:
        with store.write() as session:
            step(session, when)
    with store.write() as session:
        t4 = tickets.get_ticket(session, keys["T4"])
        session.add(
            Escalation(
                ticket_id=t4.id,
                rule="fr-breach",
                cycle=0,
                trigger="first_response",
                at=at(10, 5),
                actor="system",
                actions=["notify:group_lead"],
            )
        )
    return keys


def _customer_writes(session: Any, actor: Any, when: datetime, key: str) -> None:
    ticket = tickets.get_ticket(session, key)
    tickets.add_customer_message(session, actor, when, key, ticket.requester, "Here it is.")


def run_replay(store: Store, candidate: str = CANDIDATE, batch_size: int = 500) -> dict[str, Any]:
    with store.read() as session:
        report = replay.replay_period(
            session, parse_rules(candidate), SINCE, UNTIL, REPLAY_NOW, batch_size=batch_size
        )
    return replay.report_document(report)


EXPECTED_ESCALATION = [
    {
        "rule": "fr-breach",
        "in": "both",
        "changed": False,
        "on": "first_response",
        "at": "breach",
        "replayed": True,
        "candidate": {"tickets": 3, "escalations": 3},
        "active": {"tickets": 2, "escalations": 2},
        "recorded": {"tickets": 1, "escalations": 1},
    },
    {
        "rule": "res-warn",
        "in": "both",
        "changed": False,
        "on": "resolution",
        "at": "50%",
        "replayed": True,
        "candidate": {"tickets": 2, "escalations": 2},
        "active": {"tickets": 2, "escalations": 2},
        "recorded": {"tickets": 0, "escalations": 0},
    },
    {
        "rule": "unassigned-1h",
        "in": "candidate",
        "changed": False,
        "on": "unassigned",
        "at": "1h",
        "replayed": True,
        "candidate": {"tickets": 1, "escalations": 1},
        "active": None,
        "recorded": {"tickets": 0, "escalations": 0},
    },
]


def _policy(tickets: int, first: int, resolution: int) -> dict[str, int]:
    return {
        "tickets": tickets,
        "first_response_breaches": first,
        "resolution_breaches": resolution,
    }


EXPECTED_SLA = [
    {
        "policy": "standard",
        "in": "both",
        "changed": True,
        "candidate": _policy(5, 3, 1),  # FR: T2, T3, T4; resolution: T3
        "active": _policy(5, 2, 1),  # FR: T3, T4; resolution: T3
        "recorded": _policy(5, 1, 0),  # stored flags: only T4's late reply set one
    },
    {
        "policy": "night",
        "in": "candidate",
        "changed": False,
        "candidate": _policy(0, 0, 0),
        "active": None,
        "recorded": _policy(0, 0, 0),
    },
]


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with store.engine.connect() as connection:
        meta = MetaData()
        meta.reflect(connection)
        return {
            name: sorted(
                (tuple(row) for row in connection.execute(table.select())),
                key=repr,
            )
            for name, table in meta.tables.items()
        }


def test_replay_compares_candidate_active_and_recorded(desk_store: Desk) -> None:
    make_history(desk_store)
    before = dump(desk_store.store)
    doc = run_replay(desk_store.store)
    assert dump(desk_store.store) == before  # a replay writes nothing

    assert doc["period"] == {
        "since": "2026-11-02T00:00:00Z",
        "until": "2026-11-03T00:00:00Z",
        "now": "2026-11-03T12:00:00Z",
    }
    assert doc["active_version"] == 2
    assert doc["tickets"] == 5  # T0 was created before the period
    assert doc["escalation"] == EXPECTED_ESCALATION
    assert doc["sla"] == EXPECTED_SLA
    assert doc["without_policy"] == {"candidate": 0, "active": 0, "recorded": 0}
    assert doc["only_in_candidate"] == {"escalation": ["unassigned-1h"], "sla": ["night"]}
    assert doc["only_in_active"] == {"escalation": [], "sla": []}
    assert any("not applied" in line for line in doc["limitations"])


def test_batches_give_the_same_figures(desk_store: Desk) -> None:
    """Five tickets created at the same instant, two per batch: the keyset must go on by id."""
    make_history(desk_store)
    assert run_replay(desk_store.store, batch_size=2) == run_replay(desk_store.store)
    assert run_replay(desk_store.store, batch_size=1)["tickets"] == 5


def test_active_rules_replayed_as_candidate_match_the_active_column(desk_store: Desk) -> None:
    make_history(desk_store)
    doc = run_replay(desk_store.store, candidate=ACTIVE)
    for row in doc["escalation"] + doc["sla"]:
        assert row["candidate"] == row["active"], row
        assert row["changed"] is False
    assert doc["only_in_candidate"] == doc["only_in_active"] == {"escalation": [], "sla": []}


def test_replay_follows_the_ticket_to_now_not_to_the_period_end(desk_store: Desk) -> None:
    """T3's resolution breaches on Tuesday 09:00, after the period: still counted; replayed
    as of Monday 20:00 instead, neither that breach nor the 21:00 warning has happened."""
    make_history(desk_store)
    with desk_store.store.read() as session:
        report = replay.replay_period(session, parse_rules(CANDIDATE), SINCE, UNTIL, at(20))
    doc = replay.report_document(report)
    standard = doc["sla"][0]
    assert standard["candidate"] == _policy(5, 3, 0)
    assert standard["active"] == _policy(5, 2, 0)
    warn = doc["escalation"][1]
    assert (warn["rule"], warn["candidate"]["tickets"], warn["active"]["tickets"]) == (
        "res-warn",
        0,
        0,
    )


def test_rules_recorded_only_or_fired_on_request(desk_store: Desk) -> None:
    """A rule that fired once but is in neither file is listed from its records; a
    customer-request rule is listed as not replayed (it fires only when asked)."""
    keys = make_history(desk_store)
    with desk_store.store.write() as session:
        ticket = tickets.get_ticket(session, keys["T3"])
        session.add(
            Escalation(
                ticket_id=ticket.id,
                rule="retired",
                cycle=0,
                trigger="idle",
                at=at(16),
                actor="system",
                actions=[],
            )
        )
    asked = '[[escalation]]\nname = "asked"\non = "customer_request"\nactions = ["level_up"]\n'
    doc = run_replay(desk_store.store, candidate=CANDIDATE + asked)
    by_name = {row["rule"]: row for row in doc["escalation"]}
    assert list(by_name) == ["fr-breach", "res-warn", "unassigned-1h", "asked", "retired"]
    assert by_name["asked"]["replayed"] is False
    assert by_name["asked"]["candidate"] == {"tickets": 0, "escalations": 0}
    assert by_name["retired"] == {
        "rule": "retired",
        "in": "recorded only",
        "changed": False,
        "on": None,
        "at": None,
        "replayed": False,
        "candidate": None,
        "active": None,
        "recorded": {"tickets": 1, "escalations": 1},
    }


def test_no_active_rules_and_no_tickets(desk_store: Desk) -> None:
    doc = run_replay(desk_store.store)
    assert doc["tickets"] == 0
    assert doc["active_version"] == 1  # the desk fixture's own rules: no policies, no rules
    assert [row["active"] for row in doc["escalation"]] == [None, None, None]
    assert [row["candidate"]["tickets"] for row in doc["escalation"]] == [0, 0, 0]
    assert doc["only_in_candidate"]["sla"] == ["standard", "night"]


def test_organization_contract_is_read_as_it_is_now(desk_store: Desk) -> None:
    """Acme's contract names the candidate's night policy after the tickets were handled:
    the candidate replay moves every ticket there (1h first response: all but T5 breach, T1
    answered at the very minute it fell due; 4h resolution: T2 resolved at that minute, T3
    never, T5 resumed at 15:00 with 3h30 left), the active rules have no such policy."""
    make_history(desk_store)
    with desk_store.store.write() as session:
        directory.get_organization(session, "Acme").sla_policy = "night"
    doc = run_replay(desk_store.store)
    standard, night = doc["sla"]
    assert night["policy"] == "night"
    assert night["candidate"] == _policy(5, 4, 3)
    assert standard["candidate"] == _policy(0, 0, 0)
    assert standard["active"] == _policy(5, 2, 1)
    assert standard["recorded"] == _policy(5, 1, 0)


# --- the pure replay on hand-made histories --------------------------------------------------

RULES = parse_rules(
    """\
[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "p"
calendar = "always"
first_response = { urgent = "1h", high = "1h", normal = "2h", low = "2h" }
resolution     = { urgent = "4h", high = "4h", normal = "4h", low = "4h" }

[[escalation]]
name = "fr-breach"
on = "first_response"
at = "breach"
actions = ["notify:group_lead"]

[[escalation]]
name = "half"
on = "resolution"
at = "50%"
actions = ["notify:assignee"]

[[escalation]]
name = "idle-1h"
on = "idle"
at = "1h"
actions = ["notify:assignee"]

[[escalation]]
name = "unowned-1h"
on = "unassigned"
at = "1h"
actions = ["tag:needs-owner"]
"""
)


def history(*steps: replay.Step, assignee: str | None = "bob") -> replay.History:
    """A normal-priority ticket created on Monday 09:00 (assigned and open unless
    `assignee` is None), then `steps`."""
    start = replay.TicketState(
        status=Status.OPEN if assignee else Status.NEW,
        priority=Priority.NORMAL,
        assignee=assignee,
        last_activity_at=at(9),
    )
    first = replay.Step(at(9), ())
    return replay.History("HD-1", Channel.CLI, "premium", None, start, (first, *steps))


def step(when: datetime, *changes: replay.Change) -> replay.Step:
    return replay.Step(when, changes)


REPLY = replay.Change(EventKind.REPLY)
FIRST = replay.Change(EventKind.FIRST_RESPONSE)
CUSTOMER = replay.Change(EventKind.CUSTOMER_MESSAGE, detail={"automatic": False})


def status(old: Status, new: Status) -> replay.Change:
    return replay.Change(EventKind.STATUS, old.value, new.value)


def test_a_reopened_ticket_fires_its_rules_again_in_the_new_cycle() -> None:
    """Cycle 0: replies at most 50 minutes apart keep idle-1h quiet; half the 4h resolution
    is used at 11:00 (a reply at that instant does not stop it); resolved 11:30. The
    customer reopens at 12:00: a new cycle and a fresh 4h clock, idle from 12:00 (fires
    13:00), half used at 14:00, breached at 16:00."""
    outcome = replay.replay_ticket(
        RULES,
        history(
            step(at(9, 30), REPLY, FIRST),
            step(at(10, 20), REPLY),
            step(at(11), REPLY),
            step(at(11, 30), status(Status.OPEN, Status.RESOLVED)),
            step(at(12), CUSTOMER, status(Status.RESOLVED, Status.OPEN)),
        ),
        at(16, 30),
    )
    assert outcome.escalations == {"half": 2, "idle-1h": 1}
    assert dict(outcome.breaches) == {("p", ClockName.RESOLUTION): 1}
    assert outcome.policies == {"p"}


def test_a_change_at_the_instant_a_rule_falls_due_comes_first() -> None:
    """First response due 11:00. A reply at 11:00 meets it late (a breach: nothing was left)
    but the escalation does not fire; with no reply, replayed up to 11:00 exactly, it fires."""
    answered = replay.replay_ticket(RULES, history(step(at(11), REPLY, FIRST)), at(11, 30))
    assert "fr-breach" not in answered.escalations
    assert dict(answered.breaches) == {("p", ClockName.FIRST_RESPONSE): 1}
    waiting = replay.replay_ticket(RULES, history(), at(11))
    assert waiting.escalations["fr-breach"] == 1
    assert dict(waiting.breaches) == {("p", ClockName.FIRST_RESPONSE): 1}
    early = replay.replay_ticket(RULES, history(), at(10, 59))
    assert early.escalations["fr-breach"] == 0
    assert not early.breaches


def test_a_pending_ticket_pauses_its_clocks_and_idle_time() -> None:
    """Pending from 09:10 to 15:00: nothing runs meanwhile (idle counts only while new or
    open). Back to open at 15:00: idle-1h at 16:00; first response has 1h50 left (due
    16:50), resolution 3h50 (half used at 16:50): neither has come by 16:10."""
    outcome = replay.replay_ticket(
        RULES,
        history(
            step(at(9, 10), status(Status.OPEN, Status.PENDING)),
            step(at(15), CUSTOMER, status(Status.PENDING, Status.OPEN)),
        ),
        at(16, 10),
    )
    assert outcome.escalations == {"idle-1h": 1}
    assert not outcome.breaches


def test_unassigned_time_starts_again_when_the_ticket_loses_its_owner() -> None:
    """Unowned 09:00-09:30 and again from 10:00: unowned-1h falls due at 11:00, not at 10:00
    (the first stretch does not count); resolved, a ticket is nobody's concern."""
    steps = (
        step(
            at(9, 30),
            replay.Change(EventKind.ASSIGNEE, None, "bob"),
            status(Status.NEW, Status.OPEN),
        ),
        step(at(10), replay.Change(EventKind.ASSIGNEE, "bob", None)),
    )
    assert (
        replay.replay_ticket(RULES, history(*steps, assignee=None), at(10, 59)).escalations[
            "unowned-1h"
        ]
        == 0
    )
    assert (
        replay.replay_ticket(RULES, history(*steps, assignee=None), at(11)).escalations[
            "unowned-1h"
        ]
        == 1
    )
    resolved = step(at(10, 30), status(Status.OPEN, Status.RESOLVED))
    outcome = replay.replay_ticket(RULES, history(*steps, resolved, assignee=None), at(12))
    assert outcome.escalations["unowned-1h"] == 0


def _row(**fields: Any) -> Any:
    values: dict[str, Any] = {
        "key": "HD-9",
        "created_at": at(9),
        "channel": Channel.EMAIL,
        "status": Status.RESOLVED,
        "priority": Priority.HIGH,
        "level": 2,
        "first_response_at": None,
        "category": "Billing",
        "group": "L2",
        "assignee": "cleo",
        "segment": None,
        "contract": None,
    }
    values.update(fields)
    return SimpleNamespace(**values)


def _event(when: datetime, kind: EventKind, old: str | None = None, new: str | None = None) -> Any:
    return SimpleNamespace(at=when, kind=kind, old=old, new=new, detail=None)


def test_history_without_a_created_event_starts_from_the_first_changes() -> None:
    """Bulk-loaded tickets: the values each field had before its first change, else the
    ticket's own; a first-response stamp with no event still counts."""
    events = [
        _event(at(9, 30), EventKind.PRIORITY, "normal", "high"),
        _event(at(10), EventKind.ASSIGNEE, None, "cleo"),
        _event(at(10), EventKind.STATUS, "new", "open"),
        _event(at(12), EventKind.STATUS, "open", "resolved"),
    ]
    built = replay.build_history(_row(first_response_at=at(11)), ["vpn"], events, at(13))
    assert built.start == replay.TicketState(
        status=Status.NEW,
        priority=Priority.NORMAL,
        category="Billing",
        group="L2",
        level=2,
        assignee=None,
        tags=frozenset({"vpn"}),
        last_activity_at=at(9),
    )
    assert [s.at for s in built.steps] == [at(9), at(9, 30), at(10), at(11), at(12)]
    assert built.steps[3].changes == (replay.Change(EventKind.FIRST_RESPONSE),)
    # Events after `now` are not replayed.
    assert len(replay.build_history(_row(), [], events, at(10)).steps) == 3


def test_created_detail_gives_the_starting_values() -> None:
    created = SimpleNamespace(
        at=at(9),
        kind=EventKind.CREATED,
        old=None,
        new="HD-9",
        detail={"priority": "low", "category": None, "group": "L1", "assignee": "bob", "tags": []},
    )
    built = replay.build_history(_row(status=Status.OPEN), ["later"], [created], at(13))
    assert (built.start.priority, built.start.group, built.start.assignee) == (
        Priority.LOW,
        "L1",
        "bob",
    )
    assert (built.start.category, built.start.tags, built.start.status) == (
        None,
        frozenset(),
        Status.OPEN,
    )
    assert built.steps == (replay.Step(at(9), ()),)

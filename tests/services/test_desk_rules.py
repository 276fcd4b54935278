"""Applying rules checks the names they use against the desk (services/desk.py), and the
starter rules file parses, applies to a new desk and gives tickets SLA clocks."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import NOW, Desk
from tui_helpdesk.cli.db import starter_rules
from tui_helpdesk.domain import Priority
from tui_helpdesk.rules.clock import ClockState
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.rules.escalation import AddTag, AtDuration, AtPercent, MoveToGroup, Trigger
from tui_helpdesk.services import desk, directory, tickets
from tui_helpdesk.services.checks import run_checks
from tui_helpdesk.services.errors import PermissionDenied, ValidationError
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Agent, RuleSet

H = timedelta(hours=1)
M = timedelta(minutes=1)

CALENDARS = """
[calendars.always]
timezone = "UTC"
always_open = true
"""


def _escalation(*actions: str, where: str = "", name: str = "r") -> str:
    quoted = ", ".join(f'"{a}"' for a in actions)
    where_line = f"where = {where}\n" if where else ""
    return (
        f'[[escalation]]\nname = "{name}"\non = "customer_request"\n'
        f"{where_line}actions = [{quoted}]\n"
    )


def _route(set_: str) -> str:
    return f'[[route]]\nname = "x"\nset = {set_}\n'


def _sla(where: str) -> str:
    return (
        CALENDARS
        + '[[sla]]\nname = "s"\ncalendar = "always"\n'
        + f"where = {where}\n"
        + 'first_response = { low = "1h", normal = "1h", high = "1h", urgent = "1h" }\n'
        + 'resolution = { low = "8h", normal = "8h", high = "8h", urgent = "8h" }\n'
    )


def _rule_count(store: Store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(RuleSet)) or 0


# --- names that must exist -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[escalation]]\nname = "a"\non = "idle"\nat = "4h"\nactions = ["notify:group"]\n'
            + _escalation("notify:group_lead", "move:SecOps"),
            'desk.toml: escalation[1].actions[1]: no group "SecOps" (groups: L1, L2)',
        ),
        (
            _escalation("assign:alice"),
            'desk.toml: escalation[0].actions[0]: no agent "alice" (agents: admin, bob, cleo)',
        ),
        (
            _route('{ group = "Finance", tags = ["money"] }'),
            'desk.toml: route[0].set.group: no group "Finance" (groups: L1, L2)',
        ),
        (
            '[desk]\ndefault_group = "Triage"\n',
            'desk.toml: desk.default_group: no group "Triage" (groups: L1, L2)',
        ),
        (
            _route('{ category = "Security > Phishing" }'),
            'desk.toml: route[0].set.category: no category "Security > Phishing" '
            "(categories: Billing, Technical, Technical > Network)",
        ),
        (
            _escalation("move:SecOps", "assign:nobody") + _route('{ group = "Nope" }'),
            "desk.toml: 3 errors\n"
            'desk.toml: escalation[0].actions[0]: no group "SecOps" (groups: L1, L2)\n'
            'desk.toml: escalation[0].actions[1]: no agent "nobody" (agents: admin, bob, cleo)\n'
            'desk.toml: route[0].set.group: no group "Nope" (groups: L1, L2)',
        ),
    ],
)
def test_unknown_names_are_refused_naming_the_key(
    desk_store: Desk, text: str, message: str
) -> None:
    document = parse_rules(text, "desk.toml")
    with desk_store.store.write() as session:
        with pytest.raises(ValidationError) as info:
            desk.check_rule_names(session, document, "desk.toml")
        assert str(info.value) == message
        with pytest.raises(ValidationError, match=re.escape(message)):
            desk.apply_rules(session, desk_store.admin, NOW, document, source="desk.toml")
    assert ValidationError.exit_code == 2
    assert _rule_count(desk_store.store) == 1  # the fixture's version only


def test_names_are_found_as_the_desk_spells_them(desk_store: Desk) -> None:
    # Groups and categories are looked up regardless of case, as the services do.
    text = _escalation("move:l2", "assign:cleo", "tag:x") + _route(
        '{ group = "l1", category = "technical>network" }'
    )
    with desk_store.store.write() as session:
        rule_set, created = desk.apply_rules(session, desk_store.admin, NOW, parse_rules(text))
    assert created and rule_set.version == 2


def test_an_empty_desk_says_how_to_add_names(store: Store) -> None:
    document = parse_rules(_escalation("move:SecOps"))
    with store.write() as session, pytest.raises(ValidationError) as info:
        desk.check_rule_names(session, document)
    assert str(info.value) == (
        'rules.toml: escalation[0].actions[0]: no group "SecOps" '
        "(the desk has no groups yet: add one with `helpdesk group add NAME`)"
    )


def test_a_deactivated_agent_cannot_be_assigned(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        session.execute(update(Agent).where(Agent.login == "cleo").values(active=False))
    with desk_store.store.write() as session, pytest.raises(ValidationError) as info:
        desk.check_rule_names(session, parse_rules(_escalation("assign:cleo")))
    assert str(info.value) == ('rules.toml: escalation[0].actions[0]: agent "cleo" is deactivated')


def test_only_admins_apply_and_permission_comes_first(desk_store: Desk) -> None:
    with desk_store.store.write() as session, pytest.raises(PermissionDenied):
        desk.apply_rules(session, desk_store.agent, NOW, parse_rules(_escalation("move:X")))


# --- names that only make a condition match nothing -------------------------------------------


def test_where_names_the_desk_lacks_are_warnings(desk_store: Desk) -> None:
    text = (
        _sla('{ group = ["L1", "Nights"] }')
        + _escalation("notify:group_lead", where='{ group = ["l2"], category = ["Security"] }')
        + _escalation("notify:assignee", where='{ category = ["Technical"] }', name="r2")
    )
    document = parse_rules(text, "desk.toml")
    with desk_store.store.write() as session:
        globex = directory.add_organization(session, NOW, directory.OrganizationDraft("Globex"))
        globex.sla_policy = "gold"  # a contract the rules applied before these defined
        warnings = desk.check_rule_names(session, document, "desk.toml")
        _, created = desk.apply_rules(session, desk_store.admin, NOW, document, source="desk.toml")
    assert warnings == [
        'desk.toml: sla[0].where.group[1]: no group "Nights" (groups: L1, L2): '
        "it matches no ticket until the group exists",
        'desk.toml: escalation[0].where.group[0]: the group is named "L2": "l2" matches no ticket',
        'desk.toml: escalation[0].where.category[0]: no category "Security" or below it yet: '
        "it matches no ticket",
        'desk.toml: sla: 1 organization(s) have a contract naming SLA policy "gold", which '
        "these rules lack: their tickets get the first policy that matches, if any",
    ]
    assert created  # warnings do not stop the rules


# --- the starter rules -----------------------------------------------------------------------


def test_the_starter_rules_parse_into_the_documented_desk() -> None:
    document = parse_rules(starter_rules(), "rules.toml")
    office, always = document.calendars["office"], document.calendars["always"]
    assert office.timezone == document.desk.timezone
    assert office.hours[0] == ((9 * 60, 13 * 60), (14 * 60, 18 * 60))  # a lunch break
    assert office.holidays(2027) >= {
        date(2027, 3, 29),  # Easter Monday: { easter_offset = 1 }
        date(2027, 12, 25),  # an RRULE
    }
    assert date(2026, 12, 24) in office.holidays(2026)  # a plain date
    assert always.always_open
    premium, standard = document.sla
    assert (premium.name, premium.calendar, premium.where.segment) == (
        "premium",
        "always",
        {"premium"},
    )
    assert (standard.name, standard.calendar, standard.where.is_empty) == (
        "standard",
        "office",
        True,
    )
    by_name = {rule.name: rule for rule in document.escalations}
    warn = by_name["warn-first-response"]
    assert (warn.on, warn.at, warn.where.priority) == (
        Trigger.FIRST_RESPONSE,
        AtPercent(80),
        {Priority.HIGH, Priority.URGENT},
    )
    assert [str(a) for a in by_name["first-response-missed"].actions] == [
        "raise_priority",
        "level_up",
        "notify:group_lead",
        "note:First response target missed",
    ]
    unassigned = by_name["urgent-unassigned"]
    assert (unassigned.on, unassigned.at) == (Trigger.UNASSIGNED, AtDuration(15 * M))
    assert AddTag("needs-owner") in unassigned.actions
    assert any(rule.on is Trigger.CUSTOMER_REQUEST for rule in document.escalations)
    assert document.routes
    assert "helpdesk rules apply" in starter_rules()


def _commented_examples(text: str) -> str:
    """The commented-out `[[escalation]]` and `[[route]]` examples, uncommented."""
    blocks: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith(("# [[escalation]]", "# [[route]]")):
            inside = True
        elif not line.startswith("#") or line.startswith("# ---"):
            inside = False
        if inside:
            blocks.append(line.removeprefix("#").removeprefix(" "))
    return "\n".join(blocks) + "\n"


def test_the_starter_applies_to_an_empty_desk_and_its_examples_name_real_things(
    store: Store,
) -> None:
    examples = _commented_examples(starter_rules())
    assert "move:SecOps" in examples and 'group = "SecOps"' in examples
    with_examples = parse_rules(starter_rules() + examples, "rules.toml")
    assert MoveToGroup("SecOps") in [a for r in with_examples.escalations for a in r.actions]
    with store.write() as session:
        # A desk with nobody and nothing yet: the starter itself names nothing that must exist.
        assert desk.check_rule_names(session, parse_rules(starter_rules())) == []
        with pytest.raises(ValidationError, match=r"escalation\[\d\]\.actions\[0\]: no group"):
            desk.check_rule_names(session, with_examples)
        # Once the groups, agent and categories they name exist (the demo desk has them),
        # the examples apply as they are.
        directory.add_agent(session, NOW, directory.AgentDraft("sofia.marino", "Sofia"))
        for name in ("SecOps", "Billing Team"):
            directory.add_group(session, NOW, directory.GroupDraft(name))
        for path in ("Security > Phishing", "Billing > Invoices"):
            directory.ensure_category(session, path)
        assert desk.check_rule_names(session, with_examples) == []


def test_starter_rules_give_tickets_clocks_and_a_consistent_desk(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(starter_rules()))
    with desk_store.store.write() as session:
        premium = tickets.create_ticket(
            session,
            desk_store.agent,
            NOW,
            tickets.NewTicket("VPN down", requester="ann@acme.example", priority=Priority.URGENT),
        )
        standard = tickets.create_ticket(
            session,
            desk_store.agent,
            NOW,
            tickets.NewTicket("Question", requester="joe@elsewhere.example"),
        )
        keys = (premium.key, standard.key)
    with desk_store.store.read() as session:
        first, second = (tickets.get_ticket(session, key) for key in keys)
        assert (first.sla_policy, first.sla_calendar) == ("premium", "always")
        assert first.first_response_state == ClockState.RUNNING
        assert first.first_response_due_at == NOW + 15 * M  # 24/7
        assert first.due_at == first.first_response_due_at
        assert (second.sla_policy, second.sla_calendar) == ("standard", "office")
        # Monday 09:30 UTC is 10:30 in Rome: 4 working hours end at 15:30 Rome (lunch off).
        assert second.first_response_due_at == NOW + 5 * H
        failed = [(c.name, c.examples) for c in run_checks(session) if not c.ok]
    assert failed == []

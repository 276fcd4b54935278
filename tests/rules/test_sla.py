"""SLA policies, escalation rules and routes: the issue 4 example file, policy selection with its
reason, `where` matching, classification, and validation errors that name the key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.rules.document import RulesError, parse_rules, rules_from_document
from tui_helpdesk.rules.escalation import (
    AddNote,
    AddTag,
    Assign,
    AtBreach,
    AtDuration,
    AtPercent,
    LevelUp,
    MoveToGroup,
    Notify,
    NotifyTarget,
    RaisePriority,
    SetPriority,
    Trigger,
    Unassign,
    parse_action,
)
from tui_helpdesk.rules.routing import MessageFacts, RouteSet, classify
from tui_helpdesk.rules.sla import RuleError, TicketFacts, Where, parse_where, select_policy

H = timedelta(hours=1)
M = timedelta(minutes=1)

# The rules file of issue 4, verbatim (the contract).
ISSUE_4 = """
[calendars.office]
timezone = "Europe/Rome"
hours.mon = ["09:00-13:00", "14:00-18:00"]   # tue..sun likewise; a missing day is closed
hours.tue = ["09:00-13:00", "14:00-18:00"]
holidays = ["2026-12-24", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", { easter_offset = 1 }]

[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]                       # first matching policy wins, top to bottom
name = "premium"
calendar = "always"
where = { segment = ["premium"] }
first_response = { urgent = "15m", high = "30m", normal = "1h", low = "2h" }
resolution     = { urgent = "4h",  high = "8h",  normal = "16h", low = "40h" }

[[sla]]
name = "standard"
calendar = "office"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }

[[escalation]]
name = "warn-first-response"
on = "first_response"          # first_response | resolution | idle | unassigned | customer_request
at = "80%"                     # a percentage of the target, "breach", or for idle/unassigned a duration
where = { priority = ["high", "urgent"] }   # optional: priority, segment, group, level, category, channel, status, tag
actions = ["notify:assignee", "notify:group_lead"]

[[escalation]]
name = "first-response-missed"
on = "first_response"
at = "breach"
actions = ["raise_priority", "level_up", "notify:group_lead", "note:First response target missed"]

[[escalation]]
name = "urgent-unassigned"
on = "unassigned"
at = "15m"
where = { priority = ["urgent"] }
actions = ["notify:group_lead", "tag:needs-owner"]

[[escalation]]
name = "security-to-secops"
on = "resolution"
at = "50%"
where = { category = ["Security"] }
actions = ["move:SecOps"]
"""  # noqa: E501 (verbatim from the issue)

ROUTES = """
[[route]]
name = "phishing"
where = { channel = ["email"], subject = ["phishing", "suspicious"] }
set = { category = "Security > Phishing", priority = "high", group = "SecOps", tags = ["security"] }

[[route]]
name = "vip"
where = { sender_domain = ["bigcorp.com"] }
set = { priority = "urgent", tags = ["vip", "security"] }

[[route]]
name = "invoices"
where = { body_regex = "(?i)invoice #\\\\d+" }
set = { category = "Billing", group = "Finance" }
"""


def test_issue_4_example_parses() -> None:
    document = parse_rules(ISSUE_4)
    assert set(document.calendars) == {"office", "always"}
    assert document.calendars["always"].always_open
    premium, standard = document.sla
    assert premium.name == "premium" and premium.calendar == "always"
    assert premium.where == Where(segment=frozenset({"premium"}))
    assert premium.targets(Priority.URGENT) == (15 * M, 4 * H)
    assert standard.where.is_empty
    assert standard.resolution[Priority.NORMAL] == 36 * H
    warn, missed, unassigned, security = document.escalations
    assert (warn.on, warn.at) == (Trigger.FIRST_RESPONSE, AtPercent(80))
    assert warn.where.priority == {Priority.HIGH, Priority.URGENT}
    assert warn.actions == (Notify(NotifyTarget.ASSIGNEE), Notify(NotifyTarget.GROUP_LEAD))
    assert missed.at == AtBreach()
    assert missed.actions == (
        RaisePriority(),
        LevelUp(),
        Notify(NotifyTarget.GROUP_LEAD),
        AddNote("First response target missed"),
    )
    assert (unassigned.on, unassigned.at) == (Trigger.UNASSIGNED, AtDuration(15 * M))
    assert unassigned.actions[1] == AddTag("needs-owner")
    assert security.where.category == ("Security",)
    assert security.actions == (MoveToGroup("SecOps"),)
    assert [str(a) for a in missed.actions][-1] == "note:First response target missed"
    assert document.routes == ()
    assert document.data["sla"][0]["name"] == "premium"  # raw TOML kept for the database


def test_stored_document_parses_the_same() -> None:
    document = parse_rules(ISSUE_4 + ROUTES)
    again = rules_from_document(document.data)
    assert again.sla == document.sla
    assert again.escalations == document.escalations
    assert [route.name for route in again.routes] == ["phishing", "vip", "invoices"]
    assert again.calendars == document.calendars
    assert rules_from_document(None).sla == ()


def test_document_without_rule_sections_is_empty() -> None:
    document = parse_rules('[desk]\nname = "X"\n')
    assert (document.calendars, document.sla, document.escalations, document.routes) == (
        {},
        (),
        (),
        (),
    )


def test_select_policy_premium_or_standard_with_reason() -> None:
    policies = parse_rules(ISSUE_4).sla
    premium = TicketFacts(priority=Priority.HIGH, segment="premium")
    policy, reason = select_policy(policies, premium) or (None, "")
    assert policy is not None and policy.name == "premium"
    assert reason == "premium: segment is premium"
    other = TicketFacts(priority=Priority.HIGH, segment="standard")
    policy, reason = select_policy(policies, other) or (None, "")
    assert policy is not None and policy.name == "standard"
    assert reason == "standard: matches every ticket"
    assert select_policy(policies[:1], other) is None


@pytest.mark.parametrize(
    ("where", "facts", "reason"),
    [
        (
            {"category": ["Security"]},
            TicketFacts(Priority.LOW, category="Security > Phishing"),
            "category Security > Phishing is under Security",
        ),
        (
            {"category": ["Security"]},
            TicketFacts(Priority.LOW, category="Security"),
            "category is Security",
        ),
        (
            {"category": ["Security>Phishing"]},
            TicketFacts(Priority.LOW, category="Security > Phishing > Spear"),
            "category Security > Phishing > Spear is under Security > Phishing",
        ),
        ({"category": ["Security"]}, TicketFacts(Priority.LOW, category="Securityx"), None),
        (
            {"category": ["Security > Phishing"]},
            TicketFacts(Priority.LOW, category="Security"),
            None,
        ),
        ({"category": ["Security"]}, TicketFacts(Priority.LOW), None),
        (
            {"tag": ["vip", "press"]},
            TicketFacts(Priority.LOW, tags=frozenset({"press", "x"})),
            "tagged press",
        ),
        ({"tag": ["vip"]}, TicketFacts(Priority.LOW, tags=frozenset({"x"})), None),
        ({"tag": ["vip"]}, TicketFacts(Priority.LOW), None),
        (
            {"priority": ["urgent"], "channel": ["phone"], "level": [1, 2]},
            TicketFacts(Priority.URGENT, channel=Channel.PHONE, level=2),
            "priority is urgent and level is 2 and channel is phone",
        ),
        ({"level": [2]}, TicketFacts(Priority.URGENT), None),
        (
            {"status": ["pending"], "group": ["L1"]},
            TicketFacts(Priority.LOW, status=Status.PENDING, group="L1"),
            "group is L1 and status is pending",
        ),
        ({"status": ["pending"]}, TicketFacts(Priority.LOW, status=Status.OPEN), None),
        ({}, TicketFacts(Priority.LOW), "matches every ticket"),
    ],
)
def test_where_matching(
    where: dict[str, list[object]], facts: TicketFacts, reason: str | None
) -> None:
    matcher = parse_where(where, "sla[0].where")
    assert matcher.explain(facts) == reason
    assert matcher.matches(facts) is (reason is not None)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("raise_priority", RaisePriority()),
        ("set_priority:urgent", SetPriority(Priority.URGENT)),
        ("level_up", LevelUp()),
        ("move:SecOps", MoveToGroup("SecOps")),
        ("assign:alice", Assign("alice")),
        ("unassign", Unassign()),
        ("tag:needs-owner", AddTag("needs-owner")),
        ("note:Missed: call back", AddNote("Missed: call back")),
        ("notify:requester", Notify(NotifyTarget.REQUESTER)),
        ("notify:group", Notify(NotifyTarget.GROUP)),
        ("notify:boss@example.com", Notify("boss@example.com")),
    ],
)
def test_actions(text: str, action: object) -> None:
    parsed = parse_action(text, "escalation[0].actions[0]")
    assert parsed == action
    assert str(parsed) == text


def test_classify_all_matching_first_wins_per_field() -> None:
    routes = parse_rules(ROUTES).routes
    facts = MessageFacts(
        channel=Channel.EMAIL, sender="Ann@Mail.BigCorp.com", subject="Suspicious login?", body=""
    )
    assert classify(routes, facts) == [
        (
            "phishing",
            RouteSet(
                category="Security > Phishing",
                priority=Priority.HIGH,
                group="SecOps",
                tags=("security",),
            ),
        ),
        ("vip", RouteSet(tags=("vip",))),  # priority already set by "phishing"
    ]


def test_classify_regex_and_no_match() -> None:
    routes = parse_rules(ROUTES).routes
    invoice = MessageFacts(channel=Channel.WEB, sender=None, subject="Hi", body="About INVOICE #42")
    assert classify(routes, invoice) == [
        ("invoices", RouteSet(category="Billing", group="Finance"))
    ]
    plain = MessageFacts(channel=Channel.EMAIL, sender="a@notbigcorp.com", subject="Hello")
    assert classify(routes, plain) == []
    # a phishing keyword over the phone does not match the email-only route
    assert classify(routes, MessageFacts(channel=Channel.PHONE, subject="phishing")) == []


SLA_OK = """
[calendars.office]
timezone = "UTC"
hours.mon = ["09:00-17:00"]
[[sla]]
name = "standard"
calendar = "office"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }
"""


def escalation(body: str) -> str:
    return SLA_OK + f'[[escalation]]\nname = "e"\n{body}\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            SLA_OK.replace(', low = "8h" }', " }"),
            "rules.toml: sla[0].first_response.low: missing",
        ),
        (
            SLA_OK
            + "[[sla]]"
            + SLA_OK.split("[[sla]]")[1]
            .replace('"standard"', '"other"')
            .replace('urgent = "1h"', 'urgent = "1d"'),
            'rules.toml: sla[1].first_response.urgent: use minutes or hours, got "1d"',
        ),
        (
            SLA_OK.replace('"36h"', "36"),
            "rules.toml: sla[0].resolution.normal: use minutes or hours, got 36",
        ),
        (
            SLA_OK.replace('low = "8h" }', 'low = "8h", critical = "1h" }'),
            "rules.toml: sla[0].first_response.critical: unknown priority",
        ),
        (
            SLA_OK.replace('calendar = "office"', 'calendar = "ofice"'),
            'rules.toml: sla[0].calendar: unknown calendar "ofice" (calendars: office)',
        ),
        (
            SLA_OK.replace('name = "standard"', 'name = "standard"\ntarget = 1'),
            "rules.toml: sla[0].target: unknown key",
        ),
        (
            SLA_OK.replace('name = "standard"', 'name = "s"\nwhere = { segmnt = ["x"] }'),
            "rules.toml: sla[0].where.segmnt: unknown key",
        ),
        (
            SLA_OK.replace('name = "standard"', 'name = "s"\nwhere = { segment = ["premum"] }'),
            'rules.toml: sla[0].where.segment[0]: unknown segment "premum" '
            "(expected standard, premium, enterprise)",
        ),
        (
            SLA_OK.replace('"36h"', '"1h90m"'),
            "rules.toml: sla[0].resolution.normal: minutes after hours run from 0 to 59, "
            'got "1h90m" (write "2h30m" or "150m")',
        ),
        (
            escalation('on = "idle"\nat = "2h60m"\nactions = ["level_up"]'),
            'rules.toml: escalation[0].at: minutes after hours run from 0 to 59, got "2h60m" '
            '(write "3h" or "180m")',
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["tag:needs owner!"]'),
            'rules.toml: escalation[0].actions[0]: "needs owner!" can never be a ticket\'s tag: '
            "letters, digits and _ . : / - (up to 64 characters)",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["level_up"]\n')
            + 'where = { tag = ["vpn", "#vip"] }',
            'rules.toml: escalation[0].where.tag[1]: "#vip" can never be a ticket\'s tag',
        ),
        (
            '[[route]]\nname = "r"\nset = { tags = ["ok", "x" ] }\n'.replace('"x"', '"a\tb"'),
            "rules.toml: route[0].set.tags[1]:",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["level_up"]\n')
            + 'where = { segment = ["standard", "Premium"] }',
            'rules.toml: escalation[0].where.segment[1]: unknown segment "Premium"',
        ),
        (
            SLA_OK.replace('name = "standard"', 'name = "s"\nwhere = { priority = ["hi"] }'),
            'rules.toml: sla[0].where.priority[0]: unknown priority "hi"',
        ),
        (
            SLA_OK + SLA_OK.split("\n[[sla]]\n")[1].join(["[[sla]]\n", ""]),
            'rules.toml: sla[1].name: duplicate name "standard" (already used by sla[0])',
        ),
        (
            SLA_OK.replace('timezone = "UTC"', 'timezone = "Mars/Base"'),
            'rules.toml: calendars.office.timezone: unknown time zone "Mars/Base"',
        ),
        (
            escalation('on = "first_response"\nat = "120%"\nactions = ["level_up"]'),
            'rules.toml: escalation[0].at: a percentage runs from 1% to 100%, got "120%"',
        ),
        (
            escalation('on = "first_response"\nat = "soon"\nactions = ["level_up"]'),
            'rules.toml: escalation[0].at: expected a percentage like "80%", "breach" or a',
        ),
        (
            escalation('on = "idle"\nat = "breach"\nactions = ["level_up"]'),
            'rules.toml: escalation[0].at: on = "idle" takes a working-time duration',
        ),
        (
            escalation('on = "resolution"\nat = "4h"\nactions = ["level_up"]'),
            'rules.toml: escalation[0].at: on = "resolution" takes a percentage',
        ),
        (
            escalation('on = "unassigned"\nactions = ["level_up"]'),
            "rules.toml: escalation[0].at: missing",
        ),
        (
            escalation('on = "customer_request"\nat = "50%"\nactions = ["level_up"]'),
            'rules.toml: escalation[0].at: on = "customer_request" takes no at',
        ),
        (
            escalation('on = "breach"\nat = "50%"\nactions = ["level_up"]'),
            "rules.toml: escalation[0].on: expected first_response | resolution",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["level_up", "frobnicate"]'),
            'rules.toml: escalation[0].actions[1]: unknown action "frobnicate"',
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["set_priority:extreme"]'),
            'rules.toml: escalation[0].actions[0]: unknown priority "extreme"',
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["move:"]'),
            'rules.toml: escalation[0].actions[0]: move needs an argument, like "move:SecOps"',
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["notify:boss"]'),
            "rules.toml: escalation[0].actions[0]: notify needs one of assignee",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["level_up:2"]'),
            "rules.toml: escalation[0].actions[0]: level_up takes no argument",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = []'),
            "rules.toml: escalation[0].actions: expected a non-empty list",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["level_up"]\nwhen = 1'),
            "rules.toml: escalation[0].when: unknown key",
        ),
        (
            escalation('on = "idle"\nat = "2h"\nactions = ["level_up"]')
            + '[[escalation]]\nname = "e"\non = "idle"\nat = "1h"\nactions = ["unassign"]\n',
            'rules.toml: escalation[1].name: duplicate name "e" (already used by escalation[0])',
        ),
        (
            '[[route]]\nname = "r"\nwhere = { subject_regex = "(unclosed" }\nset = {tags = ["t"]}',
            'rules.toml: route[0].where.subject_regex: invalid regex "(unclosed"',
        ),
        (
            '[[route]]\nname = "r"\nwhere = { sender = ["a@b.com"] }\nset = { group = "G" }\n',
            "rules.toml: route[0].where.sender: unknown key",
        ),
        (
            '[[route]]\nname = "r"\nwhere = { sender_domain = ["a@b.com"] }\nset = {tags = ["t"]}',
            'rules.toml: route[0].where.sender_domain[0]: expected a domain like "example.com"',
        ),
        ('[[route]]\nname = "r"\nset = {}\n', "rules.toml: route[0].set: expected at least one"),
        (
            '[[route]]\nname = "r"\nset = { priority = "extreme" }\n',
            'rules.toml: route[0].set.priority: unknown priority "extreme"',
        ),
        ('sla = "x"\n', "rules.toml: sla: expected an array of tables"),
        ('calendars = "x"\n', "rules.toml: calendars: expected a table of calendars"),
    ],
)
def test_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "rules.toml")
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_rule_errors_are_value_errors_without_the_file() -> None:
    with pytest.raises(RuleError, match=r"^escalation\[0\]\.actions\[0\]: unknown action"):
        parse_action("frobnicate", "escalation[0].actions[0]")
    assert issubclass(RuleError, ValueError)

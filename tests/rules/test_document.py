"""The rules document: the [desk] table, and errors that name the file and the key."""

from __future__ import annotations

import json
import tomllib
from datetime import timedelta

import pytest

from tui_helpdesk.domain import Priority
from tui_helpdesk.rules.document import (
    DeskSettings,
    RulesError,
    parse_rules,
    rules_from_document,
    stored_problems,
)
from tui_helpdesk.rules.escalation import AddTag, AtDuration, SetPriority


def test_empty_document_gives_defaults() -> None:
    document = parse_rules("")
    assert document.desk == DeskSettings()
    assert document.data == {}
    assert len(document.sha256) == 64


def test_desk_table() -> None:
    document = parse_rules(
        '[desk]\nname = " Acme Support "\nticket_prefix = "SUP2"\ntimezone = "Europe/Rome"\n'
        'phone_region = "IT"\nreopen_window_days = 0\nauto_close_days = 7\n'
    )
    assert document.desk == DeskSettings(
        name="Acme Support",
        ticket_prefix="SUP2",
        timezone="Europe/Rome",
        phone_region="IT",
        reopen_window_days=0,
        auto_close_days=7,
    )
    assert rules_from_document(document.data).desk == document.desk
    assert rules_from_document(None).desk == DeskSettings()


def test_starter_rules_file_is_valid() -> None:
    from importlib.resources import files

    text = files("tui_helpdesk.starter").joinpath("rules.toml").read_text()
    assert parse_rules(text, "rules.toml").desk.ticket_prefix == "HD"


def test_same_text_same_hash() -> None:
    assert parse_rules("[desk]\n").sha256 == parse_rules("[desk]\n").sha256
    assert parse_rules("[desk]\n").sha256 != parse_rules('[desk]\nname = "X"\n').sha256


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[desk]\nticket_prefix = "hd"\n', "rules.toml: desk.ticket_prefix: expected 1-10"),
        ('[desk]\nticket_prefix = "HD-1"\n', "rules.toml: desk.ticket_prefix:"),
        ('[desk]\nticket_prefix = ""\n', "rules.toml: desk.ticket_prefix:"),
        ("[desk]\nticket_prefix = 12\n", "rules.toml: desk.ticket_prefix:"),
        ('[desk]\nticket_prefix = "ABCDEFGHIJK"\n', "rules.toml: desk.ticket_prefix:"),
        ('[desk]\ntimezone = "Mars/Olympus"\n', "rules.toml: desk.timezone: unknown time zone"),
        ('[desk]\ntimezone = ""\n', "rules.toml: desk.timezone:"),
        ('[desk]\nphone_region = "XX"\n', "rules.toml: desk.phone_region:"),
        ('[desk]\nname = "  "\n', "rules.toml: desk.name:"),
        ("[desk]\nreopen_window_days = -1\n", "rules.toml: desk.reopen_window_days:"),
        ("[desk]\nauto_close_days = true\n", "rules.toml: desk.auto_close_days:"),
        ('[desk]\nauto_close_days = "5"\n', "rules.toml: desk.auto_close_days:"),
        ('[desk]\nprefix = "HD"\n', "rules.toml: desk.prefix: unknown key"),
        ('[dsk]\nname = "x"\n', "rules.toml: dsk: unknown section"),
        ('desk = "x"\n', "rules.toml: desk: expected a table"),
        ("[desk\n", "rules.toml: not valid TOML"),
    ],
)
def test_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "rules.toml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value).strip()


def test_error_names_the_source() -> None:
    with pytest.raises(RulesError, match=r"^/etc/desk/rules\.toml: desk\.timezone: "):
        parse_rules('[desk]\ntimezone = "Nowhere/City"\n', "/etc/desk/rules.toml")


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(RulesError, match="ticket_prefix"):
        parse_rules("[desk]\nreopen_days = 3\n")


def test_rule_sections_are_parsed_and_data_stays_raw() -> None:
    text = (
        '[calendars.always]\ntimezone = "UTC"\nalways_open = true\n'
        '[[sla]]\nname = "all"\ncalendar = "always"\n'
        'first_response = { urgent = "1h", high = "1h", normal = "1h", low = "1h" }\n'
        'resolution = { urgent = "8h", high = "8h", normal = "8h", low = "8h" }\n'
    )
    document = parse_rules(text)
    assert list(document.calendars) == ["always"]
    assert [policy.name for policy in document.sla] == ["all"]
    assert document.escalations == () and document.routes == ()
    assert document.data["sla"][0]["first_response"]["urgent"] == "1h"
    stored = rules_from_document(document.data)
    assert stored.sla == document.sla and stored.desk == document.desk


def test_stored_document_errors_name_the_source() -> None:
    with pytest.raises(RulesError) as info:
        rules_from_document({"sla": [{"name": "x", "calendar": "nope"}]})
    assert info.value.errors == [
        "active rules: sla[0].first_response: missing",
        "active rules: sla[0].resolution: missing",
        'active rules: sla[0].calendar: unknown calendar "nope" (calendars: none defined)',
    ]
    assert rules_from_document(None).sla == ()


def test_calendar_errors_get_the_source_and_stay_on_one_line() -> None:
    with pytest.raises(RulesError) as info:
        parse_rules('[calendars.office]\ntimezone = "UTC"\nhours.mon = ["18:00-09:00"]\n', "r.toml")
    assert str(info.value).startswith("r.toml: calendars.office.hours.mon[0]: the start must be")
    assert "\n" not in str(info.value)


def test_toml_dates_are_stored_as_strings_and_parse_the_same() -> None:
    text = (
        '[calendars.office]\ntimezone = "Europe/Rome"\nhours.mon = ["09:00-17:00"]\n'
        "holidays = [2026-12-24]\n"
    )
    document = parse_rules(text)
    stored = json.loads(json.dumps(document.data))  # what the JSON column keeps
    assert stored["calendars"]["office"]["holidays"] == ["2026-12-24"]
    again = rules_from_document(stored)
    assert again.calendars["office"].holidays(2026) == document.calendars["office"].holidays(2026)


_TARGETS = (
    'first_response = { urgent = "1h", high = "1h", normal = "1h", low = "1h" }\n'
    'resolution = { urgent = "8h", high = "8h", normal = "8h", low = "8h" }\n'
)


def test_every_error_is_reported_in_one_run() -> None:
    text = (
        '[desk]\nticket_prefix = "hd"\ntimezone = "Mars/Olympus"\nname = "Desk"\n'
        '[calendars.office]\ntimezone = "UTC"\nhours.mon = ["18:00-09:00"]\n'
        '[[sla]]\nname = "premium"\ncalendar = "office"\nwhere = { segment = ["premum"] }\n'
        + _TARGETS
        + '[[sla]]\nname = "standard"\ncalendar = "office"\n'
        + _TARGETS.replace('"8h" }', '"1h90m" }')
        + '[[escalation]]\nname = "e"\non = "idle"\nat = "2h"\nactions = ["tag:needs owner!"]\n'
        + '[[route]]\nname = "r"\nset = { priority = "high" }\n'
        + '[[route]]\nname = "r"\nset = { priority = "low" }\n'
        + "[extra]\nx = 1\n"
    )
    with pytest.raises(RulesError) as info:
        parse_rules(text, "r.toml")
    errors = info.value.errors
    assert [e.split(": ")[1] for e in errors] == [
        "extra",
        "desk.ticket_prefix",
        "desk.timezone",
        "calendars.office.hours.mon[0]",
        "sla[0].where.segment[0]",  # not "unknown calendar": the calendar's error says it
        "sla[1].resolution.low",
        "escalation[0].actions[0]",
        "route[1].name",
    ]
    assert all(e.startswith("r.toml: ") and "\n" not in e for e in errors)
    assert str(info.value).splitlines() == ["r.toml: 8 errors", *errors]


def test_every_bad_key_of_one_policy_or_escalation_rule_is_reported() -> None:
    text = (
        '[calendars.always]\ntimezone = "UTC"\nalways_open = true\n'
        '[[sla]]\nname = "all"\ncalendar = "alway"\nwhere = { segment = ["premum"] }\n'
        'first_response = { urgent = "1h90m", high = "1h", normal = "0m", low = "1h" }\n'
        'resolution = { urgent = "8h", high = "8h", normal = "8h", lo = "8h" }\n'
        '[[escalation]]\nname = "e"\non = "idel"\nat = "2h"\n'
        'actions = ["tag:needs owner!", "level_up", "frobnicate"]\n'
    )
    with pytest.raises(RulesError) as info:
        parse_rules(text, "r.toml")
    assert [e.split(": ")[1] for e in info.value.errors] == [
        "sla[0].calendar",
        "sla[0].where.segment[0]",
        "sla[0].first_response.normal",  # priorities in their order, low to urgent
        "sla[0].first_response.urgent",
        "sla[0].resolution.lo",
        "sla[0].resolution.low",
        "escalation[0].on",
        "escalation[0].actions[0]",
        "escalation[0].actions[2]",
    ]


def test_policies_none_of_which_takes_every_ticket_are_a_warning() -> None:
    calendar = '[calendars.always]\ntimezone = "UTC"\nalways_open = true\n'
    premium = '[[sla]]\nname = "premium"\ncalendar = "always"\nwhere = { segment = ["premium"] }\n'
    document = parse_rules(calendar + premium + _TARGETS, "r.toml")
    assert document.warnings == (
        "r.toml: sla: no policy takes every ticket (each has a where), so a ticket none "
        "matches has no SLA clocks: end with a policy without where after sla[0] (premium)",
    )
    every_priority = 'where = { priority = ["low", "normal", "high", "urgent"] }\n'
    catch_all = '[[sla]]\nname = "all"\ncalendar = "always"\n'
    for last in (catch_all, catch_all + every_priority):
        assert parse_rules(calendar + premium + _TARGETS + last + _TARGETS).warnings == ()
    assert parse_rules(calendar).warnings == ()  # no SLA policies: a desk without SLAs


# Applied before rules files were checked for these: a segment no organization can have,
# minutes after hours of 60 or more, tags no ticket can carry.
_APPLIED_BEFORE = """
[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "gold"
calendar = "always"
where = { segment = ["Gold"], tag = ["VIP Caller", "needs owner!"] }
first_response = { urgent = "1h", high = "1h", normal = "1h90m", low = "1h" }
resolution = { urgent = "8h", high = "8h", normal = "8h", low = "8h" }

[[escalation]]
name = "idle"
on = "idle"
at = "2h75m"
actions = ["tag:needs owner!", "tag:Waiting On Us", "set_priority:high"]

[[route]]
name = "all"
set = { tags = ["Needs Owner", "no way!"] }
"""


def test_a_stored_version_is_read_as_it_was_applied() -> None:
    data = tomllib.loads(_APPLIED_BEFORE)
    rules = rules_from_document(data)
    (gold,) = rules.sla
    assert gold.where.segment == frozenset({"Gold"})  # matches no organization
    assert gold.where.tag == frozenset({"vip-caller"})
    assert gold.first_response[Priority.NORMAL] == timedelta(hours=2, minutes=30)
    (idle,) = rules.escalations
    assert idle.at == AtDuration(timedelta(hours=3, minutes=15))
    assert idle.actions == (AddTag("waiting-on-us"), SetPriority(Priority.HIGH))
    assert rules.routes[0].set.tags == ("needs-owner",)
    # A rules file with the same text is refused, and so is the stored version when checked.
    with pytest.raises(RulesError) as info:
        parse_rules(_APPLIED_BEFORE, "r.toml")
    problems = stored_problems(data, "version 3")
    assert [error.removeprefix("r.toml: ") for error in info.value.errors] == [
        problem.removeprefix("version 3: ") for problem in problems
    ]
    assert [problem.split(": ")[1] for problem in problems] == [
        "sla[0].where.segment[0]",  # a where table's first error only
        "sla[0].first_response.normal",
        "escalation[0].at",
        "escalation[0].actions[0]",
        "route[0].set.tags[1]",
    ]
    assert stored_problems(parse_rules("[desk]\n").data) == [] and stored_problems(None) == []

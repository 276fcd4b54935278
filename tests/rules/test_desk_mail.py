"""The `[desk]` keys of the mail the desk writes by itself: acknowledgements and surveys."""

from __future__ import annotations

import pytest

from tui_helpdesk.rules.document import DeskSettings, RulesError, parse_rules


def test_defaults_acknowledge_and_survey() -> None:
    desk = DeskSettings()
    assert (desk.acknowledge, desk.acknowledge_per_hour, desk.survey) == (True, 5, True)


def test_keys_are_read() -> None:
    text = "[desk]\nacknowledge = false\nacknowledge_per_hour = 2\nsurvey = false\n"
    desk = parse_rules(text).desk
    assert (desk.acknowledge, desk.acknowledge_per_hour, desk.survey) == (False, 2, False)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('acknowledge = "yes"', "rules.toml: desk.acknowledge: expected true or false"),
        ("survey = 1", "rules.toml: desk.survey: expected true or false"),
        ("acknowledge_per_hour = 0", "rules.toml: desk.acknowledge_per_hour: expected a whole"),
        ("acknowledge_per_hour = true", "desk.acknowledge_per_hour: expected a whole number"),
    ],
)
def test_bad_values_name_the_key(line: str, error: str) -> None:
    with pytest.raises(RulesError, match=error):
        parse_rules(f"[desk]\n{line}\n")

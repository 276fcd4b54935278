"""The tag rule (rules/tags.py): what a tag may be, and the tags a rules document names."""

from __future__ import annotations

import pytest

from tui_helpdesk.rules.parsing import RuleError
from tui_helpdesk.rules.tags import InvalidTag, normalise_tag, parse_tag, read_tag


@pytest.mark.parametrize(
    ("raw", "tag"),
    [(" Needs Review ", "needs-review"), ("vpn:eu/west_1.b", "vpn:eu/west_1.b"), ("  ", "")],
)
def test_tags_are_stored_lower_case_with_dashes(raw: str, tag: str) -> None:
    assert normalise_tag(raw) == tag


def test_text_no_tag_can_be_is_refused() -> None:
    with pytest.raises(InvalidTag, match="letters, digits"):
        normalise_tag("needs owner!")


def test_a_rule_names_a_tag_as_tickets_store_it() -> None:
    assert parse_tag("Needs Owner", "route[0].set.tags[0]") == "needs-owner"
    with pytest.raises(RuleError) as info:
        parse_tag("needs owner!", "route[0].set.tags[1]")
    assert str(info.value).startswith(
        'route[0].set.tags[1]: "needs owner!" can never be a ticket\'s tag: letters'
    )
    with pytest.raises(RuleError, match="expected a non-empty string"):
        parse_tag(" ", "escalation[0].where.tag[0]")


def test_a_stored_version_keeps_what_a_tag_can_be_and_drops_the_rest() -> None:
    key = "escalation[0].where.tag[0]"
    assert read_tag("VIP Caller", key, strict=False) == "vip-caller"
    assert read_tag("needs owner!", key, strict=False) is None
    with pytest.raises(RuleError):
        read_tag("needs owner!", key)
    with pytest.raises(RuleError, match="expected a non-empty string"):
        read_tag(3, key, strict=False)  # no text at all was refused before too

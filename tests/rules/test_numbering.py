"""Ticket references as people write them."""

from __future__ import annotations

import pytest

from tui_helpdesk.rules.numbering import format_key, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HD-12", ("HD", 12)),
        ("hd-12", ("HD", 12)),
        ("  HD-12  ", ("HD", 12)),
        ("12", (None, 12)),
        ("#12", (None, 12)),
        ("0042", (None, 42)),
        ("SUP2-7", ("SUP2", 7)),
    ],
)
def test_parse_ref(text: str, expected: tuple[str | None, int]) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    "text", ["", "HD", "HD-", "-12", "HD-12a", "12.5", "# 12", "HD 12", "2HD-1", "HD--1", "#HD-1"]
)
def test_not_a_ref(text: str) -> None:
    assert parse_ref(text) is None


def test_format_key_round_trips() -> None:
    assert format_key("HD", 1042) == "HD-1042"
    assert parse_ref(format_key("HD", 1042)) == ("HD", 1042)

"""`text.clean`: untrusted text made inert for a terminal, and left alone when it is already."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui_helpdesk.text import clean

# What must never reach a terminal from customer text: C0 controls but tab and newline,
# DEL and C1, zero-width and bidirectional overrides.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# Pieces that hostile or careless mail is made of, mixed with ordinary text below.
PIECES = st.sampled_from(
    [
        "\x1b]0;owned\x07",  # OSC: retitle the window
        "\x1b]8;;http://evil\x1b\\",  # OSC hyperlink ended by ST
        "\x1b[2J",  # CSI: clear the screen
        "\x1b[31;1m",  # CSI: colours
        "\x9b31m",  # 8-bit CSI
        "\x1bPq#0;2;0;0;0\x1b\\",  # DCS (sixel)
        "\x1b",  # a stray ESC
        "\x07",  # BEL
        "\r\n",
        "\r",
        "\u202e",  # right-to-left override
        "\u200b",  # zero-width space
        "[bold red]not markup[/]",
        "Grüße, 東京\t",
        "\n",
    ]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12).map("".join)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain words", "plain words"),
        ("line one\r\nline two\rline three", "line one\nline two\nline three"),
        ("title\x1b]0;owned\x07 here", "title here"),
        ("red\x1b[31m text\x1b[0m", "red text"),
        ("bell\x07 and\x00 nul", "bell and nul"),
        ("abc\u202edef", "abcdef"),
        ("tab\tkept\nand newline", "tab\tkept\nand newline"),
        ("[bold]markup stays text[/bold]", "[bold]markup stays text[/bold]"),
    ],
)
def test_clean_removes_sequences_and_controls(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_single_line_folds_breaks_and_tabs() -> None:
    assert clean("  Printer\r\n\tjams\x1b[2J  again ", single_line=True) == "Printer jams again"


@given(TEXT)
def test_nothing_forbidden_survives_and_cleaning_is_stable(raw: str) -> None:
    shown = clean(raw)
    assert FORBIDDEN.search(shown) is None
    assert clean(shown) == shown


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs"))))
def test_text_with_nothing_to_remove_comes_back_unchanged(raw: str) -> None:
    assert clean(raw) == raw

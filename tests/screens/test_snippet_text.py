"""Snippets without their Markdown syntax, the searched words still marked (pure)."""

from __future__ import annotations

import pytest

from tui_helpdesk.markdown_text import mail_text, plain_pieces, snippet_text
from tui_helpdesk.screens.new_ticket_parts import suggestion_options
from tui_helpdesk.services.intake_views import SuggestedArticle, SuggestionsView
from tui_helpdesk.services.search import Marked


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("# Steps 1. Open the portal.", "Steps 1. Open the portal."),
        ("Choose **Forgot password** or __reset__.", "Choose Forgot password or reset."),
        (
            "Use *this* or _that_, not snake_case or 2*3.",
            "Use this or that, not snake_case or 2*3.",
        ),
        ("See [the guide](https://kb.example/a_(b)) now", "See the guide now"),
        ('See [the guide](https://kb.example "Guide") now', "See the guide now"),
        ("Logo ![the logo](logo.png) here", "Logo the logo here"),
        ("Per [RFC][1] and [x] (a checkbox)", "Per RFC and [x] (a checkbox)"),
        ("…the guide](https://kb.example/x) says", "…the guide says"),  # cut before it
        ("read [the guide](https://kb.exa…", "read the guide…"),  # cut inside the address
        ("Run `vpn --reset` ```bash", "Run vpn --reset"),
        ("> quoted ~~struck~~ --- after", "quoted struck after"),
        ("* one + two - three", "• one • two - three"),
        (
            "Mail <help@desk.example> or <https://desk.example>",
            "Mail help@desk.example or https://desk.example",
        ),
        ("Line<br>break <b>bold</b>", "Line break bold"),
        (r"Escaped \*stars\* and \# hash", "Escaped *stars* and # hash"),
        (
            "[bold red]not markup[/] [link=http://evil]here[/link]",
            "[bold red]not markup[/] [link=http://evil]here[/link]",
        ),
        ("", ""),
    ],
)
def test_markdown_syntax_goes(markdown: str, plain: str) -> None:
    assert "".join(text for text, _ in plain_pieces([(markdown, False)])) == plain


def test_matched_words_stay_marked() -> None:
    pieces = [
        ("## Setup Open the **", False),
        ("VPN", True),
        (" client** from [the ", False),
        ("portal", True),
        ("](https://portal.example/", False),
        ("vpn", True),
        (")", False),
    ]
    assert plain_pieces(pieces) == (
        ("Setup Open the ", False),
        ("VPN", True),
        (" client from the ", False),
        ("portal", True),
    )
    text = snippet_text(pieces, style="dim", highlight="bold reverse")
    assert text.plain == "Setup Open the VPN client from the portal"
    assert [text.plain[s.start : s.end] for s in text.spans if s.style == "bold reverse"] == [
        "VPN",
        "portal",
    ]


def test_new_ticket_suggestions_show_plain_snippets() -> None:
    article = SuggestedArticle(
        7,
        Marked((("Reset a password", False),)),
        Marked((("# Steps Choose **", False), ("Forgot", True), (" password**.", False))),
        "Account",
    )
    found = SuggestionsView("forgot", "", ("forgot",), (article,), ())
    (option,) = list(suggestion_options(found))
    assert str(option.prompt).splitlines()[1].strip() == "Steps Choose Forgot password."


def test_an_article_as_a_mails_plain_text() -> None:
    body = (
        "## Steps\n\n"
        '1. Open the [VPN client](https://vpn.example/a_b "help") and **reset** it.\n'
        "* Check the `config` file, see <https://x.example/y>\n\n\n\n"
        "> Keep it safe\n"
        "![diagram](https://img.example/d.png)\n"
    )
    assert mail_text(body) == (
        "Steps\n\n"
        "1. Open the VPN client (https://vpn.example/a_b) and reset it.\n"
        "• Check the config file, see https://x.example/y\n\n"
        "Keep it safe\n"
        "diagram (https://img.example/d.png)"
    )

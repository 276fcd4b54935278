"""Article snippets as people read them: Markdown syntax taken out, search hits kept.

A search hit's snippet (`services.search.Marked`) is a stretch of an article's Markdown body
cut around the first matched word, on one line, in (text, matched) pieces. Shown as it is,
it reads "## Steps **Open** the [VPN client](https://…)". `plain_pieces` takes the syntax
out character by character, so every character left keeps its matched flag: the pieces come
back as "Steps Open the VPN client", the searched words still marked.

What goes: heading marks, emphasis and strike-through marks, code backticks and fences,
quote marks, horizontal rules, HTML tags, a link's or image's brackets and address (its text
stays; a link cut by the snippet loses the part of the address it kept), autolinks' angle
brackets; `*` and `+` bullets read "•". Backslash escapes keep the character they escape.
Underscores inside words (snake_case) and arithmetic stars (2*3) stay.

`mail_text` does the same to a whole article for a reply by mail (links keep their address).

Display only: the pieces are still plain strings for `text.highlighted`, never markup. Used
by the knowledge screen's result list, the new-ticket form's suggestions and the CLI's
`helpdesk kb search` / `kb suggest` tables; it imports neither Textual nor the database, so
the CLI loads it without the console.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.text import Text

from tui_helpdesk.text import highlighted

Pieces = tuple[tuple[str, bool], ...]

_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|<])")
# Whole matches deleted.
_DELETE = [
    re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"),  # HTML tags
    re.compile(r"```[\w+-]*|~~~[\w+-]*"),  # code fences (with a language)
    re.compile(r"(?:^|(?<=\s))(?:-{3,}|\*{3,}|_{3,})(?=\s|$)"),  # horizontal rules
    re.compile(r"(?:^|(?<=\s))#{1,6}(?=\s|$)"),  # heading marks
    re.compile(r"(?:^|(?<=\s))>+(?=\s|$)"),  # quote marks
    re.compile(r"!?\[(?=[^\[\]]*\][\[(])"),  # a link's or image's opening bracket
    re.compile(r"\]\((?:[^()\s…]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)?"),  # "](address)"
    re.compile(r"\]\[[^\[\]]*\]"),  # "][reference]"
    re.compile(r"(?:^|(?<=\s))\[[^\[\]]*\]:\s*\S+"),  # a reference's definition
    re.compile(r"\*\*|__|~~|`+"),  # strong, strike-through, code marks
    re.compile(r"(?<![\w*\\])\*(?=[^\s*])|(?<=[^\s*\\])\*(?![\w*])"),  # *emphasis*
    re.compile(r"(?<![\w_\\])_(?=[^\s_])|(?<=[^\s_\\])_(?![\w_])"),  # _emphasis_
]
# Autolinks: the address stays, the angle brackets go.
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^<>\s]+|[^<>\s@]+@[^<>\s]+)>")
_BULLET = re.compile(r"(?:^|(?<=\s))[*+](?=\s)")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)  # a line break: a space on one line


def plain_pieces(pieces: Iterable[tuple[str, bool]]) -> Pieces:
    """`pieces` with the Markdown syntax taken out and the spaces it leaves collapsed; each
    remaining character keeps the matched flag it had."""
    parts = [(text, lit) for text, lit in pieces if text]
    source = "".join(text for text, _ in parts)
    if not source:
        return ()
    flags = [lit for text, lit in parts for _ in text]
    out: list[str | None] = list(source)  # None: deleted; else what the character becomes
    escaped: set[int] = set()
    for match in _ESCAPE.finditer(source):
        out[match.start()] = None  # the backslash goes, the character stays as it is
        escaped.add(match.start() + 1)

    def delete(start: int, end: int) -> None:
        for index in range(start, end):
            if index not in escaped:
                out[index] = None

    for match in _AUTOLINK.finditer(source):
        delete(match.start(), match.start() + 1)
        delete(match.end() - 1, match.end())
    for pattern in _DELETE:
        for match in pattern.finditer(source):
            delete(match.start(), match.end())
    for match in _BREAK.finditer(source):
        out[match.start()] = " "
    for match in _BULLET.finditer(source):
        if match.start() not in escaped and out[match.start()] is not None:
            out[match.start()] = "•"

    result: list[tuple[str, bool]] = []
    space = True  # at the start: leading spaces go
    for char, lit in zip(out, flags, strict=True):
        if char is None:
            continue
        if char.isspace():
            if space:
                continue
            char, space = " ", True
        else:
            space = False
        if result and result[-1][1] == lit:
            result[-1] = (result[-1][0] + char, lit)
        else:
            result.append((char, lit))
    if result and result[-1][0].endswith(" "):
        text, lit = result[-1]
        result[-1] = (text.rstrip(), lit)
        if not result[-1][0]:
            result.pop()
    return tuple(result)


# A link or image with its address (and an optional title): [text](address "title").
_LINK_ADDRESS = re.compile(r"!?\[([^\]\n]*)\]\((\S+?)(?:\s+\"[^\"\n]*\")?\)")


def mail_text(markdown: str) -> str:
    """A Markdown text (an article) as the plain text of a mail the customer reads: the
    syntax taken out line by line (`plain_pieces`), each link's address kept after its
    text ("the VPN client (https://…)"), blank lines where the text had them, one at most."""
    lines: list[str] = []
    for line in markdown.splitlines():
        line = _LINK_ADDRESS.sub(lambda m: f"{m[1]} ({m[2]})" if m[1] else m[2], line)
        plain = "".join(text for text, _ in plain_pieces(((line, False),)))
        if plain or (lines and lines[-1]):
            lines.append(plain)
    return "\n".join(lines).strip("\n")


def snippet_text(pieces: Iterable[tuple[str, bool]], *, style: str = "", highlight: str) -> Text:
    """A snippet as plain, readable Rich text, the searched words in `highlight`."""
    return highlighted(plain_pieces(pieces), style=style, highlight=highlight)

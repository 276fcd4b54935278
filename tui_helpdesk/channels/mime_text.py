"""Text out of MIME parts: bytes in any declared (or wrongly declared) charset to str, HTML to
readable text, and where quoted earlier mail starts in a reply.

Mail from the wild declares charsets that do not exist, declares none and sends 8-bit text,
or mixes bytes that are invalid in the charset it names. None of that may crash intake or
lose the message: undeclared 8-bit text is tried as UTF-8, then Windows-1252 (what such mail
almost always is); an unknown charset is read the same way; bytes still invalid are replaced
(U+FFFD). Each repair is reported as a note so `helpdesk mail explain` can say what happened.

HTML-only mail is converted with inscriptis (a real HTML renderer for text: lists, tables,
paragraphs, no scripts or styles). Used by `channels.parse`.
"""

from __future__ import annotations

import codecs
import re

from inscriptis import get_text

HTML_LIMIT = 5 * 1024 * 1024  # characters of HTML rendered; beyond it, cut (the raw is kept)
_FALLBACKS = ("utf-8", "cp1252")
_ASCII = {"us-ascii", "ascii", "ansi_x3.4-1968", "646"}
# Charsets that mail programs write under names Python does not know.
_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",  # a superset: mail labelled gb2312 often carries GBK characters
    "iso-8859-8-i": "iso-8859-8",
}


def _undeclared(data: bytes, why: str) -> tuple[str, str | None]:
    for name in _FALLBACKS:
        try:
            return data.decode(name), f"{why}: read as {name}"
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", "replace"), f"{why}: read as cp1252, bad bytes replaced"


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """`data` as text, and a note when it had to be repaired (None when it read cleanly)."""
    name = (charset or "").strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    if not name or name in _ASCII:
        try:
            return data.decode("ascii"), None
        except UnicodeDecodeError:
            return _undeclared(data, "8-bit text without a charset")
    try:
        info = codecs.lookup(name)
    except LookupError:
        return _undeclared(data, f"unknown charset {name!r}")
    if not getattr(info, "_is_text_encoding", True):  # base64, zlib...: not a charset
        return _undeclared(data, f"{name!r} is not a charset")
    try:
        return data.decode(info.name), None
    except UnicodeDecodeError:
        return data.decode(info.name, "replace"), f"invalid {name} bytes replaced"
    except LookupError:
        return _undeclared(data, f"unknown charset {name!r}")


_TAGS = re.compile(r"<[^>]*>")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


def tidy(text: str) -> str:
    """Line ends unified, trailing spaces dropped, runs of blank lines cut to one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def html_to_text(html: str) -> tuple[str, str | None]:
    """Readable text of an HTML body, and a note if it had to be cut or fell back."""
    note = None
    if len(html) > HTML_LIMIT:
        html, note = html[:HTML_LIMIT], f"HTML body cut at {HTML_LIMIT} characters"
    try:
        text = get_text(html)
    except Exception:  # inscriptis or lxml refused it: never lose the mail over markup
        text = _TAGS.sub(" ", html)
        note = "HTML could not be rendered; tags stripped"
    return tidy(text), note


# Where a reply's quotation of earlier mail begins, as the common clients write it.
_QUOTE_HEADS = (
    # Gmail, Apple Mail, Thunderbird (the attribution may wrap onto a second line)
    re.compile(r"^On [^\n]{3,300}?(?:\n[^\n]{0,200}?)?wrote:[ \t]*$", re.M),
    re.compile(r"^Le [^\n]{3,300}?(?:\n[^\n]{0,200}?)?a [ée]crit ?:[ \t]*$", re.M),
    re.compile(r"^Am [^\n]{3,300}?(?:\n[^\n]{0,200}?)?schrieb [^\n]{0,200}:[ \t]*$", re.M),
    re.compile(r"^Il giorno [^\n]{3,300}?(?:\n[^\n]{0,200}?)?ha scritto:[ \t]*$", re.M),
    re.compile(r"^El [^\n]{3,300}?(?:\n[^\n]{0,200}?)?escribi[óo]:[ \t]*$", re.M),
    # Outlook
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}[ \t]*$", re.M | re.I),
    re.compile(r"^_{8,}[ \t]*\n(?:From|Von|De|Da): ", re.M),
    re.compile(r"^(?:From|Von|De|Da): [^\n]+\n(?:Sent|Gesendet|Envoy[ée]|Inviato|Date): ", re.M),
    # plain "> " quoting: two quoted lines in a row
    re.compile(r"^>[^\n]*\n>", re.M),
)


def quote_start(text: str) -> int | None:
    """The offset where quoted earlier mail starts in `text`, or None (the text is kept
    whole either way: this only says where the new part ends)."""
    starts = [m.start() for pattern in _QUOTE_HEADS if (m := pattern.search(text))]
    starts = [s for s in starts if text[:s].strip()]  # a reply that is all quote has no start
    return min(starts) if starts else None

"""Making untrusted text inert for a terminal.

Customer text (subjects, bodies, names) may carry terminal control sequences (an OSC that
retitles the window, cursor moves, bells) or look like Rich markup. `clean()` removes control
sequences and characters while keeping line breaks and tabs; callers then show the result as
a plain `rich.text.Text` (never as markup). Used by the CLI printers and the console alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Rich loads with the first highlighted text: `clean()` is on every path
    from rich.text import Text

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC (ESC P/X/^/_ ... ST),
# two-character escapes, and the 8-bit C1 forms of the same.
_SEQUENCES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]          # CSI
  | (?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c)     # OSC, ended by BEL or ST
  | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c)  # DCS, SOS, PM, APC
  | \x1b[@-Z\\-_]                              # other two-character escapes
  | \x1b.?                                     # a stray ESC
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTROLS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)
# Every character either pattern above starts with, and `\r`: text without any of them (most
# text) is left as it is after one scan, instead of the sequence pattern's much slower one
# (a message body of a few hundred characters: ~3 µs instead of ~40).
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None, *, single_line: bool = False) -> str:
    """`text` without terminal control sequences or control characters.

    `\\r\\n` and lone `\\r` become `\\n`; with `single_line`, line breaks and tabs become
    spaces (for table cells and titles).
    """
    if not text:
        return ""
    if UNSAFE.search(text) is not None:
        text = _SEQUENCES.sub("", text)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _CONTROLS.sub("", text)
    if single_line:
        text = " ".join(text.split())
    return text


MATCH_STYLE = "bold reverse"  # a matched word in the console's results and suggestions


def highlighted(
    pieces: Iterable[tuple[str, bool]], *, style: str = "", highlight: str = "bold"
) -> Text:
    """Search hits' (text, matched) pieces as Rich text, the matched ones in `highlight`.
    Each piece is appended as a plain string, never parsed as markup; the pieces are
    expected cleaned already (`services.search.Marked` is)."""
    from rich.text import Text

    text = Text(style=style)
    for piece, lit in pieces:
        text.append(piece, style=highlight if lit else "")
    return text


def span(value: timedelta) -> str:
    """A working-time length in hours and minutes ("1h20m", "36h", "45m", "20s")."""
    seconds = int(abs(value).total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes}m"
    return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"


def short_duration(delta: timedelta) -> str:
    """ "45m", "3h20m", "2d4h", "6w": two units at most, for narrow columns."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    if days < 14:
        return f"{days}d{hours}h" if hours else f"{days}d"
    return f"{days // 7}w"


def file_size(size: int) -> str:
    """A size in bytes as people read it: "512 B", "12.0 KB", "3.4 MB"."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def safe_file_name(name: str, attachment_id: int) -> str:
    """A file name for a directory of the agent's from a customer's attachment name: control
    sequences and path separators gone, no leading dot (no `..`, no hidden file), so it
    names a file in that directory and nowhere else; else `attachment-ID`."""
    cleaned = clean(name, single_line=True).replace("/", "_").replace("\\", "_")
    cleaned = cleaned.strip().lstrip(".").strip()
    return cleaned[:200] or f"attachment-{attachment_id}"

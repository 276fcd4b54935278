"""The console's entries in the command palette (`ctrl+p`).

- `GoToTicket` (everywhere): type a ticket's number or key ("12", "#12", "HD-12") and the
  first hit opens it.
- `QueueCommands` (on the queue): switch to any view, standard or saved; mark all, bulk
  change, save or delete a saved view, refresh, filter.

The App adds the console-wide commands (modes, new ticket) to Textual's system commands in
`HelpdeskApp.get_system_commands`. Command names are our own text; ticket refs typed by the
agent are shown as plain Text, never markup.
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.fuzzy import FuzzySearch

if TYPE_CHECKING:
    from tui_helpdesk.screens.queue import QueueScreen

TICKET_REF = re.compile(
    r"\s*(?:(?:go\s*(?:to)?\s*)?(?:ticket\s*)?)?(#?\d+|[A-Za-z]{1,10}-\d+)\s*", re.I
)


def ticket_ref(query: str) -> str | None:
    """The ticket reference in what was typed ("go to 12" → "12", "hd-7" → "HD-7")."""
    found = TICKET_REF.fullmatch(query)
    if found is None:
        return None
    ref = found.group(1)
    return ref.upper() if "-" in ref else ref.lstrip("#")


class GoToTicket(Provider):
    async def search(self, query: str) -> Hits:
        ref = ticket_ref(query)
        if ref is None:
            return
        app: Any = self.app
        label = f"Go to ticket {ref if '-' in ref else '#' + ref}"
        yield Hit(1.0, Text(label), partial(app.action_open_ticket, ref), help="Open it")

    async def discover(self) -> Hits:
        app: Any = self.app
        yield DiscoveryHit(
            "Go to ticket… (type its number)",
            partial(app.notify, "type a ticket number or key, e.g. 12 or HD-12", title="Palette"),
            help="Type a number or key to open a ticket",
        )


class QueueCommands(Provider):
    """The queue's views and actions, as far as its screen allows them now."""

    def _commands(self) -> list[tuple[str, Any, str]]:
        screen: QueueScreen = self.screen  # type: ignore[assignment]
        rows: list[tuple[str, Any, str]] = []
        for view in screen.all_views():
            if view != screen.view:
                rows.append(
                    (f"View: {view.label}", partial(screen.action_show_view, view.value), "")
                )
        actions = (
            ("Mark all loaded tickets", "mark_all", "Or clear the marks (ctrl+a)"),
            ("Bulk change marked tickets", "bulk", "Assign, status, priority, tags (b)"),
            ("Save filter as a view", "save_view", "Keep the / filter as a view (ctrl+s)"),
            ("Refresh", "refresh", "Load the view again (r)"),
            ("Filter", "filter", "Words and status:… priority:… group:… (/)"),
        )
        for name, action, help_text in actions:
            target = screen.table if action == "mark_all" else screen
            allowed = target.check_action("mark_all" if action == "mark_all" else action, ())
            if allowed is True:
                method = getattr(target, f"action_{action}")
                rows.append((name, method, help_text))
        for view in screen.saved:
            rows.append(
                (f"Delete saved view: {view.name}", partial(screen.delete_saved, view.name), "")
            )
        return rows

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands():
            yield DiscoveryHit(Text(name), run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlight(matcher.query, name), run, help=help_text)


def _highlight(query: str, name: str) -> Text:
    """`name` with the matched letters underlined. Not `Matcher.highlight`: that parses
    the name as markup, and saved views are named by the agent."""
    text = Text(name)
    _score, offsets = FuzzySearch().match(query, name)
    for offset in offsets:
        text.stylize("bold underline", offset, offset + 1)
    return text

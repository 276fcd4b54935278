"""What a `[keymap]` entry of the config may say: the console's binding ids and key names.

The config is read by every command, and the CLI never imports Textual, so the ids the
screens declare (`Binding(..., id="ticket.reply")`) are listed here as plain strings;
`tests/test_config.py` checks this list against the bindings the console really declares,
so a binding added or renamed there must be added or renamed here. Keys are checked by
Textual's naming rule, written out here: modifiers joined by `+` to one key, a key being a
single character, a named key (`f5`, `enter`, `pageup`) or a character's Unicode name as
Textual writes it (`question_mark`, `slash`). Pure: no I/O.
"""

from __future__ import annotations

import unicodedata

BINDING_IDS = frozenset(
    {
        # the whole console
        "app.help",
        "app.mode.customers",
        "app.mode.knowledge",
        "app.mode.queue",
        "app.mode.reports",
        "app.new_ticket",
        "app.quit",
        # the queue and its ticket list
        "queue.bulk",
        "queue.clear_filter",
        "queue.filter",
        "queue.leave_drill",
        "queue.next_view",
        "queue.refresh",
        "queue.save_view",
        "queue.saved.0",
        "queue.saved.1",
        "queue.saved.2",
        "queue.view.all_open",
        "queue.view.breaching",
        "queue.view.my_groups",
        "queue.view.my_open",
        "queue.view.pending",
        "queue.view.resolved",
        "table.down",
        "table.first",
        "table.last",
        "table.mark",
        "table.mark_all",
        "table.open",
        "table.up",
        # a ticket and the dialogs it opens
        "ticket.assign",
        "ticket.assign_me",
        "ticket.attachment",
        "ticket.back",
        "ticket.category",
        "ticket.down",
        "ticket.draft_article",
        "ticket.editor",
        "ticket.escalate",
        "ticket.history",
        "ticket.link",
        "ticket.merge",
        "ticket.newest",
        "ticket.note",
        "ticket.panel",
        "ticket.panel.down",
        "ticket.panel.up",
        "ticket.priority",
        "ticket.refresh",
        "ticket.reopen",
        "ticket.reply",
        "ticket.requester",
        "ticket.status",
        "ticket.subject",
        "ticket.tags",
        "ticket.top",
        "ticket.up",
        "compose.article",
        "compose.cancel",
        "compose.editor",
        "compose.send",
        "discard.discard",
        "discard.edit",
        "discard.keep",
        "escalate.cancel",
        "escalate.down",
        "escalate.send",
        "escalate.up",
        "link.cancel",
        "link.down",
        "link.up",
        "merge.cancel",
        "merge.down",
        "merge.up",
        "pick.cancel",
        "pick.down",
        "pick.up",
        "tags.cancel",
        "subject.cancel",
        "requester.cancel",
        "quit.stay",
        "confirm.cancel",
        "confirm.no",
        "confirm.yes",
        "prompt.cancel",
        # knowledge
        "knowledge.article.back",
        "knowledge.article.down",
        "knowledge.article.end",
        "knowledge.article.refresh",
        "knowledge.article.ticket",
        "knowledge.article.top",
        "knowledge.article.up",
        "knowledge.clear",
        "knowledge.down",
        "knowledge.first",
        "knowledge.last",
        "knowledge.open",
        "knowledge.refresh",
        "knowledge.results",
        "knowledge.search",
        "knowledge.up",
        # a new ticket for a caller
        "new_ticket.create",
        "new_ticket.created.copy",
        "new_ticket.created.done",
        "new_ticket.created.next",
        "new_ticket.created.open",
        "new_ticket.down",
        "new_ticket.find_caller",
        "new_ticket.leave",
        "new_ticket.leave.discard",
        "new_ticket.leave.keep",
        "new_ticket.new_caller",
        "new_ticket.open_suggestion",
        "new_ticket.pick",
        "new_ticket.suggestions",
        "new_ticket.up",
        # customers
        "customer.back",
        "customer.refresh",
        "customers.clear",
        "customers.refresh",
        "customers.results",
        "customers.search",
        # reports
        "charts.down",
        "charts.up",
        "reports.export",
        "reports.grouping",
        "reports.period",
        "reports.period_back",
        "reports.refresh",
    }
)

MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
NAMED_KEYS = frozenset(
    {
        "up",
        "down",
        "left",
        "right",
        "home",
        "end",
        "pageup",
        "pagedown",
        "insert",
        "delete",
        "backspace",
        "tab",
        "enter",
        "return",
        "escape",
        "space",
        # Textual's short names of some characters
        "slash",
        "backslash",
        "at",
        "minus",
        "plus",
        "underscore",
        *(f"f{n}" for n in range(1, 25)),
    }
)


def is_key(key: str) -> bool:
    """Whether Textual can ever report `key` ("r", "ctrl+r", "shift+f5", "question_mark"):
    distinct modifiers, then one key. "ctrl+zz" is no key, and a binding to it never fires."""
    *modifiers, base = key.split("+")
    if any(m not in MODIFIERS for m in modifiers) or len(set(modifiers)) < len(modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    if base in NAMED_KEYS:
        return True
    try:  # a character by its name, as Textual writes it: "question_mark", "full_stop"
        return len(unicodedata.lookup(base.replace("_", " ").upper())) == 1
    except KeyError:
        return base in _HYPHENATED_NAMES  # "less_than_sign": its name is "LESS-THAN SIGN"


def _key_name(character: str) -> str:
    return unicodedata.name(character, "").lower().replace("-", "_").replace(" ", "_")


_HYPHENATED_NAMES = frozenset(
    _key_name(chr(code)) for code in range(0x21, 0x250) if "-" in unicodedata.name(chr(code), "")
)


def split_keys(keys: str) -> list[str]:
    """The keys of a binding, "ctrl+r, f9" -> ["ctrl+r", "f9"]."""
    return [key.strip() for key in keys.split(",")]

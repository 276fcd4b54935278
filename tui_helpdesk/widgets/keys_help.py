"""The `?` panel: the keys that work now, the screen's own first.

Textual's help panel lists the focused widget's bindings first, so a table's generic cursor
keys come before what the screen is for. Here the same bindings (`Screen.active_bindings`:
what applies now, remapped by the keymap, those that do not apply dimmed) come grouped under
headings, in this order:

1. the screen's own keys, under its name ("Ticket", "Queue");
2. the focused widget's own keys ("Ticket list": open, mark), where it has any;
3. the console's keys ("Everywhere": help, modes, new ticket, palette, quit);
4. Textual's generic keys (arrows, page keys, tab between fields) last, as "Moving around".

A key bound to the same action more than once reads "j down". Shown by the App's `?`
(`HelpdeskApp.action_toggle_help`) and the palette's "Keys"; redrawn when the bindings
change. Descriptions are ours, never customer text; drawn as plain `Text`, wrapped to the
panel's width (Textual's own descriptions can be long: "Move cursor right or accept the
completion suggestion").

While it is open its screen has the class `-keys-help`: the app's stylesheet then splits the
header and the footer off the screen before the panel, so they keep the whole width (at 80
columns the footer's keys would not fit beside the panel) and the panel takes the right of
the rows between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

EVERYWHERE = "Everywhere"
MOVING = "Moving around"
SCREEN_CLASS = "-keys-help"  # on the screen while the panel is open (see app.tcss)


@dataclass(frozen=True)
class KeyRow:
    keys: str  # as the footer shows them: "j down", "^s"
    description: str
    enabled: bool  # False: listed, but it does not apply now (dimmed)


def screen_title(screen: Screen[object]) -> str:
    """A screen's heading: its `HELP_TITLE`, else its class name without "Screen"."""
    title = getattr(screen, "HELP_TITLE", None)
    if isinstance(title, str) and title:
        return title
    name = type(screen).__name__.removesuffix("Screen")
    return name or "This screen"


def _widget_title(node: DOMNode) -> str:
    title = node.BINDING_GROUP_TITLE
    return title or type(node).__name__


def key_groups(screen: Screen[object], app: App[object]) -> list[tuple[str, list[KeyRow]]]:
    """The keys active on `screen`, as (heading, rows) in the order the panel shows them."""
    # (group rank, heading) -> action -> (bindings, enabled)
    groups: dict[tuple[int, str], dict[tuple[int, str], tuple[list[Binding], bool]]] = {}
    for active in screen.active_bindings.values():
        node, binding, enabled = active.node, active.binding, active.enabled
        if binding.system:
            continue
        if node is app:
            group = (2, EVERYWHERE)
        elif binding.id is None:
            group = (3, MOVING)  # Textual's own keys of a widget or screen
        elif node is screen:
            group = (0, screen_title(screen))
        else:
            group = (1, _widget_title(node))
        actions = groups.setdefault(group, {})
        slot = (id(node), binding.action)
        found = actions.get(slot)
        if found is None:
            actions[slot] = ([binding], enabled)
        else:
            found[0].append(binding)
            actions[slot] = (found[0], found[1] or enabled)
    # Our own binding of an action makes Textual's binding of it ours too ("j down").
    moving = groups.get((3, MOVING), {})
    for (rank, _heading), actions in groups.items():
        if rank in (0, 1):
            for slot, (bindings, enabled) in actions.items():
                generic = moving.pop(slot, None)
                if generic is not None:
                    actions[slot] = (bindings + generic[0], enabled or generic[1])
    result: list[tuple[str, list[KeyRow]]] = []
    for (_rank, heading), actions in sorted(groups.items(), key=lambda item: item[0][0]):
        rows = []
        for bindings, enabled in actions.values():
            keys = " ".join(dict.fromkeys(app.get_key_display(b) for b in bindings))
            first = next((b for b in bindings if b.description), bindings[0])
            description = first.description or first.action.replace("_", " ")
            rows.append(KeyRow(keys, description, enabled))
        if rows:
            result.append((heading, rows))
    return result


def keys_table(groups: list[tuple[str, list[KeyRow]]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column()
    for index, (heading, rows) in enumerate(groups):
        if index:
            table.add_row("", "")
        table.add_row("", Text(heading, style="bold underline"))
        for row in rows:
            style = "" if row.enabled else "dim"
            table.add_row(
                Text(row.keys, style=f"bold {style}".strip()), Text(row.description, style=style)
            )
    return table


class KeysHelp(VerticalScroll, can_focus=False):
    """The keys panel, split off the right of the screen it is mounted on."""

    DEFAULT_CSS = """
    KeysHelp {
        split: right;
        width: 36;
        max-width: 40%;  /* 32 at 80 columns: the queue's columns still fit beside it */
        height: 1fr;
        padding: 0 1;
        border-left: vkey $foreground 30%;
        background: $surface;
    }
    KeysHelp > #keys-help-table {
        width: 1fr;
        height: auto;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="keys-help")
        self.groups: list[tuple[str, list[KeyRow]]] = []  # as shown, for tests and reading

    def compose(self) -> ComposeResult:
        yield Static(id="keys-help-table")

    def on_mount(self) -> None:
        self.screen.add_class(SCREEN_CLASS)
        self._show()
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self._changed())

    def on_unmount(self) -> None:
        self.screen.remove_class(SCREEN_CLASS)
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _changed(self) -> None:
        self.call_after_refresh(self._show)

    def _show(self) -> None:
        if not self.is_attached:
            return
        self.groups = key_groups(self.screen, self.app)
        self.query_one("#keys-help-table", Static).update(keys_table(self.groups))

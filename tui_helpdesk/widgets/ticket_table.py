"""The ticket list of the queue: a `DataTable` of `QueueRow`s that fits its width.

Columns have a drop rank: when the table is too narrow for the subject to keep a readable
width, the least useful columns go first (updated, group, organization, assignee), so at 80
columns nothing overlaps. Every cell is a `rich.text.Text` (never a markup string: customer
text must stay inert). Colours come from component classes, so themes restyle them.

The widget holds only rows it was given; it asks for more by posting `NearEnd` when the
cursor comes close to the last loaded row, and posts `Open` when a row is chosen. The screen
that owns it does the loading. Rows can be marked for bulk actions (`space` toggles the
cursor's row, `ctrl+a` marks every loaded row, again clears them): a marked row's number
reads "✓HD-12" and the marks survive a reload for the tickets still listed.

Start-up: rows given before the table has a size are laid out by its first layout, a
screenful at once and the rest as soon as that is painted (DataTable measures every row it
is given), so the first rows show without waiting for a whole page to be measured. It
posts `RowsPainted` once, when rows are first painted (the queue builds its footer's keys
then, not before the rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable

from tui_helpdesk.services.views import QueueRow, SlaState


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    width: int
    drop_rank: int  # 0: never dropped; higher numbers are dropped first


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("number", "#", 6, 0),
    ColumnSpec("priority", "Pri", 6, 0),
    ColumnSpec("sla", "SLA", 7, 0),
    ColumnSpec("subject", "Subject", 0, 0),  # takes the width left over
    # Who owns a ticket outlasts who asked (at 80 columns one of the two fits): the views
    # of one's own tickets hide the assignee, and show the requester in its room.
    ColumnSpec("requester", "Requester", 14, 2),
    ColumnSpec("organization", "Org", 12, 3),
    ColumnSpec("group", "Group", 8, 4),
    ColumnSpec("assignee", "Assignee", 8, 1),
    ColumnSpec("status", "Status", 8, 0),
    ColumnSpec("updated", "Upd", 4, 5),
)
MIN_SUBJECT = 24
SCROLLBAR_ALLOWANCE = 2


def layout_columns(
    width: int, hidden: frozenset[str], key_width: int, padding: int = 1
) -> list[tuple[ColumnSpec, int]]:
    """The columns to show at `width` and their widths; the subject gets what is left."""
    specs = [c for c in COLUMNS if c.key not in hidden]
    drops = sorted((c for c in specs if c.drop_rank), key=lambda c: -c.drop_rank)

    def widths(columns: list[ColumnSpec]) -> list[tuple[ColumnSpec, int]]:
        return [(c, key_width if c.key == "number" else c.width) for c in columns]

    while True:
        sized = widths(specs)
        used = sum(w for c, w in sized if c.key != "subject") + 2 * padding * len(sized)
        subject = width - SCROLLBAR_ALLOWANCE - used
        if subject >= MIN_SUBJECT or not drops:
            break
        specs.remove(drops.pop(0))
    return [(c, max(subject, 10) if c.key == "subject" else w) for c, w in sized]


class TicketTable(DataTable[Text]):
    """Queue rows, one per ticket, keyed by ticket key ("HD-12")."""

    DEFAULT_CSS = """
    TicketTable { height: 1fr; }
    TicketTable > .ticket-table--breached { color: $error; text-style: bold; }
    TicketTable > .ticket-table--at-risk { color: $warning; text-style: bold; }
    TicketTable > .ticket-table--ok { color: $success; }
    TicketTable > .ticket-table--muted { color: $text-muted; }
    TicketTable > .ticket-table--urgent { color: $error; text-style: bold; }
    TicketTable > .ticket-table--high { color: $warning; }
    TicketTable > .ticket-table--new { text-style: bold; }
    TicketTable > .ticket-table--selected { color: $accent; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket-table--breached",
        "ticket-table--at-risk",
        "ticket-table--ok",
        "ticket-table--muted",
        "ticket-table--urgent",
        "ticket-table--high",
        "ticket-table--new",
        "ticket-table--selected",
    }
    BINDING_GROUP_TITLE = "Ticket list"  # its heading in the keys panel
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="table.open"),
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "First", show=False, id="table.first"),
        Binding("G", "scroll_bottom", "Last loaded", show=False, id="table.last"),
        Binding("space", "toggle_mark", "Mark", show=False, id="table.mark"),
        Binding("ctrl+a", "mark_all", "Mark all", show=False, id="table.mark_all"),
    ]

    class NearEnd(Message):
        """The cursor is close to the last loaded row: time to load the next page."""

    @dataclass
    class Open(Message):
        """The agent chose a ticket (enter or click)."""

        key: str

    class MarksChanged(Message):
        """The set of marked rows changed."""

    class RowsPainted(Message):
        """Rows were painted for the first time (posted once)."""

    def __init__(
        self,
        *,
        load_margin: int = 10,
        hidden: frozenset[str] = frozenset(),
        id: str | None = None,
    ) -> None:
        """`hidden`: the columns the first view makes pointless (see `hide_columns`)."""
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.load_margin = load_margin
        self._rows: list[QueueRow] = []
        self._keys: set[str] = set()
        self._hidden: frozenset[str] = hidden
        self._layout: list[tuple[ColumnSpec, int]] = []
        self._marked: set[str] = set()
        self._drafted: frozenset[str] = frozenset()  # tickets with a reply or note kept
        self._deferred: list[QueueRow] = []  # rows laid out once the first frame is painted
        self._painted = False  # rows were painted (`RowsPainted` posted)

    # --- data in ---------------------------------------------------------------------

    @property
    def tickets(self) -> Sequence[QueueRow]:
        return self._rows

    @property
    def painted(self) -> bool:
        """Whether rows were ever painted (`RowsPainted` was posted)."""
        return self._painted

    @property
    def current(self) -> QueueRow | None:
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row]

    @property
    def marked(self) -> list[QueueRow]:
        """The marked rows, in the order shown."""
        return [r for r in self._rows if r.key in self._marked]

    def replace_rows(
        self, rows: Iterable[QueueRow], keep: str | None = None, at: int | None = None
    ) -> None:
        """Show `rows` instead of what was there. The cursor stays on `keep` if it is still
        listed, else at row `at` (where it was: the ticket that left the view is replaced by
        the next one), else on the first row. The scroll position is kept."""
        scroll = self.scroll_offset
        had_rows = bool(self._rows)
        self._rows = []
        self._keys = set()
        self._deferred = []
        self.clear()
        self.extend_rows(rows)
        before = len(self._marked)
        self._marked &= self._keys
        index = next((i for i, r in enumerate(self._rows) if r.key == keep), None)
        if index is None:
            index = min(at, len(self._rows) - 1) if at is not None else 0
        if self._rows:
            self.move_cursor(row=max(0, index), animate=False, scroll=False)
            self.call_after_refresh(self._restore_scroll, scroll.x, scroll.y)
        if len(self._marked) != before:
            self.post_message(self.MarksChanged())
        if had_rows != bool(self._rows):
            self.refresh_bindings()  # open and mark apply only with rows (the footer redraws)

    def _restore_scroll(self, x: float, y: float) -> None:
        """Back where the agent was looking, with the cursor in sight (no jump to the top)."""
        self.scroll_to(x, y, animate=False, immediate=True)
        if self._rows and 0 <= self.cursor_row < len(self._rows):
            self.move_cursor(row=self.cursor_row, animate=False)

    def show_drafted(self, keys: Iterable[str]) -> None:
        """The tickets with a draft kept for later (their number shows a ✎)."""
        drafted = frozenset(keys)
        if drafted != self._drafted:
            changed = drafted ^ self._drafted
            self._drafted = drafted
            self._refresh_rows(set(changed), marks=False)

    def clear_marks(self, keys: Iterable[str] | None = None) -> None:
        """Unmark `keys` (all when None)."""
        gone = set(self._marked) if keys is None else self._marked & set(keys)
        self._marked -= gone
        self._refresh_rows(gone)

    def action_toggle_mark(self) -> None:
        row = self.current
        if row is None:
            return
        self._marked ^= {row.key}
        self._refresh_rows({row.key})
        if self.cursor_row < len(self._rows) - 1:
            self.move_cursor(row=self.cursor_row + 1)  # mark several in a row with space

    def action_mark_all(self) -> None:
        """Mark every loaded row; if all already are, clear the marks."""
        keys = {r.key for r in self._rows}
        changed = keys - self._marked or set(self._marked)
        self._marked = set() if keys <= self._marked else keys
        self._refresh_rows(changed)

    def _refresh_rows(self, keys: set[str], *, marks: bool = True) -> None:
        """Redraw these rows' numbers; `marks`: the marks changed (told to the screen)."""
        self._add_deferred()  # a marked row must be in the table to be redrawn
        if "number" in self.columns and keys:
            for row in self._rows:
                if row.key in keys:
                    self.update_cell(row.key, "number", self._cell(row, "number"))
        if marks:
            self.post_message(self.MarksChanged())

    def extend_rows(self, rows: Iterable[QueueRow]) -> None:
        # A ticket whose deadline moved between two page loads can come round again: the
        # row already shown stays, the repeat is skipped.
        fresh = [r for r in rows if r.key not in self._keys]
        widest = max((len(r.key) for r in fresh), default=0)
        longer_keys = widest > self._key_width()
        self._rows.extend(fresh)
        self._keys.update(r.key for r in fresh)
        if longer_keys:
            self._relayout(force=True)  # widen the number column rather than crop keys
        else:
            self._add(fresh)

    def hide_columns(self, keys: Iterable[str]) -> None:
        """Columns the current view makes pointless (the assignee in "My open")."""
        hidden = frozenset(keys)
        if hidden != self._hidden:
            self._hidden = hidden
            self._relayout(force=True)

    # --- layout ----------------------------------------------------------------------

    def _key_width(self) -> int:
        return max([6, *(len(r.key) for r in self._rows)]) + 1  # room for the mark

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._relayout(force=True))

    def _on_resize(self, event: events.Resize) -> None:
        super()._on_resize(event)
        self._relayout()

    def visible_columns(self) -> list[str]:
        return [spec.key for spec, _ in self._layout]

    def _relayout(self, force: bool = False) -> None:
        if not self.size.width:
            return
        layout = layout_columns(self.size.width, self._hidden, self._key_width(), self.cell_padding)
        if layout == self._layout and not force:
            return
        first = not self._layout
        self._layout = layout
        cursor = self.cursor_row
        self.clear(columns=True)
        self._deferred = []
        for spec, width in layout:
            self.add_column(Text(spec.label, no_wrap=True), width=width, key=spec.key)
        screenful = self.size.height
        if first and len(self._rows) > screenful:
            # The first rows arrived before the table had a size: lay out what shows now,
            # the rest once that is painted (every added row is measured).
            self._add(self._rows[:screenful])
            self._deferred = self._rows[screenful:]
        else:
            self._add(self._rows)
        if self._rows:
            self.move_cursor(row=min(cursor, len(self._rows) - 1), animate=False)

    def _add(self, rows: Iterable[QueueRow]) -> None:
        if not self._layout:
            return  # not sized yet: rows are added by the first layout
        if self._deferred:
            self._deferred.extend(rows)  # after the rows still waiting, in order
            return
        for row in rows:
            self.add_row(*(self._cell(row, spec.key) for spec, _ in self._layout), key=row.key)

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if self._deferred:
            self.call_later(self._add_deferred)  # the first screenful is being painted
        if not self._painted and self.row_count:
            self._painted = True
            self.post_message(self.RowsPainted())
        return lines

    def _add_deferred(self) -> None:
        if self._deferred:
            rows, self._deferred = self._deferred, []
            self._add(rows)

    # --- cells -----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"ticket-table--{name}", partial=True)

    def _cell(self, row: QueueRow, column: str) -> Text:
        style: Style | str = ""
        value: str
        if column == "number":
            value = row.key
            if row.key in self._marked:
                value, style = f"✓{row.key}", self._style("selected")
            elif row.key in self._drafted:
                value = f"✎{row.key}"  # a draft kept for later waits on it
        elif column == "priority":
            value = row.priority
            if row.priority in ("urgent", "high"):
                style = self._style(row.priority)
            elif row.priority == "low":
                style = self._style("muted")
        elif column == "sla":
            value = row.sla
            style = {
                SlaState.BREACHED: self._style("breached"),
                SlaState.AT_RISK: self._style("at-risk"),
                SlaState.OK: self._style("ok"),
            }.get(row.sla_state, self._style("muted"))
        elif column == "status":
            value = row.status
            style = self._style("new") if row.status == "new" else ""
        elif column == "updated":
            value, style = row.updated, self._style("muted")
        else:
            value = getattr(row, column)
        # Text, not a str: DataTable would parse a str as markup.
        return Text(value, style=style, no_wrap=True, overflow="ellipsis", end="")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("select_cursor", "toggle_mark", "mark_all") and not self._rows:
            return None  # shown dimmed: nothing to open
        return super().check_action(action, parameters)

    # --- messages up -----------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self._rows) - 1 - self.load_margin:
            self.post_message(self.NearEnd())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Open(event.row_key.value))

"""The queue's bar: one tab per view (standard, saved, a report's drill-down) and the count.

Tabs are plain Text (saved views are named by the agent, drill-downs by the desk's data).
When the full labels do not fit beside the count, the tabs other than the current one show
a short word ("1 Mine  2 Groups  3 All open  4 Pending …", saved views by their key), and
when those do not fit either, only their key ("1  2  3 All open  4 …"), so the bar never
wraps or runs off at 80 columns, nor beside the keys panel (`?`), which narrows the bar and
not the screen: the bar chooses again whenever its own width, or the count's, changes.

The tabs are `Static`s sized by the queue's stylesheet (`width: auto`), not `Label`s: the
bar is on screen before the first rows and Label's stylesheet, parsed and matched for each
tab, styles nothing it shows. Showing the same tabs again at the same width changes
nothing, so it is skipped rather than laid out again.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui_helpdesk.services.saved_views import SavedView
from tui_helpdesk.services.views import AnyView, DrillView, View

# Columns kept for the count when choosing how much of the labels fits: at least this, else
# the count's own width ("120/4,518 tickets") and a space. The filter's text and the marks
# beside it give way first (`count_text`), so only the count itself needs the room.
COUNT_ROOM = 12


FORMS = ("full", "short", "key")  # how much of a tab's label shows, most first


def tab_text(index: int, view: AnyView, form: str, keyed: int) -> str:
    """ "3 All open" (short: "3 All"; key: "3"), "7 ★Mine" for a saved view (its name in
    full or not at all), "▸ SLA: L1" for a drill-down; views past the first `keyed` have no
    key of their own ("·")."""
    if isinstance(view, DrillView):
        return f"▸ {view.label}"  # always in full: it says what the rows are
    key = str(index + 1) if index < keyed else "·"
    if form == "key" or (form == "short" and isinstance(view, SavedView)):
        return key
    if isinstance(view, SavedView):
        return f"{key} ★{view.label}"
    return f"{key} {view.label if form == 'full' else view.short}"


def count_text(count: str, filter_text: str = "", marked: int = 0, width: int = 0) -> Text:
    """`2 marked · “status:open” 8 tickets` in at most `width` cells (0: unlimited). The count
    is never cut: the filter's text is shortened first (`“stat…”`, then left out; the filter
    field shows it whole), then the marks lose their separator, then they are left out (the
    marked rows still show it)."""
    marks = [f"{marked} marked · ", f"{marked} marked "] if marked else [""]
    for head in marks:
        room = width - cell_len(head) - cell_len(count)
        if not filter_text:
            if not width or room >= 0:
                return Text(head + count, no_wrap=True)
            continue
        quoted = f"“{filter_text}” "
        if not width or cell_len(quoted) <= room:
            return Text(head + quoted + count, no_wrap=True)
        if room >= len("“x…” "):
            shown = Text(filter_text)
            shown.truncate(room - len("“…” "))  # cells left for the text, "…" added below
            return Text(f"{head}“{shown.plain}…” {count}", no_wrap=True)
        if room >= 0:
            return Text(head + count, no_wrap=True)
    return Text(count, no_wrap=True)


class CountLabel(Static):
    """The count at the bar's right, fitted to the width it is given when drawn."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pieces: tuple[str, str, int] = ("", "", 0)  # count, filter text, marked

    def show(self, count: str, filter_text: str, marked: int) -> None:
        if (count, filter_text, marked) != self.pieces:
            self.pieces = (count, filter_text, marked)
            self.refresh()

    def render(self) -> Text:
        return count_text(*self.pieces, width=self.content_size.width)


class ViewTabs(Horizontal):
    def __init__(self, builtin: Sequence[View], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.builtin = tuple(builtin)
        self._shown: tuple[object, ...] | None = None  # what `show` was last given
        self._asked: tuple[tuple[AnyView, ...], AnyView, int] | None = None  # `show`'s args
        self._count_room = COUNT_ROOM  # what the count shown needs

    def compose(self) -> ComposeResult:
        for i, view in enumerate(self.builtin, start=1):
            yield Static(Text(f"{i} {view.label}"), id=f"tab-{view.value}", classes="tab")
        yield CountLabel(id="count")

    def show(self, views: Sequence[AnyView], current: AnyView, keyed: int) -> None:
        """Tabs for `views` (the built-in ones first), `current` marked."""
        self._asked = (tuple(views), current, keyed)
        width = self.size.width or self.app.size.width
        shown = (tuple(views), current, keyed, width, self._count_room)
        if shown == self._shown:
            return  # the same tabs at the same width: nothing to change
        self._shown = shown
        extra = views[len(self.builtin) :]
        wanted = [
            "tab-drill" if isinstance(v, DrillView) else f"tab-saved-{i}"
            for i, v in enumerate(extra)
        ]
        have = {tab.id: tab for tab in self.query(".tab.-extra").results(Static)}
        for name, tab in have.items():
            if name not in wanted:
                tab.remove()
        for name in wanted:  # saved tabs keep their ids by position: only the missing mount
            if name not in have:
                before = "#tab-drill" if name != "tab-drill" and "tab-drill" in have else "#count"
                self.mount(Static(Text(""), id=name, classes="tab -extra"), before=before)
        tabs = [self.query_one(f"#tab-{v.value}", Static) for v in self.builtin]
        tabs += [self.query_one(f"#{name}", Static) for name in wanted]

        def form_of(view: AnyView, form: str) -> str:
            return "full" if view == current else form  # what is shown is named in full

        def needs(form: str) -> int:
            return sum(
                len(tab_text(i, v, form_of(v, form), keyed)) + 2 for i, v in enumerate(views)
            )

        form = next((f for f in FORMS if needs(f) + self._count_room <= width), "key")
        for i, (tab, view) in enumerate(zip(tabs, views, strict=True)):
            selected = view == current
            tab.update(Text(tab_text(i, view, form_of(view, form), keyed), no_wrap=True))
            tab.set_class(selected, "-current")

    def on_resize(self, _event: events.Resize) -> None:
        """A new width (the terminal, or the keys panel opening beside the bar): the same
        tabs, in the form that fits it."""
        if self._asked is not None:
            self.show(*self._asked)

    def show_count(self, count: str, *, filter_text: str = "", marked: int = 0) -> None:
        """`count` ("8 tickets") after the marks and the filter, which give way to it; a
        count that needs another width has the tabs fitted again."""
        self.query_one(CountLabel).show(count, filter_text, marked)
        room = max(COUNT_ROOM, cell_len(count) + 2)
        if room != self._count_room:
            self._count_room = room
            if self._asked is not None:
                self.show(*self._asked)

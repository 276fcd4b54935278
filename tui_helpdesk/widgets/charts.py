"""Charts drawn with plain text, legible at 80x24 and in ANSI themes: horizontal bar lists
(one selectable row per bar, for drilling down) and a strip of key figures with trend arrows.
Used by the reports screen; the volume over time is Textual's own `Sparkline`.

Labels come from the desk's data (group, category, organization names): they are appended
to `rich.text.Text` as plain strings, never parsed as markup, and cleaned of control
sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui_helpdesk.text import clean

BAR = "█"
PARTS = " ▏▎▍▌▋▊▉"  # eighths of a cell, so small differences still show
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def bar(value: float, maximum: float, width: int) -> str:
    """A bar of `width` cells at most, in eighths of a cell."""
    if maximum <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = round(min(value, maximum) / maximum * width * 8)
    full, part = divmod(eighths, 8)
    return BAR * full + (PARTS[part] if part else "")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as text ("12", "87.5%")
    key: str  # what a selection reports back (the row's index in its table)


def bar_line(item: Bar, maximum: float, label_width: int, bar_width: int) -> Text:
    label = clean(item.label, single_line=True)
    if len(label) > label_width:
        label = label[: max(0, label_width - 1)] + "…"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(label.ljust(label_width))
    text.append(" ")
    text.append(bar(item.value, maximum, bar_width).ljust(bar_width), style="bold")
    text.append(" ")
    text.append(item.shown)
    return text


class BarList(OptionList):
    """Horizontal bars, one option each: the cursor picks a bar, `enter` selects it (posts
    `OptionList.OptionSelected` with the bar's key as the option id)."""

    DEFAULT_CSS = """
    BarList {
        height: auto;
        max-height: 12;
        border: none;
        padding: 0;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="charts.down"),
        Binding("k", "cursor_up", "Up", show=False, id="charts.up"),
    ]

    def __init__(
        self,
        *,
        label_width: int = 22,
        bar_width: int = 30,
        maximum: float | None = None,
        empty: str = "nothing in this period",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label_width = label_width
        self.bar_width = bar_width
        self.maximum = maximum  # None: the largest value shown
        self.empty = empty
        self.bars: tuple[Bar, ...] = ()

    def show_bars(self, bars: Sequence[Bar]) -> None:
        self.bars = tuple(bars)
        if not self.bars:
            self.set_options([Option(Text(self.empty, style="dim"), disabled=True)])
            return
        top = self.maximum or max((b.value for b in self.bars), default=0.0)
        self.set_options(
            Option(bar_line(b, top, self.label_width, self.bar_width), id=b.key) for b in self.bars
        )
        self.highlighted = 0


@dataclass(frozen=True)
class FigureView:
    """A key figure as the strip shows it."""

    label: str
    value: str
    trend: str  # up, down, flat; "" for none
    change: str  # "+12.5%", "-6pp" (a share's points) or ""
    good: bool | None  # is the trend good news (None: neither)


def _figure_text(f: FigureView) -> Text:
    text = Text()
    text.append(f"{f.label} ", style="dim")
    text.append(f.value, style="bold")
    if f.trend:
        style = "" if f.good is None else ("green" if f.good else "red")
        text.append(f" {ARROWS[f.trend]}{f.change}", style=style)
    return text


def figures_text(figures: Sequence[FigureView], width: int | None = None) -> Text:
    """The figures in lines of at most `width` cells: "Created 42 ↑+12.5%   Backlog 17
    ↓-3.0%   ...", a figure never split between two lines (label, value and change
    together); one line when `width` is None."""
    text = Text()
    used = 0
    for i, f in enumerate(figures):
        one = _figure_text(f)
        if i:
            if width is not None and used + 3 + one.cell_len > width:
                text.append("\n")
                used = 0
            else:
                text.append("   ")
                used += 3
        text.append_text(one)
        used += one.cell_len
    return text


class FigureStrip(Static):
    """The key figures of a report, with trend arrows against the previous period."""

    DEFAULT_CSS = """
    FigureStrip {
        height: auto;
        padding: 0 1;
    }
    """

    _figures: Sequence[FigureView] = ()

    def show_figures(self, figures: Sequence[FigureView]) -> None:
        self._figures = figures
        self._lay_out()

    def on_resize(self) -> None:
        self._lay_out()

    def _lay_out(self) -> None:
        # The lines break between figures, at the width inside the padding (none before the
        # first layout: one line, wrapped as Static wraps, until the size is known).
        width = self.content_region.width or None
        self.update(figures_text(self._figures, width))

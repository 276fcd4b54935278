"""Ask for one line (the name of a saved view, where to save an attachment): enter takes
it, escape cancels."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NamePrompt(ModalScreen[str | None]):
    """A one-line question over the current screen; dismissed with the text, or None."""

    DEFAULT_CSS = """
    NamePrompt { align: center middle; background: $background 50%; }
    NamePrompt #prompt-box {
        width: 60; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    NamePrompt #prompt-hint { color: $text-muted; }
    """
    AUTO_FOCUS = "#prompt-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="prompt.cancel"),
    ]

    def __init__(
        self, title: str, value: str = "", max_length: int = 40, *, squeeze: bool = True
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.max_length = max_length
        self.squeeze = squeeze  # runs of spaces made one (a name); False keeps them (a path)

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box") as box:
            box.border_title = Text(self.title_text)
            yield Input(self.value, max_length=self.max_length, id="prompt-input")
            yield Static(Text("enter saves · escape cancels"), id="prompt-hint")

    @on(Input.Submitted, "#prompt-input")
    def _take(self, event: Input.Submitted) -> None:
        text = " ".join(event.value.split()) if self.squeeze else event.value.strip()
        if text:
            self.dismiss(text)

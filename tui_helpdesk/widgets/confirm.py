"""A yes-or-no question before something hard to undo: `ConfirmScreen(question, yes=...)`
is dismissed with True (`y`, or the yes button) or False (`n`, `escape`, or the other).

The question is a `rich.text.Text` (built by the caller from plain strings, so names in it
are never read as markup), wrapped to the box. Used by the ticket screen before merging into
another customer's ticket and before an internal or draft article goes into a public reply.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        background: $background 50%;
    }
    ConfirmScreen > #confirm-box {
        width: 100%;
        max-width: 72;
        height: auto;
        padding: 1 2;
        border: thick $warning;
        border-title-align: left;
        background: $surface;
    }
    ConfirmScreen #confirm-question {
        width: 100%;  /* a Label is as wide as its longest line: wrap it inside the box */
    }
    ConfirmScreen #confirm-buttons {
        height: auto;
        margin-top: 1;
        align: center middle;
    }
    ConfirmScreen Button {
        width: auto;
        min-width: 12;
        margin: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, question: Text, *, title: str = "", yes: str = "Yes", no: str = "Cancel"):
        super().__init__()
        self.question = question
        self.title_text = title
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box") as box:
            box.border_title = Text(self.title_text)
            yield Label(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", variant="warning", id="confirm-yes")
                yield Button(f"{self.no} (n)", id="confirm-no")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()  # enter alone does not merge

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

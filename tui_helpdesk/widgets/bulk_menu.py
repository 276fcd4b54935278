"""The questions behind the queue's `b`: which change to make to the marked tickets, then
its value (an agent, a status, a priority, tags), through the ticket screen's own pickers.

`ask_bulk_action` pushes the first picker over the current screen and calls `answer` with
the `BulkAction` once every question is answered (never if the agent cancels). The list of
agents is loaded by a thread worker; the UI thread never waits for the database.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import App

from tui_helpdesk.domain import Priority, Status
from tui_helpdesk.screens.ticket_actions import PickScreen, TagsScreen
from tui_helpdesk.services import bulk
from tui_helpdesk.services.bulk import BulkAction, BulkKind
from tui_helpdesk.services.console_actions import Choice, priority_choices, status_label
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.views import Store

MENU: tuple[Choice, ...] = (
    Choice("assign_me", "Assign to me"),
    Choice("assign", "Assign to…"),
    Choice("status", "Change status…"),
    Choice("priority", "Change priority…"),
    Choice("add_tags", "Add tags…"),
    Choice("remove_tags", "Remove tags…"),
)

Answer = Callable[[BulkAction], None]


def ask_bulk_action(app: App[object], store: Store, login: str, count: int, answer: Answer) -> None:
    """Ask what to do to `count` marked tickets; `answer` gets the action."""
    title = Text(f"{count} marked ticket{'' if count == 1 else 's'}")

    def then_pick(title: str, options: tuple[Choice, ...], kind: BulkKind) -> None:
        app.push_screen(
            PickScreen(Text(title), options),
            lambda picked: answer(BulkAction(kind, picked.value)) if picked else None,
        )

    def load_agents() -> None:  # in a thread
        try:
            options = bulk.agent_choices(store)
        except ServiceError as exc:
            app.call_from_thread(app.notify, str(exc), title="Bulk", severity="error")
            return
        app.call_from_thread(then_pick, "Assign to", options, BulkKind.ASSIGN)

    def chosen(choice: Choice | None) -> None:
        if choice is None:
            return
        if choice.value == "assign_me":
            answer(BulkAction(BulkKind.ASSIGN, login))
        elif choice.value == "assign":
            app.run_worker(load_agents, thread=True, group="bulk-agents", exit_on_error=False)
        elif choice.value == "status":
            options = tuple(Choice(s.value, status_label(s)) for s in Status)
            then_pick("Status", options, BulkKind.STATUS)
        elif choice.value == "priority":
            then_pick("Priority", priority_choices(Priority.NORMAL), BulkKind.PRIORITY)
        else:
            kind = BulkKind(choice.value)
            app.push_screen(
                TagsScreen(Text("Add tags" if kind is BulkKind.ADD_TAGS else "Remove tags"), ()),
                lambda tags: answer(BulkAction(kind, " ".join(tags))) if tags else None,
            )

    app.push_screen(PickScreen(title, MENU), chosen)

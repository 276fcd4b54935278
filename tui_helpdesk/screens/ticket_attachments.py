"""Saving one of a ticket's attachments from the ticket screen (`S`, or "Save attachment" in
the palette): pick the file when the messages shown came with several (`PickScreen`), say
where it goes (`NamePrompt`; by default the current directory, under the attachment's own
name made safe), and it is written in a thread worker (group "ticket-attachment") through
`services.attachments`, which reads it with `tickets.ticket_attachment`. A file already
there is overwritten only after the agent says yes (`ConfirmScreen`). Every outcome is a
notification naming the path.

Names in the picker, the prompt and the questions are customer text (cleaned by
`views.ticket_detail`), always in `rich.text.Text` or with markup off. The base of
`screens.ticket.TicketScreen`, which declares the binding and lists the palette command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.message import Message

from tui_helpdesk.screens.ticket_actions import PickScreen
from tui_helpdesk.screens.ticket_layout import TicketLayout
from tui_helpdesk.services import attachments
from tui_helpdesk.services.attachments import FileExists
from tui_helpdesk.services.console_actions import Choice
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.views import AttachmentView, MessageView
from tui_helpdesk.text import file_size
from tui_helpdesk.widgets.confirm import ConfirmScreen
from tui_helpdesk.widgets.name_prompt import NamePrompt

__all__ = ["TicketAttachments", "attachment_choices"]

PATH_LENGTH = 4096  # characters the destination may have (Linux's PATH_MAX)


def attachment_choices(messages: tuple[MessageView, ...]) -> tuple[Choice, ...]:
    """The picker's rows: each file kept of the messages shown, oldest first, with its type,
    size and who sent it when (two files of one name told apart)."""
    return tuple(
        Choice(
            str(attachment.id),
            attachment.filename,
            f"{attachment.content_type} · {attachment.size_text} · {message.author}, {message.at}",
        )
        for message in messages
        for attachment in message.attachments
        if attachment.kept
    )


class TicketAttachments(TicketLayout):
    @dataclass
    class AttachmentSaved(Message):
        saved: attachments.Saved

    @dataclass
    class AttachmentExists(Message):
        attachment: AttachmentView
        path: Path

    @dataclass
    class AttachmentNotSaved(Message):
        error: str

    def saveable(self) -> dict[int, AttachmentView]:
        """The files of the messages shown whose content was kept, by id, oldest first."""
        if self.detail is None:
            return {}
        return {a.id: a for m in self.detail.messages for a in m.attachments if a.kept}

    def can_save_attachment(self) -> bool | None:
        """For `check_action`: not yet loaded (None), no file to save (False, hidden)."""
        if self.detail is None:
            return None
        return bool(self.saveable())

    def action_save_attachment(self) -> None:
        found = self.saveable()
        if self.detail is None or not found:
            self.notify("no attachment to save on this ticket", severity="warning")
            return
        if len(found) == 1:
            self._ask_path(next(iter(found.values())))
            return
        title = Text(f"Save an attachment of {self.detail.key} · ")
        title.append(self.detail.subject)  # customer text: appended, never markup
        self.app.push_screen(
            PickScreen(title, attachment_choices(self.detail.messages), "part of a name"),
            lambda choice: self._ask_path(found[int(choice.value)]) if choice else None,
        )

    def _ask_path(self, attachment: AttachmentView) -> None:
        where = attachments.default_path(attachment.filename, attachment.id, Path.cwd())
        self.app.push_screen(
            NamePrompt(
                f"Save {attachment.filename} ({attachment.size_text}) to",
                str(where),
                max_length=PATH_LENGTH,
                squeeze=False,
            ),
            lambda path: self._save(attachment, path, overwrite=False) if path else None,
        )

    @work(thread=True, group="ticket-attachment", exit_on_error=False)
    def _save(self, attachment: AttachmentView, path: str, *, overwrite: bool) -> None:
        # Not dropped when the agent moves on: a file written (or not) is always told.
        try:
            saved = attachments.save_attachment(
                self.context.store, self.key, attachment.id, Path(path), overwrite=overwrite
            )
        except FileExists as exc:
            self.post_message(self.AttachmentExists(attachment, exc.path))
        except ServiceError as exc:
            self.post_message(self.AttachmentNotSaved(str(exc)))
        else:
            self.post_message(self.AttachmentSaved(saved))

    def on_ticket_attachments_attachment_saved(self, message: AttachmentSaved) -> None:
        saved = message.saved
        self.notify(
            f"{file_size(saved.size)} written to {saved.path}",
            title="Attachment saved",
            markup=False,  # the path holds the customer's name for the file
        )

    def on_ticket_attachments_attachment_exists(self, message: AttachmentExists) -> None:
        path, attachment = message.path, message.attachment
        if not self.is_current:  # another question is open: nothing is overwritten unasked
            self._kept(path)
            return
        question = Text(f"{path} exists. Replace it with {attachment.filename}?")
        self.app.push_screen(
            ConfirmScreen(question, title="Overwrite a file", yes="Overwrite", no="Keep it"),
            lambda yes: (
                self._save(attachment, str(path), overwrite=True) if yes else self._kept(path)
            ),
        )

    def _kept(self, path: Path) -> None:
        self.notify(f"{path} exists: nothing written", title="Not saved", markup=False)

    def on_ticket_attachments_attachment_not_saved(self, message: AttachmentNotSaved) -> None:
        self.notify(message.error, title="Not saved", severity="error", markup=False)
